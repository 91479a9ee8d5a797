"""The inbox (issue 15, item 1): a business number's conversations, newest activity first, each with its
customer, record, last message, window and unread count; keyset pages; D365's record rules."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import Client, TestResponse

from devhost.dataverse_standin import DataverseStandIn, mirror_for
from shared.conversations.documents import conversation_id, document_id
from shared.conversations.inbox import InboxCursor
from shared.services import Services
from shared.storage.indexing import INDEXING_POLICY
from tests.api import deliver
from tests.conftest import Queues
from tests.payloads import inbound, message, new_wamid, now_ts
from tests.test_access import Office, agent_a, agent_b, key_endpoint, office, signing_key
from tests.test_dataverse_mirror import business_app_sends, mirror_all

__all__ = ["agent_a", "agent_b", "key_endpoint", "office", "signing_key"]  # fixtures, for pytest


def writes(
    client: Client, phone_number_id: str, wa: str, text: str, seconds_ago: int = 0, name: str = "Ada"
) -> str:
    wamid = new_wamid()
    body = message("text", {"body": text}, wa_id=wa, wamid=wamid, ts=now_ts(-seconds_ago))
    deliver(client, inbound(phone_number_id, wa, body, name=name))
    return wamid


def inbox(
    client: Client, phone_number_id: str, headers: dict[str, str] | None = None, **params: str
) -> TestResponse:
    return client.get(
        "/api/conversations", query_string={"phoneNumberId": phone_number_id, **params}, headers=headers or {}
    )


def customers(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["customerId"] for c in response.json["conversations"]]


def agent_read(services: Services, phone_number_id: str, wa: str, wamid: str) -> None:
    """What the panel's read receipt records (shared/conversations/agent_signals.py)."""
    services.store.update(
        conversation_id(phone_number_id, wa),
        "conversation",
        lambda d: {**(d or {}), "agentReadMessageId": document_id(wamid), "unreadCount": 0},
    )


@pytest.fixture
def three_customers(client: Client, services: Services, phone_number_id: str) -> dict[str, str]:
    """Grace wrote a day and a half ago; Ada twice, the last a minute ago, read; Alan just now."""
    grace = writes(
        client, phone_number_id, "447700900301", "Old question", seconds_ago=36 * 3600, name="Grace"
    )
    writes(client, phone_number_id, "447700900302", "Hello", seconds_ago=120)
    ada = writes(client, phone_number_id, "447700900302", "Are you there?", seconds_ago=60)
    agent_read(services, phone_number_id, "447700900302", ada)
    alan = writes(client, phone_number_id, "447700900303", "Hi!", name="Alan")
    return {"grace": grace, "ada": ada, "alan": alan}


def test_the_inbox_lists_conversations_newest_activity_first_with_what_an_agent_needs(
    client: Client, phone_number_id: str, three_customers: dict[str, str]
) -> None:
    answer = inbox(client, phone_number_id)
    assert customers(answer) == ["447700900303", "447700900302", "447700900301"]
    alan, ada, grace = answer.json["conversations"]
    assert alan["profileName"] == "Alan"
    assert alan["lastMessage"]["preview"] == "Hi!"
    assert alan["lastMessage"]["direction"] == "inbound"
    assert alan["unreadCount"] == 1
    assert alan["window"]["active"] is True
    assert alan["record"] is None  # nothing linked: the panel says so
    assert ada["unreadCount"] == 0, "read by an agent"
    assert grace["window"] == {"active": False, "expiresAt": grace["window"]["expiresAt"]}
    assert answer.json["next"] is None


def test_waiting_means_unread_and_open_means_inside_the_window(
    client: Client, phone_number_id: str, three_customers: dict[str, str]
) -> None:
    assert customers(inbox(client, phone_number_id, state="waiting")) == ["447700900303", "447700900301"]
    assert customers(inbox(client, phone_number_id, state="open")) == ["447700900303", "447700900302"]


def test_each_new_customer_message_counts_once_and_the_newest_activity_leads(
    client: Client, phone_number_id: str, three_customers: dict[str, str]
) -> None:
    again = message("text", {"body": "Old question"}, wa_id="447700900301", wamid=three_customers["grace"])
    deliver(client, inbound(phone_number_id, "447700900301", again))  # Meta's retry: no new message
    writes(client, phone_number_id, "447700900301", "Anyone?")
    rows = {c["customerId"]: c for c in inbox(client, phone_number_id).json["conversations"]}
    assert rows["447700900301"]["unreadCount"] == 2
    business_app_sends(client, phone_number_id)  # an agent's message (sent 10 s ago) to a fourth customer
    rows = {c["customerId"]: c for c in inbox(client, phone_number_id).json["conversations"]}
    agents = rows["447700900123"]
    assert (agents["lastMessage"]["direction"], agents["unreadCount"]) == ("outbound", 0)
    # Grace wrote again about when Alan did; the agent's message was 10 s ago.
    order = customers(inbox(client, phone_number_id))
    assert (set(order[:2]), order[2]) == ({"447700900303", "447700900301"}, "447700900123")


def test_pages_follow_the_keyset_without_gaps_or_repeats(
    client: Client, phone_number_id: str, three_customers: dict[str, str]
) -> None:
    first = inbox(client, phone_number_id, limit="2")
    assert customers(first) == ["447700900303", "447700900302"]
    assert first.json["next"]
    second = inbox(client, phone_number_id, limit="2", next=first.json["next"])
    assert customers(second) == ["447700900301"]
    assert second.json["next"] is None


def every_page(client: Client, phone_number_id: str, pages: int = 10) -> list[str]:
    """The inbox one conversation a page, to its end (a page that never ends fails, never hangs)."""
    seen: list[str] = []
    following: str | None = ""
    for _ in range(pages):
        params = {"limit": "1"} | ({"next": following} if following else {})
        page = inbox(client, phone_number_id, None, **params)
        seen += customers(page)
        following = page.json["next"]
        if following is None:
            return seen
    raise AssertionError(f"still more pages after {pages}: {seen}")


def test_conversations_with_the_same_time_are_paged_by_their_id(client: Client, phone_number_id: str) -> None:
    ts = now_ts(-5)
    for wa in ("447700900411", "447700900412", "447700900413"):
        deliver(
            client, inbound(phone_number_id, wa, message("text", {"body": "same second"}, wa_id=wa, ts=ts))
        )
    seen = every_page(client, phone_number_id)
    assert seen == ["447700900413", "447700900412", "447700900411"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": "unread"}, "state must be"),
        ({"limit": "0"}, "limit must be"),
        ({"limit": "101"}, "limit must be"),
        ({"limit": "٣"}, "limit must be"),
        ({"next": "not-a-cursor"}, "next is not"),
        ({"next": InboxCursor("2026-11-29T12:00:00Z", "1:2' OR 1=1").encode()}, "next is not"),
        ({"phoneNumberId": "12a"}, "phoneNumberId must be"),
    ],
)
def test_hostile_parameters_are_400_and_never_reach_the_query(
    client: Client, phone_number_id: str, params: dict[str, str], message: str
) -> None:
    answer = client.get("/api/conversations", query_string={"phoneNumberId": phone_number_id, **params})
    assert answer.status_code == 400, answer.text
    assert message in answer.json["error"]["message"]


def link(services: Services, conversation: str, contact: str) -> None:
    """What the mirror's phone lookup (or a panel opening on the record) leaves on the conversation."""

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        return {**(current or {}), "regarding": {"entity": "contact", "id": contact}}

    services.store.update(conversation, "conversation", change)


def test_an_agent_sees_only_conversations_whose_record_d365_lets_them_read(
    client: Client,
    services: Services,
    office: Office,
    agent_a: dict[str, str],
    agent_b: dict[str, str],
    phone_number_id: str,
) -> None:
    for wa, record in (
        ("447700900501", office.contact_a),
        ("447700900502", office.contact_b),
        ("447700900503", None),
    ):
        writes(client, phone_number_id, wa, "hello")
        if record is not None:
            link(services, conversation_id(phone_number_id, wa), record)
    as_a = inbox(client, phone_number_id, agent_a)
    assert customers(as_a) == ["447700900503", "447700900501"]
    assert [c["record"] for c in as_a.json["conversations"]] == [
        None,
        {"entity": "contact", "id": office.contact_a, "name": None},  # linked by hand: no name
    ]
    assert customers(inbox(client, phone_number_id, agent_b)) == ["447700900503", "447700900502"]
    other: dict[str, Any] = {"phoneNumberId": "999999999"}
    refused = client.get("/api/conversations", query_string=other, headers=agent_a)
    assert refused.status_code == 403, "a number this deployment does not serve"


def test_without_a_token_the_inbox_is_401(client: Client, office: Office, phone_number_id: str) -> None:
    assert inbox(client, phone_number_id).status_code == 401


def azure_indexing_policy() -> Any:
    """The container's indexing policy as infra/app/cosmos.bicep declares it (pycep's reading)."""
    from pycep import BicepParser

    bicep = BicepParser().parse(file_path=Path(__file__).parents[1] / "infra" / "app" / "cosmos.bicep")
    return bicep["resources"]["container"]["config"]["properties"]["resource"]["indexingPolicy"]


def test_azure_and_the_local_container_index_the_same_paths_every_query_uses() -> None:
    """The whole policy is the same in both (the paths as much as the composite indexes), and every
    `c.<path>` the store's and the backfill's queries use is indexed: an included path, a system
    property (`id` and `_ts` always are), `_etag` (compared among one second's versions only) or
    `regarding` (the backfill command's, after the indexed `type` and `phoneNumberId` filters)."""
    assert azure_indexing_policy() == INDEXING_POLICY
    root = Path(__file__).parents[1] / "shared"
    sources = [root / "storage" / "cosmos_store.py", root / "dataverse" / "backfill.py"]
    used = {m for source in sources for m in re.findall(r"\bc\.([a-zA-Z_][a-zA-Z_.]*)", source.read_text())}
    included = {
        i["path"].removesuffix("/?").lstrip("/").replace("/", ".") for i in INDEXING_POLICY["includedPaths"]
    }
    assert {"conversationId", "sortKey", "lastMessageAt"} <= used  # the regex still finds the queries
    assert used - included <= {"id", "_ts", "_etag", "regarding"}
    assert {"/*"} <= {e["path"] for e in INDEXING_POLICY["excludedPaths"]}


def test_a_container_made_by_an_older_version_gets_the_indexes_at_the_next_make_run(
    services: Services,
) -> None:
    from azure.cosmos import PartitionKey

    from devhost.provision import provision
    from shared.storage.clients import cosmos_client

    settings = services.settings.model_copy(update={"COSMOS_CONTAINER": f"old-{uuid.uuid4().hex[:8]}"})
    database = cosmos_client(settings).get_database_client(settings.COSMOS_DATABASE)
    database.create_container(settings.COSMOS_CONTAINER, partition_key=PartitionKey(path="/conversationId"))
    provision(settings)
    policy = database.get_container_client(settings.COSMOS_CONTAINER).read()["indexingPolicy"]
    assert policy["compositeIndexes"] == INDEXING_POLICY["compositeIndexes"]
    database.delete_container(settings.COSMOS_CONTAINER)


def test_a_page_never_repeats_a_newer_conversation_whose_id_sorts_lower(
    client: Client, phone_number_id: str
) -> None:
    for wa, seconds_ago in (("447700900601", 0), ("447700900609", 60), ("447700900605", 120)):
        writes(client, phone_number_id, wa, "hello", seconds_ago=seconds_ago)
    seen = every_page(client, phone_number_id)
    assert seen == ["447700900601", "447700900609", "447700900605"]


@pytest.mark.mirror_on
def test_a_conversation_linked_by_the_phone_lookup_shows_the_records_name(
    client: Client, services: Services, queues: Queues, httpserver: HTTPServer, phone_number_id: str
) -> None:
    """The mirror's lookup selects the record's `fullname` with its id: the inbox names the record.
    A record linked from an agent's send is named by no one yet, so its name is left out."""
    dataverse = DataverseStandIn(httpserver)
    dataverse.provision()
    dataverse.add_contact(mobilephone="+447700900123", fullname="Ada Lovelace")
    writes(client, phone_number_id, "447700900123", "Where is my order?")
    writes(client, phone_number_id, "447700900124", "Hello?")
    mirror_all(mirror_for(dataverse, services.store), queues)

    listed = inbox(client, phone_number_id).json["conversations"]

    records = {c["customerId"]: c.get("record") for c in listed}
    contact = next(iter(dataverse.rows["contacts"]))
    assert records == {
        "447700900123": {"entity": "contact", "id": contact, "name": "Ada Lovelace"},
        "447700900124": None,
    }
