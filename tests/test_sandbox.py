"""The WhatsApp sandbox answers and calls the app the way Meta does (WHATSAPP-NOTES.md §3, §5, §7).

A pytest-httpserver plays the app's webhook; no emulators are needed. Every body the sandbox accepts
is also checked against Meta's OpenAPI document (tests/meta_openapi.py), so the sandbox never passes
a send Meta would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
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
            {**text(), "type": "template", "template": {"name": "hello_world"}},
            "template: 'language' is a required property",
            id="template-without-language",
        ),
        pytest.param(
            {**text(), "type": "text", "text": {"body": "hi", "bold": True}},
            "'bold' was unexpected",
            id="not-in-metas-document",
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


# --- a customer changes number or user id ---------------------------------------------------------

NEW_WA = "12195555358"  # the new number of Meta's `user_changed_number` example
NEW_USER_ID = "US.99991208655302741918"
# Meta's real webhook bodies, beside the repository in CI (not in a user's clone).
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "whatsapp-payloads"


def shape(value: Any) -> Any:
    """A body's structure without its values: the keys of every object, the type of every leaf."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def messages_posted(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [
        m
        for body in webhooks(httpserver)
        for m in body["entry"][0]["changes"][0]["value"].get("messages", [])
    ]


def change(
    sandbox: WhatsAppSandbox, old: str, new: str, what: str = "number", **extra: Any
) -> requests.Response:
    return requests.post(
        f"{sandbox.base_url}/sandbox/customers/{old}/change-{what}", json={"to": new, **extra}, timeout=5
    )


def test_a_number_change_posts_metas_user_changed_number_webhook(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    answer = change(sandbox, WA, NEW_WA, name="Sheena Nelson")

    assert answer.status_code == 200
    said = answer.json()
    assert (said["app_status"], said["app_body"]) == (200, "OK")
    [posted] = webhooks(httpserver)  # signed, and passes the app's own webhook models
    value = posted["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value  # system messages carry none
    assert value["messages"] == [
        {
            "from": WA,
            "id": said["wamid"],
            "timestamp": str(int(clock.now)),
            "type": "system",
            "system": {
                "body": f"User Sheena Nelson changed from {WA} to {NEW_WA}",
                "wa_id": NEW_WA,
                "type": "user_changed_number",
            },
        }
    ]


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/whatsapp-payloads is not beside this clone")
def test_the_number_change_has_the_shape_of_metas_example(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    change(sandbox, "16505551234", NEW_WA)
    example = json.loads((EXAMPLES / "system_user_changed_number.json").read_text())

    assert shape(webhooks(httpserver)[0]) == shape(example)


def test_after_a_number_change_the_old_number_is_undeliverable_and_the_new_one_has_the_window(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    sandbox.customer_says(WA, "Hi")
    wrote_at = int(clock.now)
    clock.now += 3600
    assert sandbox.change_number(WA, NEW_WA).app_status == 200

    error = assert_graph_error(send(sandbox, text()), 400, 131026)
    assert error["message"] == "(#131026) Message undeliverable"
    assert "not a WhatsApp phone number" in error["error_data"]["details"]
    response = send(sandbox, text(to="+" + NEW_WA))

    assert response.status_code == 200
    assert response.json()["contacts"] == [{"input": "+" + NEW_WA, "wa_id": NEW_WA}]
    assert sandbox.wait_for_statuses()
    sent = statuses(httpserver)
    assert [(s["status"], s["recipient_id"]) for s in sent] == [
        ("sent", NEW_WA),
        ("delivered", NEW_WA),
        ("read", NEW_WA),
    ]
    assert sent[0]["conversation"]["expiration_timestamp"] == str(wrote_at + DAY)  # the same window
    listed = requests.get(f"{sandbox.base_url}/sandbox/messages", timeout=5).json()
    assert [c["wa_id"] for c in listed["customers"]] == [NEW_WA]
    assert listed["moved"] == [{"from": WA, "to": NEW_WA}]
    assert [m.to for m in sandbox.sent] == [NEW_WA]


def test_the_old_number_is_reachable_again_once_someone_writes_from_it(sandbox: WhatsAppSandbox) -> None:
    sandbox.customer_says(WA, "Hi")
    sandbox.change_number(WA, NEW_WA)

    sandbox.customer_says(WA, "I got this number from the phone company")

    assert send(sandbox, text()).status_code == 200


def test_a_user_id_change_posts_user_changed_user_id_and_moves_the_customer(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.customer_says(USER_ID, "Hi")

    answer = change(sandbox, USER_ID, NEW_USER_ID, what="user-id", name="Sam")

    assert answer.status_code == 200
    [_, posted] = messages_posted(httpserver)
    assert posted == {  # no phone number is included in a user id change
        "from": "",
        "from_user_id": USER_ID,
        "id": answer.json()["wamid"],
        "timestamp": posted["timestamp"],
        "type": "system",
        "system": {
            "body": f"User Sam changed from {USER_ID} to {NEW_USER_ID}",
            "user_id": NEW_USER_ID,
            "type": "user_changed_user_id",
        },
    }
    assert_graph_error(send(sandbox, text_to_user_id()), 400, 131026)
    assert send(sandbox, text_to_user_id(NEW_USER_ID)).json()["contacts"] == [
        {"input": NEW_USER_ID, "user_id": NEW_USER_ID}
    ]


@pytest.mark.parametrize(
    ("old", "body", "what", "complaint"),
    [
        pytest.param(WA, {"to": USER_ID}, "number", "two numbers", id="number-to-user-id"),
        pytest.param(USER_ID, {"to": NEW_WA}, "user-id", "two user ids", id="user-id-to-number"),
        pytest.param(WA, {"to": WA}, "number", "already the customer's", id="same-number"),
        pytest.param(WA, {}, "number", '"to"', id="no-to"),
        pytest.param(WA, {"to": NEW_WA, "name": 7}, "number", '"to"', id="name-not-text"),
        pytest.param(WA, {"to": "not a number!"}, "number", "neither", id="gibberish"),
    ],
)
def test_a_change_that_cannot_happen_is_refused_with_code_100(
    sandbox: WhatsAppSandbox,
    httpserver: HTTPServer,
    old: str,
    body: dict[str, Any],
    what: str,
    complaint: str,
) -> None:
    answer = requests.post(f"{sandbox.base_url}/sandbox/customers/{old}/change-{what}", json=body, timeout=5)

    error = assert_graph_error(answer, 400, 100)
    assert complaint in error["error_data"]["details"]
    assert httpserver.log == []


def test_a_number_that_moved_away_cannot_move_again(sandbox: WhatsAppSandbox, httpserver: HTTPServer) -> None:
    sandbox.change_number(WA, NEW_WA)

    error = assert_graph_error(change(sandbox, WA, "15550001111"), 400, 100)

    assert "already changed to" in error["error_data"]["details"]
    assert len(httpserver.log) == 1


# --- the window ends early; Meta refuses in its answer or by webhook -------------------------------


def expire(sandbox: WhatsAppSandbox, customer: str = WA, refusal: str | None = None) -> requests.Response:
    params = {"refusal": refusal} if refusal else {}
    return requests.post(
        f"{sandbox.base_url}/sandbox/customers/{customer}/expire-window", params=params, timeout=5
    )


def test_an_expired_window_refuses_at_once_until_the_customer_writes_again(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    sandbox.customer_says(WA, "Hi")
    clock.now += 60

    answer = expire(sandbox)

    assert answer.json() == {"wa_id": WA, "window_closes_at": int(clock.now), "refusals": "response"}
    assert_graph_error(send(sandbox, text()), 400, 131047)
    assert sandbox.sent == []
    sandbox.customer_says(WA, "Back again")
    assert send(sandbox, text()).status_code == 200


def test_refused_by_webhook_meta_accepts_then_posts_a_failed_131047_status(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    sandbox.customer_says(WA, "Hi")
    clock.now += 60
    assert expire(sandbox, refusal="webhook").json()["refusals"] == "webhook"

    response = send(sandbox, {**text(), "biz_opaque_callback_data": "our-message-id"})

    assert response.status_code == 200  # accepted, as far as the sender can tell
    wamid = response.json()["messages"][0]["id"]
    assert sandbox.wait_for_statuses()
    [posted] = [
        body for body in webhooks(httpserver) if "statuses" in body["entry"][0]["changes"][0]["value"]
    ]
    value = posted["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value  # failed statuses carry none
    assert value["statuses"] == [
        {
            "id": wamid,
            "status": "failed",
            "timestamp": str(int(clock.now)),
            "recipient_id": WA,
            "biz_opaque_callback_data": "our-message-id",  # echoed, as on every status
            "errors": [
                {
                    "code": 131047,
                    "title": "Re-engagement message",
                    "message": "Re-engagement message",
                    "error_data": {
                        "details": "Message failed to send because more than 24 hours have passed since "
                        "the customer last replied to this number."
                    },
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ],
        }
    ]
    [record] = sandbox.sent
    assert (record.wamid, record.statuses, record.refused_with) == (wamid, ["failed"], 131047)


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/whatsapp-payloads is not beside this clone")
def test_the_failed_status_has_the_shape_of_metas_failed_status(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.refusals = "webhook"
    send(sandbox, text())  # a customer who never wrote
    assert sandbox.wait_for_statuses()
    example = json.loads((EXAMPLES / "status_failed_130472.json").read_text())
    del example["entry"][0]["changes"][0]["value"]["contacts"]  # "not on failed ones" (the BSUID guide)

    assert shape(webhooks(httpserver)[0]) == shape(example)


def test_refused_by_webhook_covers_a_number_that_moved_away(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.refusals = "webhook"
    sandbox.customer_says(WA, "Hi")
    sandbox.change_number(WA, NEW_WA)

    assert send(sandbox, text()).status_code == 200

    assert sandbox.wait_for_statuses()
    [failed] = statuses(httpserver)
    assert (failed["status"], failed["recipient_id"], failed["errors"][0]["code"]) == ("failed", WA, 131026)


def test_a_window_refusal_mode_the_sandbox_does_not_know_is_refused(sandbox: WhatsAppSandbox) -> None:
    error = assert_graph_error(expire(sandbox, refusal="carrier-pigeon"), 400, 100)

    assert "response, webhook" in error["error_data"]["details"]


# --- `python -m devhost customer-says` ------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command as `make customer-says` runs it, its settings from this test rather than the files."""
    import devhost.__main__

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)  # the command moves to the repository
    monkeypatch.setattr(devhost.__main__, "load_local_settings", lambda: {})
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)


def test_customer_says_changes_number_then_speaks_from_it_then_ends_the_window(
    cli: None, sandbox: WhatsAppSandbox, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devhost.__main__ import main

    monkeypatch.setenv("WHATSAPP_GRAPH_BASE_URL", sandbox.base_url)
    sandbox.customer_says(WA, "Hi")
    argv = ["--wa", WA, "--changes-number-to", NEW_WA, "--text", "new phone", "--expire-window", "webhook"]

    assert main(["customer-says", *argv]) == 0

    posted = messages_posted(httpserver)
    assert [(m["type"], m["from"]) for m in posted] == [("text", WA), ("system", WA), ("text", NEW_WA)]
    assert posted[1]["system"]["wa_id"] == NEW_WA
    assert_graph_error(send(sandbox, text()), 400, 131026)  # the old number, refused at once
    assert send(sandbox, text(to="+" + NEW_WA)).status_code == 200  # the new one: accepted, then failed
    assert sandbox.wait_for_statuses()
    assert [(s["status"], s["errors"][0]["code"]) for s in statuses(httpserver)] == [("failed", 131047)]


def test_customer_says_posts_a_number_change_itself_when_no_sandbox_runs(
    cli: None, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devhost.__main__ import main

    httpserver.expect_request(WEBHOOK, method="POST").respond_with_data("OK")
    monkeypatch.setenv("WHATSAPP_GRAPH_BASE_URL", "https://graph.facebook.com")
    url = httpserver.url_for("/").rstrip("/")

    assert main(["customer-says", "--wa", WA, "--changes-number-to", NEW_WA, "--url", url]) == 0

    [posted] = messages_posted(httpserver)  # signed with the app secret, as the sandbox would
    assert (posted["from"], posted["system"]) == (
        WA,
        {
            "body": f"User Local Customer changed from {WA} to {NEW_WA}",
            "wa_id": NEW_WA,
            "type": "user_changed_number",
        },
    )
    assert main(["customer-says", "--wa", NEW_WA, "--expire-window", "webhook", "--url", url]) == 2
