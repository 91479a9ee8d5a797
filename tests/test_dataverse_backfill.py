"""Backfill (issue 13, item 7): rows written unlinked get their link once the conversation has a record,
from the chat panel opening on a record holding the number, or from the maintenance command."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, mirror_for
from shared.conversations.documents import Regarding, conversation_id
from shared.conversations.queue_messages import BackfillRequest
from shared.dataverse.backfill import backfill_conversation, fan_out_backfill, link_conversation, main
from shared.dataverse.queue_handler import handle_mirror_message, parse_request
from shared.services import Services
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from tests.conftest import Queues
from tests.test_access import WA, Office, agent_a, history, key_endpoint, office, signing_key
from tests.test_dataverse_links import link_of
from tests.test_dataverse_mirror import customer_says, outbound_document

__all__ = ["agent_a", "key_endpoint", "office", "signing_key"]  # fixtures, imported for pytest
pytestmark = pytest.mark.mirror_on


def queued(queues: Queues) -> list[bytes]:
    """The `dataverse-mirror` bodies as the queue trigger receives them, taken off the queue."""
    client = queues.service.get_queue_client(DATAVERSE_MIRROR_QUEUE)
    found = []
    for item in client.receive_messages(messages_per_page=32, visibility_timeout=30):
        found.append(base64.b64decode(item.content))
        client.delete_message(item)
    return found


def mirror_queue(dataverse: DataverseStandIn, services: Services, queues: Queues) -> list[Any]:
    """Runs the trigger on what is queued until nothing is left (a backfill queues more)."""
    mirror = mirror_for(dataverse, services.store)
    results: list[Any] = []
    while bodies := queued(queues):
        results += [handle_mirror_message(mirror, body, 1, services.queue) for body in bodies]
    return results


def rows(dataverse: DataverseStandIn) -> dict[str, dict[str, Any]]:
    return {str(row["description"]): row for row in dataverse.activities.values()}


@pytest.fixture
def unlinked(
    client: Client, services: Services, queues: Queues, office: Office, phone_number_id: str
) -> DataverseStandIn:
    """Two customer messages mirrored while no record held the number: written unlinked."""
    dataverse = office.dataverse
    dataverse.provision()
    for record in [*dataverse.rows["contacts"].values(), *dataverse.rows["leads"].values()]:
        record |= {"mobilephone": None, "telephone1": None, "telephone2": None}  # nobody has it yet
    customer_says(client, phone_number_id, "one", "two", wa=WA)
    mirror_queue(dataverse, services, queues)
    assert [link_of(row) for row in dataverse.activities.values()] == [None, None]
    dataverse.rows["contacts"][office.contact_a]["mobilephone"] = "+44 7700 900123"  # added in D365 later
    return dataverse


def test_opening_the_panel_on_a_record_with_the_number_links_the_conversation_and_backfills_its_rows(
    client: Client,
    services: Services,
    queues: Queues,
    office: Office,
    unlinked: DataverseStandIn,
    agent_a: dict[str, str],
    phone_number_id: str,
) -> None:
    times = {text: row["wa_messagetime"] for text, row in rows(unlinked).items()}
    unlinked.seen.clear()
    response = history(client, phone_number_id, agent_a, f"contact:{office.contact_a}")
    assert response.status_code == 200, response.text
    conv = conversation_id(phone_number_id, WA)
    stored = services.store.read(conv, "conversation")
    assert stored is not None
    assert stored["regarding"] == {"entity": "contact", "id": office.contact_a}
    bodies = queued(queues)
    assert [json.loads(b) for b in bodies] == [{"conversationId": conv, "backfill": True}]
    assert [s.method for s in unlinked.seen] == ["GET"], "the route only checked the record"

    mirror = mirror_for(unlinked, services.store)
    [fanned_out] = [handle_mirror_message(mirror, body, 1, services.queue) for body in bodies]
    assert (fanned_out.queued, fanned_out.mirrored) == (2, 0), "a request per row, none written inline"
    assert [s.method for s in unlinked.seen] == ["GET"], "the backfill itself called no Dataverse"
    mirror_queue(unlinked, services, queues)
    backfilled = rows(unlinked)
    assert {text: link_of(row) for text, row in backfilled.items()} == {
        "one": ("contact", office.contact_a),
        "two": ("contact", office.contact_a),
    }
    assert {text: row["wa_messagetime"] for text, row in backfilled.items()} == times, "own times kept"
    assert len(unlinked.activities) == 2, "the same rows, not new ones"

    again = history(client, phone_number_id, agent_a, f"contact:{office.contact_a}")
    assert again.status_code == 200
    assert queued(queues) == [], "linked once: no second backfill"


def test_the_panel_never_replaces_a_link_the_conversation_has(
    services: Services, office: Office, phone_number_id: str, client: Client
) -> None:
    customer_says(client, phone_number_id, "hello", wa=WA)
    conv = conversation_id(phone_number_id, WA)
    lead = Regarding(entity="lead", id=office.lead_a)
    contact = Regarding(entity="contact", id=office.contact_a)
    assert link_conversation(services.store, conv, lead) is True
    assert link_conversation(services.store, conv, contact) is False
    stored = services.store.read(conv, "conversation")
    assert stored is not None
    assert stored["regarding"] == lead.to_document()
    assert link_conversation(services.store, "100:unknown", contact) is False, "no conversation, no link"


def test_a_backfill_leaves_an_agents_message_on_the_record_it_was_sent_from(
    client: Client,
    services: Services,
    queues: Queues,
    office: Office,
    unlinked: DataverseStandIn,
    phone_number_id: str,
) -> None:
    conv = conversation_id(phone_number_id, WA)
    sent_from = Regarding(entity="lead", id=office.lead_a)
    agents = outbound_document(phone_number_id, "agent-1", text="from the lead", regarding=sent_from)
    services.store.create(agents.to_document())
    link_conversation(services.store, conv, Regarding(entity="contact", id=office.contact_a))
    result = backfill_conversation(services.store, mirror_for(unlinked, services.store), conv)
    assert (result.mirrored, result.linked, result.truncated) == (2, True, False)
    assert {text: link_of(r) for text, r in rows(unlinked).items()} == {
        "one": ("contact", office.contact_a),
        "two": ("contact", office.contact_a),
    }, "the agent's message is not rewritten (its own mirror links it to the lead)"


def test_the_command_backfills_a_conversation_and_stops_at_its_limit(
    services: Services, office: Office, unlinked: DataverseStandIn, phone_number_id: str
) -> None:
    conv = conversation_id(phone_number_id, WA)
    # no record remembered: the command's first message looks the number up, which now finds contact A
    result = backfill_conversation(services.store, mirror_for(unlinked, services.store), conv, limit=1)
    assert (result.mirrored, result.linked, result.truncated) == (1, True, True)
    assert sorted(str(link_of(r)) for r in rows(unlinked).values()).count("None") == 1, (
        "the older one remains"
    )


def test_a_conversation_still_matching_nothing_costs_one_row_and_stops(
    client: Client,
    services: Services,
    queues: Queues,
    unlinked: DataverseStandIn,
    office: Office,
    phone_number_id: str,
) -> None:
    unlinked.rows["contacts"][office.contact_a]["mobilephone"] = None
    result = backfill_conversation(
        services.store, mirror_for(unlinked, services.store), conversation_id(phone_number_id, WA)
    )
    assert (result.mirrored, result.linked) == (1, False)


def test_a_fan_out_without_a_record_mirrors_the_newest_first_and_queues_the_rest_once_it_links(
    services: Services, queues: Queues, unlinked: DataverseStandIn, office: Office, phone_number_id: str
) -> None:
    conv = conversation_id(phone_number_id, WA)
    mirror = mirror_for(unlinked, services.store)
    result = fan_out_backfill(services.store, services.queue, mirror, conv)
    assert (result.mirrored, result.queued, result.linked) == (1, 1, True)
    [body] = queued(queues)
    assert json.loads(body)["conversationId"] == conv


def test_a_long_conversation_fans_out_to_its_limit_and_says_how_to_reach_the_rest(
    services: Services,
    queues: Queues,
    unlinked: DataverseStandIn,
    office: Office,
    phone_number_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    conv = conversation_id(phone_number_id, WA)
    link_conversation(services.store, conv, Regarding(entity="contact", id=office.contact_a))
    with caplog.at_level(logging.WARNING):
        result = fan_out_backfill(
            services.store, services.queue, mirror_for(unlinked, services.store), conv, limit=1
        )
    assert (result.queued, result.truncated) == (1, True)
    assert f"--conversation {conv}" in caplog.text


def test_the_command_backfills_every_unlinked_conversation(
    services: Services,
    unlinked: DataverseStandIn,
    office: Office,
    phone_number_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shared.dataverse import composition

    monkeypatch.setattr(composition, "get_mirror", lambda: mirror_for(unlinked, services.store))
    assert main(["--all-unlinked", "--number", phone_number_id]) == 0
    conv = conversation_id(phone_number_id, WA)
    assert f"{conv}: 2 row(s) rewritten, linked=True" in capsys.readouterr().out
    assert {link_of(r) for r in rows(unlinked).values()} == {("contact", office.contact_a)}
    stored = services.store.read(conv, "conversation")
    assert stored is not None
    assert stored["regarding"]["id"] == office.contact_a


def test_a_backfill_body_is_told_apart_from_a_message_pointer() -> None:
    body = BackfillRequest(conversation_id="1:2", backfill=True).model_dump_json(by_alias=True).encode()
    assert isinstance(parse_request(body), BackfillRequest)
    assert not isinstance(parse_request(b'{"conversationId": "1:2", "id": "m"}'), BackfillRequest)


def test_the_command_needs_the_mirror_on(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    from shared.dataverse import composition

    monkeypatch.setattr(composition, "get_mirror", lambda: None)
    assert main(["--conversation", "1:2"]) == 2
    with pytest.raises(SystemExit):
        main([])
    with pytest.raises(SystemExit):  # it goes into a query: digits only
        main(["--all-unlinked", "--number", "1' OR 1=1"])
