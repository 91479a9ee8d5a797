"""The 24-hour customer-service window that a customer's message opens or refreshes.

Meta: "Whenever a WhatsApp user messages you or calls you, a 24-hour timer called a customer service
window starts (or refreshes)" (WHATSAPP-NOTES §8, [SEND-GUIDE]
https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages).
`opens_window` is that rule for our message documents; Meta's 131047 is the final word and closes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.conversations.documents import MessageDocument, SessionDocument, iso, parse_iso

WINDOW = timedelta(hours=24)
# How far ahead of our clock a message's timestamp may be and still count (clock skew between Meta
# and us). Beyond it the date is not believed for the window: a message dated next month would
# otherwise keep the window open, and let agents write, for a month.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def window_start(sent_at: datetime, now: datetime) -> datetime:
    """The moment a customer's message opens the window from: its own time, or `now` when that time is
    further ahead of the clock than skew explains."""
    return now if sent_at - now > MAX_CLOCK_SKEW else sent_at


def refreshed_session(
    current: SessionDocument | None, conversation_id: str, inbound_at: datetime, now: datetime
) -> SessionDocument | None:
    """The session after an inbound message at `inbound_at`, or None when it changes nothing.

    An older message (a retry, a burst after an outage) never moves the window back, and one older
    than 24 hours opens nothing: Cosmos needs a positive `ttl`.
    """
    if current is not None and parse_iso(current.last_inbound_at) >= inbound_at:
        return None
    expires_at = inbound_at + WINDOW
    ttl = int((expires_at - now).total_seconds())
    if ttl <= 0:
        return None
    return SessionDocument(
        conversation_id=conversation_id,
        last_inbound_at=iso(inbound_at),
        expires_at=iso(expires_at),
        ttl=ttl,
    )


def is_active(session: SessionDocument | None, now: datetime) -> bool:
    """TTL deletion runs in the background (and not at all in the emulator), so compare times too."""
    return session is not None and parse_iso(session.expires_at) > now


# Stored inbound, yet not the customer messaging us: WhatsApp's own notices (number or identity
# changed), and changes to an older message (an edit, a delete), which Meta does not describe as
# messaging the business. Kinds "edit"/"revoke" and the details markers are both recognised, since
# an edit is stored with the edited content's kind and `details.edit_of`, a revoke as `system`.
_NOT_MESSAGING_KINDS = frozenset({"system", "edit", "revoke"})


def opens_window(doc: MessageDocument) -> bool:
    """True when this stored message is the customer messaging us, which opens or refreshes the window.

    That is every inbound kind (text, media, location, contacts, order, reaction, button and list
    replies and Flow answers (`interactive`), template quick-reply taps (`button`)) and `unsupported`
    ones: a type the code does not model is still something the customer sent, and Meta documents
    `request_welcome` (stored as unsupported) as opening the window. Not: echoes and statuses (the
    business wrote), `system` notices, edits and deletes of older messages.
    """
    if doc.direction != "inbound" or doc.kind in _NOT_MESSAGING_KINDS:
        return False
    details = doc.details or {}
    if "edit_of" in details or details.get("type") == "revoke":
        return False
    raw_type = (doc.raw or {}).get("type") if doc.kind == "unsupported" else None
    return raw_type not in _NOT_MESSAGING_KINDS


def closed_by_meta(
    current: SessionDocument | None, failed_at: datetime, now: datetime
) -> SessionDocument | None:
    """The session after Meta refused a message with 131047 at `failed_at`, or None to leave it.

    Ends now, as the synchronous 131047 does (`ttl: 1`, so Cosmos deletes it), unless the customer
    wrote since: a late or retried status must not close a window that a newer message opened.
    """
    if current is None or not is_active(current, now):
        return None
    if parse_iso(current.last_inbound_at) >= failed_at:
        return None
    return current.model_copy(update={"expires_at": iso(now), "ttl": 1})
