"""The agent side reading a conversation and typing in it, shown on the customer's phone: Meta's read
receipt (blue ticks) and typing indicator, both sent on the customer's newest message.

Meta's rules (WHATSAPP-NOTES "Mark as read" / "Typing indicator"; [MARK-READ]
https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read,
[TYPING] https://developers.facebook.com/documentation/business-messaging/whatsapp/typing-indicators):

- marking a received message read "also marks earlier messages in the conversation as read": only the
  newest message needs a receipt, and once it has one nothing more is sent until the customer writes;
- "Mark incoming messages as read within 30 days of receipt": an older message is recorded as read
  here and nothing is sent;
- the typing indicator is the same call with `typing_indicator`, on a message the customer sent; it
  "will be dismissed once you respond, or after 25 seconds", and Meta asks to "only display a typing
  indicator if you are going to respond": so only inside the 24-hour window, and at most once per 20 s
  per conversation (an agent typing keeps it up without a call per keystroke).

What the agent side has read (`agentReadAt`, `agentReadMessageId`) and the last indicator
(`lastTypingAt`) live on the conversation document, written with the store's conditional write
*before* Meta is called: of two panels racing, one wins the write and calls Meta, the other finds it
done and sends nothing. The stored time is the throttle, so every instance of the app sees it. If Meta
refuses or does not answer, the record is put back as it was (unless someone moved it on since): a
receipt Meta never took is never recorded as read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    SESSION_DOCUMENT_ID,
    ConversationDocument,
    InboundRef,
    MessageDocument,
    SessionDocument,
    conversation_id,
    iso,
    parse_iso,
)
from shared.conversations.ports import ConversationStore, Doc, StoreUnavailable
from shared.conversations.session_window import is_active, opens_window
from shared.telemetry import record_meta_error
from shared.whatsapp.graph_errors import GraphError

log = logging.getLogger(__name__)

TYPING_INTERVAL = timedelta(seconds=20)
MARK_READ_WITHIN = timedelta(days=30)  # [MARK-READ]
# Conversations stored before the newest inbound message was kept on them: how far back the history is
# searched for it (once: the answer is then kept on the conversation).
HISTORY_SCAN = 50


@runtime_checkable
class ReadMarker(Protocol):
    def mark_read(self, phone_number_id: str, wamid: str, typing: bool) -> None:
        """Raises GraphError when Meta refused it or could not be reached."""
        ...


class WindowClosed(Exception):
    """No customer message in the last 24 hours: the agent cannot answer, so no typing indicator."""


class SignalFailed(Exception):
    """Meta refused the receipt or indicator, or did not answer; nothing was recorded."""

    def __init__(self, error: GraphError):
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class ReadOutcome:
    sent: bool
    message_id: str | None  # our id of the customer's newest message, None when they never wrote
    agent_read_at: str | None


def inbound_ref(doc: MessageDocument) -> InboundRef | None:
    """The message as a receipt's target, when it is one: something the customer sent (not an edit, a
    delete or a WhatsApp notice, nor a reaction, which is no message to answer)."""
    if not opens_window(doc) or doc.kind == "reaction" or not doc.wamid:
        return None
    return InboundRef(id=doc.id, wamid=doc.wamid, at=doc.timestamp, sort_key=doc.sort_key)


def newer_inbound(current: InboundRef | None, doc: MessageDocument) -> InboundRef | None:
    """For the ingest: `doc` as the conversation's newest inbound message, or None when it is not one or
    not newer (a retry, a message arriving late) than `current`."""
    found = inbound_ref(doc)
    if found is None or current is None:
        return found
    return None if current.id == found.id or current.sort_key >= found.sort_key else found


@dataclass(frozen=True)
class _Claim:
    """What a call wrote before calling Meta, and what it replaced, to put back if Meta fails."""

    message: InboundRef
    ours: dict[str, Any]
    previous: dict[str, Any]


class AgentSignals:
    def __init__(self, store: ConversationStore, marker: ReadMarker, clock: Callable[[], datetime]):
        self.store = store
        self.marker = marker
        self.clock = clock

    def mark_read(self, phone_number_id: str, customer_id: str) -> ReadOutcome:
        """Marks the customer's newest message read at Meta, once; raises SignalFailed."""
        conv = conversation_id(phone_number_id, customer_id)
        moment = self.clock()
        now = iso(moment)
        newest = self._newest_finder(conv)
        outcome = ReadOutcome(False, None, None)
        claim: _Claim | None = None

        def change(current: Doc | None) -> Doc | None:
            nonlocal outcome, claim
            claim = None
            if current is None:
                outcome = ReadOutcome(False, None, None)
                return None
            found = ConversationDocument.model_validate(current)
            latest = found.last_inbound or newest()
            if latest is None or found.agent_read_message_id == latest.id:  # nothing new to read
                outcome = ReadOutcome(False, latest.id if latest else None, found.agent_read_at)
                return None
            ours = {"agent_read_at": now, "agent_read_message_id": latest.id, "unread_count": 0}
            outcome = ReadOutcome(False, latest.id, now)
            if moment - parse_iso(latest.at) <= MARK_READ_WITHIN:
                previous = {
                    "agent_read_at": found.agent_read_at,
                    "agent_read_message_id": found.agent_read_message_id,
                    "unread_count": found.unread_count,
                }
                claim = _Claim(latest, ours, previous)
            return found.model_copy(update={"last_inbound": latest, **ours}).to_document()

        self.store.update(conv, CONVERSATION_DOCUMENT_ID, change)
        if claim is None:
            return outcome
        self._tell_meta(phone_number_id, conv, claim, typing=False)
        return replace(outcome, sent=True)

    def typing(self, phone_number_id: str, customer_id: str) -> bool:
        """Shows the typing indicator on the customer's newest message (which also marks it read), at
        most once per TYPING_INTERVAL; True when sent. Raises WindowClosed or SignalFailed."""
        conv = conversation_id(phone_number_id, customer_id)
        moment = self.clock()
        now = iso(moment)
        stored_session = self.store.read(conv, SESSION_DOCUMENT_ID)
        session = SessionDocument.model_validate(stored_session) if stored_session else None
        if not is_active(session, moment):
            raise WindowClosed
        newest = self._newest_finder(conv)
        claim: _Claim | None = None

        def change(current: Doc | None) -> Doc | None:
            nonlocal claim
            claim = None
            if current is None:
                return None
            found = ConversationDocument.model_validate(current)
            latest = found.last_inbound or newest()
            if latest is None:
                return None
            # Either way round: an instance whose clock runs ahead must not silence the others for long.
            if found.last_typing_at and abs(moment - parse_iso(found.last_typing_at)) < TYPING_INTERVAL:
                return None
            ours: dict[str, Any] = {"last_typing_at": now}
            previous: dict[str, Any] = {"last_typing_at": found.last_typing_at}
            if found.agent_read_message_id != latest.id:  # the indicator marks it read too
                ours |= {"agent_read_at": now, "agent_read_message_id": latest.id, "unread_count": 0}
                previous |= {
                    "agent_read_at": found.agent_read_at,
                    "agent_read_message_id": found.agent_read_message_id,
                    "unread_count": found.unread_count,
                }
            claim = _Claim(latest, ours, previous)
            return found.model_copy(update={"last_inbound": latest, **ours}).to_document()

        self.store.update(conv, CONVERSATION_DOCUMENT_ID, change)
        if claim is None:
            return False
        self._tell_meta(phone_number_id, conv, claim, typing=True)
        return True

    def _newest_finder(self, conv: str) -> Callable[[], InboundRef | None]:
        """The newest inbound message from the history, searched at most once per call, and only for a
        conversation that does not keep it yet (stored before it did)."""
        found: list[InboundRef | None] = []

        def newest() -> InboundRef | None:
            if not found:
                found.append(self._newest_in_history(conv))
            return found[0]

        return newest

    def _newest_in_history(self, conv: str) -> InboundRef | None:
        for row in self.store.list_messages(conv, HISTORY_SCAN, None):
            try:
                ref = inbound_ref(MessageDocument.model_validate(row))
            except ValidationError:
                continue
            if ref is not None:
                return ref
        return None

    def _tell_meta(self, phone_number_id: str, conv: str, claim: _Claim, typing: bool) -> None:
        extra = {"conversationId": conv, "wamid": claim.message.wamid}
        try:
            self.marker.mark_read(phone_number_id, claim.message.wamid, typing)
        except GraphError as error:
            record_meta_error(error.code, "typing" if typing else "read")
            log.warning(
                "WhatsApp did not take the %s (%s); nothing recorded",
                "typing indicator" if typing else "read receipt",
                error,
                extra={**extra, "metaErrorCode": error.code},
            )
            self._undo(conv, claim)
            raise SignalFailed(error) from error
        log.info("%s sent", "typing indicator" if typing else "read receipt", extra=extra)

    def _undo(self, conv: str, claim: _Claim) -> None:
        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            found = ConversationDocument.model_validate(current)
            if any(getattr(found, name) != value for name, value in claim.ours.items()):
                return None  # moved on since (a newer read, another indicator): theirs stands
            return found.model_copy(update=claim.previous).to_document()

        try:
            self.store.update(conv, CONVERSATION_DOCUMENT_ID, change)
        except StoreUnavailable as error:
            log.warning(
                "could not undo the record of a receipt WhatsApp did not take (%s); the next new "
                "customer message is marked read as usual",
                error,
                extra={"conversationId": conv},
            )
