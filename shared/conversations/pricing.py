"""What Meta's status webhooks say a message costs (`pricing`) and which of Meta's conversations it
belongs to, kept on the message for cost reports (WHATSAPP-NOTES §3.5)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from shared.conversations.documents import Document, MetaConversation, Pricing, iso
from shared.whatsapp.webhook_models import Status, describe

log = logging.getLogger(__name__)
D = TypeVar("D", bound=Document)


def pricing_of(status: Status) -> Pricing | None:
    """Meta's `pricing` on a status; an unreadable one is dropped (and logged), never the status."""
    if not status.pricing:
        return None
    try:
        return Pricing.model_validate(status.pricing)
    except ValidationError as error:
        log.warning("unreadable pricing on a status: %s", describe(error), extra={"wamid": status.id})
        return None


def meta_conversation_of(status: Status) -> MetaConversation | None:
    """Meta's `conversation{id, origin{type}, expiration_timestamp}` on a status, flattened."""
    raw = status.conversation
    if not raw:
        return None
    origin = raw.get("origin")
    expires = raw.get("expiration_timestamp")
    try:
        return MetaConversation(
            id=raw.get("id"),
            origin_type=origin.get("type") if isinstance(origin, dict) else None,
            expires_at=iso(datetime.fromtimestamp(int(expires), tz=UTC)) if expires is not None else None,
        )
    except (ValidationError, TypeError, ValueError, OverflowError, OSError):
        log.warning("unreadable conversation on a status", extra={"wamid": status.id})
        return None


def filled(current: D | None, new: D | None) -> D | None:
    """`current` with its gaps filled from `new`: Meta repeats pricing on two statuses in any order,
    and only `sent` carries the conversation's expiry, so what is known is kept, never overwritten."""
    if new is None or current == new:
        return current
    if current is None:
        return new
    known: dict[str, Any] = {k: v for k, v in current.model_dump().items() if v is not None}
    return new.model_copy(update=known)
