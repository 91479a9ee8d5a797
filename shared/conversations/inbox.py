"""The inbox: a business number's conversations, most recent activity first, with unread counts.

Kept on the conversation documents the ingest already writes (issue 15, item 1): `lastMessageAt` and
the preview, `lastInbound` (the customer's newest message, for the window), and `unreadCount` (+1 per
new customer message, 0 when an agent's panel sends the read receipt). So the inbox is one
cross-partition query over conversation documents, ordered by `(lastMessageAt, conversationId)`
with a composite index, and paged by that keyset: no second copy of the data to keep in step, at
the cost of a fan-out to every physical partition (one while the container is small;
`benchmarks/inbox.py` measures it).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from shared.conversations.documents import ConversationDocument, iso, parse_iso
from shared.conversations.ports import ConversationStore
from shared.conversations.session_window import WINDOW

InboxState = Literal["waiting", "open", "all"]
STATES: tuple[InboxState, ...] = ("waiting", "open", "all")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_CONVERSATION = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9._%-]{1,160}$")


class BadCursor(ValueError):
    """`next` is not one this route handed out."""


@dataclass(frozen=True)
class InboxCursor:
    """Where the next page starts: after this conversation in the inbox's order."""

    last_message_at: str
    conversation_id: str

    def encode(self) -> str:
        raw = json.dumps([self.last_message_at, self.conversation_id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> InboxCursor:
        """Only the exact shapes it was made of: it goes into a query's parameters."""
        if len(token) > 400:
            raise BadCursor("next is too long")
        try:
            found = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadCursor("next is not a cursor this route gave") from None
        if (
            not isinstance(found, list)
            or len(found) != 2
            or not all(isinstance(part, str) for part in found)
            or not _ISO.fullmatch(found[0])
            or not _CONVERSATION.fullmatch(found[1])
        ):
            raise BadCursor("next is not a cursor this route gave")
        return cls(found[0], found[1])


@dataclass(frozen=True)
class InboxPage:
    conversations: list[ConversationDocument]
    next: InboxCursor | None


def window_expires_at(conversation: ConversationDocument) -> datetime | None:
    """The 24-hour window from the customer's newest message (Meta may end it sooner: a send then
    answers 409 and the panel says so)."""
    newest = conversation.last_inbound
    return parse_iso(newest.at) + WINDOW if newest is not None else None


def inbox_page(
    store: ConversationStore,
    phone_number_id: str,
    state: InboxState,
    limit: int,
    cursor: InboxCursor | None,
    now: datetime,
) -> InboxPage:
    """One page; `next` is set when the page is full (the last page may be empty)."""
    rows = store.list_conversations(
        phone_number_id,
        limit,
        (cursor.last_message_at, cursor.conversation_id) if cursor else None,
        unread_only=state == "waiting",
        inbound_since=iso(now - WINDOW) if state == "open" else None,
    )
    conversations = []
    for row in rows:
        try:
            conversations.append(ConversationDocument.model_validate(row))
        except ValidationError:
            continue  # a document of another shape never hides the rest
    last = conversations[-1] if len(rows) >= limit and conversations else None
    following = (
        InboxCursor(last.last_message_at, last.conversation_id) if last and last.last_message_at else None
    )
    return InboxPage(conversations, following)
