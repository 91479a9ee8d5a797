"""How the agent routes word WhatsApp's refusals that every call to Meta can meet (sends, read receipts,
typing): throttling and the app's own credentials. One wording, whichever route met them."""

from __future__ import annotations

from typing import Any

from shared.whatsapp.graph_errors import AUTH_PROBLEMS, THROTTLED

# Meta's app-level limits (4, 80007) last minutes; its per-pair and per-number ones seconds.
_LONG_WAITS = frozenset({4, 80007})


def rate_limited(code: int | None, reason: str, what: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The 429 error body and headers for a throttling code; None for any other."""
    if code not in THROTTLED:
        return None
    wait = 60 if code in _LONG_WAITS else 5
    error = {
        "code": "rate_limited",
        "message": f"WhatsApp is rate limiting {what} ({reason}); try again shortly.",
        "retryAfterSeconds": wait,  # also in the body: browsers cannot read Retry-After across origins
    }
    return error, {"Retry-After": str(wait)}


def credentials_refused(code: int | None, what: str) -> dict[str, str] | None:
    """The 502 error for Meta refusing the app's token or permissions; None for any other code."""
    if code not in AUTH_PROBLEMS:
        return None
    return {
        "code": "whatsapp_auth_failed",
        "message": f"WhatsApp refused this app's credentials (code {code}). An administrator must renew "
        f"WHATSAPP_ACCESS_TOKEN or the app's permissions; {what} was sent.",
    }
