"""The Dataverse mirror: messages the webhook stored in Cosmos DB (the real emulator) become activities
in a stand-in Dataverse, linked to the right Contact or Lead, always at their latest state."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, mirror_for
from shared.conversations.documents import (
    ConversationDocument,
    MessageDocument,
    Regarding,
    conversation_id,
    document_id,
    iso,
)
from shared.conversations.inbound import sort_key
from shared.conversations.ingest import utc_now
from shared.conversations.ports import ConversationStore, Doc
from shared.conversations.queue_messages import MirrorRequest
from shared.dataverse.mirror import MAX_ROUNDS, DataverseMirror, MirrorRaced, build_row
from shared.dataverse.schema import DESCRIPTION_MAX_LENGTH, SUBJECT_MAX_LENGTH, row_id
from shared.services import Services
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from tests import test_in_context as in_context
from tests.api import deliver
from tests.conftest import Queues
from tests.payloads import contact, envelope, inbound, message, new_wamid, now_ts, status

pytestmark = pytest.mark.mirror_on  # the webhook queues mirror requests only where Dataverse is set

WA = "447700900123"


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    standin = DataverseStandIn(httpserver)
    standin.provision()
    yield standin
    httpserver.clear()


def customer_says(client: Client, phone_number_id: str, *texts: str, wa: str = WA) -> list[str]:
    wamids = [new_wamid() for _ in texts]
    for wamid, text in zip(wamids, texts, strict=True):
        deliver(client, inbound(phone_number_id, wa, message("text", {"body": text}, wa_id=wa, wamid=wamid)))
    return wamids


def business_app_sends(client: Client, phone_number_id: str, text: str = "Your parcel ships today") -> str:
    """An outbound message the webhook reports (`smb_message_echoes`), so statuses follow it."""
    wamid = new_wamid()
    sent = {"from": "15550001111", "to": WA, "id": wamid, "timestamp": now_ts(-10), "type": "text"}
    deliver(
        client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[{**sent, "text": {"body": text}}])
    )
    return wamid


def pending(queues: Queues) -> list[MirrorRequest]:
    """Takes what the app put on `dataverse-mirror`, as the queue trigger would receive it."""
    client = queues.service.get_queue_client(DATAVERSE_MIRROR_QUEUE)
    found = []
    for item in client.receive_messages(messages_per_page=32, visibility_timeout=30):
        found.append(MirrorRequest.model_validate_json(base64.b64decode(item.content)))
        client.delete_message(item)
    return found


def mirror_all(mirror: DataverseMirror, queues: Queues) -> list[MirrorRequest]:
    requests = pending(queues)
    for request in requests:
        mirror.mirror(request)
    return requests


def the_row(dataverse: DataverseStandIn) -> dict[str, Any]:
    [row] = dataverse.activities.values()
    return row


# --- what a row holds -------------------------------------------------------------------------------


def test_a_customer_message_becomes_an_activity_on_the_matching_contacts_timeline(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    ada = dataverse.add_contact(mobilephone="+44 7700 900123")  # as a user typed it into D365
    [wamid] = customer_says(client, phone_number_id, "Hi, where is my parcel?")
    mirror = mirror_for(dataverse, services.store)

    [request] = mirror_all(mirror, queues)

    conv = conversation_id(phone_number_id, WA)
    row = dataverse.activities[str(row_id(conv, document_id(wamid)))]
    stored = services.store.read(conv, document_id(wamid))
    assert stored is not None
    assert row == {
        "activityid": str(row_id(conv, document_id(wamid))),
        "subject": "WhatsApp from Ada Lovelace: Hi, where is my parcel?",
        "description": "Hi, where is my parcel?",
        "wa_direction": "inbound",
        "wa_kind": "text",
        "wa_status": "received",
        "wa_mediaurl": None,
        "wa_mimetype": None,
        "wa_filename": None,
        "wa_wamid": wamid,
        "wa_messageid": document_id(wamid),
        "wa_conversationid": conv,
        "wa_messagetime": stored["timestamp"],
        "wa_sentat": None,
        "wa_deliveredat": None,
        "wa_readat": None,
        "wa_failedat": None,
        "wa_errorcode": None,
        "wa_errorreason": None,
        "wa_customernumber": "+447700900123",
        "wa_whatsappuserid": None,
        "wa_profilename": "Ada Lovelace",
        "wa_sentby": None,
        "wa_businessnumberid": phone_number_id,
        "wa_adsourceurl": None,
        "wa_adsourcetype": None,
        "wa_adsourceid": None,
        "wa_adheadline": None,
        "wa_adclickid": None,
        "wa_referredproduct": None,
        "_regardingobjectid_value": ada,
        "regardingobjecttypecode": "contact",
        # Sorted on the Timeline by the message's own time, created "on" it, and closed at once.
        "sortdate": stored["timestamp"],
        "actualstart": stored["timestamp"],
        "actualend": stored["timestamp"],
        "overriddencreatedon": stored["timestamp"],
        "statecode": 1,
        "statuscode": 2,
    }
    assert request == MirrorRequest(conversation_id=conv, id=document_id(wamid))
    [create] = dataverse.requests_to("PATCH", dataverse.table.entity_set)
    assert create.headers["If-None-Match"] == "*"  # one request: the create, with its create-only field


def test_every_request_carries_the_odata_headers_and_a_bearer_token(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    customer_says(client, phone_number_id, "hello")
    mirror_all(mirror_for(dataverse, services.store), queues)
    for seen in dataverse.data_requests:
        assert seen.headers["Authorization"] == "Bearer token-1"
        assert seen.headers["Odata-Version"] == "4.0"
        assert seen.headers["Odata-Maxversion"] == "4.0"
        assert seen.headers["Accept"] == "application/json"
    [patch] = dataverse.requests_to("PATCH")
    assert patch.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "If-Match" not in patch.headers
    assert patch.headers["If-None-Match"] == "*"  # a first write creates, never overwrites


def test_an_edit_rewrites_its_messages_row_a_deletion_empties_it_and_reactions_make_no_rows(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    original = new_wamid()
    deliver(
        client,
        in_context.customer(
            phone_number_id, in_context.text("my card is 4111", wamid=original, ts=now_ts(-60))
        ),
    )
    deliver(
        client,
        in_context.customer(phone_number_id, in_context.edit(original, "text", {"body": "my card is ****"})),
    )
    deliver(client, in_context.customer(phone_number_id, in_context.reaction(original, "\U0001f44d")))
    mirror = mirror_for(dataverse, services.store)
    results = [mirror.mirror(request) for request in pending(queues)]
    assert sorted(r.outcome for r in results) == ["hidden", "hidden", "mirrored", "mirrored"]
    row = the_row(dataverse)  # one row: the edit and the reaction have none of their own
    assert (row["wa_wamid"], row["description"]) == (original, "my card is ****")

    deliver(client, in_context.customer(phone_number_id, in_context.revoke(original)))
    # A media copy finishing late writes `media` back onto the document (shared/media/inbound_copy.py).
    conv = conversation_id(phone_number_id, WA)
    late = {"mimeType": "image/jpeg", "url": "https://media.example/card.jpg"}
    services.store.update(conv, document_id(original), lambda d: {**d, "media": late} if d else None)
    mirror_all(mirror, queues)
    row = the_row(dataverse)
    assert (row["description"], row["wa_mediaurl"], row["wa_mimetype"]) == (None, None, None)
    assert row["subject"] == "WhatsApp from Ada Lovelace: [deleted]"
    assert "4111" not in json.dumps(dataverse.activities)


def test_a_wamid_with_slashes_and_plus_signs_still_names_one_row_by_a_guid(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    conv = conversation_id(phone_number_id, WA)
    wamid = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQUI+/x=="
    first, again = row_id(conv, document_id(wamid)), row_id(conv, document_id(wamid))
    assert first == again
    assert first.version == 5
    assert row_id(conversation_id("999", WA), document_id(wamid)) != first  # another business number


def test_a_failed_outbound_message_carries_metas_error_and_when_it_failed(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    wamid = business_app_sends(client, phone_number_id)
    error = {
        "code": 131026,
        "title": "Message undeliverable",
        "message": "Message undeliverable",
        "error_data": {"details": "Recipient is not a WhatsApp user"},
    }
    deliver(client, envelope(phone_number_id, statuses=[status(wamid, "failed", WA, errors=[error])]))
    mirror_all(mirror_for(dataverse, services.store), queues)
    row = the_row(dataverse)
    assert row["wa_direction"] == "outbound"
    assert row["wa_status"] == "failed"
    assert row["wa_errorcode"] == 131026
    assert row["wa_errorreason"] == "Message undeliverable - Recipient is not a WhatsApp user"
    assert row["wa_failedat"] is not None
    assert row["subject"] == "WhatsApp to +447700900123: Your parcel ships today"  # echoes carry no name


def test_media_messages_carry_their_url_type_and_file_name(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    conv = conversation_id(phone_number_id, WA)
    now = utc_now()
    doc = MessageDocument.model_validate(
        {
            "conversationId": conv,
            "id": "invoice-1",
            "phoneNumberId": phone_number_id,
            "customerId": WA,
            "direction": "inbound",
            "kind": "document",
            "caption": "my invoice",
            "media": {
                "mimeType": "application/pdf",
                "filename": "invoice.pdf",
                "url": "https://media.example/invoice.pdf",
            },
            "timestamp": iso(now),
            "sortKey": sort_key(now),
            "status": "received",
        }
    )
    assert services.store.create(doc.to_document())
    mirror_for(dataverse, services.store).mirror(MirrorRequest(conversation_id=conv, id="invoice-1"))
    row = the_row(dataverse)
    assert (row["wa_kind"], row["wa_mediaurl"], row["wa_mimetype"], row["wa_filename"]) == (
        "document",
        "https://media.example/invoice.pdf",
        "application/pdf",
        "invoice.pdf",
    )
    assert row["description"] == "my invoice"
    assert row["subject"] == f"WhatsApp from +{WA}: my invoice"  # no conversation document: no name


def test_a_very_long_message_is_clipped_to_the_subjects_length_but_kept_whole_in_the_description(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    text = "word " * 400
    doc = outbound_document(phone_number_id, "long-1", text=text.strip())
    row = build_row(doc, None, None)
    assert len(row.subject) == 200
    assert row.subject.endswith("…")
    assert row.description == text.strip()


def test_a_customer_known_only_by_a_whatsapp_username_is_written_without_a_number_or_lookup(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    bsuid = "US.13491208655302741918"
    conv = conversation_id(phone_number_id, bsuid)
    now = utc_now()
    doc = MessageDocument(
        conversation_id=conv,
        id="bsuid-1",
        phone_number_id=phone_number_id,
        customer_id=bsuid,
        direction="inbound",
        kind="text",
        text="hi",
        timestamp=iso(now),
        sort_key=sort_key(now),
        status="received",
    )
    assert services.store.create(doc.to_document())
    mirror_for(dataverse, services.store).mirror(MirrorRequest(conversation_id=conv, id="bsuid-1"))
    row = the_row(dataverse)
    assert (row["wa_customernumber"], row["wa_whatsappuserid"]) == (None, bsuid)
    assert "_regardingobjectid_value" not in row
    assert dataverse.requests_to("GET") == []


def test_a_message_no_longer_in_cosmos_is_acknowledged_without_calling_dataverse(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    result = mirror_for(dataverse, services.store).mirror(
        MirrorRequest(conversation_id=conversation_id(phone_number_id, WA), id="gone")
    )
    assert result.outcome == "missing"
    assert dataverse.data_requests == []


# --- regarding: which record's Timeline ------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(
            [("contact", {"telephone1": "+447700900123"}), ("contact", {"mobilephone": "07700 900123"})],
            ("contact", 1),
            id="mobile phone before business phone",
        ),
        pytest.param([("contact", {"telephone1": "447700900123"})], ("contact", 0), id="business phone"),
        pytest.param(
            [("lead", {"mobilephone": "+447700900123"}), ("contact", {"telephone1": "00447700900123"})],
            ("contact", 1),
            id="a contact before a lead",
        ),
        pytest.param(
            [("lead", {"mobilephone": "+44 7700 900123"})], ("lead", 0), id="a lead when no contact"
        ),
    ],
)
def test_an_inbound_number_is_matched_to_a_contact_by_mobile_then_business_phone_else_a_lead(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    phone_number_id: str,
    records: list[tuple[str, dict[str, str]]],
    expected: tuple[str, int],
) -> None:
    ids = [
        (dataverse.add_contact if entity == "contact" else dataverse.add_lead)(**phones)
        for entity, phones in records
    ]
    customer_says(client, phone_number_id, "hello")
    mirror_all(mirror_for(dataverse, services.store), queues)
    row = the_row(dataverse)
    assert (row["regardingobjecttypecode"], row["_regardingobjectid_value"]) == (
        expected[0],
        ids[expected[1]],
    )


def test_a_conversation_costs_one_lookup_and_then_remembers_the_record_on_the_conversation(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    ada = dataverse.add_contact(mobilephone="+447700900123")
    customer_says(client, phone_number_id, "one", "two", "three")
    mirror_all(mirror_for(dataverse, services.store), queues)
    assert len(dataverse.requests_to("GET", "contacts")) == 1
    assert len(dataverse.requests_to("PATCH")) == 3
    assert {r["_regardingobjectid_value"] for r in dataverse.activities.values()} == {ada}
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    assert conversation["regarding"] == {"entity": "contact", "id": ada}
    assert conversation["profileName"] == "Ada Lovelace"  # the rest of the document is untouched

    customer_says(client, phone_number_id, "four")
    mirror_all(mirror_for(dataverse, services.store), queues)  # a fresh instance reads the cache too
    assert len(dataverse.requests_to("GET", "contacts")) == 1


def test_an_ambiguous_number_leaves_the_activity_unlinked_and_logs_the_candidates(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    phone_number_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    twins = [dataverse.add_contact(mobilephone="+447700900123") for _ in range(2)]
    customer_says(client, phone_number_id, "one", "two")
    with caplog.at_level(logging.INFO, logger="shared.dataverse"):
        mirror_all(mirror_for(dataverse, services.store), queues)
    assert len(dataverse.activities) == 2
    assert all("_regardingobjectid_value" not in row for row in dataverse.activities.values())
    assert all(row["wa_customernumber"] == "+447700900123" for row in dataverse.activities.values())
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "matches 2 records" in warning.getMessage()
    assert all(twin in warning.getMessage() for twin in twins)
    assert len(dataverse.requests_to("GET")) == 1  # the second message did not look again


def test_an_unknown_number_is_written_unlinked_and_looked_up_again_only_after_a_while(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    now = [1000.0]
    mirror = mirror_for(dataverse, services.store, clock=lambda: now[0])
    customer_says(client, phone_number_id, "one", "two")
    mirror_all(mirror, queues)
    assert [s.path for s in dataverse.requests_to("GET")] == ["contacts", "leads"]
    assert all("_regardingobjectid_value" not in row for row in dataverse.activities.values())

    ada = dataverse.add_contact(mobilephone="+447700900123")  # someone adds the customer to D365
    now[0] += 16 * 60
    customer_says(client, phone_number_id, "three")
    mirror_all(mirror, queues)
    assert len(dataverse.requests_to("GET")) == 3
    linked = [row for row in dataverse.activities.values() if row.get("_regardingobjectid_value") == ada]
    assert [row["description"] for row in linked] == ["three"]


def test_an_unknown_number_creates_one_lead_when_the_setting_is_on(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    customer_says(client, phone_number_id, "one", "two")
    mirror_all(mirror_for(dataverse, services.store, create_leads=True), queues)
    [lead] = dataverse.rows["leads"].values()
    assert lead["mobilephone"] == "+447700900123"
    assert lead["lastname"] == "Ada Lovelace"
    assert {row["_regardingobjectid_value"] for row in dataverse.activities.values()} == {lead["id"]}
    [create] = dataverse.requests_to("PATCH", "leads")
    assert create.headers["If-None-Match"] == "*"  # never overwrites a lead a user has edited since

    # Another instance that missed the cached link tries again: it finds the same lead, no second one.
    conv = conversation_id(phone_number_id, WA)
    services.store.update(
        conv, "conversation", lambda d: {k: v for k, v in (d or {}).items() if k != "regarding"}
    )
    customer_says(client, phone_number_id, "three")
    mirror_all(mirror_for(dataverse, services.store, create_leads=True), queues)
    assert len(dataverse.rows["leads"]) == 1
    assert {row["_regardingobjectid_value"] for row in dataverse.activities.values()} == {lead["id"]}


def test_an_environment_without_the_lead_table_matches_contacts_only(
    client: Client, services: Services, queues: Queues, httpserver: HTTPServer, phone_number_id: str
) -> None:
    dataverse = DataverseStandIn(httpserver, has_leads=False)
    dataverse.provision()
    try:
        customer_says(client, phone_number_id, "one", "two")
        mirror_all(mirror_for(dataverse, services.store), queues)
        assert len(dataverse.activities) == 2
        assert [s.path for s in dataverse.requests_to("GET")] == ["contacts", "leads"]
    finally:
        httpserver.clear()


def outbound_document(
    phone_number_id: str, message_id: str, *, text: str = "It ships today", **fields: Any
) -> MessageDocument:
    now = utc_now()
    return MessageDocument(
        conversation_id=conversation_id(phone_number_id, WA),
        id=message_id,
        phone_number_id=phone_number_id,
        customer_id=WA,
        direction="outbound",
        kind="text",
        text=text,
        timestamp=iso(now),
        sort_key=sort_key(now),
        status="accepted",
        status_times={"accepted": iso(now)},
        **fields,
    )


def test_an_agents_reply_is_linked_to_the_record_it_was_sent_from_without_a_lookup(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    lead = dataverse.add_lead(mobilephone="+447700900123")
    dataverse.add_contact(mobilephone="+447700900123")  # would win a lookup; the agent's choice wins
    doc = outbound_document(
        phone_number_id, "reply-1", sent_by="agent-oid", regarding=Regarding(entity="lead", id=lead)
    )
    assert services.store.create(doc.to_document())
    mirror_for(dataverse, services.store).mirror(
        MirrorRequest(conversation_id=doc.conversation_id, id="reply-1")
    )
    row = the_row(dataverse)
    assert (row["regardingobjecttypecode"], row["_regardingobjectid_value"]) == ("lead", lead)
    assert row["wa_sentby"] == "agent-oid"
    assert dataverse.requests_to("GET") == []


def test_a_linked_record_deleted_in_dataverse_is_unlinked_and_looked_up_again(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    phone_number_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ada = dataverse.add_contact(mobilephone="+447700900123")
    customer_says(client, phone_number_id, "one")
    mirror_all(mirror_for(dataverse, services.store), queues)
    del dataverse.rows["contacts"][ada]  # merged away by a user

    customer_says(client, phone_number_id, "two")
    with caplog.at_level(logging.WARNING, logger="shared.dataverse"):
        mirror_all(mirror_for(dataverse, services.store), queues)
    second = next(row for row in dataverse.activities.values() if row["description"] == "two")
    assert "_regardingobjectid_value" not in second
    assert "no longer exists" in caplog.text
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    assert "regarding" not in conversation


# --- idempotent, and always the latest state ---------------------------------------------------------


def test_replaying_the_same_queue_message_three_times_gives_one_row(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    customer_says(client, phone_number_id, "only once")
    [request] = pending(queues)
    mirror = mirror_for(dataverse, services.store)
    results = [mirror.mirror(request) for _ in range(3)]
    assert len(dataverse.activities) == 1
    assert {r.row_id for r in results} == set(dataverse.activities)
    assert len({s.path for s in dataverse.requests_to("PATCH")}) == 1


def test_queue_messages_delivered_in_any_order_leave_the_row_at_the_newest_status(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    wamid = business_app_sends(client, phone_number_id)
    deliver(client, envelope(phone_number_id, statuses=[status(wamid, "read", WA, now_ts(3))]))
    deliver(client, envelope(phone_number_id, statuses=[status(wamid, "delivered", WA, now_ts(2))]))
    requests = pending(queues)
    assert len(requests) == 2  # the message, then the read (an older `delivered` after it changes no row)
    mirror = mirror_for(dataverse, services.store)
    for request in [*reversed(requests), requests[0]]:  # newest first, then a stale duplicate
        mirror.mirror(request)
    row = the_row(dataverse)
    assert row["wa_status"] == "read"
    assert row["wa_deliveredat"] is not None
    assert row["wa_readat"] is not None


class StaleFirstRead:
    """A store whose first read of one message returns an older version: what a worker sees when it
    read the message just before a status update landed and another worker mirrored the update."""

    def __init__(self, store: ConversationStore, message_id: str, stale: Doc):
        self.store = store
        self.message_id = message_id
        self.stale: Doc | None = stale

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read(self, partition: str, document_id: str) -> Doc | None:
        if document_id == self.message_id and self.stale is not None:
            stale, self.stale = self.stale, None
            return stale
        return self.store.read(partition, document_id)


def test_a_worker_that_read_an_older_version_writes_again_so_the_newest_status_stays(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    wamid = business_app_sends(client, phone_number_id)
    conv, message_id = conversation_id(phone_number_id, WA), document_id(wamid)
    sent_version = services.store.read(conv, message_id)
    assert sent_version is not None
    assert sent_version["status"] == "sent"
    deliver(client, envelope(phone_number_id, statuses=[status(wamid, "read", WA)]))
    request = MirrorRequest(conversation_id=conv, id=message_id)

    mirror_for(dataverse, services.store).mirror(request)  # the fast worker: writes "read"
    slow = mirror_for(dataverse, StaleFirstRead(services.store, message_id, sent_version))
    result = slow.mirror(request)  # the slow worker: wrote "sent" over it, saw, and wrote "read" again

    assert the_row(dataverse)["wa_status"] == "read"
    assert result.writes == 2
    # "read" closed the row, so the stale "sent" is refused, reopens it, lands, and "read" closes it again.
    column = dataverse.table.column("status")
    writes = [
        (s.body.get(column, "reopen"), s.headers.get("If-None-Match")) for s in dataverse.requests_to("PATCH")
    ]
    assert writes == [
        ("read", None),
        ("sent", "*"),  # 412: the row exists
        ("sent", None),  # refused: a completed activity
        ("reopen", None),
        ("sent", None),
        ("read", None),
    ]
    assert (the_row(dataverse)["statecode"], the_row(dataverse)["statuscode"]) == (1, 2)


def test_a_queue_body_from_the_app_is_a_base64_pointer_the_mirror_understands(
    client: Client, queues: Queues, phone_number_id: str
) -> None:
    [wamid] = customer_says(client, phone_number_id, "hi")
    item = next(iter(queues.service.get_queue_client(DATAVERSE_MIRROR_QUEUE).receive_messages()))
    assert json.loads(base64.b64decode(item.content)) == {
        "conversationId": conversation_id(phone_number_id, WA),
        "id": document_id(wamid),
    }


class EverChanging(StaleFirstRead):
    """A message whose status times change at every read: a writer that never catches up."""

    def read(self, partition: str, document_id: str) -> Doc | None:
        found = self.store.read(partition, document_id)
        if found is not None and document_id == self.message_id:
            reads = int(self.stale["reads"]) if self.stale else 0
            self.stale = {"reads": reads + 1}
            found = {
                **found,
                "statusTimes": {**found["statusTimes"], "read": f"2026-01-01T00:00:{reads:02d}Z"},
            }
        return found


def test_a_message_that_keeps_changing_under_the_writer_is_left_to_the_queues_retry(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    [wamid] = customer_says(client, phone_number_id, "hi")
    conv, message_id = conversation_id(phone_number_id, WA), document_id(wamid)
    store = EverChanging(services.store, message_id, {"reads": 0})
    with pytest.raises(MirrorRaced):
        mirror_for(dataverse, store).mirror(MirrorRequest(conversation_id=conv, id=message_id))
    # The create closes the inbound row; each later round is refused, reopens it and writes it.
    assert len(dataverse.requests_to("PATCH")) == 1 + 3 * (MAX_ROUNDS - 1)
    assert len(dataverse.activities) == 1


# --- Timeline order, open and closed rows, column lengths (issue 13) ---------------------------------


def _message_doc(conv: str, phone_number_id: str, **fields: Any) -> MessageDocument:
    now = utc_now()
    base = {
        "conversationId": conv,
        "id": "m-1",
        "phoneNumberId": phone_number_id,
        "customerId": WA,
        "direction": "inbound",
        "kind": "text",
        "text": "hi",
        "timestamp": iso(now),
        "sortKey": sort_key(now),
        "status": "received",
    }
    return MessageDocument.model_validate(base | fields)


def test_a_row_sorts_by_the_messages_own_time_and_status_updates_never_move_or_reopen_it(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    wamid = business_app_sends(client, phone_number_id)  # written 10 s ago by WhatsApp's clock
    mirror = mirror_for(dataverse, services.store)
    mirror_all(mirror, queues)
    states = [(the_row(dataverse)["statecode"], the_row(dataverse)["statuscode"])]
    for state in ("delivered", "read"):
        deliver(client, envelope(phone_number_id, statuses=[status(wamid, state, WA, ts=now_ts(5))]))
        mirror_all(mirror, queues)
        states.append((the_row(dataverse)["statecode"], the_row(dataverse)["statuscode"]))

    stored = services.store.read(conversation_id(phone_number_id, WA), document_id(wamid))
    assert stored is not None
    row = the_row(dataverse)
    when = stored["timestamp"]
    assert (row["sortdate"], row["actualstart"], row["actualend"], row["overriddencreatedon"]) == (when,) * 4
    assert row["wa_readat"] != when  # the status times are columns of their own; the sort keys stay
    patches = dataverse.requests_to("PATCH")
    assert len(patches) == 2  # create, then the update that closes it; the later read is not written
    assert ["overriddencreatedon" in p.body for p in patches] == [True, False]
    assert {p.body["sortdate"] for p in patches} == {when}
    assert states == [(0, 1), (1, 2), (1, 2)]  # open until delivered, closed from then on


def test_a_replayed_backlog_appears_at_each_messages_own_time(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    an_hour_ago = now_ts(-3600)
    wamid = new_wamid()
    body = message("text", {"body": "sent while the mirror was down"}, wa_id=WA, wamid=wamid, ts=an_hour_ago)
    deliver(client, inbound(phone_number_id, WA, body))
    mirror_all(mirror_for(dataverse, services.store), queues)
    row = the_row(dataverse)
    hour_ago = iso(datetime.fromtimestamp(int(an_hour_ago), UTC))
    assert row["sortdate"] == row["overriddencreatedon"] == row["actualend"] == hour_ago


@pytest.mark.parametrize(
    ("direction", "state", "media", "closed"),
    [
        ("inbound", "received", None, True),
        ("inbound", "received", {"mimeType": "image/jpeg"}, False),  # its copy's update follows
        ("inbound", "received", {"mimeType": "image/jpeg", "status": "stored"}, True),
        ("outbound", "accepted", None, False),
        ("outbound", "sent", None, False),
        ("outbound", "delivered", None, True),
        ("outbound", "read", None, True),
        ("outbound", "played", None, True),
        ("outbound", "failed", None, True),
    ],
)
def test_rows_close_when_nothing_more_is_expected(
    direction: str, state: str, media: dict[str, str] | None, closed: bool, phone_number_id: str
) -> None:
    doc = _message_doc("c", phone_number_id, direction=direction, status=state, media=media)
    assert build_row(doc, None, None).closed is closed


def test_a_change_to_a_closed_row_reopens_it_writes_it_and_closes_it_again(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    conv = conversation_id(phone_number_id, WA)
    assert services.store.create(_message_doc(conv, phone_number_id).to_document())
    mirror = mirror_for(dataverse, services.store)
    mirror.mirror(MirrorRequest(conversation_id=conv, id="m-1"))
    services.store.update(conv, "m-1", lambda d: {**(d or {}), "text": "hi, edited", "edited": True})
    mirror.mirror(MirrorRequest(conversation_id=conv, id="m-1"))
    row = the_row(dataverse)
    assert (row["description"], row["statecode"], row["statuscode"]) == ("hi, edited", 1, 2)
    reopened = [p.body for p in dataverse.requests_to("PATCH")]
    assert reopened[2] == {"statecode": 0, "statuscode": 1}
    assert len(reopened) == 4  # create; refused update; reopen; update and close


def test_every_text_is_cut_to_its_columns_length(
    services: Services, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    conv = conversation_id(phone_number_id, WA)
    media = {
        "mimeType": "x/" + "y" * 400,
        "filename": "f" * 400 + ".pdf",
        "url": "https://m.example/" + "u" * 5000,
    }
    doc = _message_doc(conv, phone_number_id, kind="document", text=None, caption="c" * 20_000, media=media)
    assert services.store.create(doc.to_document())
    conversation = ConversationDocument(
        conversation_id=conv,
        phone_number_id=phone_number_id,
        customer_id=WA,
        wa_id=WA,
        profile_name="P" * 900,
    )
    assert services.store.create(conversation.to_document())

    mirror_for(dataverse, services.store).mirror(MirrorRequest(conversation_id=conv, id="m-1"))

    row = the_row(dataverse)  # the stand-in refuses a text over its column's MaxLength, as Dataverse does
    lengths = {key: len(row[key]) for key in ("wa_mimetype", "wa_filename", "wa_mediaurl", "wa_profilename")}
    assert lengths == {"wa_mimetype": 255, "wa_filename": 255, "wa_mediaurl": 4000, "wa_profilename": 256}
    assert row["wa_filename"].endswith("…")
    assert len(row["subject"]) == SUBJECT_MAX_LENGTH
    assert len(row["description"]) == DESCRIPTION_MAX_LENGTH
