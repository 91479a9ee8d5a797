"""End to end: Meta's webhook -> the `dataverse-mirror` queue in Azurite -> the local Functions host
running `mirror_to_dataverse` with host.json's retry and poison rules -> rows in the stand-in."""

from __future__ import annotations

import base64
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import azure.functions as func
import pytest
from azure.storage.queue import QueueClient
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, FakeTokens, mirror_for
from devhost.host import LocalFunctionsHost, QueueRules, functions_of, queue_triggers
from functions import mirror as mirror_function
from shared import dataverse as dataverse_package
from shared import services as services_module
from shared.config import Settings
from shared.conversations.documents import conversation_id, document_id
from shared.conversations.queue_messages import MirrorRequest
from shared.dataverse import announce_mirror_state, composition, mirror_enabled
from shared.services import Services
from shared.storage.names import DATAVERSE_MIRROR_QUEUE, POISON_SUFFIX
from tests.api import deliver
from tests.conftest import Queues
from tests.payloads import contact, envelope, inbound, message, new_wamid, now_ts, status

pytestmark = pytest.mark.mirror_on  # the webhook queues mirror requests only where Dataverse is set

WA = "447700900123"
FAST = QueueRules(max_dequeue_count=5, visibility_timeout=0, max_polling_interval=0.2)


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    standin = DataverseStandIn(httpserver)
    standin.provision()
    yield standin
    httpserver.clear()


@dataclass
class Running:
    host: LocalFunctionsHost
    main: QueueClient
    poison: QueueClient
    sleeps: list[float]

    def drained(self) -> bool:
        return self.main.get_queue_properties().approximate_message_count == 0

    def poisoned(self) -> list[str]:
        return [base64.b64decode(m.content).decode() for m in self.poison.peek_messages(max_messages=32)]


def start_host(rules: QueueRules = FAST) -> tuple[LocalFunctionsHost, QueueClient, QueueClient]:
    app = func.FunctionApp()
    app.register_functions(mirror_function.bp)
    connection = os.environ["AzureWebJobsStorage"]
    host = LocalFunctionsHost(app, {"AzureWebJobsStorage": connection}, rules, port=0)
    host.start_in_background()
    main = QueueClient.from_connection_string(connection, DATAVERSE_MIRROR_QUEUE)
    poison = QueueClient.from_connection_string(connection, DATAVERSE_MIRROR_QUEUE + POISON_SUFFIX)
    return host, main, poison


@pytest.fixture
def running(
    services: Services, queues: Queues, dataverse: DataverseStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Running]:
    """The host with the mirror pointed at the stand-in; retries record their waits instead of sleeping."""
    sleeps: list[float] = []
    mirror = mirror_for(dataverse, services.store, tokens=FakeTokens(), sleep=sleeps.append)
    monkeypatch.setattr(composition, "get_mirror", lambda: mirror)
    host, main, poison = start_host()
    yield Running(host, main, poison, sleeps)
    host.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_customer_message_reaches_the_contacts_timeline_through_the_queue(
    client: Client, running: Running, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    ada = dataverse.add_contact(mobilephone="+447700900123")
    wamid = new_wamid()
    deliver(
        client, inbound(phone_number_id, WA, message("text", {"body": "Hi there"}, wa_id=WA, wamid=wamid))
    )
    wait_until(lambda: len(dataverse.activities) == 1 and running.drained())
    [row] = dataverse.activities.values()
    assert (row["wa_wamid"], row["description"], row["_regardingobjectid_value"]) == (wamid, "Hi there", ada)
    assert running.poisoned() == []


def test_replaying_the_same_queue_message_three_times_gives_one_row(
    client: Client, running: Running, dataverse: DataverseStandIn, services: Services, phone_number_id: str
) -> None:
    wamid = new_wamid()
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "once"}, wa_id=WA, wamid=wamid)))
    replay = MirrorRequest(conversation_id=conversation_id(phone_number_id, WA), id=document_id(wamid))
    services.queue.send(DATAVERSE_MIRROR_QUEUE, replay)
    services.queue.send(DATAVERSE_MIRROR_QUEUE, replay)
    # The create closes the inbound row; each replay's create gets 412, its update is refused (a
    # completed activity), then the row is reopened and rewritten: 1 + 2 x 4 requests.
    wait_until(lambda: len(dataverse.requests_to("PATCH")) == 9 and running.drained())
    assert len(dataverse.activities) == 1
    assert len({s.path for s in dataverse.requests_to("PATCH")}) == 1
    assert running.poisoned() == []


def test_statuses_arriving_out_of_order_while_the_mirror_runs_leave_the_newest_status(
    client: Client, running: Running, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    wamid = new_wamid()
    sent = {"from": "15550001111", "to": WA, "id": wamid, "timestamp": now_ts(-10), "type": "text"}
    deliver(
        client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[{**sent, "text": {"body": "hi"}}])
    )
    for state, offset in (("read", 3), ("delivered", 2), ("sent", 1)):  # Meta's order is not guaranteed
        deliver(client, envelope(phone_number_id, statuses=[status(wamid, state, WA, now_ts(offset))]))
        time.sleep(0.05)
    wait_until(lambda: len(dataverse.activities) == 1 and running.drained())
    [row] = dataverse.activities.values()
    assert (row["wa_status"], row["statecode"]) == ("read", 1)
    # `sent` and `delivered` after `read` change no closed row (mirror_timing.status_matters): their
    # times are on it only if they came before it was written, which this race does not fix.
    assert row["wa_readat"]


def test_a_429_storm_ends_with_every_message_mirrored_and_none_in_the_poison_queue(
    client: Client, running: Running, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    dataverse.add_contact(mobilephone="+447700900123")
    dataverse.throttle(60, retry_after="5")
    wamids = [new_wamid() for _ in range(20)]
    texts = [message("text", {"body": f"message {i}"}, wa_id=WA, wamid=w) for i, w in enumerate(wamids)]
    deliver(client, inbound(phone_number_id, WA, *texts))
    wait_until(lambda: len(dataverse.activities) == 20 and running.drained(), timeout=60)
    assert sorted(row["wa_wamid"] for row in dataverse.activities.values()) == sorted(wamids)
    assert running.poisoned() == []
    throttled = [s for s in dataverse.seen if s.method in ("GET", "PATCH")]
    assert len(throttled) >= 60 + 20
    assert running.sleeps.count(5.0) >= 50  # Retry-After honoured, not guessed
    assert set(running.sleeps) == {5.0}


def test_a_message_that_keeps_failing_ends_in_the_poison_queue_with_the_reason_logged(
    client: Client,
    services: Services,
    queues: Queues,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    phone_number_id: str,
) -> None:
    unprovisioned = DataverseStandIn(httpserver)  # nobody ran the provisioning command
    mirror = mirror_for(unprovisioned, services.store)
    monkeypatch.setattr(composition, "get_mirror", lambda: mirror)
    host, _, poison = start_host(FAST)
    try:
        with caplog.at_level(logging.WARNING, logger="shared.dataverse"):
            deliver(client, inbound(phone_number_id, WA, message("text", {"body": "lost?"}, wa_id=WA)))
            wait_until(lambda: bool(list(poison.peek_messages())))
    finally:
        host.stop()
        httpserver.clear()
    [kept] = poison.peek_messages()
    assert MirrorRequest.model_validate_json(
        base64.b64decode(kept.content)
    ).conversation_id == conversation_id(phone_number_id, WA)
    attempts = [r for r in caplog.records if "mirroring to Dataverse failed" in r.getMessage()]
    assert [getattr(r, "attempt", None) for r in attempts] == [1, 2, 3, 4]
    [final] = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert final.levelno == logging.ERROR
    assert "dataverse-mirror-poison" in final.getMessage()
    assert "Resource not found for the segment 'wa_whatsappmessages'" in final.getMessage()


def test_an_unreadable_queue_message_goes_to_the_poison_queue_saying_why(
    running: Running, caplog: pytest.LogCaptureFixture, dataverse: DataverseStandIn
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.dataverse"):
        running.main.send_message(base64.b64encode(b'{"conversation": "?"}').decode())
        wait_until(lambda: bool(running.poisoned()))
    assert running.poisoned() == ['{"conversation": "?"}']
    assert "not a mirror request" in caplog.text
    assert dataverse.seen == []


# --- the mirror switched off --------------------------------------------------------------------


def test_with_dataverse_url_unset_nothing_piles_up_and_leftovers_are_acked(
    client: Client,
    queues: Queues,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    phone_number_id: str,
) -> None:
    monkeypatch.delenv("DATAVERSE_URL", raising=False)
    services_module.reset()
    composition.reset()
    dataverse_package._announced.clear()
    with caplog.at_level(logging.INFO, logger="shared.dataverse"):
        for text in ("one", "two", "three"):
            deliver(client, inbound(phone_number_id, WA, message("text", {"body": text}, wa_id=WA)))
        assert queues.messages(DATAVERSE_MIRROR_QUEUE) == []  # the webhook queues nothing for the mirror
        # A request queued before the setting was removed is acked without calling anything.
        leftover = MirrorRequest(conversation_id=conversation_id(phone_number_id, WA), id="x")
        queues.service.get_queue_client(DATAVERSE_MIRROR_QUEUE).send_message(
            base64.b64encode(leftover.model_dump_json(by_alias=True).encode()).decode()
        )
        host, main, poison = start_host()
        try:
            wait_until(lambda: main.get_queue_properties().approximate_message_count == 0)
        finally:
            host.stop()
            composition.reset()
    assert list(poison.peek_messages()) == []
    assert httpserver.log == []
    assert caplog.text.count("Dataverse mirror is off") == 1
    assert composition.get_mirror() is None


def test_the_mirror_is_on_exactly_when_dataverse_url_is_set(caplog: pytest.LogCaptureFixture) -> None:
    assert mirror_enabled(Settings(DATAVERSE_URL="")) is False
    assert mirror_enabled(Settings(DATAVERSE_URL="  ")) is False
    assert mirror_enabled(Settings(DATAVERSE_URL="https://contoso.crm.dynamics.com")) is True
    dataverse_package._announced.clear()
    with caplog.at_level(logging.INFO, logger="shared.dataverse"):
        assert announce_mirror_state(Settings(DATAVERSE_URL="https://contoso.crm.dynamics.com")) is True
        assert announce_mirror_state(Settings(DATAVERSE_URL="https://contoso.crm.dynamics.com")) is True
    assert caplog.text.count("Dataverse mirror is on") == 1


def test_the_blueprint_triggers_mirror_to_dataverse_on_the_dataverse_mirror_queue() -> None:
    app = func.FunctionApp()
    app.register_functions(mirror_function.bp)
    [binding] = queue_triggers(functions_of(app))
    assert (binding.function_name, binding.queue_name, binding.connection) == (
        "mirror_to_dataverse",
        "dataverse-mirror",
        "AzureWebJobsStorage",
    )
