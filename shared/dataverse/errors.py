"""Dataverse's answers as typed errors, and which of them are worth another attempt."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import ValidationError

from shared.dataverse.models import DataverseErrorBody, DataverseErrorEnvelope

# Service protection (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits):
# number of requests, combined execution time, concurrent requests. All answer 429 with Retry-After.
SERVICE_PROTECTION_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait: Dataverse sends whole seconds; HTTP also allows a date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class DataverseError(Exception):
    """A request Dataverse refused (`http_status` set) or that never got an answer (`http_status` None)."""

    transient = False

    def __init__(
        self,
        http_status: int | None,
        body: DataverseErrorBody | None = None,
        *,
        reason: str | None = None,
        retry_after: float | None = None,
    ):
        self.http_status = http_status
        self.body = body or DataverseErrorBody(message=reason or "no error body")
        self.retry_after = retry_after
        super().__init__(f"Dataverse error {self.code or '-'} (HTTP {http_status}): {self.body.message}")

    @property
    def code(self) -> str:
        return self.body.code

    @property
    def message(self) -> str:
        return self.body.message

    @staticmethod
    def from_response(http_status: int, payload: Any, retry_after_header: str | None) -> DataverseError:
        try:
            body = DataverseErrorEnvelope.model_validate(payload).error
        except ValidationError:
            body = DataverseErrorBody(message=f"HTTP {http_status} without Dataverse's error object")
        retry_after = parse_retry_after(retry_after_header)
        kind: type[DataverseError]
        if http_status == 429:
            kind = DataverseThrottled
        elif http_status in (401, 403):
            kind = DataverseAuthError
        elif http_status == 404:
            kind = DataverseNotFound
        elif http_status == 412:
            kind = DataversePreconditionFailed
        elif http_status >= 500:
            kind = DataverseUnavailable
        else:
            kind = DataverseRequestError
        return kind(http_status, body, retry_after=retry_after)


class DataverseThrottled(DataverseError):
    """Service protection limits: wait `retry_after` seconds, then the same request will do."""

    transient = True


class DataverseUnavailable(DataverseError):
    """5xx, a timeout or a broken connection: retried when repeating the request cannot do harm."""

    def __init__(self, *args: Any, safe_to_retry: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.transient = safe_to_retry


class DataverseAuthError(DataverseError):
    """401 (token) or 403 (the application user's security role): an operator must act."""


class DataverseNotFound(DataverseError):
    """404: an unknown table or entity set, or a record a lookup binds to that no longer exists."""


class DataversePreconditionFailed(DataverseError):
    """412: an `If-None-Match: *` create found the row already there."""


class DataverseRequestError(DataverseError):
    """Any other 4xx: the request itself is wrong (a column missing from the schema, a bad value)."""
