"""The Graph API client for sending WhatsApp messages: one pooled session, timeouts, and retries only
where a retry cannot send a message twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from shared.config import LOOPBACK_HOSTS, META_MEDIA_HOSTS, media_hosts
from shared.media.inbound_copy import MediaUrlRefused
from shared.whatsapp.graph_errors import GraphError
from shared.whatsapp.graph_models import (
    MediaLocation,
    SendMessageRequest,
    SendMessageResponse,
    TemplatesPage,
    UploadedMedia,
)
from shared.whatsapp.status_models import MarkReadRequest, MarkReadResponse, TypingIndicator

log = logging.getLogger(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)
PAIR_RATE_LIMIT = 131056
# What the template catalog reads of each template (Graph returns only `id` and a few by default).
TEMPLATE_FIELDS = "id,name,language,status,category,parameter_format,components"
TEMPLATES_PER_PAGE = 100
MAX_TEMPLATE_PAGES = 100  # 10,000 templates: past any account's limit, short of an endless loop
_jitter = wait_random_exponential(multiplier=0.5, max=8)


def pooled_session(pool_size: int = 32) -> requests.Session:
    session = requests.Session()
    # No proxy variables, `.netrc` or CA-bundle variables from the environment: `requests` would look
    # them up again on every call (a sixth of its CPU per request), and Meta is reached directly.
    session.trust_env = False
    # Retries are ours (below): urllib3's own would resend a POST after a read timeout.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, GraphError) and error.code == PAIR_RATE_LIMIT:
        return float(4 ** (state.attempt_number - 1))  # Meta: "retry after 4^X seconds"
    return float(_jitter(state))


def _worth_retrying(error: BaseException) -> bool:
    return isinstance(error, GraphError) and error.transient


def default_media_hosts(base_url: str) -> frozenset[str]:
    """Meta's documented download host, plus the Graph host itself when it is this machine (the
    sandbox): the same rule as `Settings.media_download_hosts`."""
    return media_hosts(META_MEDIA_HOSTS, base_url)


def media_url_refusal(url: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why the access token must not be sent to `url`, or None when it may: https (plain http only
    on this machine) to an allowed host, on its usual port, with no user name in the way."""
    if not url.isascii() or not url.isprintable() or "\\" in url or " " in url:
        return "the download URL holds characters a URL may not"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the download URL cannot be parsed"
    host = (parts.hostname or "").lower()
    local = host in LOOPBACK_HOSTS
    if "@" in parts.netloc:
        return "the download URL carries a user name"
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return f"the download URL is not https ({parts.scheme[:10] or 'no scheme'})"
    if host not in allowed_hosts:
        return f"the download URL's host {host[:100]!r} is not an allowed media host"
    if port not in (None, 443) and not local:
        return f"the download URL uses port {port}"
    return None


class GraphClient:
    def __init__(
        self,
        base_url: str,
        api_version: str,
        access_token: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 20.0),
        max_attempts: int = 4,
        retry_budget_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        media_hosts: Iterable[str] | None = None,
    ):
        """`media_hosts`: where a customer's file may be downloaded with the token (None: Meta's own
        download host, and the Graph host when it is this machine)."""
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self._token = access_token
        self.session = session or pooled_session()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.retry_budget_seconds = retry_budget_seconds
        self.sleep = sleep
        self.media_hosts = (
            default_media_hosts(self.base_url)
            if media_hosts is None
            else frozenset(host.strip().lower() for host in media_hosts)
        )

    def __repr__(self) -> str:  # never show the token
        return f"GraphClient({self.base_url}/{self.api_version})"

    def messages_url(self, phone_number_id: str) -> str:
        return f"{self.base_url}/{self.api_version}/{phone_number_id}/messages"

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.retry_budget_seconds),
            wait=_wait,
            retry=retry_if_exception(_worth_retrying),
            sleep=self.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )

    def send_message(self, phone_number_id: str, request: SendMessageRequest) -> SendMessageResponse:
        """Meta's answer to the send; raises GraphError when it refused or could not be reached."""
        response: SendMessageResponse = self._retrying()(
            self._post_once, self.messages_url(phone_number_id), request
        )
        return response

    def mark_read(self, phone_number_id: str, wamid: str, typing: bool) -> None:
        """Marks the customer's message `wamid` (and every earlier one) read; with `typing`, also shows
        the typing indicator. Raises GraphError when Meta refused it or could not be reached.

        A receipt shown twice changes nothing on the phone, so Meta's temporary failures are retried as
        for sends; a read timeout is not (the agent is waiting, and the next call sends it again)."""
        body = MarkReadRequest(message_id=wamid, typing_indicator=TypingIndicator() if typing else None)

        def once() -> None:
            response = self._request("POST", self.messages_url(phone_number_id), json=body.to_json())
            if not self._parse(response, MarkReadResponse).success:
                raise GraphError(response.status_code, reason="WhatsApp answered success: false")

        self._retrying()(once)

    def upload_media(self, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str:
        """Uploads a file to Meta (kept 30 days) and returns the media id to send it by.

        Safe to retry: a repeated upload only leaves an unused media id behind.
        """

        def once() -> str:
            response = self._request(
                "POST",
                f"{self.base_url}/{self.api_version}/{phone_number_id}/media",
                files={"file": (filename, content, mime_type)},
                data={"messaging_product": "whatsapp", "type": mime_type},
            )
            return self._parse(response, UploadedMedia).id

        media_id: str = self._retrying()(once)
        return media_id

    def media_location(self, media_id: str, phone_number_id: str | None = None) -> MediaLocation:
        """Where to download an inbound file; the URL lasts 5 minutes."""
        params = {"phone_number_id": phone_number_id} if phone_number_id else None

        def once() -> MediaLocation:
            response = self._request("GET", f"{self.base_url}/{self.api_version}/{media_id}", params=params)
            return self._parse(response, MediaLocation)

        location: MediaLocation = self._retrying()(once)
        return location

    def message_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the WhatsApp Business Account, as Meta describes them, all pages.

        `paging.next` is followed only on the Graph host this client calls (it carries the token);
        any other next page, or one seen before, ends the read with a GraphError."""
        url: str | None = f"{self.base_url}/{self.api_version}/{waba_id}/message_templates"
        params: dict[str, str] | None = {"fields": TEMPLATE_FIELDS, "limit": str(TEMPLATES_PER_PAGE)}
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_TEMPLATE_PAGES):
            assert url is not None
            page: TemplatesPage = self._retrying()(self._templates_page, url, params)
            found += page.data
            url, params = page.paging.next if page.paging else None, None
            if url is None:
                return found
            if not self._on_graph_host(url) or url in seen:
                raise GraphError(200, reason="Meta's next page of templates is not a new Graph API URL")
            seen.add(url)
        raise GraphError(200, reason=f"more than {MAX_TEMPLATE_PAGES} pages of templates")

    def _templates_page(self, url: str, params: dict[str, str] | None) -> TemplatesPage:
        return self._parse(self._request("GET", url, params=params), TemplatesPage)

    def _on_graph_host(self, url: str) -> bool:
        try:
            theirs, ours = urlsplit(url), urlsplit(self.base_url)
            return (theirs.scheme, theirs.netloc, theirs.port) == (ours.scheme, ours.netloc, ours.port)
        except ValueError:
            return False

    def download(self, url: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """Streams a media URL's bytes with the bearer token; memory stays at one chunk.

        The URL comes from Meta's answer, so it is checked here, where the token is: anything but
        https to an allowed media host raises MediaUrlRefused at once, before any request."""
        refusal = media_url_refusal(url, self.media_hosts)
        if refusal is not None:
            raise MediaUrlRefused(refusal)
        return self._stream(url, chunk_size)

    def _stream(self, url: str, chunk_size: int) -> Iterator[bytes]:
        # requests drops the Authorization header itself if a redirect leaves the host.
        response = self._request("GET", url, stream=True)
        if response.status_code != 200:
            raise GraphError.from_response(response.status_code, _json_or_none(response))
        with response:
            yield from response.iter_content(chunk_size=chunk_size)

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(
                method,
                url,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self.timeout,
                **kwargs,
            )
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as error:
            raise GraphError(
                None, reason=f"could not connect to Meta: {type(error).__name__}", safe_to_retry=True
            ) from error
        except requests.ConnectionError as error:
            never_sent = "NewConnectionError" in repr(error) or "NameResolutionError" in repr(error)
            raise GraphError(None, reason="could not connect to Meta", safe_to_retry=never_sent) from error
        except requests.RequestException as error:
            raise GraphError(None, reason=f"no answer from Meta ({type(error).__name__})") from error

    @staticmethod
    def _parse(response: requests.Response, model: type[ModelT]) -> ModelT:
        payload = _json_or_none(response)
        if response.status_code != 200:
            raise GraphError.from_response(response.status_code, payload)
        try:
            return model.model_validate(payload)
        except ValidationError as error:
            raise GraphError(200, reason=f"unexpected answer from Meta for {model.__name__}") from error

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "Graph API send attempt %d failed (%s); retrying",
            state.attempt_number,
            error,
            extra={"metaErrorCode": getattr(error, "code", None)},
        )

    def _post_once(self, url: str, request: SendMessageRequest) -> SendMessageResponse:
        """One send. Never resent when Meta may already have it:

        - a read timeout or a dropped connection: the request may have reached Meta;
        - a 5xx without Meta's error object (a gateway's page, an empty body): the same, since the
          failure may have come after Meta accepted the message.
        A 5xx that carries Meta's error object is Meta saying this call failed (Meta: decide on
        `code`), so its temporary codes (1, 2, 131000, 131016, 131057, 133004: "retry") are retried
        as today; any other code is a refusal.
        """
        try:
            response = self._request("POST", url, json=request.to_json())
        except GraphError as error:
            if error.outcome_unknown:  # a read timeout: Meta may have sent it; never resend
                error.body.message = "WhatsApp did not answer in time"
            raise
        if response.status_code >= 500:
            failure = GraphError.from_response(response.status_code, _json_or_none(response))
            if failure.code is None:
                raise GraphError(
                    response.status_code,
                    reason=f"WhatsApp's server failed (HTTP {response.status_code}) without saying "
                    "whether it sent the message",
                    may_have_been_sent=True,
                )
        return self._parse(response, SendMessageResponse)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
