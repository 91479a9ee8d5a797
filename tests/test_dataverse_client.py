"""The Dataverse client against the stand-in: throttling, server errors, timeouts, refused tokens, and
Dataverse's errors as typed errors. No emulators needed; retries never really sleep."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests
from azure.identity import ClientSecretCredential, DefaultAzureCredential
from pytest_httpserver import HTTPServer

from devhost.dataverse_standin import DataverseStandIn, FakeTokens
from shared.config import Settings
from shared.dataverse.client import DataverseClient, odata_string
from shared.dataverse.errors import (
    DataverseAuthError,
    DataverseRequestError,
    DataverseThrottled,
    DataverseUnavailable,
    parse_retry_after,
)
from shared.dataverse.tokens import CredentialTokenProvider, scope_for, token_provider_for


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    standin = DataverseStandIn(httpserver)
    standin.provision()
    yield standin
    httpserver.clear()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def upsert_one(
    client: DataverseClient, dataverse: DataverseStandIn, row: uuid.UUID | None = None
) -> uuid.UUID:
    target = row or uuid.uuid4()
    client.upsert(dataverse.table.entity_set, target, {"subject": "hello", "wa_status": "sent"})
    return target


# --- throttling and server errors ----------------------------------------------------------------


def test_throttling_waits_exactly_what_retry_after_says_then_writes_the_row(
    dataverse: DataverseStandIn,
) -> None:
    sleeps = Sleeps()
    dataverse.throttle(3, retry_after="7")
    row = upsert_one(dataverse.client(sleep=sleeps), dataverse)
    assert sleeps == [7.0, 7.0, 7.0]
    assert list(dataverse.activities) == [str(row)]
    assert len(dataverse.requests_to("PATCH")) == 4


def test_server_errors_are_retried_with_growing_jittered_waits(dataverse: DataverseStandIn) -> None:
    sleeps = Sleeps()
    dataverse.fail(3, status=503)
    upsert_one(dataverse.client(sleep=sleeps), dataverse)
    assert len(sleeps) == 3
    assert all(0 <= s <= 30 for s in sleeps)
    assert len(dataverse.activities) == 1


def test_a_dataverse_that_keeps_failing_is_given_up_on_after_the_attempts(
    dataverse: DataverseStandIn,
) -> None:
    dataverse.fail(20, status=500)
    client = dataverse.client(max_attempts=4)
    with pytest.raises(DataverseUnavailable) as raised:
        upsert_one(client, dataverse)
    assert raised.value.http_status == 500
    assert raised.value.code == "0x80040216"
    assert len(dataverse.requests_to("PATCH")) == 4
    assert dataverse.activities == {}


def test_a_retry_after_longer_than_the_budget_is_left_to_the_queue(dataverse: DataverseStandIn) -> None:
    """Sleeping past the function timeout would lose the invocation; the queue retries it instead."""
    sleeps = Sleeps()
    dataverse.throttle(1, retry_after="600")
    with pytest.raises(DataverseThrottled) as raised:
        upsert_one(dataverse.client(sleep=sleeps, retry_budget_seconds=240), dataverse)
    assert raised.value.retry_after == 600
    assert sleeps == []
    assert len(dataverse.requests_to("PATCH")) == 1


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def test_retries_stop_in_time_for_the_invocation_to_finish_within_its_limit(
    dataverse: DataverseStandIn,
) -> None:
    """Each request may wait up to its own budget, but together they must fit the function timeout."""
    time_ = FakeTime()
    client = dataverse.client(sleep=time_.sleep, clock=time_.monotonic)
    dataverse.throttle(6, retry_after="100")

    def invocation(already_spent: float) -> None:
        with client.time_limit(240):
            time_.now += already_spent
            client.get("contacts")

    with pytest.raises(DataverseThrottled):
        invocation(0)  # waits 100 and 100; a third wait would end past the limit
    assert time_.sleeps == [100.0, 100.0]
    with pytest.raises(DataverseThrottled):
        invocation(200)  # 200 s already spent: no room for a 100 s wait
    assert time_.sleeps == [100.0, 100.0]
    client.get("contacts")  # outside an invocation only the request's own budget applies
    assert time_.sleeps == [100.0, 100.0, 100.0, 100.0]


def test_a_timed_out_upsert_is_repeated_because_an_upsert_cannot_apply_twice(
    dataverse: DataverseStandIn,
) -> None:
    dataverse.slow(0.6)
    row = upsert_one(dataverse.client(timeout=(2, 0.2)), dataverse)
    assert list(dataverse.activities) == [str(row)]
    assert len(dataverse.requests_to("PATCH")) >= 2  # the stand-in serves one at a time: maybe more


def test_a_timed_out_post_is_not_repeated(dataverse: DataverseStandIn) -> None:
    dataverse.slow(0.6)
    client = dataverse.client(timeout=(2, 0.2))
    xml = "<importexportxml><entities><entity>x</entity></entities></importexportxml>"
    with pytest.raises(DataverseUnavailable) as raised:
        client.request("POST", "PublishXml", json_body={"ParameterXml": xml})
    assert raised.value.transient is False
    assert len(dataverse.requests_to("POST", "PublishXml")) == 1


def test_an_unreachable_dataverse_is_retried_then_reported_unavailable() -> None:
    client = DataverseClient("http://127.0.0.1:9", FakeTokens(), max_attempts=3, sleep=lambda s: None)
    with pytest.raises(DataverseUnavailable):
        client.get("contacts")
    assert client.requests_sent == 3


def test_a_per_request_timeout_outlasts_the_clients_own(dataverse: DataverseStandIn) -> None:
    """Provisioning's metadata calls take minutes; the mirror's 30 s read timeout must not cut them."""
    client = dataverse.client(timeout=(2, 0.2), max_attempts=1)
    dataverse.slow(0.6)
    client.get("contacts", timeout=(2, 5))
    dataverse.slow(0.6)
    with pytest.raises(DataverseUnavailable):
        client.get("contacts")
    assert len(dataverse.requests_to("GET", "contacts")) == 2


# --- connection hygiene ----------------------------------------------------------------------------


def test_the_server_affinity_cookie_is_never_sent_back(dataverse: DataverseStandIn) -> None:
    """Microsoft asks parallel clients to drop ARRAffinity so requests spread over web servers (the
    service protection limits count per server); a plain session would send it back."""
    dataverse.seen.clear()
    client = dataverse.client()
    client.get("contacts")
    client.get("contacts")
    client.upsert(dataverse.table.entity_set, uuid.uuid4(), {"subject": "hello"})
    assert [s.headers.get("Cookie") for s in dataverse.seen] == [None, None, None]
    assert "ARRAffinity" not in client.session.cookies

    plain = requests.Session()  # the control: the stand-in's cookie is one a session would keep
    for _ in range(2):
        plain.get(f"{dataverse.url}/api/data/v9.2/contacts", headers={"Authorization": "Bearer token-1"})
    assert dataverse.seen[-1].headers.get("Cookie") == "ARRAffinity=standin-web-server-1"


def test_other_cookies_are_kept(dataverse: DataverseStandIn) -> None:
    client = dataverse.client()
    dataverse.affinity_cookie = "ReqClientId=abc; Path=/"
    client.get("contacts")
    client.get("contacts")
    assert dataverse.seen[-1].headers.get("Cookie") == "ReqClientId=abc"


# --- tokens ----------------------------------------------------------------------------------------


def test_a_refused_token_is_replaced_once_and_the_request_goes_through(dataverse: DataverseStandIn) -> None:
    tokens = FakeTokens()
    dataverse.revoke("token-1")
    upsert_one(dataverse.client(tokens), dataverse)
    assert tokens.forced == 1
    assert [s.headers["Authorization"] for s in dataverse.requests_to("PATCH")] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert len(dataverse.activities) == 1


def test_a_token_refused_even_when_fresh_is_an_error_for_the_operator(dataverse: DataverseStandIn) -> None:
    tokens = FakeTokens()
    dataverse.revoke("token-1")
    dataverse.revoke("token-2")
    with pytest.raises(DataverseAuthError) as raised:
        upsert_one(dataverse.client(tokens), dataverse)
    assert raised.value.http_status == 401
    assert tokens.forced == 1  # once, not in a loop
    assert len(dataverse.requests_to("PATCH")) == 2


class Credential:
    """Stands for an azure-identity credential: counts get_token calls."""

    made = 0

    def __init__(self, lifetime: int = 3600, now: float = 1_000_000) -> None:
        Credential.made += 1
        self.calls: list[tuple[str, ...]] = []
        self.lifetime = lifetime
        self.now = now

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.calls.append(scopes)
        return AccessToken(f"t{Credential.made}.{len(self.calls)}", int(self.now) + self.lifetime)


def test_tokens_are_cached_until_five_minutes_before_they_expire() -> None:
    now = [1_000_000.0]
    credential = Credential(now=now[0])
    provider = CredentialTokenProvider(
        lambda: credential, "https://org.crm.dynamics.com/.default", clock=lambda: now[0]
    )
    first = provider.token()
    now[0] += 3600 - 301
    assert provider.token() == first
    now[0] += 2
    assert provider.token() != first
    assert credential.calls == [("https://org.crm.dynamics.com/.default",)] * 2


def test_a_forced_refresh_asks_a_new_credential_so_no_cached_token_comes_back() -> None:
    Credential.made = 0
    provider = CredentialTokenProvider(Credential, "scope/.default", clock=lambda: 1_000_000.0)
    assert provider.token() == "t1.1"
    assert provider.token(force_refresh=True) == "t2.1"
    assert "t2" not in repr(provider)


def test_a_client_secret_is_used_when_set_else_the_managed_identity() -> None:
    url = "https://contoso.crm4.dynamics.com/"
    with_secret = Settings(
        DATAVERSE_URL=url,
        DATAVERSE_TENANT_ID="00000000-0000-0000-0000-000000000001",
        DATAVERSE_CLIENT_ID="00000000-0000-0000-0000-000000000002",
        DATAVERSE_CLIENT_SECRET="s3cret",
    )
    provider = token_provider_for(with_secret)
    assert provider.scope == "https://contoso.crm4.dynamics.com/.default"
    assert isinstance(provider._factory(), ClientSecretCredential)
    managed = token_provider_for(Settings(DATAVERSE_URL=url, DATAVERSE_CLIENT_SECRET=""))
    assert isinstance(managed._factory(), DefaultAzureCredential)
    incomplete = token_provider_for(Settings(DATAVERSE_URL=url, DATAVERSE_CLIENT_SECRET="s3cret"))
    with pytest.raises(ValueError, match="DATAVERSE_TENANT_ID"):
        incomplete.token()
    assert scope_for("https://x.crm.dynamics.com") == "https://x.crm.dynamics.com/.default"


# --- errors and literals ---------------------------------------------------------------------------


def test_dataverse_error_bodies_become_typed_errors_with_code_and_message(
    dataverse: DataverseStandIn,
) -> None:
    client = dataverse.client()
    with pytest.raises(DataverseRequestError) as raised:
        client.upsert(dataverse.table.entity_set, uuid.uuid4(), {"wa_nosuchcolumn": 1})
    assert raised.value.http_status == 400
    assert raised.value.code == "0x80060888"
    assert "wa_nosuchcolumn" in raised.value.message
    assert raised.value.transient is False


def test_an_upsert_that_may_only_create_leaves_an_existing_row_alone(dataverse: DataverseStandIn) -> None:
    client = dataverse.client()
    row = uuid.uuid4()
    assert client.upsert(dataverse.table.entity_set, row, {"subject": "first"}, create_only=True) is True
    assert client.upsert(dataverse.table.entity_set, row, {"subject": "second"}, create_only=True) is False
    assert dataverse.activities[str(row)]["subject"] == "first"


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_odata_string_literals_double_their_quotes() -> None:
    assert odata_string("O'Brien") == "'O''Brien'"
