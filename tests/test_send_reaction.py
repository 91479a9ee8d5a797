"""An agent's reaction from the panel: sent as Meta's `ReactionMessage`, shown on the message it is
for (one per side, the latest wins, an empty emoji removes it), like a customer's reaction, marked
outbound; inside the window only. Meta is the stand-in of tests/test_send.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from shared.conversations.documents import conversation_id
from shared.services import Services
from tests.api import deliver, messages
from tests.conftest import Queues
from tests.payloads import inbound, message, new_wamid, now_ts
from tests.test_send import WA, Meta, customer_writes, send

THUMBS_UP, HEART = "\U0001f44d", "\u2764\ufe0f"


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services) -> Iterator[Meta]:
    stand_in = Meta(httpserver, services)
    yield stand_in
    stand_in.received  # noqa: B018 - checks every body the app sent against Meta's OpenAPI document
    httpserver.clear()


def customer_says(client: Client, phone_number_id: str, text: str = "Is it shipped?") -> str:
    wamid = new_wamid()
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": text}, wa_id=WA, wamid=wamid)))
    return wamid


def react(client: Client, phone_number_id: str, target: str, emoji: str, key: str) -> Any:
    reaction = {"messageId": target, "emoji": emoji}
    return send(client, phone_number_id, type="reaction", reaction=reaction, clientMessageId=key)


def shown(client: Client, phone_number_id: str, wamid: str) -> dict[str, Any]:
    [found] = [m for m in messages(client, phone_number_id, WA) if m.get("wamid") == wamid]
    return found


def test_an_agents_reaction_goes_to_meta_and_shows_on_the_message(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    theirs = customer_says(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.REACTION")
    response = react(client, phone_number_id, theirs, THUMBS_UP, "r-1")
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+" + WA,
        "type": "reaction",
        "reaction": {"message_id": theirs, "emoji": THUMBS_UP},
        "biz_opaque_callback_data": "out:r-1",
    }
    history = messages(client, phone_number_id, WA)
    assert [m["kind"] for m in history] == ["text"]  # the reaction is on the message, not one of its own
    [reaction] = history[0]["reactions"]
    assert (reaction["emoji"], reaction["from"], reaction["direction"]) == (THUMBS_UP, "business", "outbound")


def test_changing_and_removing_the_reaction(client: Client, meta: Meta, phone_number_id: str) -> None:
    theirs = customer_says(client, phone_number_id)
    meta.accepts(phone_number_id)
    assert react(client, phone_number_id, theirs, THUMBS_UP, "r-1").status_code == 202
    assert react(client, phone_number_id, theirs, HEART, "r-2").status_code == 202  # within the second
    assert [r["emoji"] for r in shown(client, phone_number_id, theirs)["reactions"]] == [HEART]
    assert react(client, phone_number_id, theirs, "", "r-3").status_code == 202
    assert "reactions" not in shown(client, phone_number_id, theirs)
    assert [body["reaction"]["emoji"] for body in meta.received] == [THUMBS_UP, HEART, ""]


def test_the_customers_reaction_and_the_agents_show_side_by_side(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    theirs = customer_says(client, phone_number_id)
    like = message("reaction", {"message_id": theirs, "emoji": HEART}, wa_id=WA, ts=now_ts(-5))
    deliver(client, inbound(phone_number_id, WA, like))
    meta.accepts(phone_number_id)
    react(client, phone_number_id, theirs, THUMBS_UP, "r-1")
    reactions = shown(client, phone_number_id, theirs)["reactions"]
    assert [(r["from"], r.get("direction"), r["emoji"]) for r in reactions] == [
        ("customer", None, HEART),
        ("business", "outbound", THUMBS_UP),
    ]


def test_an_agents_own_message_is_reacted_to_by_our_id(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.OURS")
    assert (
        send(client, phone_number_id, type="text", text="Shipped!", clientMessageId="m-1").status_code == 202
    )
    assert react(client, phone_number_id, "out:m-1", THUMBS_UP, "r-1").status_code == 202
    assert meta.received[-1]["reaction"] == {"message_id": "wamid.OURS", "emoji": THUMBS_UP}
    assert shown(client, phone_number_id, "wamid.OURS")["reactions"][0]["direction"] == "outbound"


def test_a_reaction_leaves_the_conversations_last_message_alone(
    client: Client, meta: Meta, services: Services, phone_number_id: str
) -> None:
    theirs = customer_says(client, phone_number_id, "Where is it?")
    meta.accepts(phone_number_id)
    react(client, phone_number_id, theirs, THUMBS_UP, "r-1")
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    assert (conversation["lastMessagePreview"], conversation["lastMessageDirection"]) == (
        "Where is it?",
        "inbound",
    )


@pytest.mark.mirror_on
def test_a_reaction_has_no_timeline_row_of_its_own(
    client: Client, meta: Meta, queues: Queues, phone_number_id: str
) -> None:
    theirs = customer_says(client, phone_number_id)
    queues.clear()
    meta.accepts(phone_number_id)
    assert react(client, phone_number_id, theirs, THUMBS_UP, "r-1").status_code == 202
    assert queues.messages("dataverse-mirror") == []


@pytest.mark.parametrize(
    ("target", "complaint"),
    [
        ("wamid.NOT-HERE", "names no message of this conversation"),
        ("out:never-sent", "names no message of this conversation"),
        ("conversation", "names no message of this conversation"),
    ],
)
def test_a_reaction_to_no_message_of_this_conversation_is_a_400(
    client: Client, meta: Meta, phone_number_id: str, target: str, complaint: str
) -> None:
    customer_writes(client, phone_number_id)
    response = react(client, phone_number_id, target, THUMBS_UP, "r-1")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert complaint in response.json["error"]["message"]
    assert meta.received == []


def test_another_customers_message_cannot_be_reacted_to(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    someone_else = new_wamid()
    deliver(
        client,
        inbound(
            phone_number_id,
            "447700900999",
            message("text", {"body": "hi"}, wa_id="447700900999", wamid=someone_else),
        ),
    )
    customer_writes(client, phone_number_id)
    response = react(client, phone_number_id, someone_else, THUMBS_UP, "r-1")
    assert response.status_code == 400
    assert meta.received == []


def test_a_reaction_to_a_reaction_is_a_400(client: Client, meta: Meta, phone_number_id: str) -> None:
    theirs = customer_says(client, phone_number_id)
    like = new_wamid()
    deliver(
        client,
        inbound(
            phone_number_id,
            WA,
            message("reaction", {"message_id": theirs, "emoji": HEART}, wa_id=WA, wamid=like),
        ),
    )
    response = react(client, phone_number_id, like, THUMBS_UP, "r-1")
    assert response.status_code == 400
    assert "cannot be reacted to" in response.json["error"]["message"]
    assert meta.received == []


def test_a_reaction_outside_the_window_is_a_409(client: Client, meta: Meta, phone_number_id: str) -> None:
    old = new_wamid()
    ts = now_ts(-25 * 3600)
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA, wamid=old, ts=ts)))
    response = react(client, phone_number_id, old, THUMBS_UP, "r-1")
    assert (response.status_code, response.json["error"]["code"]) == (409, "session_inactive")
    assert meta.received == []


@pytest.mark.parametrize("emoji", ["like", " ", "\U0001f44d ", "x\U0001f44d", ":)"])
def test_a_reaction_that_is_not_an_emoji_is_a_400(
    client: Client, meta: Meta, phone_number_id: str, emoji: str
) -> None:
    theirs = customer_says(client, phone_number_id)
    response = react(client, phone_number_id, theirs, emoji, "r-1")
    assert response.status_code == 400
    assert meta.received == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)


@given(
    reaction=_json
    | st.fixed_dictionaries(
        {"messageId": st.text(max_size=300) | st.sampled_from(["out:m-1", "session", "conversation", "%2F"])},
        optional={"emoji": st.text(max_size=40)},
    )
)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_reaction_body_makes_the_send_route_answer_5xx(
    client: Client, meta: Meta, phone_number_id: str, reaction: Any
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    response = send(client, phone_number_id, type="reaction", reaction=reaction)
    assert response.status_code in (202, 400), response.text
