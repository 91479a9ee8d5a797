"""What the D365 control reads: the session window and the chat history of one customer."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from shared.api.guard import BadRequest, conversation_request, guarded
from shared.api.responses import ApiResponse, json_response
from shared.api.views import MessageView, SessionStatus
from shared.auth.entra import Principal
from shared.conversations.aliases import known_customer
from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    SESSION_DOCUMENT_ID,
    SessionDocument,
    conversation_id,
)
from shared.conversations.identity import HOME_DOCUMENTS
from shared.conversations.poll_cursor import BadPollCursor, PollCursor
from shared.conversations.read_cache import ReadCache
from shared.conversations.session_window import is_active
from shared.services import Services

DEFAULT_PAGE = 50
MAX_PAGE = 200
# ASCII digits only (`str.isdigit` also accepts `²` and other scripts' digits, which `int` refuses).
_PAGE_SIZE = re.compile(r"[0-9]{1,3}")
_SORT_KEY = re.compile(r"[0-9]{11}-[0-9]{20}")
_MAX_CURSOR = 64  # an encoded sort key is 44 characters


def _page_size(params: Mapping[str, str]) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_PAGE
    if not _PAGE_SIZE.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    if len(cursor) > _MAX_CURSOR or not cursor.isascii():
        raise BadRequest("before is not a cursor this API returned")
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadRequest("before is not a cursor this API returned") from error
    if not _SORT_KEY.fullmatch(value):
        raise BadRequest("before is not a cursor this API returned")
    return value


def message_view(document: dict[str, Any], url_for: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The message as the control shows it; a stored file gets a fresh short-lived read URL."""
    view = MessageView.model_validate(document)
    if view.media is not None and view.media.blob_name and url_for is not None:
        view.media = view.media.model_copy(update={"url": url_for(view.media.blob_name)})
    return view.model_dump(by_alias=True, exclude_none=True, mode="json")


def media_urls(services: Services) -> Callable[[str], str]:
    return lambda blob_name: services.media.read_url(blob_name, services.settings.MEDIA_URL_MINUTES)


def session_status(
    customer: str, params: Mapping[str, str], authorization: str | None, services: Services
) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        request = conversation_request(agent, customer, params, services)
        conv = conversation_id(request.phone_number_id, request.customer_id)
        found = request.store.read(conv, SESSION_DOCUMENT_ID)  # read with the conversation: no request
        session = SessionDocument.model_validate(found) if found else None
        active = is_active(session, services.clock())
        # The opt-out lives on the conversation document, not the session: the session is deleted when
        # the window closes, and outside the window (templates only) is when an opt-out matters most.
        conversation = request.store.read(conv, CONVERSATION_DOCUMENT_ID) or {}
        read_at = conversation.get("agentReadAt")  # read receipts (shared/conversations/agent_signals.py)
        return json_response(
            200,
            SessionStatus(
                active=active,
                expires_at=session.expires_at if session and active else None,
                last_inbound_at=session.last_inbound_at if session else None,
                marketing_opt_out=conversation.get("marketingOptOut") is True,
                agent_read_at=read_at if isinstance(read_at, str) else None,
            ).model_dump(by_alias=True, mode="json"),
        )

    return guarded(authorization, services, answer)


def _since(params: Mapping[str, str]) -> PollCursor | None:
    raw = params.get("changedSince")
    if raw is None or raw == "":
        return None
    try:
        return PollCursor.decode(raw)
    except BadPollCursor as error:
        raise BadRequest(str(error)) from None


def history(
    customer: str, params: Mapping[str, str], authorization: str | None, services: Services
) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        limit = _page_size(params)
        since = _since(params)
        polled: dict[str, list[dict[str, Any]]] = {}

        def poll_at_home(store: ReadCache, number: str, route_customer: str) -> str:
            """A poll asks the route's own partition for its changes and its conversation document in
            one request: when that is the customer's home (nearly always), the poll is answered."""
            assert since is not None
            conv = conversation_id(number, route_customer)
            rows = store.list_changed(conv, since.ts, limit + 1, since.seen, with_conversation=True)
            found = [row for row in rows if row.get("id") == CONVERSATION_DOCUMENT_ID]
            messages = [row for row in rows if row.get("id") != CONVERSATION_DOCUMENT_ID][: limit + 1]
            if found:
                store.prime(conv, [CONVERSATION_DOCUMENT_ID], {CONVERSATION_DOCUMENT_ID: found[0]})
            if (found and not found[0].get("aliasOf")) or (not found and messages):
                polled[conv] = messages  # only a home holds messages
                return route_customer
            if not found:  # nothing here at all (no cut answer: no messages): a number yet to write,
                # or one WhatsApp knows by another spelling; what is known to be missing is not asked again
                store.prime(conv, HOME_DOCUMENTS, {})
                polled[conv] = []
            return known_customer(store, number, route_customer)

        resolve = poll_at_home if since is not None else None
        request = conversation_request(agent, customer, params, services, resolve=resolve)
        conv = conversation_id(request.phone_number_id, request.customer_id)
        if since is not None:  # a poll: only what changed, new messages and new ticks alike
            rows = polled.get(conv)
            if rows is None:
                rows = request.store.list_changed(conv, since.ts, limit + 1, since.seen)
            changed, more = rows[:limit], len(rows) > limit
            cursor = since.after(changed)
            # Newest first like a page; `next`, while more changes wait, is where to poll again at once.
            page = sorted(changed, key=lambda row: str(row.get("sortKey", "")), reverse=True)
            following = cursor.encode() if more else None
        else:
            before = decode_cursor(params["before"]) if params.get("before") else None
            rows = request.store.list_messages(conv, limit + 1, before)
            page, more = rows[:limit], len(rows) > limit
            following = encode_cursor(page[-1]["sortKey"]) if more and page else None
            cursor = PollCursor(0).after(page)
        return json_response(
            200,
            {
                "messages": [message_view(row, media_urls(services)) for row in page],
                "next": following,
                "pollCursor": cursor.encode(),
            },
        )

    return guarded(authorization, services, answer)
