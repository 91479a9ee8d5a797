"""What each operation costs in Cosmos DB requests (issue 16's budget), counted at the SDK's transport
against the emulator: a customer's text 2, a status 2, an agent's send 4, a poll that finds nothing 1.

And the transactional batch those budgets rest on: all of it or none of it, as Microsoft documents
("Transactional batch operations in Azure Cosmos DB": "if any operation fails, the entire batch is
rolled back"). cosmosdb-server applied the writes before a failing one and took no partition key for
the rest; patches/@vercel+cosmosdb-server+1.0.1.patch fixes both, and the tests here show it.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from benchmarks.common import CountingTransport
from shared.conversations.documents import conversation_id
from shared.conversations.ports import BatchConflict, Write
from shared.conversations.read_cache import ReadCache
from shared.services import Services
from shared.storage.clients import cosmos_container
from shared.storage.cosmos_store import CosmosConversationStore
from tests.api import deliver, messages, send_message
from tests.payloads import contact, envelope, inbound, message, status
from tests.test_send import WA, Meta


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services) -> Iterator[Meta]:
    stand_in = Meta(httpserver, services)
    yield stand_in
    stand_in.received  # noqa: B018 - checks every body the app sent against Meta's document


@pytest.fixture
def counter(services: Services) -> Counter[str]:
    """The app's store, counting every request it sends to Cosmos DB."""
    counts: Counter[str] = Counter()
    container = cosmos_container(
        services.settings, transport=CountingTransport(counts, "cosmos", connection_verify=False)
    )
    services.store = CosmosConversationStore(container)
    # The SDK's own start-up requests (the container, its partition key ranges), not any operation's.
    services.store.read_many("warm-up", ["conversation"])
    return counts


def requests(counter: Counter[str], action: Callable[[], Any]) -> int:
    """Requests to documents: not the SDK's own metadata reads, which it also makes in the background."""
    counter.clear()
    action()
    return counter["cosmos.document_requests"]


def test_a_customers_text_costs_two_requests_the_home_and_one_batch(
    client: Client, counter: Counter[str], phone_number_id: str
) -> None:
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hello"}, wa_id=WA, ts="1")))
    later = inbound(phone_number_id, WA, message("text", {"body": "are you there?"}, wa_id=WA))

    assert requests(counter, lambda: deliver(client, later)) == 2
    assert (counter["cosmos.queries"], counter["cosmos.batches"], counter["cosmos.writes"]) == (1, 1, 3)
    shown = messages(client, phone_number_id, WA)
    assert [m["text"] for m in shown] == ["are you there?", "hello"]


def test_a_text_naming_both_the_number_and_the_user_id_costs_two_requests_once_they_are_linked(
    client: Client, counter: Counter[str], phone_number_id: str
) -> None:
    """Since usernames, Meta names most customers by both ids (WHATSAPP-NOTES §0, BSUID): the home
    remembers the ids it has linked, so the user id's own conversation need not be read each time."""
    user_id = "US.13491208655302741918"

    def text(body: str) -> dict[str, Any]:
        found = message("text", {"body": body}, wa_id=WA, from_user_id=user_id)
        return envelope(phone_number_id, contacts=[contact(WA, user_id=user_id)], messages=[found])

    deliver(client, text("first"))  # links the two ids
    assert requests(counter, lambda: deliver(client, text("second"))) == 2
    assert [m["text"] for m in messages(client, phone_number_id, WA)] == ["second", "first"]
    assert [m["text"] for m in messages(client, phone_number_id, user_id)] == ["second", "first"]


def test_a_status_costs_two_requests_a_point_read_by_our_id_and_the_write(
    client: Client, counter: Counter[str], meta: Meta, phone_number_id: str
) -> None:
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    meta.accepts(phone_number_id, wamid="wamid.BUDGET")
    sent = send_message(client, phone_number_id, WA, type="text", text="hello", clientMessageId="budget-1")
    assert sent.status_code == 202, sent.text
    delivered = status("wamid.BUDGET", "delivered", WA, biz_opaque_callback_data="out:budget-1")

    assert requests(counter, lambda: deliver(client, inbound_statuses(phone_number_id, delivered))) == 2
    assert (counter["cosmos.point_reads"], counter["cosmos.writes"]) == (1, 1)
    [reply] = [m for m in messages(client, phone_number_id, WA) if m["direction"] == "outbound"]
    assert reply["status"] == "delivered"


def test_a_status_for_a_message_sent_elsewhere_still_finds_it_the_long_way(
    client: Client, counter: Counter[str], meta: Meta, phone_number_id: str
) -> None:
    """No `biz_opaque_callback_data` of ours (a status Meta sent without it): the wamid finds it."""
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    meta.accepts(phone_number_id, wamid="wamid.LONG")
    send_message(client, phone_number_id, WA, type="text", text="hello", clientMessageId="long-1")

    deliver(client, inbound_statuses(phone_number_id, status("wamid.LONG", "read", WA)))
    [reply] = [m for m in messages(client, phone_number_id, WA) if m["direction"] == "outbound"]
    assert reply["status"] == "read"


def test_an_agents_send_costs_three_requests(
    client: Client, counter: Counter[str], meta: Meta, phone_number_id: str
) -> None:
    """The conversation and window read together, the message written before Meta is called, then
    Meta's id on it and the conversation's preview in one batch."""
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    meta.accepts(phone_number_id, wamid="wamid.SEND")

    def send() -> None:
        sent = send_message(
            client, phone_number_id, WA, type="text", text="on its way", clientMessageId="s-1"
        )
        assert sent.status_code == 202, sent.text

    assert requests(counter, send) == 3
    assert (counter["cosmos.queries"], counter["cosmos.batches"], counter["cosmos.writes"]) == (1, 1, 3)


def test_a_poll_that_finds_nothing_costs_one_request(
    client: Client, counter: Counter[str], phone_number_id: str
) -> None:
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    page = client.get(f"/api/conversations/{WA}/messages", query_string={"phoneNumberId": phone_number_id})
    cursor = page.json["pollCursor"]

    def poll() -> Any:
        return client.get(
            f"/api/conversations/{WA}/messages",
            query_string={"phoneNumberId": phone_number_id, "changedSince": cursor},
        )

    assert requests(counter, poll) == 1
    assert poll().json["messages"] == []


def test_a_poll_under_an_alias_finds_the_home_and_its_changes(
    client: Client, services: Services, phone_number_id: str
) -> None:
    """A number the conversation is not kept under (an alias) costs the poll a second look, not its
    answer: the alias's own partition holds no messages."""
    home, alias = WA, "15559990000"
    deliver(client, inbound(phone_number_id, home, message("text", {"body": "hi"}, wa_id=home)))
    services.store.create(
        {
            "id": "conversation",
            "type": "conversation",
            "conversationId": conversation_id(phone_number_id, alias),
            "phoneNumberId": phone_number_id,
            "customerId": alias,
            "aliasOf": home,
        }
    )
    shown = messages(client, phone_number_id, alias, changedSince="0")
    assert [m["text"] for m in shown] == ["hi"]


def inbound_statuses(phone_number_id: str, *reports: dict[str, Any]) -> dict[str, Any]:
    return envelope(phone_number_id, statuses=list(reports))


# --- the transactional batch, against the (fixed) emulator ------------------------------------------


def test_a_batch_writes_every_document_in_one_request(services: Services, counter: Counter[str]) -> None:
    store = services.store
    partition = f"batch:{uuid.uuid4().hex}"
    first = store.create_document({"id": "a", "conversationId": partition, "v": 1})
    assert first is not None

    def write() -> None:
        stored = store.write_batch(
            partition,
            [Write({"id": "b", "conversationId": partition}), Write({**first, "v": 2}, first["_etag"])],
        )
        assert [d["id"] for d in stored] == ["b", "a"]

    assert requests(counter, write) == 1
    assert (store.read(partition, "a") or {})["v"] == 2


def test_a_refused_batch_writes_nothing(services: Services) -> None:
    """The emulator used to keep `b` here: a half-written batch the real service never leaves."""
    store = services.store
    partition = f"batch:{uuid.uuid4().hex}"
    first = store.create_document({"id": "a", "conversationId": partition, "v": 1})
    assert first is not None
    store.update(partition, "a", lambda doc: {**doc, "v": 2} if doc else None)  # `first` is now stale

    with pytest.raises(BatchConflict) as refused:
        store.write_batch(
            partition,
            [Write({"id": "b", "conversationId": partition}), Write({**first, "v": 3}, first["_etag"])],
        )

    assert (refused.value.index, refused.value.status) == (1, 412)
    assert store.read(partition, "b") is None
    assert (store.read(partition, "a") or {})["v"] == 2


def test_a_batch_that_creates_an_existing_document_is_refused_whole(services: Services) -> None:
    store = services.store
    partition = f"batch:{uuid.uuid4().hex}"
    assert store.create({"id": "m", "conversationId": partition, "text": "first"})

    with pytest.raises(BatchConflict) as refused:
        store.write_batch(
            partition,
            [
                Write({"id": "c", "conversationId": partition}),
                Write({"id": "m", "conversationId": partition}),
            ],
        )

    assert (refused.value.index, refused.value.status) == (1, 409)
    assert store.read(partition, "c") is None


def test_one_request_reads_a_document_once_and_a_stale_copy_costs_a_conflict_not_an_update(
    services: Services, counter: Counter[str]
) -> None:
    partition = f"cache:{uuid.uuid4().hex}"
    services.store.create({"id": "conversation", "conversationId": partition, "n": 0})
    view = ReadCache(services.store)

    assert requests(counter, lambda: view.read_many(partition, ["conversation", "session"])) == 1
    assert (
        requests(counter, lambda: (view.read(partition, "conversation"), view.read(partition, "session")))
        == 0
    )
    services.store.update(partition, "conversation", lambda doc: {**doc, "n": 10} if doc else None)

    view.update(partition, "conversation", lambda doc: {**doc, "n": doc["n"] + 1} if doc else None)

    assert (services.store.read(partition, "conversation") or {})["n"] == 11  # another writer's kept


def test_a_replayed_message_in_a_batch_is_a_duplicate_and_counts_nothing_twice(
    client: Client, phone_number_id: str, services: Services
) -> None:
    """Meta's retry of a stored message: the batch is refused whole (the message exists), and the
    one-at-a-time path completes what is left without a second unread."""
    payload = inbound(phone_number_id, WA, message("text", {"body": "once"}, wa_id=WA))
    first = deliver(client, payload)
    again = deliver(client, payload)

    assert (first.json["stored"], again.json["duplicates"]) == (1, 1)
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation") or {}
    assert conversation["unreadCount"] == 1
    assert json.loads(json.dumps(messages(client, phone_number_id, WA)))[0]["text"] == "once"


def test_a_patch_whose_filter_predicate_holds_is_applied_and_one_that_fails_is_412(
    services: Services,
) -> None:
    """Cosmos DB's conditional patch ("Partial document update", filter predicate): the emulator
    lowercased the whole predicate, so a camelCase property never matched and every such patch was
    a 412. The app writes with batches and ETags instead, but the emulator must not lie about it."""
    from azure.cosmos.exceptions import CosmosAccessConditionFailedError

    assert isinstance(services.store, CosmosConversationStore)
    container = services.store.container
    partition = f"patch:{uuid.uuid4().hex}"
    container.create_item({"id": "conversation", "conversationId": partition, "lastInboundAt": "2026-01-01"})
    newer = [{"op": "set", "path": "/lastInboundAt", "value": "2026-11-30"}]

    container.patch_item(
        "conversation",
        partition,
        newer,
        filter_predicate="from c where c.lastInboundAt < '2026-11-30'",
    )
    with pytest.raises(CosmosAccessConditionFailedError):
        container.patch_item(
            "conversation",
            partition,
            [{"op": "set", "path": "/lastInboundAt", "value": "2026-06-01"}],
            filter_predicate="from c where c.lastInboundAt < '2026-06-01'",
        )

    assert (services.store.read(partition, "conversation") or {})["lastInboundAt"] == "2026-11-30"


def test_a_poll_for_a_number_that_never_wrote_costs_one_request(
    client: Client, counter: Counter[str], phone_number_id: str
) -> None:
    """The panel on a contact who has not written polls too: nothing there, so nothing more to ask
    (a number with WhatsApp's other spellings, Brazil's or Mexico's, still has them looked at)."""

    def poll() -> Any:
        return client.get(
            f"/api/conversations/{WA}/messages",
            query_string={"phoneNumberId": phone_number_id, "changedSince": "0"},
        )

    assert requests(counter, poll) == 1
    assert poll().json["messages"] == []


def test_two_statuses_in_one_post_cost_three_requests(
    client: Client, counter: Counter[str], meta: Meta, phone_number_id: str
) -> None:
    """Meta may put several updates in one POST: the second status starts from what the first wrote."""
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    meta.accepts(phone_number_id, wamid="wamid.BOTH")
    send_message(client, phone_number_id, WA, type="text", text="hello", clientMessageId="both-1")
    sent = status("wamid.BOTH", "sent", WA, biz_opaque_callback_data="out:both-1")
    delivered = status("wamid.BOTH", "delivered", WA, biz_opaque_callback_data="out:both-1")
    both = inbound_statuses(phone_number_id, sent, delivered)

    assert requests(counter, lambda: deliver(client, both)) == 3
    [reply] = [m for m in messages(client, phone_number_id, WA) if m["direction"] == "outbound"]
    assert reply["status"] == "delivered"
