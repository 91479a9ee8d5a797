"""A local Dataverse for `make run` (issue 13, item 9): a `DATAVERSE_URL` on this machine gets the
fixed local token instead of Entra ID's (never another host), the local stand-in accepts exactly that
token, and `python -m devhost run` serves the stand-in there, provisioned, so a customer's message
ends up as a row in it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests
from azure.storage.queue import QueueClient
from werkzeug.test import Client

from devhost.dataverse_standin import (
    API,
    DEMO_CONTACT_ID,
    DEMO_LEAD_ID,
    LOCAL_AGENT_OBJECT_ID,
    DataverseStandIn,
    local_dataverse,
    local_dataverse_address,
    raw,
    start_local_dataverse,
)
from devhost.host import HttpFunctions, LocalFunctionsHost, QueueRules
from devhost.stack import ISOLATED_APP_PORT, ISOLATED_PORTS, ROOT, LocalStack, is_listening
from functions import mirror as mirror_function
from shared import services as services_module
from shared.config import Settings
from shared.dataverse import composition
from shared.dataverse.tokens import (
    LOCAL_DATAVERSE_TOKEN,
    CredentialTokenProvider,
    LocalTokenProvider,
    token_provider_for,
)
from shared.services import get_services
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from tests.api import deliver
from tests.payloads import inbound, message, new_wamid

ADA = "15551234567"  # the sandbox's demo customer (docs/local-development.md), on the demo contact
GRACE = "15552345678"  # the demo lead


def with_secret(url: str) -> Settings:
    """An app registration's settings: a loopback URL must win over them all the same."""
    return Settings(
        DATAVERSE_URL=url,
        DATAVERSE_TENANT_ID="00000000-0000-0000-0000-000000000001",
        DATAVERSE_CLIENT_ID="00000000-0000-0000-0000-000000000002",
        DATAVERSE_CLIENT_SECRET="s3cret",
    )


# --- which token ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:7073",
        "https://127.0.0.1:7073/",
        "http://localhost:7073",
        "https://LOCALHOST",
        "http://[::1]:7073",
        "http://someone@127.0.0.1:7073",  # user info: the request still goes to 127.0.0.1
    ],
)
def test_a_dataverse_on_this_machine_gets_the_fixed_local_token_not_entra_id(url: str) -> None:
    provider = token_provider_for(with_secret(url))
    assert isinstance(provider, LocalTokenProvider)
    assert provider.token() == LOCAL_DATAVERSE_TOKEN
    assert provider.token(force_refresh=True) == LOCAL_DATAVERSE_TOKEN


@pytest.mark.parametrize(
    "url",
    [
        "https://contoso.crm4.dynamics.com",
        "http://contoso.crm4.dynamics.com",
        "http://127.0.0.1.evil.example",
        "https://127.0.0.1.evil.example:7073/",
        "http://localhost.evil.example",
        "http://127.0.0.1@evil.example",
        "https://localhost:7073@evil.example/",
        "http://evil.example#@127.0.0.1",
        "http://127.0.0.1\\@evil.example",  # the standard library and urllib3 disagree: not loopback
        "http://evil.example\\@127.0.0.1:7073",  # urlsplit reads 127.0.0.1; requests connects to evil.example
        "http://127.0.0.1%2eevil.example",
        "http://127.0.0.2:7073",  # loopback to the kernel, but not a host the app counts as this machine
        "http://0.0.0.0:7073",
        "127.0.0.1:7073",  # no scheme: not a URL of this machine
        "",
    ],
)
def test_any_other_host_gets_entra_id_never_the_local_token(url: str) -> None:
    provider = token_provider_for(with_secret(url))
    assert isinstance(provider, CredentialTokenProvider)
    assert local_dataverse_address(url) is None


def test_the_stand_in_is_started_only_for_plain_http_on_this_machine_with_a_port() -> None:
    assert local_dataverse_address("http://127.0.0.1:7073") == ("127.0.0.1", 7073)
    assert local_dataverse_address("http://localhost:7073/") == ("localhost", 7073)
    assert local_dataverse_address("https://127.0.0.1:7073") is None  # it serves no TLS
    assert local_dataverse_address("http://127.0.0.1") is None
    assert local_dataverse_address("http://127.0.0.1.evil.example:7073") is None


# --- the stand-in as a local server -----------------------------------------------------------------


@pytest.fixture
def serving() -> Iterator[DataverseStandIn]:
    standin = local_dataverse()
    standin.start_in_background("127.0.0.1", 0)
    yield standin
    standin.stop()


def test_the_local_stand_in_accepts_exactly_the_local_token_and_refuses_others_with_401(
    serving: DataverseStandIn,
) -> None:
    ok = raw(serving, "GET", "contacts", bearer=LOCAL_DATAVERSE_TOKEN, params={"$select": "fullname"})
    assert ok.status_code == 200
    assert sorted(row["fullname"] for row in ok.json()["value"]) == ["Ada Lovelace"]
    for wrong in ("token-1", LOCAL_DATAVERSE_TOKEN + "x", "", "eyJ0eXAiOiJKV1QifQ.e30.sig"):
        refused = raw(serving, "GET", "contacts", bearer=wrong)
        assert refused.status_code == 401, wrong
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    no_header = requests.get(f"{serving.url}{API}/contacts", timeout=5)
    assert no_header.status_code == 401


def test_the_tests_stand_in_refuses_the_local_token(serving: DataverseStandIn) -> None:
    """A test's stand-in accepts only the tests' tokens: the fixed local token is for `make run`'s."""
    tests_own = DataverseStandIn(accepted_token=None)
    tests_own.start_in_background("127.0.0.1", 0)
    try:
        assert raw(tests_own, "GET", "contacts", bearer=LOCAL_DATAVERSE_TOKEN).status_code == 401
        assert raw(tests_own, "GET", "contacts", bearer="token-7").status_code == 200
    finally:
        tests_own.stop()


def test_the_local_stand_in_is_seeded_with_the_demo_customers_owned_by_the_local_agent(
    serving: DataverseStandIn,
) -> None:
    rows = requests.get(f"{serving.url}/standin/rows", timeout=5).json()
    [agent] = rows["systemusers"]
    assert agent["azureactivedirectoryobjectid"] == LOCAL_AGENT_OBJECT_ID
    [ada] = rows["contacts"]
    [grace] = rows["leads"]
    assert (ada["contactid"], ada["mobilephone"], ada["_owninguser_value"]) == (
        DEMO_CONTACT_ID,
        "+1 555-123-4567",
        agent["systemuserid"],
    )
    assert (grace["leadid"], grace["telephone1"], grace["_owninguser_value"]) == (
        DEMO_LEAD_ID,
        "+" + GRACE,
        agent["systemuserid"],
    )
    # The local agent reads the records as the chat panel's access check does (CallerObjectId).
    as_agent = raw(
        serving,
        "GET",
        f"contacts({DEMO_CONTACT_ID})",
        bearer=LOCAL_DATAVERSE_TOKEN,
        params={"$select": "mobilephone"},
        headers={"CallerObjectId": LOCAL_AGENT_OBJECT_ID},
    )
    assert as_agent.json() == {"mobilephone": "+1 555-123-4567"}
    # Another agent (signed in for real, AUTH_DISABLED=false) is added by object id.
    oid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    for wrong in ({"objectId": "x"}, {"objectId": None}, [oid], "not json"):
        answer = requests.post(f"{serving.url}/standin/users", json=wrong, timeout=5)
        assert answer.status_code == 400, wrong
    # As docs/local-development.md runs it: curl's -d is form-encoded by default; JSON is read anyway.
    added = requests.post(f"{serving.url}/standin/users", data=f'{{"objectId": "{oid.upper()}"}}', timeout=5)
    assert added.status_code == 201
    assert added.json()["azureactivedirectoryobjectid"] == oid
    assert serving.users[oid].reads == {"contacts": None, "leads": None}


# --- `make run`'s path: served, provisioned, mirrored into ------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], Any], timeout: float = 30, say: Callable[[], str] = str) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out: {say()}"
        time.sleep(0.1)
    return found


@dataclass
class Running:
    dataverse: DataverseStandIn
    webhook: Client


@pytest.fixture
def running(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, app_functions: list[Any]
) -> Iterator[Running]:
    """What `python -m devhost run` does with a loopback DATAVERSE_URL: the stand-in served there and
    provisioned (`start_local_dataverse`), the app's own mirror (built from the settings, so with the
    app's own token provider) run by the local host's queue trigger."""
    monkeypatch.setenv("DATAVERSE_URL", f"http://127.0.0.1:{free_port()}")
    services_module.reset()
    composition.reset()
    settings = get_services().settings
    connection = os.environ["AzureWebJobsStorage"]
    QueueClient.from_connection_string(connection, DATAVERSE_MIRROR_QUEUE).clear_messages()
    dataverse = start_local_dataverse(settings)
    assert dataverse is not None
    app = func.FunctionApp()
    app.register_functions(mirror_function.bp)
    fast = QueueRules(max_dequeue_count=5, visibility_timeout=0, max_polling_interval=0.2)
    host = LocalFunctionsHost(app, {"AzureWebJobsStorage": connection}, fast, port=0)
    host.start_in_background()
    yield Running(dataverse, Client(HttpFunctions(app_functions)))
    host.stop()
    dataverse.stop()
    composition.reset()
    services_module.reset()


def test_a_customer_message_is_mirrored_into_the_local_dataverse_with_the_fixed_token(
    running: Running, phone_number_id: str
) -> None:
    dataverse = running.dataverse
    assert dataverse.table.logical_name in dataverse.entities  # provisioned by the real provisioning code
    assert dataverse.published
    ada_says, grace_says = new_wamid(), new_wamid()
    deliver(
        running.webhook,
        inbound(
            phone_number_id, ADA, message("text", {"body": "Where is my parcel?"}, wa_id=ADA, wamid=ada_says)
        ),
    )
    deliver(
        running.webhook,
        inbound(
            phone_number_id, GRACE, message("text", {"body": "Bulk prices?"}, wa_id=GRACE, wamid=grace_says)
        ),
    )

    def row_of(wamid: str) -> dict[str, Any] | None:
        return next((r for r in dataverse.activities.values() if r.get("wa_wamid") == wamid), None)

    ada_row = wait_until(lambda: row_of(ada_says), say=lambda: str(dataverse.seen[-3:]))
    grace_row = wait_until(lambda: row_of(grace_says), say=lambda: str(dataverse.seen[-3:]))
    agent = dataverse.users[LOCAL_AGENT_OBJECT_ID]
    assert (ada_row["description"], ada_row["_regardingobjectid_value"], ada_row["_ownerid_value"]) == (
        "Where is my parcel?",
        DEMO_CONTACT_ID,
        agent.systemuserid,
    )
    assert (grace_row["_regardingobjectid_value"], grace_row["regardingobjecttypecode"]) == (
        DEMO_LEAD_ID,
        "lead",
    )
    # Every request, provisioning and mirror alike, carried the fixed local token and nothing else.
    assert {s.headers.get("Authorization") for s in dataverse.seen} == {f"Bearer {LOCAL_DATAVERSE_TOKEN}"}
    # And the rows are there to look at, as docs/local-development.md says.
    shown = requests.get(f"{dataverse.url}/standin/rows", timeout=5).json()[dataverse.table.entity_set]
    assert {r["wa_wamid"] for r in shown} >= {ada_says, grace_says}
    listed = raw(dataverse, "GET", dataverse.table.entity_set, bearer=LOCAL_DATAVERSE_TOKEN)
    assert ada_says in {r["wa_wamid"] for r in listed.json()["value"]}


def test_devhost_run_isolated_mirrors_a_customer_message_into_its_own_local_dataverse(tmp_path: Path) -> None:
    """`python -m devhost run --isolated` as `make run` runs, on its own ports (TEST_PORT_OFFSET moves
    them): DATAVERSE_URL set to `make run`'s 7073 is moved to the app's port + 2, the stand-in served
    and provisioned there, and `python -m devhost customer-says` (through the sandbox) ends as a row."""
    app_port, sandbox_port, dataverse_port = ISOLATED_APP_PORT, ISOLATED_APP_PORT + 1, ISOLATED_APP_PORT + 2
    ports = [
        app_port,
        sandbox_port,
        dataverse_port,
        ISOLATED_PORTS.blob,
        ISOLATED_PORTS.queue,
        ISOLATED_PORTS.cosmos,
    ]
    busy = [port for port in ports if is_listening(port)]
    assert not busy, f"ports {busy} are taken (a chat panel journey?): set TEST_PORT_OFFSET to move this run"
    env = {
        **os.environ,
        "DATAVERSE_URL": "http://127.0.0.1:7073",  # make run's: --isolated must not use it
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "devhost.log"
    with log_path.open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "devhost", "run", "--isolated"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def tail() -> str:
        return log_path.read_text()[-3000:]

    def healthy() -> bool:
        assert child.poll() is None, f"devhost exited {child.returncode}: {tail()}"
        try:
            return requests.get(f"http://127.0.0.1:{app_port}/api/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(healthy, timeout=120, say=tail)
        rows_url = f"http://127.0.0.1:{dataverse_port}/standin/rows"
        says = subprocess.run(  # noqa: S603 - this interpreter, the repository's own module
            [
                sys.executable,
                "-m",
                "devhost",
                "customer-says",
                "--wa",
                ADA,
                "--text",
                "Hi from the isolated run",
            ],
            cwd=ROOT,
            env={**env, "WHATSAPP_GRAPH_BASE_URL": f"http://127.0.0.1:{sandbox_port}"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert says.returncode == 0, says.stdout + says.stderr

        def mirrored() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = requests.get(rows_url, timeout=5).json()["wa_whatsappmessages"]
            return [r for r in rows if r.get("description") == "Hi from the isolated run"]

        [row] = wait_until(mirrored, timeout=60, say=tail)
        assert row["_regardingobjectid_value"] == DEMO_CONTACT_ID
        assert f"local Dataverse (a stand-in, in memory) on http://127.0.0.1:{dataverse_port}" in tail()
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    for port in (app_port, sandbox_port, dataverse_port):
        assert not is_listening(port), f"port {port} still answers after devhost stopped"


def test_a_wrong_token_from_the_app_is_refused_by_the_local_stand_in(serving: DataverseStandIn) -> None:
    """The stand-in is strict as Dataverse is: the app's client with any other token gets 401 after its
    one refresh, and nothing is written."""
    from shared.dataverse.errors import DataverseAuthError

    class Wrong:
        def token(self, *, force_refresh: bool = False) -> str:
            return "not-the-local-token"

    client = serving.client(Wrong())
    with pytest.raises(DataverseAuthError):
        client.get("contacts", {"$select": "fullname"})
    assert serving.client().get("contacts", {"$select": "fullname"})["value"] == [
        {"fullname": "Ada Lovelace"}
    ]
