"""One Dataverse write per change that matters: an agent's message and the statuses that follow it
within seconds, or a customer's file and its copy, reach the Timeline row in one mirror."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, mirror_for
from shared.conversations.documents import conversation_id, document_id, iso
from shared.conversations.mirror_timing import (
    MIRROR_DUE_FIELD,
    MirrorTiming,
    settled,
    status_matters,
    timing_for,
)
from shared.conversations.queue_messages import MediaCopyRequest, MirrorRequest
from shared.media.inbound_copy import CopyInboundMedia
from shared.services import Services
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from shared.whatsapp.graph_errors import GraphError, GraphErrorBody
from tests.api import deliver
from tests.conftest import Queues
from tests.payloads import (
    MEDIA_ID,
    MESSAGE_TYPES,
    contact,
    envelope,
    inbound,
    message,
    new_wamid,
    now_ts,
    status,
)
from tests.test_send import Meta, customer_writes, send

WA = "447700900123"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
THIRTY = MirrorTiming(timedelta(seconds=30))

# --- the rule ---------------------------------------------------------------------------------------


def test_a_first_step_schedules_one_mirror_after_the_settling_time() -> None:
    doc, after = THIRTY.schedule({"id": "m"}, NOW)
    assert after == timedelta(seconds=30)
    assert doc[MIRROR_DUE_FIELD] == "2026-11-29T12:00:30.000Z"


def test_a_step_while_that_mirror_is_pending_leaves_the_newer_state_to_it() -> None:
    doc, _ = THIRTY.schedule({"id": "m"}, NOW)
    assert THIRTY.schedule(doc, NOW + timedelta(seconds=5)) == (doc, None)


def test_a_step_close_to_the_due_time_schedules_its_own_as_the_pending_one_may_have_read_already() -> None:
    doc, _ = THIRTY.schedule({"id": "m"}, NOW)
    late = NOW + timedelta(seconds=25)  # within the guard (a quarter of the settling time) of the due time
    again, after = THIRTY.schedule(doc, late)
    assert after == timedelta(seconds=30)
    assert again[MIRROR_DUE_FIELD] == "2026-11-29T12:00:55.000Z"


def test_without_settling_every_change_is_mirrored_at_once() -> None:
    _, after = MirrorTiming().schedule({"id": "m", MIRROR_DUE_FIELD: iso(NOW + timedelta(hours=1))}, NOW)
    assert after == timedelta(0)


@pytest.mark.parametrize(("seconds", "settle"), [(-5, 0), (0, 0), (30, 30), (10_000, 300)])
def test_the_setting_is_kept_between_nothing_and_five_minutes(seconds: int, settle: int) -> None:
    assert timing_for(seconds).settle == timedelta(seconds=settle)


@pytest.mark.parametrize(
    ("before", "after", "matters"),
    [
        ("accepted", "sent", True),
        ("sent", "delivered", True),  # closes the row
        ("delivered", "read", False),  # the row is closed: the read tick is the panel's
        ("read", "read", False),  # an older `delivered` filling in its time
        ("delivered", "failed", True),
        ("failed", "failed", False),
    ],
)
def test_a_status_matters_until_the_row_is_final_and_a_failure_always(
    before: str, after: str, matters: bool
) -> None:
    doc = {"direction": "outbound", "status": before}
    assert status_matters(doc, {**doc, "status": after}) is matters


def test_a_customers_message_is_never_settled_by_a_status() -> None:
    assert not settled({"direction": "inbound", "status": "received"})


# --- the app, against Azurite's queues ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def settling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the `services` fixture builds the app's services from the environment."""
    monkeypatch.setenv("DATAVERSE_MIRROR_SETTLE_SECONDS", "30")


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    stand_in = DataverseStandIn(httpserver)
    stand_in.provision()
    yield stand_in
    httpserver.clear()


def visible(queues: Queues) -> list[MirrorRequest]:
    client = queues.service.get_queue_client(DATAVERSE_MIRROR_QUEUE)
    found = []
    for item in client.receive_messages(messages_per_page=32, visibility_timeout=30):
        found.append(MirrorRequest.model_validate_json(base64.b64decode(item.content)))
        client.delete_message(item)
    return found


def queued(queues: Queues) -> int:
    """Every message on the queue, hidden ones included."""
    properties = queues.service.get_queue_client(DATAVERSE_MIRROR_QUEUE).get_queue_properties()
    return int(properties.approximate_message_count or 0)


def post(client: Client, body: dict[str, Any]) -> None:
    deliver(client, body)


def agent_message(client: Client, phone_number_id: str) -> str:
    """An agent's message the webhook reports (`smb_message_echoes`); Meta's statuses follow it."""
    wamid = new_wamid()
    sent = {"from": "15550001111", "to": WA, "id": wamid, "timestamp": now_ts(-2), "type": "text"}
    post(client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[{**sent, "text": {"body": "Hi"}}]))
    return wamid


@pytest.mark.mirror_on
def test_an_agents_message_and_its_statuses_wait_for_one_mirror(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    wamid = agent_message(client, phone_number_id)
    for state in ("sent", "delivered", "read"):
        post(client, envelope(phone_number_id, statuses=[status(wamid, state, WA)]))

    assert visible(queues) == []  # hidden until the statuses have come in
    assert queued(queues) == 1  # one mirror for the message and its three statuses
    conv = conversation_id(phone_number_id, WA)
    # When it runs, it writes the message as it is then: one request, read and closed.
    mirror_for(dataverse, services.store).mirror(MirrorRequest(conversation_id=conv, id=document_id(wamid)))
    [patch] = dataverse.requests_to("PATCH")
    assert (patch.body["wa_status"], patch.body["statecode"]) == ("read", 1)


@pytest.mark.mirror_on
def test_a_send_from_the_panel_and_its_statuses_wait_for_one_mirror(
    client: Client, httpserver: HTTPServer, services: Services, queues: Queues, phone_number_id: str
) -> None:
    meta = Meta(httpserver, services)
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.S1")
    assert send(client, phone_number_id, type="text", text="hello", clientMessageId="s-1").status_code == 202
    for state in ("sent", "delivered", "read"):
        post(client, envelope(phone_number_id, statuses=[status("wamid.S1", state, WA)]))
    assert len(visible(queues)) == 1  # the customer's message, at once
    assert queued(queues) == 1  # the agent's, waiting
    meta.received  # noqa: B018 - checks what the app sent against Meta's OpenAPI document


@pytest.mark.mirror_on
def test_a_status_after_the_pending_mirror_came_due_queues_its_own(
    client: Client, services: Services, queues: Queues, phone_number_id: str
) -> None:
    wamid = agent_message(client, phone_number_id)
    conv, message_id = conversation_id(phone_number_id, WA), document_id(wamid)
    past = iso(datetime.now(UTC) - timedelta(seconds=1))
    services.store.update(conv, message_id, lambda d: {**(d or {}), MIRROR_DUE_FIELD: past})  # it ran
    post(client, envelope(phone_number_id, statuses=[status(wamid, "delivered", WA)]))
    assert queued(queues) == 2
    post(client, envelope(phone_number_id, statuses=[status(wamid, "read", WA)]))
    assert queued(queues) == 2  # the row closed at `delivered`: a read does not reopen it


@pytest.mark.mirror_on
def test_a_customers_text_is_mirrored_at_once(client: Client, queues: Queues, phone_number_id: str) -> None:
    post(client, inbound(phone_number_id, WA, message("text", {"body": "Hi"}, wa_id=WA)))
    assert len(visible(queues)) == 1


class GoneMedia:
    """Meta no longer has the file: the copy records it as unavailable, which ends the wait as well."""

    def media_location(self, media_id: str, phone_number_id: str | None = None) -> Any:
        raise GraphError(404, GraphErrorBody(message="gone", code=100))

    def download(self, url: str, chunk_size: int = 0) -> Iterator[bytes]:
        raise AssertionError("not reached")


def customer_sends_a_photo(client: Client, phone_number_id: str) -> tuple[str, str]:
    kind, body, _ = MESSAGE_TYPES["image"]
    wamid = new_wamid()
    post(client, inbound(phone_number_id, WA, message(kind, body, wa_id=WA, wamid=wamid)))
    return conversation_id(phone_number_id, WA), document_id(wamid)


def copy(services: Services, conv: str, message_id: str, phone_number_id: str) -> None:
    copier = CopyInboundMedia(
        services.store, services.media, GoneMedia(), services.queue, services.mirror_timing, services.clock
    )
    copier(
        MediaCopyRequest(
            conversation_id=conv, id=message_id, phone_number_id=phone_number_id, meta_media_id=MEDIA_ID
        )
    )


@pytest.mark.mirror_on
def test_a_customers_file_is_mirrored_once_with_its_copy(
    client: Client, services: Services, queues: Queues, phone_number_id: str
) -> None:
    conv, message_id = customer_sends_a_photo(client, phone_number_id)
    assert (visible(queues), queued(queues)) == ([], 1)  # waiting for the copy
    copy(services, conv, message_id, phone_number_id)
    assert queued(queues) == 1  # the pending mirror carries the copy's outcome


@pytest.mark.mirror_on
def test_a_copy_that_finishes_after_the_wait_queues_a_mirror_at_once(
    client: Client, services: Services, queues: Queues, phone_number_id: str
) -> None:
    conv, message_id = customer_sends_a_photo(client, phone_number_id)
    past = iso(datetime.now(UTC) - timedelta(seconds=1))
    services.store.update(conv, message_id, lambda d: {**(d or {}), MIRROR_DUE_FIELD: past})
    copy(services, conv, message_id, phone_number_id)
    assert [r.id for r in visible(queues)] == [message_id]


@pytest.mark.mirror_on
def test_the_settled_mirror_becomes_visible_once_the_time_has_passed(
    client: Client, queues: Queues, phone_number_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import services as services_module

    monkeypatch.setenv("DATAVERSE_MIRROR_SETTLE_SECONDS", "1")
    services_module.reset()
    wamid = agent_message(client, phone_number_id)
    assert visible(queues) == []
    deadline = time.monotonic() + 10
    found: list[MirrorRequest] = []
    while not found and time.monotonic() < deadline:
        time.sleep(0.25)
        found = visible(queues)
    assert [r.id for r in found] == [document_id(wamid)]
