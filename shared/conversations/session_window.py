"""The 24-hour customer-service window that a customer's message opens or refreshes."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.conversations.documents import SessionDocument, iso, parse_iso

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
