"""Read receipts and the typing indicator: the agent side tells the customer it has read their messages
(blue ticks) and is typing a reply. Meta is a local stand-in (pytest-httpserver) that checks every body
against Meta's OpenAPI document: its `MarkMessageRequestPayload` schema, and its example "Send typing
indicator and read receipt" for the one field that schema lacks. Time is an injected clock: no sleeps."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.test import Client, TestResponse

from benchmarks.common import CountingTransport
from shared.conversations.documents import CONVERSATION_DOCUMENT_ID, conversation_id, document_id, iso
from shared.conversations.ports import UNREAD, Change, Doc, Unread
from shared.services import Services
from shared.storage.clients import cosmos_container
from shared.storage.cosmos_store import CosmosConversationStore
from shared.whatsapp.graph_client import GraphClient
from tests.api import deliver
from tests.meta_openapi import SCHEMAS, send_examples, validator_for
from tests.payloads import envelope, inbound, message, new_wamid, now_ts

WA = "447700900123"
TOKEN = "test-access-token"
BUSINESS = "15550001111"
# Meta's own schema of this body, and its example of the typing indicator (which the schema lacks).
MARK_READ_SCHEMA = SCHEMAS + "MarkMessageRequestPayload"
TYPING_EXAMPLE = "Send typing indicator and read receipt"


def receipt_problems(body: object) -> list[str]:
    """What Meta's document finds wrong with a read receipt or typing indicator (empty: none)."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    found = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator_for(MARK_READ_SCHEMA).iter_errors(body)
    ]
    example = send_examples()[TYPING_EXAMPLE]
    found += [f"{name}: not a field of Meta's read receipt" for name in sorted(set(body) - set(example))]
    for name in ("messaging_product", "status", "typing_indicator"):
        if name in body and body[name] != example[name]:
            found.append(f"{name}: {body[name]!r}, where Meta's example has {example[name]!r}")
    return found


class Receipts:
    """The stand-in Graph API for read receipts and typing indicators, and what the app sent it."""

    def __init__(self, server: HTTPServer, services: Services, timeout: tuple[float, float] = (3.0, 10.0)):
        self.server = server
        self.sleeps: list[float] = []
        services.sender = GraphClient(
            server.url_for("/").rstrip("/"), "v23.0", TOKEN, sleep=self.sleeps.append, timeout=timeout
        )

    @staticmethod
    def path(phone_number_id: str) -> str:
        return f"/v23.0/{phone_number_id}/messages"

    def accepts(self, phone_number_id: str) -> None:
        def answer(request: Request) -> Response:
            found = receipt_problems(json.loads(request.get_data()))
            if found:
                return meta_error(100, "(#100) Invalid parameter", "; ".join(found))
            return Response(json.dumps({"success": True}), content_type="application/json")

        self.server.expect_request(self.path(phone_number_id), method="POST").respond_with_handler(answer)

    def refuses(self, phone_number_id: str, code: int, http_status: int = 400, times: int = 1) -> None:
        for _ in range(times):
            self.server.expect_ordered_request(
                self.path(phone_number_id), method="POST"
            ).respond_with_response(meta_error(code, f"(#{code}) refused", f"details of {code}", http_status))

    def answers_late(self, phone_number_id: str, released: threading.Event) -> None:
        def late(request: Request) -> Response:
            released.wait(5)  # past the client's read timeout: no answer in time
            return Response(json.dumps({"success": True}), content_type="application/json")

        self.server.expect_ordered_request(self.path(phone_number_id), method="POST").respond_with_handler(
            late
        )

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every body the app sent, each checked against Meta's document."""
        bodies = [json.loads(request.get_data()) for request, _ in self.server.log]
        for body in bodies:
            assert receipt_problems(body) == [], body
        return bodies


def meta_error(code: int, title: str, details: str, status: int = 400) -> Response:
    error = {
        "message": title,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AbCdEf",
    }
    return Response(json.dumps({"error": error}), status=status, content_type="application/json")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services) -> Iterator[Receipts]:
    stand_in = Receipts(httpserver, services)
    yield stand_in
    stand_in.received  # noqa: B018 - checks every body the test made the app send against Meta's document
    httpserver.clear()


@pytest.fixture
def clock(services: Services) -> Clock:
    found = Clock()
    services.clock = found
    return found


def read(client: Client, phone_number_id: str, customer: str = WA, **params: str) -> TestResponse:
    return client.post(
        f"/api/conversations/{customer}/read", query_string={"phoneNumberId": phone_number_id, **params}
    )


def typing(client: Client, phone_number_id: str, customer: str = WA, **params: str) -> TestResponse:
    return client.post(
        f"/api/conversations/{customer}/typing", query_string={"phoneNumberId": phone_number_id, **params}
    )


def agent_read_at(client: Client, phone_number_id: str) -> Any:
    response = client.get(f"/api/conversations/{WA}/session", query_string={"phoneNumberId": phone_number_id})
    assert response.status_code == 200, response.text
    return response.json["agentReadAt"]


def customer_writes(client: Client, phone_number_id: str, seconds_ago: int = 0, kind: str = "text") -> str:
    wamid = new_wamid()
    body: Any = {"body": "Hi, where is my parcel?"} if kind == "text" else None
    deliver(
        client,
        inbound(phone_number_id, WA, message(kind, body, wa_id=WA, wamid=wamid, ts=now_ts(-seconds_ago))),
    )
    return wamid


def receipt(wamid: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}


def indicator(wamid: str) -> dict[str, Any]:
    return {**receipt(wamid), "typing_indicator": {"type": "text"}}


# --- read receipts ---------------------------------------------------------------------------------


def test_reading_marks_the_customers_newest_message_read_once(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id, seconds_ago=60)
    newest = customer_writes(client, phone_number_id, seconds_ago=30)
    meta.accepts(phone_number_id)

    response = read(client, phone_number_id)
    assert response.status_code == 200, response.text
    # Meta marks earlier messages read with it: one receipt, on the newest, by its wamid.
    assert response.json == {"sent": True, "messageId": document_id(newest), "agentReadAt": iso(clock.now)}
    assert meta.received == [receipt(newest)]
    read_at = iso(clock.now)

    clock.advance(60)
    again = read(client, phone_number_id)
    assert again.status_code == 200, again.text
    assert again.json == {"sent": False, "messageId": document_id(newest), "agentReadAt": read_at}
    assert len(meta.received) == 1  # nothing new: nothing sent

    later = customer_writes(client, phone_number_id)
    third = read(client, phone_number_id)
    assert third.json == {"sent": True, "messageId": document_id(later), "agentReadAt": iso(clock.now)}
    assert meta.received == [receipt(newest), receipt(later)]


def test_the_session_view_shows_when_the_agent_side_last_read(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    assert agent_read_at(client, phone_number_id) is None
    read(client, phone_number_id)
    assert agent_read_at(client, phone_number_id) == iso(clock.now)


def test_the_newest_message_is_the_customers_own_latest_not_edits_reactions_echoes_or_late_arrivals(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    newest = customer_writes(client, phone_number_id, seconds_ago=30)
    customer_writes(client, phone_number_id, seconds_ago=90)  # an older one, delivered late
    deliver(
        client,
        inbound(
            phone_number_id,
            WA,
            message(
                "edit",
                {"original_message_id": newest, "message": {"type": "text", "text": {"body": "Hi!"}}},
                wa_id=WA,
                ts=now_ts(-10),
            ),
            message("reaction", {"message_id": newest, "emoji": "\U0001f44d"}, wa_id=WA, ts=now_ts(-5)),
        ),
    )
    echo = message("text", {"body": "On its way"}, wa_id=BUSINESS, ts=now_ts())
    deliver(client, envelope(phone_number_id, echoes=[{**echo, "to": WA}]))
    meta.accepts(phone_number_id)

    response = read(client, phone_number_id)
    assert response.json["messageId"] == document_id(newest)
    assert meta.received == [receipt(newest)]


def test_no_customer_message_means_nothing_to_mark_read(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    response = read(client, phone_number_id)
    assert response.status_code == 200, response.text
    assert response.json == {"sent": False, "messageId": None, "agentReadAt": None}
    # A reaction (to a message not stored) opens the window, but is no message to answer or mark read.
    deliver(
        client,
        inbound(
            phone_number_id,
            WA,
            message("reaction", {"message_id": "wamid.gone", "emoji": "\u2764"}, wa_id=WA),
        ),
    )
    assert read(client, phone_number_id).json == {"sent": False, "messageId": None, "agentReadAt": None}
    shown = typing(client, phone_number_id)
    assert shown.status_code == 202, shown.text
    assert shown.json == {"sent": False}
    assert meta.received == []


def test_a_message_older_than_metas_30_days_is_recorded_as_read_and_nothing_is_sent(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    old = customer_writes(client, phone_number_id, seconds_ago=31 * 24 * 3600)
    response = read(client, phone_number_id)
    assert response.json == {"sent": False, "messageId": document_id(old), "agentReadAt": iso(clock.now)}
    assert meta.received == []  # Meta: mark incoming messages as read within 30 days of receipt


def test_receipts_are_sent_outside_the_window_but_typing_is_not(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    wamid = customer_writes(client, phone_number_id, seconds_ago=25 * 3600)
    meta.accepts(phone_number_id)
    shown = typing(client, phone_number_id)
    assert shown.status_code == 409, shown.text
    assert shown.json["error"]["code"] == "session_inactive"
    assert meta.received == []
    assert read(client, phone_number_id).json["sent"] is True
    assert meta.received == [receipt(wamid)]


def test_a_conversation_stored_before_the_newest_message_was_kept_finds_it_in_the_history(
    client: Client, services: Services, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    wamid = customer_writes(client, phone_number_id)
    conv = conversation_id(phone_number_id, WA)
    services.store.update(
        conv,
        CONVERSATION_DOCUMENT_ID,
        lambda doc: {k: v for k, v in (doc or {}).items() if k != "lastInbound"},
    )
    meta.accepts(phone_number_id)
    assert read(client, phone_number_id).json["messageId"] == document_id(wamid)
    assert meta.received == [receipt(wamid)]
    stored = services.store.read(conv, CONVERSATION_DOCUMENT_ID)
    assert stored is not None
    assert stored["lastInbound"]["wamid"] == wamid  # kept from now on: no more history queries


# --- typing ----------------------------------------------------------------------------------------


def test_typing_shows_the_indicator_on_the_newest_message_at_most_once_per_20_seconds(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    wamid = customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)

    first = typing(client, phone_number_id)
    assert first.status_code == 202, first.text
    assert first.json == {"sent": True}
    assert meta.received == [indicator(wamid)]

    clock.advance(19)
    assert typing(client, phone_number_id).json == {"sent": False}
    assert len(meta.received) == 1
    clock.advance(1)
    assert typing(client, phone_number_id).json == {"sent": True}
    assert len(meta.received) == 2


def test_typing_also_marks_the_message_read(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    typing(client, phone_number_id)
    assert agent_read_at(client, phone_number_id) == iso(clock.now)
    assert read(client, phone_number_id).json["sent"] is False  # the indicator's receipt covered it
    assert len(meta.received) == 1


def test_typing_for_a_customer_who_never_wrote_is_409(
    client: Client, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    response = typing(client, phone_number_id)
    assert response.status_code == 409, response.text
    assert response.json["error"]["code"] == "session_inactive"
    assert meta.received == []


# --- two panels at once ----------------------------------------------------------------------------


class BothReadFirst(CosmosConversationStore):
    """Every request reads the conversation before any of them writes it: a real race for one ETag."""

    def __init__(self, store: CosmosConversationStore, parties: int):
        super().__init__(store.container)
        self.barrier = threading.Barrier(parties, timeout=10)

    def update(
        self, partition: str, document_id: str, change: Change, current: Doc | Unread | None = UNREAD
    ) -> Doc | None:
        waited = False

        def racing(current: Doc | None) -> Doc | None:
            nonlocal waited
            if document_id == CONVERSATION_DOCUMENT_ID and not waited:
                waited = True
                self.barrier.wait()
            return change(current)

        return super().update(partition, document_id, racing, current)


def at_once(
    services: Services, app_functions: list[Any], call: Callable[[Client], TestResponse], parties: int = 2
) -> list[TestResponse]:
    from devhost.host import HttpFunctions

    services.store = BothReadFirst(cast(CosmosConversationStore, services.store), parties)
    with ThreadPoolExecutor(parties) as pool:
        return list(pool.map(lambda _: call(Client(HttpFunctions(app_functions))), range(parties)))


def test_two_panels_reading_at_once_send_one_receipt(
    client: Client,
    services: Services,
    app_functions: list[Any],
    meta: Receipts,
    clock: Clock,
    phone_number_id: str,
) -> None:
    wamid = customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    answers = at_once(services, app_functions, lambda panel: read(panel, phone_number_id))
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json["sent"] for a in answers) == [False, True]
    assert meta.received == [receipt(wamid)]


def test_two_panels_typing_at_once_show_one_indicator(
    client: Client,
    services: Services,
    app_functions: list[Any],
    meta: Receipts,
    clock: Clock,
    phone_number_id: str,
) -> None:
    wamid = customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    answers = at_once(services, app_functions, lambda panel: typing(panel, phone_number_id))
    assert [a.status_code for a in answers] == [202, 202]
    assert sorted(a.json["sent"] for a in answers) == [False, True]
    assert meta.received == [indicator(wamid)]


# --- Meta refusing, or not answering ---------------------------------------------------------------


@pytest.mark.parametrize("route", [read, typing])
@pytest.mark.parametrize(
    ("code", "http_status", "times", "answer", "error_code"),
    [
        (131009, 400, 1, 422, "rejected_by_whatsapp"),  # Meta: an invalid (or too old) message id
        (190, 401, 1, 502, "whatsapp_auth_failed"),
        (131047, 400, 1, 409, "session_inactive"),
        (130429, 400, 4, 429, "rate_limited"),
        (131000, 500, 4, 502, "whatsapp_unavailable"),
    ],
)
def test_meta_refusing_is_a_clear_error_and_nothing_is_recorded(
    client: Client,
    meta: Receipts,
    clock: Clock,
    phone_number_id: str,
    route: Callable[[Client, str], TestResponse],
    code: int,
    http_status: int,
    times: int,
    answer: int,
    error_code: str,
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, code, http_status, times)
    refused = route(client, phone_number_id)
    assert refused.status_code == answer, refused.text
    assert refused.json["error"]["code"] == error_code
    if error_code == "rejected_by_whatsapp":
        assert f"details of {code}" in refused.json["error"]["message"]  # Meta's reason, for the agent
    assert agent_read_at(client, phone_number_id) is None
    meta.accepts(phone_number_id)
    assert route(client, phone_number_id).json["sent"] is True  # nothing recorded: the next call sends


@pytest.mark.parametrize("route", [read, typing])
def test_no_answer_from_meta_does_not_mark_the_message_read(
    client: Client,
    httpserver: HTTPServer,
    services: Services,
    clock: Clock,
    phone_number_id: str,
    route: Callable[[Client, str], TestResponse],
) -> None:
    meta = Receipts(httpserver, services, timeout=(1.0, 0.3))
    customer_writes(client, phone_number_id)
    released = threading.Event()
    meta.answers_late(phone_number_id, released)
    try:
        response = route(client, phone_number_id)
    finally:
        released.set()
    assert response.status_code == 504, response.text
    assert response.json["error"]["code"] == "whatsapp_no_answer"
    assert agent_read_at(client, phone_number_id) is None
    meta.accepts(phone_number_id)
    assert route(client, phone_number_id).json["sent"] is True
    meta.received  # noqa: B018
    httpserver.clear()


# --- hostile input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [read, typing])
@pytest.mark.parametrize(
    ("customer", "params"),
    [
        ("07700 900123", {}),  # a national number without its country code
        ("x" * 300, {}),  # longer than any WhatsApp user id
        ("SELECT * FROM c", {}),
        ("1' OR '1'='1", {}),
        ("447700900123%00", {}),
        (WA, {"phoneNumberId": "²"}),
        (WA, {"phoneNumberId": "1" * 21}),
        (WA, {"phoneNumberId": "abc"}),
        (WA, {"regarding": "contact:x"}),
    ],
)
def test_a_hostile_customer_or_business_number_is_400(
    client: Client,
    meta: Receipts,
    customer: str,
    params: dict[str, str],
    route: Callable[..., TestResponse],
) -> None:
    query = dict(params)
    response = route(client, query.pop("phoneNumberId", "100200300400"), customer, **query)
    assert response.status_code == 400, response.text
    assert response.json["error"]["code"] == "invalid_request"
    assert meta.received == []


# --- cost ------------------------------------------------------------------------------------------


def test_each_call_costs_a_few_cosmos_requests(
    client: Client, services: Services, meta: Receipts, clock: Clock, phone_number_id: str
) -> None:
    """The newest inbound message is kept on the conversation document, so no call queries the history:
    the guard's one read of the conversation and session (aliases, the window), then one write when
    something changes."""
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    counter: Counter[str] = Counter()
    container = cosmos_container(
        services.settings, transport=CountingTransport(counter, "cosmos", connection_verify=False)
    )
    services.store = CosmosConversationStore(container)
    services.store.read(
        conversation_id(phone_number_id, WA), CONVERSATION_DOCUMENT_ID
    )  # the SDK's own start-up

    def requests(call: Callable[[], TestResponse]) -> int:
        counter.clear()
        call()
        return counter["cosmos"]

    assert requests(lambda: read(client, phone_number_id)) == 2  # the guard's read, then the write
    assert requests(lambda: read(client, phone_number_id)) == 1  # nothing new: the read only
    assert requests(lambda: typing(client, phone_number_id)) == 2
    assert requests(lambda: typing(client, phone_number_id)) == 1  # throttled: the read only
    assert len(meta.received) == 2
