"""Rows owned by the right people (issue 13, item 3, outbound part): an agent's message is owned by
their `systemuser`, found once per process by Entra object id; without a known agent the row stays
the application user's, and an owner Dataverse refuses never poisons the message."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from shared.conversations.documents import Regarding
from shared.conversations.queue_messages import MirrorRequest
from shared.dataverse.mirror import DataverseMirror
from shared.services import Services
from tests.test_dataverse_mirror import outbound_document, the_row
from tests.test_dataverse_standin import DataverseStandIn, mirror_for

AGENT_OID = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"  # Entra may spell it in capitals


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    standin = DataverseStandIn(httpserver)
    standin.provision()
    yield standin
    httpserver.clear()


def sends(services: Services, phone_number_id: str, message_id: str, sent_by: str | None) -> MirrorRequest:
    doc = outbound_document(phone_number_id, message_id, sent_by=sent_by)
    assert services.store.create(doc.to_document())
    return MirrorRequest(conversation_id=doc.conversation_id, id=message_id)


def user_lookups(dataverse: DataverseStandIn) -> list[str]:
    return [s.path for s in dataverse.seen if s.method == "GET" and "systemusers" in s.path]


def test_an_agents_message_is_owned_by_their_systemuser_found_once_per_process(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    user = dataverse.add_user(AGENT_OID.lower())
    dataverse.add_contact(mobilephone="+447700900123")
    mirror = mirror_for(dataverse, services.store)
    mirror.mirror(sends(services, phone_number_id, "reply-1", AGENT_OID))
    row = the_row(dataverse)
    assert (row["_ownerid_value"], row["owneridtype"]) == (user.systemuserid, "systemuser")
    assert row["wa_sentby"] == AGENT_OID, "the text column keeps the object id"

    mirror.mirror(sends(services, phone_number_id, "reply-2", AGENT_OID))
    assert len(user_lookups(dataverse)) == 1, "the second message costs no lookup"
    assert {r["_ownerid_value"] for r in dataverse.activities.values()} == {user.systemuserid}


@pytest.mark.parametrize("sent_by", ["local-developer", None, "1' or 1 eq 1"])
def test_without_a_known_agent_the_row_stays_the_apps_and_nothing_is_asked(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str, sent_by: str | None
) -> None:
    mirror_for(dataverse, services.store).mirror(sends(services, phone_number_id, "reply-1", sent_by))
    assert "_ownerid_value" not in the_row(dataverse)
    assert user_lookups(dataverse) == []


def test_an_agent_who_is_no_user_of_the_environment_leaves_the_row_the_apps(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    mirror_for(dataverse, services.store).mirror(sends(services, phone_number_id, "reply-1", AGENT_OID))
    assert "_ownerid_value" not in the_row(dataverse)
    assert len(user_lookups(dataverse)) == 1


def test_a_user_deleted_since_the_lookup_is_refused_and_the_row_written_the_apps(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    dataverse.add_user(AGENT_OID.lower())
    mirror: DataverseMirror = mirror_for(dataverse, services.store)
    mirror.mirror(sends(services, phone_number_id, "reply-1", AGENT_OID))
    del dataverse.users[AGENT_OID.lower()]  # removed from the environment; this process remembers them
    with caplog.at_level(logging.WARNING):
        mirror.mirror(sends(services, phone_number_id, "reply-2", AGENT_OID))
    second = next(r for r in dataverse.activities.values() if r["wa_messageid"] == "reply-2")
    assert "_ownerid_value" not in second
    assert "was refused as the row's owner" in caplog.text
    mirror.mirror(sends(services, phone_number_id, "reply-3", AGENT_OID))
    assert len(user_lookups(dataverse)) == 2, "forgotten after the refusal, asked again"


def test_an_inbound_or_linked_reply_carries_no_owner_bind_on_updates(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    """An owner is set on create only: changing it later would be an assignment (Assign privilege)."""
    dataverse.add_user(AGENT_OID.lower())
    lead = dataverse.add_lead(mobilephone="+447700900123")
    doc = outbound_document(
        phone_number_id, "reply-1", sent_by=AGENT_OID, regarding=Regarding(entity="lead", id=lead)
    )
    assert services.store.create(doc.to_document())
    mirror = mirror_for(dataverse, services.store)
    request = MirrorRequest(conversation_id=doc.conversation_id, id="reply-1")
    mirror.mirror(request)
    services.store.update(
        doc.conversation_id,
        "reply-1",
        lambda d: (
            None
            if d is None
            else {**d, "status": "sent", "statusTimes": {**d["statusTimes"], "sent": d["timestamp"]}}
        ),
    )
    mirror.mirror(request)
    patches = [s for s in dataverse.seen if s.method == "PATCH"]
    assert ["ownerid@odata.bind" in (s.body or {}) for s in patches] == [True, False]


def test_without_assign_the_rows_stay_the_apps_and_no_agent_is_looked_up_again(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    dataverse.add_user(AGENT_OID.lower())
    dataverse.no_assign = True
    mirror = mirror_for(dataverse, services.store)
    with caplog.at_level(logging.ERROR):
        mirror.mirror(sends(services, phone_number_id, "reply-1", AGENT_OID))
    assert "missing Assign on the table" in caplog.text
    mirror.mirror(sends(services, phone_number_id, "reply-2", AGENT_OID))
    assert [r.get("_ownerid_value") for r in dataverse.activities.values()] == [None, None]
    assert len(user_lookups(dataverse)) == 1
    refused = [s for s in dataverse.seen if s.method == "PATCH" and "ownerid@odata.bind" in (s.body or {})]
    assert len(refused) == 1, "one refused create, then none"
