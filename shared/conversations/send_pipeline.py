"""What every message an agent sends goes through, whatever it is (a session message, a template, a
reaction: each its own use case around this pipeline):

- the window rule, for the use cases that need it (`require_window`);
- at most one send per `clientMessageId`: the message is written first, under `out:<clientMessageId>`
  with a hash of what was asked, so a retry replays it and the same id with another body is refused;
- Meta's send, with the customer's current ids; nothing is ever sent without a trace;
- the outcome recorded: Meta's wamid (with a receipt that raced it applied), a refusal, or no answer;
- the Dataverse mirror scheduled through `MirrorTiming`, and the conversation's preview and ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from shared.conversations.amendments import amendment_of
from shared.conversations.commands import AnySendCommand
from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    ConversationDocument,
    MessageDocument,
    MessageError,
    ReceiptDocument,
    Regarding,
    SessionDocument,
    conversation_id,
    document_id,
    iso,
)
from shared.conversations.identity import new_conversation
from shared.conversations.in_context import apply_in_context
from shared.conversations.inbound import preview, sort_key
from shared.conversations.ingest import OUTBOUND_ID_PREFIX, Clock, apply_receipt, utc_now
from shared.conversations.mirror_timing import AT_ONCE, MirrorTiming
from shared.conversations.outbound_media import OutboundMedia
from shared.conversations.ports import (
    BatchConflict,
    Change,
    ConversationStore,
    Doc,
    QueuePublisher,
    StoreUnavailable,
    Write,
)
from shared.conversations.queue_messages import MirrorRequest
from shared.conversations.session_window import is_active
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from shared.telemetry import record_message, record_meta_error, record_window_refusal
from shared.templates.catalog import TemplateSource
from shared.whatsapp.graph_errors import WINDOW_CLOSED, GraphError
from shared.whatsapp.graph_models import SendMessageRequest, SendMessageResponse, e164

log = logging.getLogger(__name__)


class MessageSender(TemplateSource, Protocol):
    """Meta's Graph API as sends use it (the template catalog included: a template send checks it)."""

    def send_message(self, phone_number_id: str, request: SendMessageRequest) -> SendMessageResponse: ...

    def upload_media(self, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str: ...


def outbound_message_id(client_message_id: str | None) -> str:
    return document_id(OUTBOUND_ID_PREFIX + (client_message_id or str(uuid.uuid4())))


def request_hash(phone_number_id: str, customer_id: str, command: BaseModel) -> str:
    """What a clientMessageId stands for: the same id must always mean the same message."""
    asked = command.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"client_message_id"})
    canonical = json.dumps([phone_number_id, customer_id, asked], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ClientMessageIdReused(Exception):
    """The clientMessageId was sent before with another body: refused before Meta is called."""


class SessionInactive(Exception):
    """The customer has not written in the last 24 hours: only templates may go out."""


class SendOutcomeUnknown(Exception):
    """Meta's answer does not say whether the message went out (no answer in time, a 5xx without
    Meta's error object). It stays `accepted`, so Meta's status webhooks (which name it in
    `biz_opaque_callback_data`) can still move it forward."""

    def __init__(self, message: Doc, reason: str = "WhatsApp did not answer in time"):
        super().__init__(reason)
        self.message = message
        self.reason = reason


class SendFailed(Exception):
    """Meta refused the message or could not be reached; `message` is the stored, failed message."""

    def __init__(self, error: MessageError, message: Doc):
        super().__init__(f"send failed: {error.code} {error.title}")
        self.error = error
        self.message = message


def addressee(customer_id: str, phone: str | None = None, user_id: str | None = None) -> dict[str, str]:
    """Whom Meta delivers to: a phone number in `to`, as E.164 with its `+` (without it Meta would
    prepend the business number's country code), else a business-scoped user id in `recipient`.

    `phone` and `user_id` are the customer's current ids as WhatsApp last gave them (the conversation's
    `waId`, `userId`: a changed number, a changed user id); else the customer id itself, which is E.164
    digits or a user id (customer_id.py). A number wins over a user id, as at Meta when both are given.
    """
    number = phone if phone and phone.isdigit() else customer_id if customer_id.isdigit() else None
    if number:
        return {"to": e164(number)}
    return {"recipient": user_id or customer_id}


@dataclass(frozen=True)
class Recipient:
    """What a use case needs to build Meta's body once its message is recorded: whom it goes to, our
    message id (echoed back in statuses), and a way to get one of our files to Meta."""

    customer_id: str
    phone: str | None
    user_id: str | None
    message_id: str
    upload: Callable[[OutboundMedia], str]  # our blob -> Meta's media id, recorded on the message

    def address(self) -> dict[str, str]:
        return addressee(self.customer_id, self.phone, self.user_id)


RequestFor = Callable[[Recipient], SendMessageRequest]


def outbound_draft(
    phone_number_id: str,
    customer_id: str,
    command: AnySendCommand,
    sent_by: str,
    now: datetime,
    *,
    kind: str,
    timestamp: str | None = None,
    **content: Any,
) -> MessageDocument:
    """The message as first written (`accepted`), before Meta is called. `command` is the control's
    request: its `clientMessageId`, `regarding` and hash; `content` the kind's own fields."""
    return MessageDocument(
        conversation_id=conversation_id(phone_number_id, customer_id),
        id=outbound_message_id(command.client_message_id),
        phone_number_id=phone_number_id,
        customer_id=customer_id,
        direction="outbound",
        kind=kind,
        timestamp=timestamp or iso(now),
        sort_key=sort_key(now),
        status="accepted",
        status_times={"accepted": iso(now)},
        sent_by=sent_by,
        regarding=command.regarding,
        client_message_id=command.client_message_id,
        request_hash=request_hash(phone_number_id, customer_id, command),
        **content,
    )


def _moved_to(message: Doc, request: SendMessageRequest, response: SendMessageResponse) -> str | None:
    """Meta rewrote the number the conversation is keyed by (Brazil, Mexico): the id it delivered to.
    A send to a user id, or to the customer's newer number, leaves the conversation where it is; and
    so does a reaction, whose target stays where it is."""
    customer = str(message["customerId"])
    if request.to != e164(customer) or message.get("hidden"):
        return None
    wa_id = response.wa_id
    return wa_id if wa_id and wa_id != customer and wa_id.isdigit() else None


def _error_of(error: GraphError) -> MessageError:
    return MessageError(
        code=error.code, title=error.title, detail=error.details, retryable=error.transient or None
    )


class OutboundPipeline:
    def __init__(
        self,
        store: ConversationStore,
        queue: QueuePublisher,
        sender: MessageSender,
        clock: Clock = utc_now,
        mirror_timing: MirrorTiming = AT_ONCE,
    ):
        self.store = store
        self.queue = queue
        self.sender = sender
        self.clock = clock
        self.mirror_timing = mirror_timing

    def require_window(self, conv: str, now: datetime) -> None:
        """Raises SessionInactive unless the customer wrote in the last 24 hours."""
        session = self.store.read(conv, "session")
        if not is_active(SessionDocument.model_validate(session) if session else None, now):
            record_window_refusal("session")
            raise SessionInactive(conv)

    def send(
        self, draft: MessageDocument, request_for: RequestFor, regarding: Regarding | None
    ) -> tuple[Doc, bool]:
        """The stored message, and whether this call sent it (False: a replay of an earlier send)."""
        conv, message_id = draft.conversation_id, draft.id
        fresh = draft.to_document()
        if not self.store.create(fresh):
            existing = self.store.read(conv, message_id)
            assert existing is not None
            if existing.get("requestHash") != draft.request_hash:
                log.warning("clientMessageId %s reused with another body", draft.client_message_id)
                raise ClientMessageIdReused(message_id)
            if not self._may_retry(existing):
                log.info(
                    "replayed send %s",
                    message_id,
                    extra={"conversationId": conv, "wamid": existing.get("wamid")},
                )
                if existing.get("status") == "failed":
                    raise SendFailed(MessageError.model_validate(existing.get("error") or {}), existing)
                return existing, False
            self._set(conv, message_id, status="accepted", error=None)

        now = self.clock()
        try:
            phone, user_id = self._current_ids(conv)
            recipient = Recipient(
                draft.customer_id,
                phone,
                user_id,
                message_id,
                lambda media: self._upload(conv, message_id, draft.phone_number_id, media),
            )
            request = request_for(recipient)
            response = self.sender.send_message(draft.phone_number_id, request)
        except GraphError as error:
            record_meta_error(error.code, "send")
            if error.code == WINDOW_CLOSED:
                record_window_refusal("meta")
            if error.outcome_unknown:
                log.warning(
                    "no clear answer from Meta for %s (%s); it may have been sent",
                    message_id,
                    error.title,
                    extra={"conversationId": conv, "httpStatus": error.http_status},
                )
                stored_now = self.store.read(conv, message_id) or fresh
                raise SendOutcomeUnknown(stored_now, error.title) from error
            stored = self._failed(conv, message_id, error, now)
            if error.code == WINDOW_CLOSED:
                self._close_window(conv, now)
            raise SendFailed(MessageError.model_validate(stored["error"]), stored) from error
        try:
            return self._accepted(conv, message_id, response, request, regarding), True
        except StoreUnavailable as error:
            # Meta has it: answering 5xx would have the agent send it again. Its statuses name our
            # message (written before Meta was called), so they record the wamid and its mirror.
            log.warning(
                "Meta accepted %s but recording it failed (%s); its statuses will record it",
                message_id,
                error,
                extra={"conversationId": conv, "wamid": response.wamid},
            )
            return {**fresh, "wamid": response.wamid}, True

    def _upload(self, conv: str, message_id: str, phone_number_id: str, media: OutboundMedia) -> str:
        stored = media.stored
        assert stored is not None, "only our own blobs are uploaded to Meta"
        content = b"".join(stored.chunks)
        filename = media.info.filename or (media.blob_name or "file").rsplit("/", 1)[-1]
        meta_media_id = self.sender.upload_media(phone_number_id, content, stored.content_type, filename)
        self._set(conv, message_id, media={**media.info.to_document(), "metaMediaId": meta_media_id})
        return meta_media_id

    def _current_ids(self, conv: str) -> tuple[str | None, str | None]:
        """The number and user id WhatsApp last gave for this customer (the conversation document)."""
        current = self.store.read(conv, "conversation")
        if current is None:
            return None, None
        known = ConversationDocument.model_validate(current)
        return known.wa_id, known.user_id

    @staticmethod
    def _may_retry(existing: Doc) -> bool:
        """A send that failed for a passing reason (throttling, Meta unreachable) may be tried again."""
        error = existing.get("error") or {}
        return (
            existing.get("status") == "failed" and bool(error.get("retryable")) and not existing.get("wamid")
        )

    def _set(self, conv: str, message_id: str, **fields: Any) -> Doc:
        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            return {**current, **fields}

        stored = self.store.update(conv, message_id, change)
        assert stored is not None
        return stored

    def _mirror(self, conv: str, message: Doc, delay: timedelta | None = None) -> None:
        """Its Timeline row; an edit or a reaction has none (its target's row shows it)."""
        if not message.get("hidden"):
            self.queue.send(
                DATAVERSE_MIRROR_QUEUE, MirrorRequest(conversation_id=conv, id=message["id"]), delay
            )

    def _failed(self, conv: str, message_id: str, error: GraphError, now: datetime) -> Doc:
        log.warning(
            "WhatsApp refused message %s: %s",
            message_id,
            error,
            extra={"conversationId": conv, "metaErrorCode": error.code},
        )
        detail = _error_of(error).to_document()

        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            times = dict(current.get("statusTimes") or {})
            times.setdefault("failed", iso(now))
            return {**current, "status": "failed", "statusTimes": times, "error": detail}

        stored = self.store.update(conv, message_id, change)
        assert stored is not None
        self._mirror(conv, stored)
        return stored

    def _close_window(self, conv: str, now: datetime) -> None:
        """Meta's 131047 is the final word on the window: end ours so the control hides the composer."""

        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            return {**current, "expiresAt": iso(now), "ttl": 1}

        self.store.update(conv, "session", change)

    def _accepted(
        self,
        conv: str,
        message_id: str,
        response: SendMessageResponse,
        request: SendMessageRequest,
        regarding: Regarding | None,
    ) -> Doc:
        together = self._recorded_together(conv, message_id, response, request, regarding)
        if together is not None:  # a plain send: its wamid and the preview in one request
            stored, mirror_after = together
            log.info(
                "Meta accepted message %s",
                message_id,
                extra={"conversationId": conv, "wamid": response.wamid},
            )
            record_message("outbound", str(stored["kind"]))
            if mirror_after is not None:
                self._mirror(conv, stored, mirror_after)
            return stored
        stored, mirror_after = self._record_wamid(conv, message_id, response.wamid)
        if (moved_to := _moved_to(stored, request, response)) is not None:
            stored = self._rehome(stored, moved_to)
            conv = stored["conversationId"]
            # A status that raced the move found no message under the new id and left a receipt.
            # (Elsewhere a racing status finds the message itself: it names it in
            # `biz_opaque_callback_data`, and the message was written before Meta was called.)
            receipt = self.store.read(conv, ReceiptDocument.id_for(response.wamid))
            if receipt is not None and apply_receipt(self.store, stored, receipt).changed:
                stored = self.store.read(conv, message_id) or stored
        extra = {"conversationId": conv, "wamid": response.wamid}
        log.info("Meta accepted message %s", message_id, extra=extra)
        record_message("outbound", str(stored["kind"]))
        document = MessageDocument.model_validate(stored)
        # A reply shows a quote of what it answers, as a customer's does; a reaction joins its target.
        if document.context or amendment_of(document) is not None:
            apply_in_context(self.store, document)
            stored = self.store.read(conv, message_id) or stored
        self._touch_conversation(conv, MessageDocument.model_validate(stored), response, regarding)
        if mirror_after is not None:
            self._mirror(conv, stored, mirror_after)
        return stored

    def _recorded_together(
        self,
        conv: str,
        message_id: str,
        response: SendMessageResponse,
        request: SendMessageRequest,
        regarding: Regarding | None,
    ) -> tuple[Doc, timedelta | None] | None:
        """Meta's id on the message and the conversation's preview in one transactional batch, over
        the two documents this request has already read or written (read_cache.py): for a plain send.
        None, with nothing written, for a reply or a reaction (their target is written too), a send
        Meta delivered under another id, or a document changed meanwhile: they go one write at a time."""
        found = self.store.read_many(conv, (message_id, CONVERSATION_DOCUMENT_ID))
        message = found.get(message_id)
        if message is None or message.get("context") or message.get("hidden"):
            return None
        if _moved_to(message, request, response) is not None:
            return None
        change, mirror_after = self._wamid_change(response.wamid)
        recorded = change(message)
        assert recorded is not None
        document = MessageDocument.model_validate(recorded)
        if amendment_of(document) is not None:
            return None
        conversation = found.get(CONVERSATION_DOCUMENT_ID)
        touched = self._conversation_change(conv, document, response, regarding)(conversation)
        writes = [Write(recorded, message["_etag"])]
        if touched is not None:
            writes.append(Write(touched, conversation["_etag"] if conversation else None))
        try:
            stored = self.store.write_batch(conv, writes)
        except BatchConflict:
            return None
        return stored[0], mirror_after()

    def _record_wamid(self, conv: str, message_id: str, wamid: str) -> tuple[Doc, timedelta | None]:
        change, mirror_after = self._wamid_change(wamid)
        stored = self.store.update(conv, message_id, change)
        assert stored is not None
        return stored, mirror_after()

    def _wamid_change(self, wamid: str) -> tuple[Change, Callable[[], timedelta | None]]:
        """Meta's id for the message; the same write schedules its mirror, late enough for the statuses
        that follow within seconds to ride along (shared/conversations/mirror_timing.py). The second
        part tells the delay the change's last run chose."""
        mirror_after: timedelta | None = None

        def change(current: Doc | None) -> Doc | None:
            nonlocal mirror_after
            if current is None:
                return None
            updated = {**current, "wamid": wamid, "error": None}
            if current.get("hidden"):  # no Timeline row of its own
                mirror_after = None
                return updated
            updated, mirror_after = self.mirror_timing.schedule(updated, self.clock())
            return updated

        return change, lambda: mirror_after

    def _rehome(self, message: Doc, wa_id: str) -> Doc:
        """Meta delivered to another id than the number given (Brazil, Mexico): replies and statuses
        will come under that id, so the message moves there and the number becomes an alias of it."""
        old_conv = message["conversationId"]
        new_conv = conversation_id(message["phoneNumberId"], wa_id)
        log.info("WhatsApp knows %s as %s; moving the conversation there", message["customerId"], wa_id)
        moved = {k: v for k, v in message.items() if not k.startswith("_")}
        moved.update(conversationId=new_conv, customerId=wa_id)
        self.store.create(moved)
        self.store.delete(old_conv, message["id"])

        def alias(current: Doc | None) -> Doc | None:
            base = current or new_conversation(message["phoneNumberId"], message["customerId"])
            return None if base.get("aliasOf") == wa_id else {**base, "aliasOf": wa_id}

        self.store.update(old_conv, "conversation", alias)
        return self.store.read(new_conv, message["id"]) or moved

    def _touch_conversation(
        self, conv: str, doc: MessageDocument, response: SendMessageResponse, regarding: Regarding | None
    ) -> None:
        self.store.update(
            conv, CONVERSATION_DOCUMENT_ID, self._conversation_change(conv, doc, response, regarding)
        )

    @staticmethod
    def _conversation_change(
        conv: str, doc: MessageDocument, response: SendMessageResponse, regarding: Regarding | None
    ) -> Change:
        """The preview, the record the agent sent from, and the ids Meta answered with."""

        def change(current: Doc | None) -> Doc | None:
            existing = (
                ConversationDocument.model_validate(current)
                if current
                else ConversationDocument(
                    conversation_id=conv, phone_number_id=doc.phone_number_id, customer_id=doc.customer_id
                )
            )
            updates: dict[str, Any] = {}
            if not doc.hidden:  # a reaction is not a new message: it leaves the preview alone
                updates |= {
                    "last_message_at": doc.timestamp,
                    "last_message_preview": preview(doc),
                    "last_message_direction": "outbound",
                }
            linked = existing.regarding
            same_record = (
                linked is not None
                and regarding is not None
                and ((linked.entity, linked.id) == (regarding.entity, regarding.id))
            )
            if regarding is not None and not same_record:  # the same record keeps its owner, name
                updates["regarding"] = regarding
                updates["regarding_name"] = None
            if response.wa_id:
                updates["wa_id"] = response.wa_id
            if response.user_id:
                updates["user_id"] = response.user_id
            return existing.model_copy(update=updates).to_document()

        return change
