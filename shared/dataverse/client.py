"""The Dataverse Web API (v9.2) over one pooled session.

Retries follow Dataverse's guidance: a 429 waits exactly what `Retry-After` says (sleeping here is
the back-pressure the service protection limits ask for), 5xx and timeouts back off with jitter, and
a 401 gets one fresh token. Only requests that cannot do harm twice are repeated after a timeout:
upserts by id, reads and metadata updates are; a POST is repeated only when it never left.
The session keeps no server-affinity cookie, so parallel requests spread over Dataverse's web servers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.cookiejar import Cookie, DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from shared.dataverse.errors import (
    DataverseAuthError,
    DataverseError,
    DataversePreconditionFailed,
    DataverseUnavailable,
)
from shared.dataverse.tokens import TokenProvider

log = logging.getLogger(__name__)
API_VERSION = "v9.2"
_backoff = wait_random_exponential(multiplier=0.5, max=30)
_IDEMPOTENT = frozenset({"GET", "PATCH", "PUT", "DELETE"})
# Azure App Service's server-affinity cookies: Dataverse sets them on every answer.
AFFINITY_COOKIES = frozenset({"ARRAffinity", "ARRAffinitySameSite"})


class NoAffinityCookiePolicy(DefaultCookiePolicy):
    """Refuses the server-affinity cookie, as Microsoft recommends for applications that send
    requests in parallel: with it, every request of the application user goes to one web server,
    and the service protection limits are counted per web server, so the load does not spread
    ("Remove the affinity cookie",
    https://learn.microsoft.com/power-apps/developer/data-platform/api-limits#remove-the-affinity-cookie;
    https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests).
    Other cookies are kept as usual."""

    def set_ok(self, cookie: Cookie, request: urllib.request.Request) -> bool:
        return cookie.name not in AFFINITY_COOKIES and bool(super().set_ok(cookie, request))


def pooled_session(pool_size: int = 16) -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(NoAffinityCookiePolicy())
    # No proxy variables, `.netrc` or CA-bundle variables from the environment: `requests` would look
    # them up again on every call (a sixth of its CPU per request), and Dataverse is reached directly.
    session.trust_env = False
    # Retries are ours (below): urllib3's would resend without honouring Retry-After.
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class _stop_over_budget(stop_base):  # noqa: N801 - named like tenacity's own stop conditions
    """Stops before a wait would take the total waiting past the budget (planned waits, not the
    clock: a test's no-op sleep sees the same decisions as production)."""

    def __init__(self, budget: float):
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + retry_state.upcoming_sleep > self.budget


class _stop_past_deadline(stop_base):  # noqa: N801
    """Stops before a wait would end after the deadline of the whole invocation."""

    def __init__(self, deadline: float, clock: Callable[[], float]):
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock() + retry_state.upcoming_sleep > self.deadline


def odata_string(value: str) -> str:
    """An OData string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


class DataverseClient:
    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        session: requests.Session | None = None,
        api_version: str = API_VERSION,
        timeout: tuple[float, float] = (3.05, 30.0),
        max_attempts: int = 8,
        retry_budget_seconds: float = 240.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        """`retry_budget_seconds` bounds the waiting one request may do, and `time_limit` the time
        all requests of one invocation may take (the function timeout is 5 minutes): past either,
        the error goes up and the queue brings the message back later."""
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}/api/data/{api_version}"
        self.tokens = tokens
        self.session = session or pooled_session()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.retry_budget_seconds = retry_budget_seconds
        self.sleep = sleep
        self.clock = clock
        self.requests_sent = 0
        self._local = threading.local()  # each invocation runs on its own thread

    def __repr__(self) -> str:
        return f"DataverseClient({self.api_url})"

    @contextmanager
    def time_limit(self, seconds: float) -> Iterator[None]:
        """Requests made inside stop retrying in time for the caller to finish within `seconds`."""
        previous: float | None = getattr(self._local, "deadline", None)
        deadline = self.clock() + seconds
        self._local.deadline = deadline if previous is None else min(previous, deadline)
        try:
            yield
        finally:
            self._local.deadline = previous

    # --- the operations the mirror and provisioning use ----------------------------------------

    def upsert(
        self, entity_set: str, row_id: uuid.UUID, body: Mapping[str, Any], *, create_only: bool = False
    ) -> bool:
        """`PATCH <set>(<id>)` creates the row or updates it: a repeat changes nothing. With
        `create_only` (`If-None-Match: *`) an existing row is left alone and False is returned."""
        headers = {"If-None-Match": "*"} if create_only else {}
        try:
            self.request("PATCH", f"{entity_set}({row_id})", json_body=body, headers=headers)
        except DataversePreconditionFailed:
            if create_only:
                return False
            raise
        return True

    def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        response = self.request("GET", path, params=params, headers=headers, timeout=timeout)
        payload: dict[str, Any] = response.json()
        return payload

    # --- one request, with retries ----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """`timeout` (connect, read) overrides the client's for this request: metadata calls take
        minutes where a data call takes a second."""
        stop = stop_after_attempt(self.max_attempts) | _stop_over_budget(self.retry_budget_seconds)
        deadline: float | None = getattr(self._local, "deadline", None)
        if deadline is not None:
            stop = stop | _stop_past_deadline(deadline, self.clock)
        retrying = Retrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(lambda error: isinstance(error, DataverseError) and error.transient),
            sleep=self.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        response: requests.Response = retrying(
            self._attempt, method.upper(), path, params, json_body, dict(headers or {}), timeout
        )
        return response

    @staticmethod
    def _wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, DataverseError) and error.retry_after is not None:
            return error.retry_after
        return float(_backoff(state))

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "Dataverse request attempt %d failed (%s); retrying in %.1f s",
            state.attempt_number,
            error,
            state.upcoming_sleep,
            extra={"dataverseErrorCode": getattr(error, "code", None)},
        )

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json_body: Any,
        headers: dict[str, str],
        timeout: tuple[float, float] | None,
    ) -> requests.Response:
        """One attempt; a 401 gets one fresh token (tokens can be revoked before they expire)."""
        try:
            return self._send(method, path, params, json_body, headers, timeout, force_refresh=False)
        except DataverseAuthError as error:
            if error.http_status != 401:
                raise
            log.warning("Dataverse refused the token (401); retrying once with a fresh one")
            return self._send(method, path, params, json_body, headers, timeout, force_refresh=True)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json_body: Any,
        headers: dict[str, str],
        timeout: tuple[float, float] | None,
        *,
        force_refresh: bool,
    ) -> requests.Response:
        all_headers = {
            "Authorization": f"Bearer {self.tokens.token(force_refresh=force_refresh)}",
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            **headers,
        }
        data = None
        if json_body is not None:
            all_headers["Content-Type"] = "application/json; charset=utf-8"
            data = json.dumps(json_body).encode()
        url = f"{self.api_url}/{path.lstrip('/')}"
        self.requests_sent += 1
        try:
            response = self.session.request(
                method, url, params=params, data=data, headers=all_headers, timeout=timeout or self.timeout
            )
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as error:
            raise DataverseUnavailable(None, reason=f"could not connect to Dataverse: {error!r}") from error
        except requests.ConnectionError as error:
            # A refused connection never carried the request; a reset one might have.
            never_sent = "NewConnectionError" in repr(error) or "NameResolutionError" in repr(error)
            raise DataverseUnavailable(
                None,
                reason=f"connection to Dataverse failed: {type(error).__name__}",
                safe_to_retry=never_sent or method in _IDEMPOTENT,
            ) from error
        except requests.RequestException as error:  # read timeout: it may have been applied
            raise DataverseUnavailable(
                None,
                reason=f"no answer from Dataverse in time ({type(error).__name__})",
                safe_to_retry=method in _IDEMPOTENT,
            ) from error
        if response.status_code < 300:
            return response
        try:
            payload = response.json()
        except ValueError:
            payload = None
        failure = DataverseError.from_response(
            response.status_code, payload, response.headers.get("Retry-After")
        )
        if isinstance(failure, DataverseUnavailable) and method not in _IDEMPOTENT:
            failure.transient = False  # a POST that failed half-way is not repeated blindly
        raise failure
