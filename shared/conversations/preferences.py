"""A customer's marketing preference (`user_preferences` webhook), kept on the conversation document:
the session is deleted when the window closes, and outside the window (templates only) is exactly when
an opt-out matters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.conversations.documents import ConversationDocument, iso, parse_iso


@dataclass(frozen=True)
class PreferenceItem:
    """A customer stopped (`opt_out`) or resumed marketing messages at `at`."""

    conversation_id: str
    phone_number_id: str
    customer_id: str
    opt_out: bool
    at: datetime


def with_preference(
    current: ConversationDocument | None, item: PreferenceItem
) -> ConversationDocument | None:
    """The conversation with `item` applied, or None when it changes nothing.

    Meta retries for 7 days and keeps no order, so the latest preference by Meta's timestamp wins,
    whatever order they arrive in; a stop wins a tie (sending marketing to someone who said stop is the
    worse mistake).
    """
    conv = current or ConversationDocument(
        conversation_id=item.conversation_id,
        phone_number_id=item.phone_number_id,
        customer_id=item.customer_id,
    )
    if conv.marketing_preference_at is not None:
        previous = parse_iso(conv.marketing_preference_at)
        if previous > item.at or (previous == item.at and (conv.marketing_opt_out or not item.opt_out)):
            return None
    return conv.model_copy(
        update={"marketing_opt_out": item.opt_out, "marketing_preference_at": iso(item.at)}
    )
