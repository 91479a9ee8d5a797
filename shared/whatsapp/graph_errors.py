"""Meta's Graph API error object, typed, and what each code means for a sender.

Meta says: decide on `code` (and `details`), not on the HTTP status or the deprecated subcode;
throttling codes arrive as HTTP 400.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# Retry later, with backoff: app, WABA and number throughput limits; the pair limit for one recipient.
THROTTLED = frozenset({4, 80007, 130429, 131056})
# Meta-side trouble that goes away: unknown, temporarily unavailable, maintenance.
TRANSIENT = frozenset({1, 2, 131000, 131016, 131057, 133004})
# The token or the app's permissions: an operator must act, retrying will not help.
AUTH_PROBLEMS = frozenset({0, 3, 10, 190, 131005}) | frozenset(range(200, 300))
# Meta refused this message to this recipient for a reason the agent can act on.
REJECTED = frozenset(
    {100, 131008, 131009, 131021, 131026, 131051, 131053, 131052, 131062, 130472, 131049, 131050}
)
WINDOW_CLOSED = 131047
# "Business-scoped User ID recipients are not supported for this message" (§0, §7, [BSUID]).
BSUID_NOT_SUPPORTED = 131062


class GraphErrorData(BaseModel):
    model_config = ConfigDict(extra="allow")
    messaging_product: str | None = None
    details: str | None = None


class GraphErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    message: str = ""
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    error_data: GraphErrorData | None = None
    fbtrace_id: str | None = None


class GraphErrorEnvelope(BaseModel):
    model_config = ConfigDict(extra="allow")
    error: GraphErrorBody


class GraphError(Exception):
    """A send Meta refused (`code` set) or could not be attempted (`code` None: network or 5xx).

    `safe_to_retry`: the request never left (a refused connection). `may_have_been_sent`: an answer
    came but does not say what happened (a 5xx to a send without Meta's error object).
    """

    def __init__(
        self,
        http_status: int | None,
        body: GraphErrorBody | None = None,
        *,
        reason: str | None = None,
        safe_to_retry: bool = False,
        may_have_been_sent: bool = False,
    ):
        self.http_status = http_status
        self.body = body or GraphErrorBody(message=reason or "no error body")
        self.safe_to_retry = safe_to_retry
        self.may_have_been_sent = may_have_been_sent
        super().__init__(f"Graph API error {self.code} (HTTP {http_status}): {self.title}")

    @classmethod
    def from_response(cls, http_status: int, payload: Any) -> GraphError:
        try:
            body = GraphErrorEnvelope.model_validate(payload).error
        except ValueError:
            return cls(http_status, reason=f"HTTP {http_status} without Meta's error object")
        return cls(http_status, body)

    @property
    def code(self) -> int | None:
        return self.body.code

    @property
    def title(self) -> str:
        return self.body.message

    @property
    def details(self) -> str | None:
        return self.body.error_data.details if self.body.error_data else None

    @property
    def fbtrace_id(self) -> str | None:
        return self.body.fbtrace_id

    @property
    def throttled(self) -> bool:
        return self.code in THROTTLED

    @property
    def outcome_unknown(self) -> bool:
        """Meta may have sent the message: no answer came back (a read timeout, a dropped connection),
        or one that does not say (`may_have_been_sent`)."""
        return self.may_have_been_sent or (
            self.http_status is None and self.code is None and not self.safe_to_retry
        )

    @property
    def transient(self) -> bool:
        """Worth another attempt: nothing was sent and the cause may pass."""
        if self.outcome_unknown:
            return False
        if self.code is None:
            return self.safe_to_retry or (self.http_status or 0) >= 500
        return self.code in THROTTLED or self.code in TRANSIENT
