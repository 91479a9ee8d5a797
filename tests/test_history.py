"""The chat history and session status the D365 control reads."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from shared.services import Services
from tests.api import deliver
from tests.payloads import inbound, message, now_ts

WA = "447700900123"


def page(client: Client, phone_number_id: str, customer: str = WA, **params: Any) -> Any:
    return client.get(
        f"/api/conversations/{customer}/messages", query_string={"phoneNumberId": phone_number_id, **params}
    )


def test_history_is_newest_first_and_pages_with_a_cursor(client: Client, phone_number_id: str) -> None:
    for i in range(7):
        deliver(
            client,
            inbound(phone_number_id, WA, message("text", {"body": f"m{i}"}, wa_id=WA, ts=now_ts(i - 10))),
        )
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"before": cursor} if cursor else {})}
        response = page(client, phone_number_id, **params)
        assert response.status_code == 200
        seen += [m["text"] for m in response.json["messages"]]
        cursor = response.json["next"]
        if cursor is None:
            break
    assert seen == [f"m{i}" for i in reversed(range(7))]


def test_messages_with_the_same_second_keep_the_order_they_were_written(
    client: Client, phone_number_id: str
) -> None:
    ts = now_ts()
    for i in range(5):  # Meta's timestamps have one-second resolution
        deliver(
            client, inbound(phone_number_id, WA, message("text", {"body": f"burst {i}"}, wa_id=WA, ts=ts))
        )
    texts = [m["text"] for m in page(client, phone_number_id).json["messages"]]
    assert texts == [f"burst {i}" for i in reversed(range(5))]


def test_a_batch_in_one_webhook_keeps_its_order(client: Client, phone_number_id: str) -> None:
    ts = now_ts()
    msgs = [message("text", {"body": f"line {i}"}, wa_id=WA, ts=ts) for i in range(4)]
    deliver(client, inbound(phone_number_id, WA, *msgs))
    texts = [m["text"] for m in page(client, phone_number_id).json["messages"]]
    assert texts == ["line 3", "line 2", "line 1", "line 0"]


@pytest.mark.parametrize("spelling", ["447700900123", "+447700900123", "+44 7700 900123", "0044-7700-900123"])
def test_the_control_finds_a_conversation_by_any_spelling_of_the_number(
    client: Client, phone_number_id: str, spelling: str
) -> None:
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hello"}, wa_id=WA)))
    assert [m["text"] for m in page(client, phone_number_id, spelling).json["messages"]] == ["hello"]


def test_the_configured_business_number_is_the_default(client: Client) -> None:
    response = client.get(f"/api/conversations/{WA}/messages")
    assert response.status_code == 200
    assert "messages" in response.json


def test_history_hides_internal_bookkeeping(client: Client, phone_number_id: str) -> None:
    deliver(client, inbound(phone_number_id, WA, message("hologram", {"x": 1}, wa_id=WA)))
    [shown] = page(client, phone_number_id).json["messages"]
    assert shown["kind"] == "unsupported"
    assert not {"raw", "sortKey", "conversationId", "_etag", "_rid", "type"} & set(shown)


@pytest.mark.parametrize(
    ("customer", "params"),
    [
        ("not a phone!", {}),
        ("07700900123", {}),
        (WA, {"limit": "0"}),
        (WA, {"limit": "10000"}),
        (WA, {"limit": "ten"}),
        (WA, {"before": "not-a-cursor"}),
        (WA, {"before": "AAAA"}),
        (WA, {"phoneNumberId": "abc"}),
    ],
)
def test_bad_requests_get_a_clear_400(client: Client, customer: str, params: dict[str, str]) -> None:
    response = client.get(f"/api/conversations/{customer}/messages", query_string=params)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert response.json["error"]["message"]


def test_session_is_inactive_for_a_customer_who_never_wrote(client: Client, phone_number_id: str) -> None:
    response = client.get(f"/api/conversations/{WA}/session", query_string={"phoneNumberId": phone_number_id})
    assert response.json == {
        "active": False,
        "expiresAt": None,
        "lastInboundAt": None,
        "marketingOptOut": False,
        "agentReadAt": None,
    }


def test_session_refuses_garbage_customer_ids(client: Client) -> None:
    assert client.get("/api/conversations/%3Cscript%3E/session").status_code == 400


def test_a_poll_with_the_cursor_returns_only_new_messages_and_new_ticks(
    client: Client, services: Services, phone_number_id: str
) -> None:
    from shared.conversations.documents import conversation_id

    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "first"}, wa_id=WA)))
    first = page(client, phone_number_id).json
    cursor = first["pollCursor"]
    # Nothing new, in the same second or the next: nothing is sent again.
    assert page(client, phone_number_id, changedSince=cursor).json["messages"] == []

    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "second"}, wa_id=WA)))
    conv = conversation_id(phone_number_id, WA)
    first_id = first["messages"][0]["id"]
    services.store.update(conv, first_id, lambda doc: {**doc, "text": "first (edited)"} if doc else None)
    polled = page(client, phone_number_id, changedSince=cursor).json
    assert sorted(m["text"] for m in polled["messages"]) == ["first (edited)", "second"]
    assert polled["next"] is None
    assert page(client, phone_number_id, changedSince=polled["pollCursor"]).json["messages"] == []


def test_a_change_written_in_the_same_second_after_a_poll_is_still_found(
    client: Client, services: Services, phone_number_id: str
) -> None:
    """Cosmos's `_ts` has one-second resolution: the cursor tells the versions it saw in its second."""
    from shared.conversations.documents import conversation_id

    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "one"}, wa_id=WA)))
    cursor = page(client, phone_number_id).json["pollCursor"]
    conv = conversation_id(phone_number_id, WA)
    [shown] = page(client, phone_number_id).json["messages"]
    services.store.update(conv, shown["id"], lambda doc: {**doc, "status": "read"} if doc else None)
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "two"}, wa_id=WA)))
    polled = page(client, phone_number_id, changedSince=cursor).json["messages"]
    assert sorted(m["text"] for m in polled) == ["one", "two"], "both, whatever second they fell in"


def test_more_changes_than_a_poll_holds_come_in_the_next_polls_none_dropped_none_twice(
    client: Client, phone_number_id: str
) -> None:
    cursor = page(client, phone_number_id).json["pollCursor"]
    for i in range(7):
        deliver(client, inbound(phone_number_id, WA, message("text", {"body": f"m{i}"}, wa_id=WA)))
    seen: list[str] = []
    for _ in range(10):
        polled = page(client, phone_number_id, changedSince=cursor, limit="3").json
        seen += [m["text"] for m in polled["messages"]]
        cursor = polled["next"] or polled["pollCursor"]
        if polled["next"] is None:
            break
    assert sorted(seen) == [f"m{i}" for i in range(7)]


def test_a_poll_cursor_from_before_the_tie_breaker_still_works(client: Client, phone_number_id: str) -> None:
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "old cursor"}, wa_id=WA)))
    polled = page(client, phone_number_id, changedSince="0").json
    assert [m["text"] for m in polled["messages"]] == ["old cursor"]


def test_a_bad_poll_cursor_is_a_400(client: Client) -> None:
    response = client.get(f"/api/conversations/{WA}/messages", query_string={"changedSince": "yesterday"})
    assert response.status_code == 400
