"""What the D365 control reads: the session window and the chat history of one customer."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from shared.api.guard import caller
from shared.api.responses import ApiResponse, error_response, json_response
from shared.api.views import MessageView
from shared.conversations.aliases import known_customer
from shared.conversations.customer_id import InvalidCustomerId, normalise_customer_id
from shared.conversations.documents import SessionDocument, conversation_id
from shared.conversations.ports import StoreUnavailable
from shared.conversations.session_window import is_active
from shared.services import Services

DEFAULT_PAGE = 50
MAX_PAGE = 200
_SORT_KEY = re.compile(r"\d{11}-\d{20}")


class BadRequest(ValueError):
    pass


def resolve_customer(customer: str, params: Mapping[str, str], services: Services) -> tuple[str, str]:
    """(business phone number id, customer id) from the route and `?phoneNumberId=`."""
    try:
        customer_id = normalise_customer_id(customer)
    except InvalidCustomerId as error:
        raise BadRequest(str(error)) from error
    number = params.get("phoneNumberId") or services.settings.WHATSAPP_PHONE_NUMBER_ID
    if not number:
        raise BadRequest("phoneNumberId is required (no WHATSAPP_PHONE_NUMBER_ID is configured)")
    if not number.isdigit():
        raise BadRequest("phoneNumberId must be the business number's numeric id from Meta")
    return number, known_customer(services.store, number, customer_id)


def _conversation(customer: str, params: Mapping[str, str], services: Services) -> str:
    return conversation_id(*resolve_customer(customer, params, services))


def _page_size(params: Mapping[str, str]) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
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


def _read(authorization: str | None, services: Services, answer: Callable[[], ApiResponse]) -> ApiResponse:
    """What both reads share: the agent's token first, then 400 for bad input, 503 for a store down."""
    if isinstance(agent := caller(authorization, services.settings), ApiResponse):
        return agent
    try:
        return answer()
    except BadRequest as error:
        return error_response(400, "invalid_request", str(error))
    except StoreUnavailable:
        return error_response(503, "store_unavailable", "Conversation storage is unavailable; try again.")


def session_status(
    customer: str, params: Mapping[str, str], authorization: str | None, services: Services
) -> ApiResponse:
    def answer() -> ApiResponse:
        found = services.store.read(_conversation(customer, params, services), "session")
        session = SessionDocument.model_validate(found) if found else None
        active = is_active(session, services.clock())
        return json_response(
            200,
            {
                "active": active,
                "expiresAt": session.expires_at if session and active else None,
                "lastInboundAt": session.last_inbound_at if session else None,
            },
        )

    return _read(authorization, services, answer)


def _poll_cursor(rows: list[dict[str, Any]], since: int = 0) -> str:
    """The `changedSince` for the next poll: the newest write seen. Any later change is written at or
    after it, by the store's clock, so `_ts >= cursor` cannot miss one (repeats merge by id)."""
    return str(max([since, *(int(row.get("_ts", 0)) for row in rows)]))


def _since(params: Mapping[str, str]) -> int | None:
    raw = params.get("changedSince")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise BadRequest("changedSince is not a pollCursor this API returned")
    return int(raw)


def history(
    customer: str, params: Mapping[str, str], authorization: str | None, services: Services
) -> ApiResponse:
    def answer() -> ApiResponse:
        conv = _conversation(customer, params, services)
        limit = _page_size(params)
        since = _since(params)
        if since is not None:  # a poll: only what changed, new messages and new ticks alike
            rows = services.store.list_changed(conv, since, limit)
            page, more = rows, False
        else:
            before = decode_cursor(params["before"]) if params.get("before") else None
            rows = services.store.list_messages(conv, limit + 1, before)
            page, more = rows[:limit], len(rows) > limit
        return json_response(
            200,
            {
                "messages": [message_view(row, media_urls(services)) for row in page],
                "next": encode_cursor(page[-1]["sortKey"]) if more and page else None,
                "pollCursor": _poll_cursor(page, since or 0),
            },
        )

    return _read(authorization, services, answer)
