"""Rows owned by the right people (issue 13, item 3): an agent's message is owned by their
`systemuser`, found once per process by Entra object id; a customer's message by the owner (user or
team) of the contact or lead its number matched, read with that lookup. Without a known owner the row
stays the application user's, and an owner Dataverse refuses never poisons the message."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, mirror_for
from shared.conversations.commands import SendMessageCommand
from shared.conversations.documents import Regarding, conversation_id
from shared.conversations.queue_messages import MirrorRequest
from shared.dataverse.mirror import DataverseMirror
from shared.services import Services
from tests.api import send_message
from tests.conftest import Queues
from tests.test_dataverse_mirror import WA, customer_says, mirror_all, outbound_document, pending, the_row
from tests.test_send import Meta

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
    assert row["_wa_sentbyuser_value"] == user.systemuserid, "and the Sent by user lookup links the user"

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


def test_a_later_change_to_a_row_whose_sender_is_gone_is_written_without_the_sent_by_link(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    """The lookup is bound on every write (the owner only on create): a refusal naming the user is
    about the link, not the row, and never poisons it."""
    user = dataverse.add_user(AGENT_OID.lower())
    mirror: DataverseMirror = mirror_for(dataverse, services.store)
    request = sends(services, phone_number_id, "reply-1", AGENT_OID)
    mirror.mirror(request)
    del dataverse.users[AGENT_OID.lower()]

    def sent(doc: dict[str, Any] | None) -> dict[str, Any]:
        doc = doc or {}
        return {
            **doc,
            "status": "sent",
            "statusTimes": {**doc["statusTimes"], "sent": "2026-11-29T12:00:00Z"},
        }

    services.store.update(request.conversation_id, "reply-1", sent)
    assert mirror.mirror(request).outcome == "mirrored"
    row = the_row(dataverse)
    assert (row["wa_status"], row["_ownerid_value"]) == ("sent", user.systemuserid)


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


# --- customer messages: the linked record's owner (issue 13, item 3, inbound part) ----------------


def inbound_rows(dataverse: DataverseStandIn) -> list[dict[str, Any]]:
    return [r for r in dataverse.activities.values() if r["wa_direction"] == "inbound"]


@pytest.mark.mirror_on
def test_a_customer_message_is_owned_by_the_owner_of_the_contact_its_number_matches_at_no_extra_request(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    user = dataverse.add_user(AGENT_OID.lower())
    ada = dataverse.add_contact(mobilephone="+447700900123", **dataverse.owned_by(user))
    customer_says(client, phone_number_id, "one", "two")
    mirror_all(mirror_for(dataverse, services.store), queues)
    assert [(r["_ownerid_value"], r["owneridtype"]) for r in inbound_rows(dataverse)] == [
        (user.systemuserid, "systemuser")
    ] * 2
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    owner = {"type": "systemuser", "id": user.systemuserid}
    assert conversation["regarding"] == {"entity": "contact", "id": ada, "owner": owner}
    # The owner came with the phone lookup: one GET for the conversation, one PATCH per message.
    assert [s.method for s in dataverse.data_requests] == ["GET", "PATCH", "PATCH"]


@pytest.mark.mirror_on
def test_a_customer_message_is_owned_by_the_team_that_owns_the_lead_its_number_matches(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    team = dataverse.add_team()
    dataverse.add_lead(mobilephone="+447700900123", **dataverse.owned_by(team=team))
    customer_says(client, phone_number_id, "hello")
    mirror_all(mirror_for(dataverse, services.store), queues)
    [row] = inbound_rows(dataverse)
    assert (row["_ownerid_value"], row["owneridtype"]) == (team, "team")


@pytest.mark.mirror_on
@pytest.mark.parametrize("kind", ["systemuser", "team"])
def test_a_record_owner_deleted_since_leaves_the_row_the_apps_and_is_not_tried_again(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    phone_number_id: str,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    if kind == "team":
        owner = team = dataverse.add_team()
        owned = dataverse.owned_by(team=team)
    else:
        user = dataverse.add_user(AGENT_OID.lower())
        owner, owned = user.systemuserid, dataverse.owned_by(user)
    ada = dataverse.add_contact(mobilephone="+447700900123", **owned)
    mirror = mirror_for(dataverse, services.store)
    customer_says(client, phone_number_id, "one")
    mirror_all(mirror, queues)
    dataverse.teams.clear()  # deleted in Dataverse; the conversation still remembers the owner
    dataverse.users.clear()
    customer_says(client, phone_number_id, "two")
    with caplog.at_level(logging.WARNING):
        assert [r.outcome for r in map(mirror.mirror, pending(queues))] == ["mirrored"]
    assert f"linked record owner's {kind} {owner} was refused as the row's owner" in caplog.text
    assert [r.get("_ownerid_value") for r in inbound_rows(dataverse)] == [owner, None]
    assert {r["_regardingobjectid_value"] for r in inbound_rows(dataverse)} == {ada}, "the link is kept"
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    assert conversation["regarding"] == {"entity": "contact", "id": ada}, "the refused owner is dropped"
    dataverse.seen.clear()
    customer_says(client, phone_number_id, "three")
    mirror_all(mirror, queues)
    assert [s.method for s in dataverse.data_requests] == ["PATCH"], "no refused owner tried again"


@pytest.mark.mirror_on
def test_a_link_without_a_known_owner_leaves_customer_messages_the_apps(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    """An agent's send or a backfill links the conversation without an owner: the app keeps the rows."""
    user = dataverse.add_user(AGENT_OID.lower())
    ada = dataverse.add_contact(mobilephone="+447700900123", **dataverse.owned_by(user))
    customer_says(client, phone_number_id, "one")
    conv = conversation_id(phone_number_id, WA)
    linked = Regarding(entity="contact", id=ada).to_document()
    services.store.update(conv, "conversation", lambda d: None if d is None else {**d, "regarding": linked})
    mirror_all(mirror_for(dataverse, services.store), queues)
    [row] = inbound_rows(dataverse)
    assert "_ownerid_value" not in row
    assert [s.method for s in dataverse.data_requests] == ["PATCH"]


def test_a_send_may_not_choose_who_owns_the_customers_rows() -> None:
    """The send's `regarding` becomes the conversation's link: an owner in it is refused."""
    record = {"entity": "contact", "id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}
    body = {"type": "text", "text": "hi", "regarding": record}
    assert SendMessageCommand.model_validate(body).regarding == Regarding.model_validate(record)
    owned = {**record, "owner": {"type": "team", "id": "1a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}}
    with pytest.raises(ValidationError, match="an entity and an id only"):
        SendMessageCommand.model_validate({**body, "regarding": owned})


@pytest.mark.mirror_on
def test_an_agents_send_from_the_same_record_keeps_the_records_owner(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    httpserver: HTTPServer,
    phone_number_id: str,
) -> None:
    user = dataverse.add_user(AGENT_OID.lower())
    ada = dataverse.add_contact(mobilephone="+447700900123", **dataverse.owned_by(user))
    customer_says(client, phone_number_id, "one")
    mirror_all(mirror_for(dataverse, services.store), queues)
    meta = Meta(httpserver, services)
    meta.accepts(phone_number_id)
    sent = send_message(
        client, phone_number_id, WA, type="text", text="hi", regarding={"entity": "contact", "id": ada}
    )
    assert sent.status_code == 202, sent.text
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    assert conversation["regarding"]["owner"] == {"type": "systemuser", "id": user.systemuserid}
