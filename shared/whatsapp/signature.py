"""Meta signs the exact bytes it sends (JSON with escaped Unicode): check the HMAC before parsing."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `body`; used by tests, the sandbox and `customer-says`."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, header_value: str | None, app_secret: str) -> bool:
    if not app_secret or not header_value or not header_value.startswith(_PREFIX):
        return False
    expected = sign(body, app_secret)
    # Constant time, and case-insensitive hex as some proxies upper-case it.
    return hmac.compare_digest(expected.lower().encode(), header_value.strip().lower().encode())
