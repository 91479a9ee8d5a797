"""Issue 11 item 2: replies to customers known only by a WhatsApp username, i.e. by a business-scoped
user id (BSUID, `US.13491208655302741918`), and how numbers and ids are addressed to Meta.

Meta (WHATSAPP-NOTES.md §0, [BSUID]): a send addresses a BSUID with `recipient`, not `to`; when both are
given `to` wins; the answer names the customer in `contacts[].user_id` instead of `wa_id`; a message
type that cannot go to a BSUID is refused with 131062. Numbers go in `to` as E.164 with their `+`
(§5: without it Meta prepends the business number's country code).

Meta is the stand-in of tests/test_send.py (every body checked against Meta's OpenAPI document), and
at the end the WhatsApp sandbox, talking to the app over HTTP both ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.test import Client

from devhost.sandbox import WhatsAppSandbox
from shared.conversations.commands import SendMessageCommand
from shared.conversations.documents import conversation_id
from shared.conversations.send import addressee, outbound_request
from shared.services import Services
from shared.whatsapp.graph_client import GraphClient
from shared.whatsapp.graph_models import SendMessageRequest
from shared.whatsapp.signature import SIGNATURE_HEADER
from tests.api import deliver, messages, send_message
from tests.conftest import TEST_SETTINGS
from tests.meta_openapi import assert_meta_accepts
from tests.payloads import APP_SECRET, contact, envelope, message, status
from tests.test_send import Meta

USER_ID = "US.13491208655302741918"
WA = "447700900123"


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services) -> Iterator[Meta]:
    stand_in = Meta(httpserver, services)
    yield stand_in
    stand_in.received  # noqa: B018 - checks every body sent against Meta's OpenAPI document
    httpserver.clear()


def username_customer_writes(client: Client, phone_number_id: str, user_id: str = USER_ID) -> None:
    """As Meta posts it for a user who adopted a username: empty `from`/`wa_id`, the id beside them."""
    said = message("text", {"body": "Hi, where is my parcel?"}, wa_id="", from_user_id=user_id)
    deliver(client, envelope(phone_number_id, contacts=[contact("", user_id=user_id)], messages=[said]))


def outbound(client: Client, phone_number_id: str, customer: str) -> list[dict[str, Any]]:
    return [m for m in messages(client, phone_number_id, customer) if m["direction"] == "outbound"]


# --- how a customer is addressed --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "phone", "user_id", "fields"),
    [
        (WA, None, None, {"to": "+447700900123"}),
        (WA, WA, USER_ID, {"to": "+447700900123"}),
        (USER_ID, None, None, {"recipient": USER_ID}),
        (USER_ID, None, USER_ID, {"recipient": USER_ID}),
        (USER_ID, WA, USER_ID, {"to": "+447700900123"}),  # a known number wins, as it does at Meta
        (WA, "15551234567", None, {"to": "+15551234567"}),  # the customer's newer number
        (USER_ID, None, "US.99991208655302741918", {"recipient": "US.99991208655302741918"}),  # newer id
    ],
)
def test_a_number_goes_in_to_with_its_plus_and_a_user_id_in_recipient(
    customer: str, phone: str | None, user_id: str | None, fields: dict[str, str]
) -> None:
    assert addressee(customer, phone, user_id) == fields


@pytest.mark.parametrize(
    "fields",
    [
        {},  # nobody
        {"to": "447700900123"},  # digits alone: Meta would prepend the business's country code
        {"to": "07700900123"},  # a national number
        {"to": "+07700900123"},
        {"to": "+44 7700 900123"},  # one spelling only: E.164
        {"to": USER_ID},  # a user id never goes in `to`
        {"recipient": "447700900123"},  # nor a number in `recipient`
    ],
)
def test_the_request_model_accepts_only_e164_numbers_and_user_ids(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        SendMessageRequest(type="text", text={"body": "hi"}, **fields)


@pytest.mark.parametrize("spelling", ["447700900123", "5511987654321", "15551234567"])
def test_a_customer_number_is_never_sent_in_a_national_form(spelling: str) -> None:
    command = SendMessageCommand.model_validate({"type": "text", "text": "hi"})
    body = outbound_request(spelling, command, "out:1").to_json()
    assert body["to"] == "+" + spelling
    assert_meta_accepts(body)


# --- through the app, Meta a stand-in -----------------------------------------------------------------


def test_a_reply_to_a_username_only_customer_goes_to_their_user_id_in_recipient(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    username_customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.USER")

    response = send_message(
        client, phone_number_id, USER_ID, type="text", text="It ships today.", clientMessageId="u-1"
    )

    assert response.status_code == 202, response.text
    assert (response.json["customerId"], response.json["wamid"]) == (USER_ID, "wamid.USER")
    [sent] = meta.received
    assert sent["recipient"] == USER_ID
    assert "to" not in sent
    deliver(
        client,
        envelope(phone_number_id, statuses=[status("wamid.USER", "read", "", recipient_user_id=USER_ID)]),
    )
    [shown] = outbound(client, phone_number_id, USER_ID)  # still the user id's conversation: no alias
    assert (shown["id"], shown["status"]) == ("out:u-1", "read")


def test_a_number_known_for_a_user_id_wins_and_the_conversation_stays_where_it_is(
    client: Client, meta: Meta, services: Services, phone_number_id: str
) -> None:
    username_customer_writes(client, phone_number_id)
    conv = conversation_id(phone_number_id, USER_ID)
    services.store.update(conv, "conversation", lambda doc: {**doc, "waId": WA} if doc else None)
    meta.accepts(phone_number_id, wamid="wamid.BOTH", wa_id=WA)

    response = send_message(client, phone_number_id, USER_ID, type="text", text="hi", clientMessageId="b-1")

    assert response.status_code == 202, response.text
    [sent] = meta.received
    assert (sent["to"], "recipient" in sent) == ("+" + WA, False)
    assert response.json["customerId"] == USER_ID


def test_a_customers_newer_number_is_written_to_and_the_conversation_stays_where_it_is(
    client: Client, meta: Meta, services: Services, phone_number_id: str
) -> None:
    """After `user_changed_number` the conversation's `waId` is the new number (docs/identity.md):
    replies go there, and Meta naming that number is no reason to move the conversation."""
    newer = "447700900999"
    deliver(
        client,
        envelope(
            phone_number_id, contacts=[contact(WA)], messages=[message("text", {"body": "hi"}, wa_id=WA)]
        ),
    )
    conv = conversation_id(phone_number_id, WA)
    services.store.update(conv, "conversation", lambda doc: {**doc, "waId": newer} if doc else None)
    meta.accepts(phone_number_id, wamid="wamid.NEW", wa_id=newer)

    response = send_message(client, phone_number_id, WA, type="text", text="hi", clientMessageId="c-1")

    assert response.status_code == 202, response.text
    [sent] = meta.received
    assert sent["to"] == "+" + newer
    assert response.json["customerId"] == WA


def test_a_type_whatsapp_cannot_send_to_a_user_id_is_a_422_in_words_an_agent_understands(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    username_customer_writes(client, phone_number_id)
    meta.refuses(
        phone_number_id,
        131062,
        details="Business-scoped User ID recipients are not supported for this message.",
    )

    response = send_message(
        client,
        phone_number_id,
        USER_ID,
        type="image",
        mediaUrl="https://cdn.example.com/a.png",
        clientMessageId="n-1",
    )

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "rejected_by_whatsapp"
    assert "known only by their WhatsApp username" in error["message"]
    assert "131062" in error["message"]
    assert response.json["message"]["status"] == "failed"
    assert len(meta.received) == 1  # never retried
    again = send_message(
        client,
        phone_number_id,
        USER_ID,
        type="image",
        mediaUrl="https://cdn.example.com/a.png",
        clientMessageId="n-1",
    )
    assert (again.status_code, len(meta.received)) == (422, 1)


# --- through the app, Meta the sandbox -----------------------------------------------------------------


@pytest.fixture
def sandbox(
    httpserver: HTTPServer, client: Client, services: Services, phone_number_id: str
) -> Iterator[WhatsAppSandbox]:
    """The sandbox as Meta, its webhooks relayed to the app in this process."""

    def relay(request: Request) -> Response:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: request.headers[SIGNATURE_HEADER]}
        answer = client.post("/api/whatsapp/webhook", data=request.get_data(), headers=headers)
        return Response(answer.get_data(), status=answer.status_code)

    httpserver.expect_request("/api/whatsapp/webhook", method="POST").respond_with_handler(relay)
    served = WhatsAppSandbox(
        webhook_url=httpserver.url_for("/api/whatsapp/webhook"),
        app_secret=APP_SECRET,
        access_token=TEST_SETTINGS["WHATSAPP_ACCESS_TOKEN"],
        phone_number_id=phone_number_id,
        status_delays=(0.05, 0.05, 0.05),
        retry_delays=(0.1,),
    )
    served.start_in_background()
    services.sender = GraphClient(served.base_url, "v23.0", TEST_SETTINGS["WHATSAPP_ACCESS_TOKEN"])
    yield served
    served.stop()
    httpserver.clear()


def test_a_username_only_customer_and_the_app_talk_through_the_sandbox(
    client: Client, sandbox: WhatsAppSandbox, phone_number_id: str
) -> None:
    assert sandbox.customer_says(USER_ID, "Hi, it's me").app_status == 200

    response = send_message(
        client, phone_number_id, USER_ID, type="text", text="It ships today.", clientMessageId="s-1"
    )

    assert response.status_code == 202, response.text
    assert sandbox.wait_for_statuses()
    [record] = sandbox.sent
    assert (record.request["recipient"], "to" in record.request) == (USER_ID, False)
    assert_meta_accepts(record.request)
    assert record.statuses == ["sent", "delivered", "read"]  # the app acknowledged each
    [shown] = outbound(client, phone_number_id, USER_ID)
    assert (shown["wamid"], shown["status"]) == (record.wamid, "read")
