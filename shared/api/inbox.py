"""GET /conversations: the agent's inbox for one business number (issue 15, item 1).

The same rules as the conversation routes: an Entra ID token, a business number this deployment
serves, and, where record checks are on, only conversations whose linked Contact or Lead the agent
may read in Dynamics 365 (asked as the agent, remembered per agent and record like the panel's
checks). A conversation with no linked record is in no one's D365 security: every agent with the
app's role sees it, marked `record: null`, so someone can pick up a new customer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from shared.access.records import RecordRefused
from shared.api.guard import BadRequest, business_number, guarded
from shared.api.responses import ApiResponse, json_response
from shared.auth.entra import Principal
from shared.conversations.documents import ConversationDocument, Direction, iso
from shared.conversations.inbox import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    STATES,
    BadCursor,
    InboxCursor,
    InboxState,
    inbox_page,
    window_expires_at,
)
from shared.services import Services

log = logging.getLogger(__name__)
_LIMIT = re.compile(r"[0-9]{1,3}")


class InboxModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class InboxRecord(InboxModel):
    entity: Literal["contact", "lead"]
    id: str
    name: str | None = Field(
        default=None, description="The record's full name, when Dataverse's phone lookup found it"
    )


class InboxLastMessage(InboxModel):
    preview: str | None = None
    at: str
    direction: Direction | None = None


class InboxWindow(InboxModel):
    active: bool
    expires_at: str | None = None


class InboxConversation(InboxModel):
    """One row of the inbox."""

    customer_id: str
    profile_name: str | None = None
    record: InboxRecord | None = None  # the linked Contact or Lead; null: none yet
    last_message: InboxLastMessage
    window: InboxWindow
    unread_count: int  # customer messages since an agent's panel last read the conversation


class InboxAnswer(InboxModel):
    conversations: list[InboxConversation]
    next: str | None = None  # pass as `next` for the following page; null: this was the last


def _state(params: Mapping[str, str]) -> InboxState:
    raw = params.get("state") or "all"
    for state in STATES:
        if raw == state:
            return state
    raise BadRequest("state must be waiting, open or all")


def _limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _cursor(params: Mapping[str, str]) -> InboxCursor | None:
    raw = params.get("next")
    if raw is None or raw == "":
        return None
    try:
        return InboxCursor.decode(raw)
    except BadCursor as error:
        raise BadRequest(str(error)) from None


def _row(conversation: ConversationDocument, now: datetime) -> InboxConversation:
    expires = window_expires_at(conversation)
    regarding = conversation.regarding
    return InboxConversation(
        customer_id=conversation.customer_id,
        profile_name=conversation.profile_name,
        record=(
            InboxRecord(entity=regarding.entity, id=regarding.id, name=conversation.regarding_name)
            if regarding
            else None
        ),
        last_message=InboxLastMessage(
            preview=conversation.last_message_preview,
            at=conversation.last_message_at or "",
            direction=conversation.last_message_direction,
        ),
        window=InboxWindow(
            active=expires is not None and expires > now, expires_at=iso(expires) if expires else None
        ),
        unread_count=conversation.unread_count or 0,
    )


def _visible(agent: Principal, conversation: ConversationDocument, services: Services) -> bool:
    """What D365 lets the agent see: the linked record, read as the agent (remembered); AccessCheck-
    Unavailable and AccessNotConfigured go up (503: a partial inbox would mislead)."""
    if services.access is None or conversation.regarding is None:
        return True
    try:
        services.access.check(agent.object_id, conversation.regarding, None)
    except RecordRefused:
        return False
    return True


def inbox(params: Mapping[str, str], authorization: str | None, services: Services) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        number = business_number(params, services.settings)
        state, limit, cursor = _state(params), _limit(params), _cursor(params)
        now = services.clock()
        page = inbox_page(services.store, number, state, limit, cursor, now)
        rows = [_row(c, now) for c in page.conversations if _visible(agent, c, services)]
        body = InboxAnswer(conversations=rows, next=page.next.encode() if page.next else None)
        return json_response(200, body.model_dump(by_alias=True, mode="json"))

    return guarded(authorization, services, answer)
