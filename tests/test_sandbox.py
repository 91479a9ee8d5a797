"""The WhatsApp sandbox answers and calls the app the way Meta does (WHATSAPP-NOTES.md §3, §5, §7).

A pytest-httpserver plays the app's webhook; no emulators are needed. Every body the sandbox accepts
is also checked against Meta's OpenAPI document (tests/meta_openapi.py), so the sandbox never passes
a send Meta would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer

from devhost.sandbox import WhatsAppSandbox, graph_error
from shared.whatsapp.signature import SIGNATURE_HEADER, signature_is_valid
from shared.whatsapp.webhook_models import WebhookPayload, parse_changes
from tests.meta_openapi import assert_meta_accepts

APP_SECRET = "sandbox-app-secret"
TOKEN = "sandbox-access-token"
PHONE_NUMBER_ID = "100200300400"
WA = "15551234567"
USER_ID = "US.13491208655302741918"  # a business-scoped user id, as in WHATSAPP-NOTES.md §0
WEBHOOK = "/api/whatsapp/webhook"
DAY = 24 * 3600


class Clock:
    def __init__(self, now: float = 1_750_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(httpserver: HTTPServer, clock: Clock) -> Iterator[WhatsAppSandbox]:
    httpserver.expect_request(WEBHOOK, method="POST").respond_with_data("OK")
    served = WhatsAppSandbox(
        webhook_url=httpserver.url_for(WEBHOOK),
        app_secret=APP_SECRET,
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        status_delays=(0, 0, 0),
        clock=clock,
        retry_delays=(0, 0),
    )
    served.start_in_background()
    yield served
    served.stop()
    for body in served.well_formed:  # sent or refused for the window: each one Meta's document describes
        assert_meta_accepts(body)


def webhooks(httpserver: HTTPServer) -> list[dict[str, Any]]:
    """Every body the sandbox posted to the app, each checked to be signed with the app secret and to
    pass the app's own webhook models."""
    bodies = []
    for request, _ in httpserver.log:
        raw = request.get_data()
        assert signature_is_valid(raw, request.headers.get(SIGNATURE_HEADER), APP_SECRET)
        assert request.headers["Content-Type"] == "application/json"
        body = json.loads(raw)
        assert parse_changes(WebhookPayload.model_validate(body))
        bodies.append(body)
    return bodies


def statuses(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [
        status
        for body in webhooks(httpserver)
        for status in body["entry"][0]["changes"][0]["value"].get("statuses", [])
    ]


def send(
    sandbox: WhatsAppSandbox, body: Any, token: str = TOKEN, version: str = "v23.0"
) -> requests.Response:
    return requests.post(
        f"{sandbox.base_url}/{version}/{PHONE_NUMBER_ID}/messages",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def text(body: str = "Thanks, it ships tomorrow.", to: str = "+" + WA) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }


def text_to_user_id(user_id: str = USER_ID) -> dict[str, Any]:
    """A send to a business-scoped user id: `recipient`, not `to` (WHATSAPP-NOTES.md §0)."""
    body = {key: value for key, value in text().items() if key != "to"}
    return {**body, "recipient": user_id}


def assert_graph_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    return error


def test_a_customer_message_reaches_the_app_signed_and_shaped_like_meta(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    answer = requests.post(
        f"{sandbox.base_url}/sandbox/customers/{WA}/messages",
        json={"text": "Does it come in blue? äöå 👋", "name": "Ada"},
        timeout=5,
    )

    assert answer.status_code == 200
    said = answer.json()
    assert (said["app_status"], said["app_body"]) == (200, "OK")
    [posted] = webhooks(httpserver)
    assert b"\\u00e4\\u00f6\\u00e5" in httpserver.log[0][0].get_data()  # escaped Unicode, as Meta signs it
    assert posted["object"] == "whatsapp_business_account"
    change = posted["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"]["phone_number_id"] == PHONE_NUMBER_ID
    assert value["contacts"] == [{"profile": {"name": "Ada"}, "wa_id": WA}]
    assert value["messages"] == [
        {
            "from": WA,
            "id": said["wamid"],
            "timestamp": str(int(clock.now)),
            "type": "text",
            "text": {"body": "Does it come in blue? äöå 👋"},
        }
    ]
    assert said["wamid"].startswith("wamid.")
    customers = requests.get(f"{sandbox.base_url}/sandbox/messages", timeout=5).json()["customers"]
    assert [c["wa_id"] for c in customers] == [WA]


def test_the_apps_refusal_of_a_customer_message_is_passed_back(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(WEBHOOK, method="POST").respond_with_data("bad signature", status=401)

    said = sandbox.customer_says(WA, "hello")

    assert (said.app_status, said.app_body) == (401, "bad signature")


def test_a_reply_inside_the_window_is_accepted_then_sent_delivered_and_read_are_posted(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    sandbox.customer_says(WA, "Where is my order?")
    clock.now += DAY - 60

    response = send(sandbox, text())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    answer = response.json()
    wamid = answer["messages"][0]["id"]
    assert answer == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+" + WA, "wa_id": WA}],
        "messages": [{"id": wamid}],
    }
    assert wamid.startswith("wamid.")
    assert sandbox.wait_for_statuses()
    posted = statuses(httpserver)
    assert [(s["id"], s["status"], s["recipient_id"]) for s in posted] == [
        (wamid, "sent", WA),
        (wamid, "delivered", WA),
        (wamid, "read", WA),
    ]
    assert all(s["timestamp"] == str(int(clock.now)) for s in posted)
    sent = posted[0]
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert sent["conversation"]["expiration_timestamp"] == str(int(clock.now) + 60)
    assert sent["pricing"]["category"] == "service"
    metadata = webhooks(httpserver)[-1]["entry"][0]["changes"][0]["value"]["metadata"]
    assert metadata["phone_number_id"] == PHONE_NUMBER_ID
    listed = requests.get(f"{sandbox.base_url}/sandbox/messages", timeout=5).json()["messages"]
    assert [(m["wamid"], m["type"], m["statuses"]) for m in listed] == [
        (wamid, "text", ["sent", "delivered", "read"])
    ]


def test_a_customer_who_never_wrote_cannot_be_messaged(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    error = assert_graph_error(send(sandbox, text()), 400, 131047)

    assert error["message"] == "(#131047) Re-engagement message"
    assert error["error_data"]["details"].startswith("Message failed to send because more than 24 hours")
    assert sandbox.wait_for_statuses()
    assert sandbox.sent == []
    assert httpserver.log == []


def test_the_window_closes_24_hours_after_the_customers_last_message(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    sandbox.customer_says(WA, "Hi")
    clock.now += DAY + 1

    assert_graph_error(send(sandbox, text()), 400, 131047)
    assert sandbox.sent == []

    sandbox.customer_says(WA, "Still there?")
    assert send(sandbox, text()).status_code == 200


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_a_wrong_access_token_is_refused_with_code_190(sandbox: WhatsAppSandbox, token: str) -> None:
    sandbox.customer_says(WA, "Hi")

    error = assert_graph_error(send(sandbox, text(), token=token), 401, 190)

    assert error["message"].startswith("Error validating access token")
    assert sandbox.sent == []


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        pytest.param({**text(), "messaging_product": "sms"}, "messaging_product", id="not-whatsapp"),
        pytest.param({**text(), "to": ""}, "to must", id="empty-to"),
        pytest.param(
            {k: v for k, v in text().items() if k != "to"}, "to (a phone number) or recipient", id="no-one"
        ),
        pytest.param({**text_to_user_id(), "recipient": "15551234567"}, "recipient must", id="number-as-id"),
        pytest.param(
            {**text(), "type": "template", "template": {"name": "hello_world"}}, "type", id="template"
        ),
        pytest.param(text(""), "text.body", id="empty-text"),
        pytest.param(text("x" * 4097), "text.body", id="text-over-4096"),
        pytest.param(
            {**text(), "type": "image", "image": {"link": "http://x.test/a.png"}}, "https", id="http-link"
        ),
        pytest.param(
            {**text(), "type": "document", "document": {"caption": "?"}}, "link or an id", id="no-media"
        ),
        pytest.param(
            {**text(), "type": "reaction", "reaction": {"emoji": "👍"}}, "message_id", id="no-target"
        ),
        pytest.param(["not", "an", "object"], "JSON object", id="not-object"),
    ],
)
def test_a_malformed_send_is_refused_with_code_100_saying_what_is_wrong(
    sandbox: WhatsAppSandbox, body: Any, complaint: str
) -> None:
    sandbox.customer_says(WA, "Hi")

    error = assert_graph_error(send(sandbox, body), 400, 100)

    assert error["message"] == "(#100) Invalid parameter"
    assert complaint in error["error_data"]["details"]
    assert sandbox.sent == []


def test_an_injected_fault_is_answered_once_then_sending_resumes(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.customer_says(WA, "Hi")
    sandbox.fail_next(
        400,
        graph_error(
            131056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the "
            "same phone number in a short period of time.",
        ),
    )

    assert_graph_error(send(sandbox, text()), 400, 131056)
    assert sandbox.sent == []
    assert send(sandbox, text()).status_code == 200
    assert len(sandbox.sent) == 1


def test_a_status_the_app_does_not_acknowledge_is_posted_again(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.customer_says(WA, "Hi")
    httpserver.expect_oneshot_request(WEBHOOK, method="POST").respond_with_data("busy", status=503)

    wamid = send(sandbox, text()).json()["messages"][0]["id"]

    assert sandbox.wait_for_statuses()
    assert [s["status"] for s in statuses(httpserver)] == ["sent", "sent", "delivered", "read"]
    assert sandbox.sent[0].wamid == wamid
    assert sandbox.sent[0].statuses == ["sent", "delivered", "read"]


def test_a_reaction_is_only_ever_sent_never_delivered_or_read(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    said = sandbox.customer_says(WA, "Love it")
    addressed = {key: value for key, value in text().items() if key != "text"}
    reaction = {**addressed, "type": "reaction", "reaction": {"message_id": said.wamid, "emoji": "❤️"}}

    assert send(sandbox, reaction).status_code == 200

    assert sandbox.wait_for_statuses()
    assert [s["status"] for s in statuses(httpserver)] == ["sent"]


def test_from_v24_status_webhooks_carry_no_conversation(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.customer_says(WA, "Hi")

    assert send(sandbox, text(), version="v24.0").status_code == 200

    assert sandbox.wait_for_statuses()
    assert all("conversation" not in s for s in statuses(httpserver))


def test_marking_a_customer_message_read_succeeds(sandbox: WhatsAppSandbox) -> None:
    said = sandbox.customer_says(WA, "Hi")
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": said.wamid}

    response = send(sandbox, body)

    assert (response.status_code, response.json()) == (200, {"success": True})
    assert sandbox.sent == []


# --- media -------------------------------------------------------------------------------------


def test_an_uploaded_file_gets_a_media_id_that_can_be_sent(sandbox: WhatsAppSandbox) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    upload = requests.post(
        f"{sandbox.base_url}/v23.0/{PHONE_NUMBER_ID}/media",
        headers=auth,
        files={"file": ("a.png", b"\x89PNG-bytes", "image/png")},
        data={"messaging_product": "whatsapp", "type": "image/png"},
        timeout=5,
    )
    assert upload.status_code == 200
    media_id = upload.json()["id"]
    where = requests.get(f"{sandbox.base_url}/v23.0/{media_id}", headers=auth, timeout=5).json()
    assert (where["mime_type"], where["file_size"]) == ("image/png", 10)
    assert requests.get(where["url"], timeout=5).status_code == 401  # the token is required, as on Meta
    assert requests.get(where["url"], headers=auth, timeout=5).content == b"\x89PNG-bytes"


def test_an_unknown_media_id_is_a_404_with_code_100(sandbox: WhatsAppSandbox) -> None:
    answer = requests.get(
        f"{sandbox.base_url}/v23.0/123456", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert_graph_error(answer, 404, 100)


def test_a_customers_file_arrives_as_a_signed_media_webhook(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    said = sandbox.customer_sends_media(WA, b"%PDF-1.4 ...", "application/pdf", "the invoice", "inv.pdf")
    assert said.app_status == 200
    [payload] = webhooks(httpserver)
    [message] = payload["entry"][0]["changes"][0]["value"]["messages"]
    assert message["type"] == "document"
    assert message["document"]["filename"] == "inv.pdf"
    assert message["document"]["caption"] == "the invoice"
    assert message["document"]["id"]
    assert send(sandbox, text()).status_code == 200  # a file opens the window like a text


# --- customers known only by a username (business-scoped user ids) --------------------------------


def test_a_username_only_customer_writes_with_a_user_id_and_no_number(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    said = sandbox.customer_says(USER_ID, "Hi, it's me")

    assert said.app_status == 200
    [posted] = webhooks(httpserver)  # passes the app's own webhook models
    value = posted["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Local Customer"}, "wa_id": "", "user_id": USER_ID}]
    [message] = value["messages"]
    assert (message["from"], message["from_user_id"]) == ("", USER_ID)


def test_a_user_id_in_to_is_refused_as_meta_refuses_it(sandbox: WhatsAppSandbox) -> None:
    """Issue 11 item 2: a user id goes in `recipient`; in `to` it is a refusal in Meta's error shape."""
    sandbox.customer_says(USER_ID, "Hi")

    error = assert_graph_error(send(sandbox, text(to=USER_ID)), 400, 100)

    assert "recipient" in error["error_data"]["details"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert sandbox.sent == []


def test_a_user_id_in_recipient_is_answered_with_user_id_and_named_in_the_statuses(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.customer_says(USER_ID, "Where is my order?")

    response = send(sandbox, text_to_user_id())

    assert response.status_code == 200
    answer = response.json()
    wamid = answer["messages"][0]["id"]
    assert answer["contacts"] == [{"input": USER_ID, "user_id": USER_ID}]  # no wa_id: no number is known
    assert sandbox.wait_for_statuses()
    posted = statuses(httpserver)
    assert [(s["id"], s["status"], s["recipient_id"], s["recipient_user_id"]) for s in posted] == [
        (wamid, step, "", USER_ID) for step in ("sent", "delivered", "read")
    ]
    assert [(m.to, m.wa_id, m.user_id) for m in sandbox.sent] == [(USER_ID, "", USER_ID)]


def test_to_wins_when_a_send_names_both_a_number_and_a_user_id(sandbox: WhatsAppSandbox) -> None:
    sandbox.customer_says(WA, "Hi")

    response = send(sandbox, {**text(), "recipient": USER_ID})

    assert response.status_code == 200
    assert response.json()["contacts"] == [{"input": "+" + WA, "wa_id": WA}]
    assert [record.to for record in sandbox.sent] == [WA]


def test_a_user_ids_window_is_its_own(sandbox: WhatsAppSandbox) -> None:
    sandbox.customer_says(WA, "Hi")  # the number wrote, the username-only customer did not

    assert_graph_error(send(sandbox, text_to_user_id()), 400, 131047)


def test_a_number_without_its_plus_gets_the_business_country_code_prepended_as_on_meta(
    sandbox: WhatsAppSandbox,
) -> None:
    """WHATSAPP-NOTES.md §5: without the `+`, Meta prepends the business number's country code (+1
    here), so `447700900123` becomes 1447700900123: someone else, whose window is closed."""
    sandbox.customer_says("447700900123", "Hi")

    assert_graph_error(send(sandbox, text(to="447700900123")), 400, 131047)
    assert send(sandbox, text(to="+447700900123")).json()["contacts"] == [
        {"input": "+447700900123", "wa_id": "447700900123"}
    ]
