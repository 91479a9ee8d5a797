"""Keeps our webhook verify token out of logs and telemetry.

Meta's verification handshake is a GET with the token in the query string
(`?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...`), so any line or span that records the
request URL would store the secret that lets anyone subscribe as us. Standard library only: this is
imported at start-up even where telemetry is off.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

REDACTED = "REDACTED"
# The value runs to the next parameter, whitespace or quote (a URL inside a log line or a repr);
# `%2E` is the dot percent-encoded, which werkzeug would still read as `hub.verify_token`.
_VERIFY_TOKEN = re.compile(r"(hub(?:\.|%2e)verify_token=)[^&\s\"']*", re.IGNORECASE)

# Where OpenTelemetry's HTTP semantic conventions (current and older names) put the request URL.
URL_ATTRIBUTES = ("url.full", "url.query", "http.url", "http.target")


def redact(text: str) -> str:
    """`text` with every `hub.verify_token=<value>` replaced by `hub.verify_token=REDACTED`."""
    return _VERIFY_TOKEN.sub(rf"\g<1>{REDACTED}", text)


def redacted_url_attributes(attributes: Mapping[str, object]) -> dict[str, str]:
    """The URL attributes of a span that hold the token, redacted; empty when none does."""
    changed: dict[str, str] = {}
    for key in URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str) and (clean := redact(value)) != value:
            changed[key] = clean
    return changed


class RedactVerifyToken(logging.Filter):
    """Rewrites a record's formatted message in place, so every handler after this one sees it clean."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it to the handler's own error reporting
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_FILTER = RedactVerifyToken()


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Adds the filter to each handler of `logger` (the root logger by default); safe to call twice.

    On handlers, not the logger: a logger's own filters never see records propagated from its children.
    Handlers added to the logger later are not covered.
    """
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactVerifyToken) for f in handler.filters):
            handler.addFilter(_FILTER)
