"""Links that heal instead of poisoning (issue 13, item 2): a remembered contact or lead that was
deleted, merged, qualified or deactivated since, or that the application user may not append to, costs
the message its link at most, never its row; healing reads Dataverse only after a refused write."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, Fault, mirror_for, raw
from shared.conversations.documents import Regarding, conversation_id
from shared.conversations.queue_messages import MirrorRequest
from shared.dataverse.errors import DataverseRequestError
from shared.services import Services
from tests.conftest import Queues
from tests.test_dataverse_mirror import WA, customer_says, outbound_document, pending

pytestmark = pytest.mark.mirror_on

NUMBER = f"+{WA}"


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    standin = DataverseStandIn(httpserver)
    standin.provision()
    yield standin
    httpserver.clear()


def linked_conversation(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> str:
    """A conversation whose first message found and remembered a contact; its id."""
    contact = dataverse.add_contact(mobilephone=NUMBER)
    customer_says(client, phone_number_id, "one")
    mirror = mirror_for(dataverse, services.store)
    for request in pending(queues):
        mirror.mirror(request)
    assert remembered(services, phone_number_id) == {"entity": "contact", "id": contact}
    dataverse.seen.clear()
    return contact


def remembered(services: Services, phone_number_id: str) -> object:
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    return conversation.get("regarding")


def mirror_next(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> dict[str, object]:
    """The customer's next message, mirrored once by a fresh instance: it must not raise."""
    customer_says(client, phone_number_id, "two")
    [request] = pending(queues)
    mirror_for(dataverse, services.store).mirror(request)  # the first attempt succeeds
    return next(row for row in dataverse.activities.values() if row["description"] == "two")


def link_of(row: dict[str, object]) -> tuple[object, object] | None:
    if "_regardingobjectid_value" not in row:
        return None
    return (row["regardingobjecttypecode"], row["_regardingobjectid_value"])


def link_log(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    [record] = [r for r in caplog.records if hasattr(r, "linkProblem")]
    return record


# --- the stand-in behaves as Dataverse does -----------------------------------------------------------


def test_the_standin_keeps_merged_and_qualified_records_and_refuses_links_it_should(
    dataverse: DataverseStandIn,
) -> None:
    master, subordinate = dataverse.add_contact(), dataverse.add_contact(mobilephone=NUMBER)
    dataverse.merge("contacts", subordinate, master)
    columns = {"$select": "statecode,merged,_masterid_value"}
    merged = raw(dataverse, "GET", f"contacts({subordinate})", params=columns).json()
    assert merged == {"statecode": 1, "merged": True, "_masterid_value": master}  # deactivated, kept
    lead = dataverse.add_lead(mobilephone=NUMBER)
    contact = dataverse.qualify(lead)
    assert raw(dataverse, "GET", f"leads({lead})", params={"$select": "statecode"}).json() == {"statecode": 1}
    query = {"$select": "contactid", "$filter": f"statecode eq 0 and _originatingleadid_value eq {lead}"}
    assert raw(dataverse, "GET", "contacts", params=query).json()["value"] == [{"contactid": contact}]

    def bind(entity_set: str, record: str) -> requests.Response:
        prop = f"regardingobjectid_{entity_set[:-1]}_{dataverse.table.logical_name}@odata.bind"
        row = f"{dataverse.table.entity_set}({uuid.uuid4()})"
        return raw(dataverse, "PATCH", row, json={prop: f"/{entity_set}({record})"})

    refused = bind("contacts", subordinate)
    assert (refused.status_code, subordinate in refused.json()["error"]["message"]) == (400, True)
    dataverse.no_append_to.add("contacts")
    denied = bind("contacts", master)
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "0x80040220")
    assert "prvAppendTocontact" in denied.json()["error"]["message"]
    dataverse.refuse_inactive_links = False
    assert bind("leads", lead).status_code == 204


# --- healing ---------------------------------------------------------------------------------------


def test_a_deleted_contact_costs_the_message_its_link_not_its_row(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    phone_number_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    contact = linked_conversation(client, services, queues, dataverse, phone_number_id)
    del dataverse.rows["contacts"][contact]
    with caplog.at_level(logging.WARNING, logger="shared.dataverse"):
        row = mirror_next(client, services, queues, dataverse, phone_number_id)
    assert link_of(row) is None
    assert remembered(services, phone_number_id) is None
    record = link_log(caplog)
    assert (record.linkProblem, record.dataverseErrorCode) == ("missing", "0x80040217")  # type: ignore[attr-defined]
    assert "no longer exists" in record.linkReason  # type: ignore[attr-defined]
    assert [s.method for s in dataverse.data_requests] == ["PATCH", "GET", "GET", "GET", "PATCH"]


def test_a_deleted_contact_is_replaced_by_the_one_that_now_has_the_number(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    contact = linked_conversation(client, services, queues, dataverse, phone_number_id)
    del dataverse.rows["contacts"][contact]
    successor = dataverse.add_contact(telephone1=NUMBER)
    row = mirror_next(client, services, queues, dataverse, phone_number_id)
    assert link_of(row) == ("contact", successor)
    assert remembered(services, phone_number_id) == {"entity": "contact", "id": successor}


def test_a_merged_contact_links_to_the_contact_it_was_merged_into_and_is_remembered(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    contact = linked_conversation(client, services, queues, dataverse, phone_number_id)
    master = dataverse.add_contact(mobilephone="+447700900999")  # not found by the customer's number
    dataverse.merge("contacts", contact, master)
    row = mirror_next(client, services, queues, dataverse, phone_number_id)
    assert link_of(row) == ("contact", master)
    assert remembered(services, phone_number_id) == {"entity": "contact", "id": master}
    assert [s.path for s in dataverse.requests_to("GET")] == [f"contacts({contact})", f"contacts({master})"]

    dataverse.seen.clear()
    customer_says(client, phone_number_id, "three")
    [request] = pending(queues)
    mirror_for(dataverse, services.store).mirror(request)
    assert [s.method for s in dataverse.data_requests] == ["PATCH"]  # healed: one request again


def test_a_qualified_lead_links_to_the_contact_made_from_it(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    lead = dataverse.add_lead(mobilephone=NUMBER)
    customer_says(client, phone_number_id, "one")
    [request] = pending(queues)
    mirror_for(dataverse, services.store).mirror(request)
    assert remembered(services, phone_number_id) == {"entity": "lead", "id": lead}
    contact = dataverse.qualify(lead)  # without the number: only `originatingleadid` finds it
    row = mirror_next(client, services, queues, dataverse, phone_number_id)
    assert link_of(row) == ("contact", contact)
    assert remembered(services, phone_number_id) == {"entity": "contact", "id": contact}


def test_a_deactivated_contact_with_nothing_else_for_the_number_leaves_the_row_unlinked(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    contact = linked_conversation(client, services, queues, dataverse, phone_number_id)
    dataverse.rows["contacts"][contact]["statecode"] = 1
    row = mirror_next(client, services, queues, dataverse, phone_number_id)
    assert link_of(row) is None
    assert remembered(services, phone_number_id) is None


def test_without_append_to_the_row_is_written_unlinked_and_the_link_kept_for_when_the_role_is_fixed(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    phone_number_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    contact = linked_conversation(client, services, queues, dataverse, phone_number_id)
    dataverse.no_append_to.add("contacts")
    with caplog.at_level(logging.WARNING, logger="shared.dataverse"):
        row = mirror_next(client, services, queues, dataverse, phone_number_id)
    assert link_of(row) is None
    assert link_log(caplog).linkProblem == "no_append_to"  # type: ignore[attr-defined]
    assert remembered(services, phone_number_id) == {"entity": "contact", "id": contact}
    assert [s.method for s in dataverse.data_requests] == ["PATCH", "PATCH"]  # no healing reads


def test_an_agents_message_sent_from_a_deleted_lead_heals_once_per_instance(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    lead = dataverse.add_lead(mobilephone="+447700900000")
    contact = dataverse.add_contact(mobilephone=NUMBER)
    doc = outbound_document(
        phone_number_id, "reply-1", sent_by="agent-oid", regarding=Regarding(entity="lead", id=lead)
    )
    assert services.store.create(doc.to_document())
    del dataverse.rows["leads"][lead]
    mirror = mirror_for(dataverse, services.store)
    request = MirrorRequest(conversation_id=doc.conversation_id, id="reply-1")
    assert mirror.mirror(request).regarding == Regarding(entity="contact", id=contact)
    dataverse.seen.clear()
    assert mirror.mirror(request).regarding == Regarding(entity="contact", id=contact)  # a status later
    assert dataverse.requests_to("GET") == []  # no healing reads: the instance remembers the heal
    binds = [v for s in dataverse.requests_to("PATCH") for k, v in s.body.items() if k.endswith("bind")]
    assert binds
    assert set(binds) == {f"/contacts({contact})"}


def test_where_dataverse_accepts_a_link_to_an_inactive_record_nothing_extra_is_spent(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    contact = linked_conversation(client, services, queues, dataverse, phone_number_id)
    dataverse.merge("contacts", contact, dataverse.add_contact())
    dataverse.refuse_inactive_links = False
    row = mirror_next(client, services, queues, dataverse, phone_number_id)
    assert link_of(row) == ("contact", contact)  # stays on the merged record: nothing said otherwise
    assert [s.method for s in dataverse.data_requests] == ["PATCH"]


def test_a_refusal_that_does_not_name_the_link_still_fails_the_attempt(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    linked_conversation(client, services, queues, dataverse, phone_number_id)
    customer_says(client, phone_number_id, "two")
    [request] = pending(queues)
    body = {"code": "0x80060888", "message": "Invalid property 'wa_nosuchcolumn' was found."}
    dataverse.faults.append(Fault(400, body=body, methods=frozenset({"PATCH"})))
    with pytest.raises(DataverseRequestError):
        mirror_for(dataverse, services.store).mirror(request)
    assert [s.method for s in dataverse.data_requests] == ["PATCH"]
