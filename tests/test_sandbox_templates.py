"""The WhatsApp sandbox's templates, read receipts, typing indicators and preferences, as Meta has them.

The WABA's templates are listed as `GET /{WABA-ID}/message_templates` lists them (Meta's OpenAPI
document describes the answer); a template send is checked against Meta's `TemplateMessage` schema and
against the template itself, and refused with Meta's codes (132000, 132001, 132012, 132015); it is
accepted whether the customer's window is open or not. Read receipts and typing indicators are
recorded per customer. The sandbox posts Meta's `message_template_status_update` and `user_preferences`
webhooks, signed, in the shapes of Meta's references, and the app's webhook parser takes them.

A pytest-httpserver plays the app's webhook, except in the last tests, where the app itself answers.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from pytest_httpserver import HTTPServer

from devhost.host import LocalFunctionsHost, QueueRules
from devhost.sandbox import WABA_ID, WhatsAppSandbox
from devhost.sandbox_templates import cursor, sandbox_templates
from shared.services import Services
from shared.whatsapp.signature import SIGNATURE_HEADER, signature_is_valid
from shared.whatsapp.webhook_models import TemplateStatusUpdate, WebhookPayload, read_webhook
from tests.conftest import TEST_SETTINGS
from tests.meta_openapi import assert_meta_accepts, problems, raw_document, send_examples
from tests.payloads import APP_SECRET as THE_APPS_SECRET

APP_SECRET = "sandbox-app-secret"
TOKEN = "sandbox-access-token"
PHONE_NUMBER_ID = "100200300400"
WA = "15551234567"
USER_ID = "US.13491208655302741918"
WEBHOOK = "/api/whatsapp/webhook"
DAY = 24 * 3600
LISTING_PATH = "/{Version}/{WABA-ID}/message_templates"
APPROVED = {
    ("hello_world", "en_US"),
    ("order_update", "en_US"),
    ("order_update", "es_ES"),
    ("order_confirmation", "en_US"),
    ("seasonal_promotion", "en_US"),
    ("delivery_tracking", "en_US"),
}
NOT_APPROVED = {("order_update", "de_DE"): "PENDING", ("2023_april_promo", "en_US"): "REJECTED"}


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
    for body in served.well_formed:  # every body the sandbox took is one Meta's document describes
        assert_meta_accepts(body)


def posted(httpserver: HTTPServer) -> list[dict[str, Any]]:
    """Every body the sandbox posted to the app, each signed with the app secret."""
    bodies = []
    for request, _ in httpserver.log:
        raw = request.get_data()
        assert signature_is_valid(raw, request.headers.get(SIGNATURE_HEADER), APP_SECRET)
        assert request.headers["Content-Type"] == "application/json"
        bodies.append(json.loads(raw))
    return bodies


def statuses(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [
        status
        for body in posted(httpserver)
        for change in body["entry"][0]["changes"]
        for status in change["value"].get("statuses", [])
    ]


def graph(sandbox: WhatsAppSandbox, path: str, token: str = TOKEN, **params: str) -> requests.Response:
    return requests.get(
        f"{sandbox.base_url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def listed(sandbox: WhatsAppSandbox, waba: str = WABA_ID, **params: str) -> requests.Response:
    return graph(sandbox, f"/v23.0/{waba}/message_templates", **params)


def send(sandbox: WhatsAppSandbox, body: Any) -> requests.Response:
    return requests.post(
        f"{sandbox.base_url}/v23.0/{PHONE_NUMBER_ID}/messages",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )


def template(name: str, language: str = "en_US", *components: dict[str, Any], to: str = WA) -> dict[str, Any]:
    sent: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        sent["components"] = list(components)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+" + to,
        "type": "template",
        "template": sent,
    }


def texts(component: str, *values: str) -> dict[str, Any]:
    return {"type": component, "parameters": [{"type": "text", "text": value} for value in values]}


def named(component: str, **values: str) -> dict[str, Any]:
    parameters = [{"type": "text", "parameter_name": name, "text": value} for name, value in values.items()]
    return {"type": component, "parameters": parameters}


def image_header(link: str = "https://cdn.example.com/summer.jpg") -> dict[str, Any]:
    return {"type": "header", "parameters": [{"type": "image", "image": {"link": link}}]}


def button(sub_type: str, index: str, kind: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "sub_type": sub_type,
        "index": index,
        "parameters": [{"type": kind, kind: value}],
    }


ORDER_UPDATE = template("order_update", "en_US", texts("body", "860198-230332", "May 31"))
PROMOTION = template(
    "seasonal_promotion",
    "en_US",
    image_header(),
    texts("body", "the end of August", "25OFF", "25%"),
    button("quick_reply", "0", "payload", "STOP_PROMOS"),
)


def assert_graph_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["code"], error["type"]) == (code, "OAuthException")
    assert error["fbtrace_id"]
    return error


# --- GET /{WABA-ID}/message_templates ---------------------------------------------------------------


def listing_schema() -> dict[str, Any]:
    response = raw_document()["paths"][LISTING_PATH]["get"]["responses"]["200"]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def test_the_waba_lists_every_template_in_every_language_as_graph_does(sandbox: WhatsAppSandbox) -> None:
    answer = listed(sandbox)

    assert answer.status_code == 200
    page = answer.json()
    Draft202012Validator(listing_schema()).validate(page)  # the shape Meta's document gives the answer
    found = {(t["name"], t["language"]): t["status"] for t in page["data"]}
    assert found == {**dict.fromkeys(APPROVED, "APPROVED"), **NOT_APPROVED}
    fields = {"name", "parameter_format", "components", "language", "status", "category", "id"}
    assert all(set(t) - {"previous_category"} == fields for t in page["data"])
    assert "next" not in page["paging"]  # 8 templates fit Graph's default page of 25


def test_metas_own_example_templates_are_listed_as_metas_document_shows_them(
    sandbox: WhatsAppSandbox,
) -> None:
    by_name = {(t["name"], t["language"]): t for t in listed(sandbox).json()["data"]}
    response = raw_document()["paths"][LISTING_PATH]["get"]["responses"]["200"]["content"]["application/json"]
    hello_world = response["examples"]["Example response"]["value"]["data"][0]
    rejected = listing_schema()["properties"]["data"]["example"][0]

    for example in (hello_world, rejected):
        ours = dict(by_name[(example["name"], example["language"])])
        assert ours.pop("parameter_format") == "POSITIONAL"
        assert ours == example


def test_the_templates_have_the_parameters_the_issue_asks_for(sandbox: WhatsAppSandbox) -> None:
    by_name = {(t["name"], t["language"]): t for t in listed(sandbox).json()["data"]}

    positional = by_name[("order_update", "en_US")]
    assert (positional["category"], positional["parameter_format"]) == ("UTILITY", "POSITIONAL")
    assert positional["components"][0]["text"] == "Your order {{1}} ships on {{2}}."
    named_ = by_name[("order_confirmation", "en_US")]
    assert named_["parameter_format"] == "NAMED"
    assert "{{first_name}}" in named_["components"][1]["text"]
    promotion = by_name[("seasonal_promotion", "en_US")]
    assert promotion["category"] == "MARKETING"
    assert promotion["components"][0] == {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_handle": [promotion["components"][0]["example"]["header_handle"][0]]},
    }
    assert [b["type"] for b in promotion["components"][-1]["buttons"]] == ["QUICK_REPLY", "QUICK_REPLY"]
    tracking = by_name[("delivery_tracking", "en_US")]["components"][-1]["buttons"][1]
    assert (tracking["type"], tracking["url"]) == ("URL", "https://www.luckyshrub.com/track/{{1}}")


def test_pages_follow_one_another_by_cursor_and_cover_every_template_once(sandbox: WhatsAppSandbox) -> None:
    everything = [t["id"] for t in listed(sandbox).json()["data"]]
    first = listed(sandbox, limit="3").json()
    seen = [t["id"] for t in first["data"]]
    page = first
    while "next" in page["paging"]:
        answer = requests.get(page["paging"]["next"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert answer.status_code == 200
        page = answer.json()
        assert len(page["data"]) <= 3
        seen += [t["id"] for t in page["data"]]

    assert seen == everything
    assert len(first["data"]) == 3
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    assert "previous" not in first["paging"]
    second = listed(sandbox, limit="3", after=first["paging"]["cursors"]["after"]).json()
    assert [t["id"] for t in second["data"]] == everything[3:6]
    back = requests.get(
        second["paging"]["previous"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ).json()
    assert [t["id"] for t in back["data"]] == everything[:3]
    short = listed(sandbox, limit="3", before=cursor_of(everything[2])).json()  # fewer than a page before
    assert ([t["id"] for t in short["data"]], "previous" in short["paging"]) == (everything[:2], False)


def cursor_of(template_id: str) -> str:
    page = [t for t in sandbox_templates() if t.id == template_id]
    return cursor(page[0])


def test_fields_and_filters_narrow_the_listing(sandbox: WhatsAppSandbox) -> None:
    only = listed(sandbox, fields="name,status", status="APPROVED").json()["data"]
    assert {(t["name"], t["status"]) for t in only} == {(name, "APPROVED") for name, _ in APPROVED}
    assert all(set(t) == {"name", "status", "id"} for t in only)  # Graph always adds the id
    by_name = listed(sandbox, name="order_update").json()["data"]
    assert sorted(t["language"] for t in by_name) == ["de_DE", "en_US", "es_ES"]


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        pytest.param({"limit": "0"}, "limit", id="limit-0"),
        pytest.param({"limit": "ten"}, "limit", id="limit-words"),
        pytest.param({"limit": "٣"}, "limit", id="limit-arabic-digit"),
        pytest.param({"after": "bm90LWEtdGVtcGxhdGU"}, "cursor", id="unknown-cursor"),
        pytest.param({"after": "%%%"}, "cursor", id="garbage-cursor"),
        pytest.param({"fields": "name,secret"}, "nonexisting field (secret)", id="unknown-field"),
    ],
)
def test_a_listing_graph_would_refuse_is_a_code_100(
    sandbox: WhatsAppSandbox, params: dict[str, str], complaint: str
) -> None:
    error = assert_graph_error(listed(sandbox, **params), 400, 100)
    assert complaint in error["error_data"]["details"]


def test_another_wabas_templates_are_unknown_and_the_token_is_required(sandbox: WhatsAppSandbox) -> None:
    other = listed(sandbox, waba="999999999999999")
    assert other.status_code == 400
    error = other.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (100, 33, "GraphMethodException")
    assert_graph_error(graph(sandbox, f"/v23.0/{WABA_ID}/message_templates", token="wrong"), 401, 190)


# --- sending a template ---------------------------------------------------------------------------


def test_a_template_reaches_a_customer_who_never_wrote_and_is_billed_by_its_category(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    response = send(sandbox, ORDER_UPDATE)

    assert response.status_code == 200, response.text
    wamid = response.json()["messages"][0]["id"]
    assert response.json()["contacts"] == [{"input": "+" + WA, "wa_id": WA}]
    assert sandbox.wait_for_statuses()
    [record] = sandbox.sent
    assert (record.wamid, record.type, record.statuses) == (wamid, "template", ["sent", "delivered", "read"])
    assert record.template == {"name": "order_update", "language": "en_US", "category": "UTILITY"}
    assert record.text == "Your order 860198-230332 ships on May 31.\n\nLucky Shrub"
    sent = statuses(httpserver)[0]
    assert sent["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "utility",
    }
    assert sent["conversation"]["origin"] == {"type": "utility"}
    assert sent["conversation"]["expiration_timestamp"] == str(int(clock.now) + DAY)
    # ... while anything else still needs the window, as on Meta
    text = {**ORDER_UPDATE, "type": "text", "text": {"body": "Hello?"}}
    del text["template"]
    assert_graph_error(send(sandbox, text), 400, 131047)


def test_inside_the_window_a_utility_template_is_free_and_a_marketing_one_billed(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.customer_says(WA, "Any news?")

    assert send(sandbox, ORDER_UPDATE).status_code == 200
    assert send(sandbox, PROMOTION).status_code == 200

    assert sandbox.wait_for_statuses()
    assert [record.pricing for record in sandbox.sent] == [
        {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"},
        {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"},
    ]
    assert [record.statuses for record in sandbox.sent] == [["sent", "delivered", "read"]] * 2


def test_the_same_template_goes_out_in_another_approved_language(sandbox: WhatsAppSandbox) -> None:
    spanish = template("order_update", "es_ES", texts("body", "860198-230332", "31 de mayo"))

    assert send(sandbox, spanish).status_code == 200

    assert sandbox.sent[0].text == "Tu pedido 860198-230332 se envía el 31 de mayo.\n\nLucky Shrub"


def test_a_named_template_takes_its_parameters_by_name_in_any_order(sandbox: WhatsAppSandbox) -> None:
    body = template(
        "order_confirmation",
        "en_US",
        named("header", order_number="860198-230332"),
        named("body", order_number="860198-230332", first_name="Pablo"),
    )

    assert send(sandbox, body).status_code == 200

    assert sandbox.sent[0].text == (
        "Order 860198-230332 confirmed\n\n"
        "Thank you, Pablo! Your order 860198-230332 is confirmed and we will tell you when it ships."
    )


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(image_header(), id="by-link"),
        pytest.param(
            {"type": "header", "parameters": [{"type": "image", "image": {"id": "1234"}}]}, id="by-id"
        ),
    ],
)
def test_an_image_header_and_quick_replies_fill_a_marketing_template(
    sandbox: WhatsAppSandbox, header: dict[str, Any]
) -> None:
    body = copy.deepcopy(PROMOTION)
    body["template"]["components"][0] = header
    body["template"]["components"].append(button("quick_reply", "1", "payload", "STOP_ALL"))

    assert send(sandbox, body).status_code == 200

    assert sandbox.sent[0].text == (
        "Shop now through the end of August and use code 25OFF to get 25% off of all merchandise.\n\n"
        "Use the buttons below to manage your marketing subscriptions"
    )


def test_a_url_buttons_dynamic_suffix_is_given_at_send_time(sandbox: WhatsAppSandbox) -> None:
    body = template(
        "delivery_tracking", "en_US", texts("body", "Pablo"), button("url", "1", "text", "860198-230332")
    )

    assert send(sandbox, body).status_code == 200


def test_a_template_without_the_language_policy_or_with_it_is_one_metas_document_describes(
    sandbox: WhatsAppSandbox,
) -> None:
    with_policy = copy.deepcopy(ORDER_UPDATE)
    with_policy["template"]["language"]["policy"] = "deterministic"

    assert send(sandbox, ORDER_UPDATE).status_code == 200
    assert send(sandbox, with_policy).status_code == 200


def changed(body: dict[str, Any], **template_fields: Any) -> dict[str, Any]:
    changed_body = copy.deepcopy(body)
    changed_body["template"].update(template_fields)
    return changed_body


NOT_THERE = "(#132001) Template name does not exist in the translation"
COUNT = "(#132000) Number of parameters does not match the expected number of params"
FORMAT = "(#132012) Parameter format does not match format in the created template"


@pytest.mark.parametrize(
    ("body", "message", "details"),
    [
        pytest.param(
            changed(ORDER_UPDATE, name="order_updates"),
            NOT_THERE,
            "template name (order_updates) does not exist in en_US",
            id="unknown-name",
        ),
        pytest.param(
            changed(ORDER_UPDATE, language={"code": "fr_FR"}),
            NOT_THERE,
            "template name (order_update) does not exist in fr_FR",
            id="language-it-does-not-have",
        ),
        pytest.param(
            changed(ORDER_UPDATE, language={"code": "de_DE"}),
            NOT_THERE,
            "does not exist in de_DE",
            id="pending-review",
        ),
        pytest.param(
            template("2023_april_promo", "en_US", texts("body", "Mark", "FALL25")),
            NOT_THERE,
            "2023_april_promo",
            id="rejected",
        ),
        pytest.param(
            template("order_update"),
            COUNT,
            "body: number of localizable_params (0) does not match the expected number of params (2)",
            id="no-body-parameters",
        ),
        pytest.param(
            template("order_update", "en_US", texts("body", "860198-230332", "May 31", "extra")),
            COUNT,
            "body: number of localizable_params (3) does not match the expected number of params (2)",
            id="one-too-many",
        ),
        pytest.param(
            template("order_update", "en_US", texts("header", "Hi"), texts("body", "1", "2")),
            COUNT,
            "header: number of localizable_params (1) does not match the expected number of params (0)",
            id="header-it-does-not-have",
        ),
        pytest.param(
            changed(PROMOTION, components=PROMOTION["template"]["components"][1:]),
            FORMAT,
            "header: Format mismatch, expected IMAGE, received UNKNOWN",
            id="image-header-missing",
        ),
        pytest.param(
            changed(
                PROMOTION,
                components=[
                    {"type": "header", "parameters": [{"type": "video", "video": {"id": "1"}}]},
                    *PROMOTION["template"]["components"][1:],
                ],
            ),
            FORMAT,
            "header: Format mismatch, expected IMAGE, received VIDEO",
            id="video-for-image",
        ),
        pytest.param(
            template("order_update", "en_US", named("body", first="860198-230332", second="May 31")),
            FORMAT,
            "this template's are positional",
            id="names-on-a-positional-template",
        ),
        pytest.param(
            template(
                "order_confirmation",
                "en_US",
                named("header", order_number="1"),
                texts("body", "Pablo", "860198-230332"),
            ),
            FORMAT,
            "body: parameter 1 has no parameter_name; this template's parameters are named "
            "(first_name, order_number)",
            id="positional-for-named",
        ),
        pytest.param(
            template(
                "order_confirmation",
                "en_US",
                named("header", order_number="1"),
                named("body", first_name="Pablo", order_id="860198-230332"),
            ),
            FORMAT,
            "body: parameter_name order_id is not one of (first_name, order_number)",
            id="unknown-name-parameter",
        ),
        pytest.param(
            template("delivery_tracking", "en_US", texts("body", "Pablo")),
            COUNT,
            "button 1: number of localizable_params (0) does not match the expected number of params (1)",
            id="url-suffix-missing",
        ),
        pytest.param(
            template(
                "delivery_tracking",
                "en_US",
                texts("body", "Pablo"),
                button("url", "1", "text", "860198"),
                button("quick_reply", "0", "payload", "CALL"),
            ),
            FORMAT,
            "button: Format mismatch at index 0, expected PHONE_NUMBER, received QUICK_REPLY",
            id="quick-reply-on-a-phone-button",
        ),
        pytest.param(
            template(
                "order_update", "en_US", texts("body", "1", "2"), button("quick_reply", "4", "payload", "X")
            ),
            FORMAT,
            "the template has no button at index 4",
            id="no-such-button",
        ),
    ],
)
def test_a_template_send_that_does_not_fit_its_template_is_refused_with_metas_code(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, body: dict[str, Any], message: str, details: str
) -> None:
    sandbox.customer_says(WA, "Hi")  # the window is open: only the template decides
    assert problems(body) == []  # Meta's document describes it; the template is what it does not fit

    error = assert_graph_error(send(sandbox, body), 400, int(message[2:8]))

    assert error["message"] == message
    assert details in error["error_data"]["details"]
    assert sandbox.sent == []
    assert sandbox.well_formed == []


@pytest.mark.parametrize(
    ("component", "complaint"),
    [
        pytest.param(
            {"type": "body", "parameters": [{"type": "text"}, {"type": "text", "text": "May 31"}]},
            "template/components/0/parameters/0: 'text' is a required property",
            id="text-parameter-without-text",
        ),
        pytest.param(
            {"type": "body", "parameters": [{"type": "image", "image": {}}, {"type": "text", "text": "x"}]},
            "template/components/0/parameters/0/image",
            id="image-without-id-or-link",
        ),
        pytest.param(
            {"type": "button", "sub_type": "quick_reply", "index": "10", "parameters": [{"type": "payload"}]},
            "template/components/0/index: '10' does not match",
            id="button-index-over-9",
        ),
        pytest.param(
            {"type": "footer", "parameters": []},
            "template/components/0/type: 'footer' is not one of",
            id="footer-takes-no-parameters",
        ),
    ],
)
def test_a_template_body_metas_document_refuses_is_a_code_100_saying_where(
    sandbox: WhatsAppSandbox, component: dict[str, Any], complaint: str
) -> None:
    body = template("order_update", "en_US", component)

    error = assert_graph_error(send(sandbox, body), 400, 100)

    assert error["message"] == "(#100) Invalid parameter"
    assert complaint in error["error_data"]["details"]
    assert sandbox.sent == []


def test_metas_own_template_examples_are_bodies_its_document_describes() -> None:
    """The corrections (language policy optional, button index 0-9) make Meta's own examples pass."""
    examples = send_examples()
    for name in (
        "Send Message Template Text",
        "Send Message Template Media",
        "Send Message Template Interactive",
    ):
        assert problems(examples[name]) == [], name
    assert problems({**examples["Send Test Message"], "recipient_type": "individual"}) == []


def test_a_paused_template_is_refused_until_meta_reinstates_it(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    sandbox.template_status("order_update", "en_US", "PAUSED")

    error = assert_graph_error(send(sandbox, ORDER_UPDATE), 400, 132015)
    assert error["message"] == "(#132015) Template is Paused"
    sandbox.template_status("order_update", "en_US", "REINSTATED")
    assert send(sandbox, ORDER_UPDATE).status_code == 200


# --- a customer stops (and resumes) marketing messages --------------------------------------------------


def marketing(sandbox: WhatsAppSandbox, value: str, customer: str = WA, **extra: Any) -> requests.Response:
    return requests.post(
        f"{sandbox.base_url}/sandbox/customers/{customer}/marketing",
        json={"value": value, **extra},
        timeout=5,
    )


def test_a_customer_who_stops_marketing_gets_no_marketing_template_until_they_resume(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    stopped = marketing(sandbox, "stop")
    assert stopped.json() == {"wa_id": WA, "marketing": "stop", "app_status": 200, "app_body": "OK"}

    error = assert_graph_error(send(sandbox, PROMOTION), 400, 131050)
    assert "stop receiving marketing messages" in error["error_data"]["details"]
    assert send(sandbox, ORDER_UPDATE).status_code == 200  # utility templates still reach them
    marketing(sandbox, "resume")
    assert send(sandbox, PROMOTION).status_code == 200


def test_the_opt_out_is_metas_user_preferences_webhook_and_the_apps_parser_takes_it(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    marketing(sandbox, "stop", name="Sheena Nelson")
    marketing(sandbox, "resume")

    stop, resume = posted(httpserver)
    assert stop == {  # the syntax of Meta's user_preferences reference, field for field
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "user_preferences",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": WA}],
                            "user_preferences": [
                                {
                                    "wa_id": WA,
                                    "detail": "User requested to stop marketing messages",
                                    "category": "marketing_messages",
                                    "value": "stop",
                                    "timestamp": int(clock.now),  # an integer here, unlike elsewhere
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    parsed = [read_webhook(WebhookPayload.model_validate(body)) for body in (stop, resume)]
    assert [p.rejected for p in parsed] == [[], []]
    assert [
        (change.phone_number_id, item.wa_id, item.value, item.at.timestamp())
        for p in parsed
        for change in p.preferences
        for item in change.preferences
    ] == [(PHONE_NUMBER_ID, WA, "stop", clock.now), (PHONE_NUMBER_ID, WA, "resume", clock.now)]


def test_a_username_only_customers_opt_out_names_their_user_id(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    marketing(sandbox, "stop", customer=USER_ID)

    [body] = posted(httpserver)
    [item] = body["entry"][0]["changes"][0]["value"]["user_preferences"]
    assert (item["wa_id"], item["user_id"]) == ("", USER_ID)
    [change] = read_webhook(WebhookPayload.model_validate(body)).preferences
    assert [p.user_id for p in change.preferences] == [USER_ID]


@pytest.mark.parametrize(
    ("customer", "body"),
    [
        pytest.param(WA, {"value": "unsubscribe"}, id="unknown-value"),
        pytest.param(WA, {}, id="no-value"),
        pytest.param("not a number!", {"value": "stop"}, id="not-a-customer"),
        pytest.param(WA, {"value": "stop", "name": 7}, id="name-not-text"),
    ],
)
def test_a_preference_the_sandbox_cannot_post_is_a_code_100(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, customer: str, body: dict[str, Any]
) -> None:
    answer = requests.post(f"{sandbox.base_url}/sandbox/customers/{customer}/marketing", json=body, timeout=5)

    assert "stop" in assert_graph_error(answer, 400, 100)["error_data"]["details"]
    assert httpserver.log == []


def test_the_opt_out_moves_with_a_customer_who_changes_number(sandbox: WhatsAppSandbox) -> None:
    marketing(sandbox, "stop")
    sandbox.change_number(WA, "12195555358")

    assert_graph_error(send(sandbox, {**PROMOTION, "to": "+12195555358"}), 400, 131050)


# --- read receipts and typing indicators ---------------------------------------------------------------


def read(wamid: str, typing: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body


def test_read_receipts_and_typing_indicators_are_recorded_per_customer(
    sandbox: WhatsAppSandbox, clock: Clock
) -> None:
    first = sandbox.customer_says(WA, "Hi")
    other = sandbox.customer_says(USER_ID, "Hello")
    clock.now += 5

    answers = [send(sandbox, read(first.wamid)), send(sandbox, read(other.wamid, typing=True))]
    clock.now += 5
    answers.append(send(sandbox, read(first.wamid, typing=True)))

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"success": True})] * 3
    shown = requests.get(f"{sandbox.base_url}/sandbox/receipts", timeout=5).json()
    at = int(clock.now)
    assert shown == {
        "conversations": [
            {
                "wa_id": WA,
                "receipts": [
                    {"message_id": first.wamid, "typing_indicator": False, "at": at - 5},
                    {"message_id": first.wamid, "typing_indicator": True, "at": at},
                ],
            },
            {
                "wa_id": "",
                "user_id": USER_ID,
                "receipts": [{"message_id": other.wamid, "typing_indicator": True, "at": at - 5}],
            },
        ]
    }
    assert [(r.customer, r.typing, r.phone_number_id) for r in sandbox.receipts] == [
        (WA, False, PHONE_NUMBER_ID),
        (USER_ID, True, PHONE_NUMBER_ID),
        (WA, True, PHONE_NUMBER_ID),
    ]
    assert sandbox.sent == []  # a receipt is no message


def test_metas_own_read_receipt_example_is_accepted(sandbox: WhatsAppSandbox) -> None:
    said = sandbox.customer_sends_media(WA, b"%PDF-1.4", "application/pdf", filename="a.pdf")
    example = {**send_examples()["Send typing indicator and read receipt"], "message_id": said.wamid}

    assert send(sandbox, example).json() == {"success": True}
    assert [r.typing for r in sandbox.receipts] == [True]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        pytest.param(read("wamid.never-received"), "is not a message a customer sent", id="unknown-message"),
        pytest.param({**read("x"), "message_id": None}, "message_id", id="no-message-id"),
        pytest.param(
            {**read("x"), "typing_indicator": {"type": "audio"}}, "'audio' is not one of", id="typing"
        ),
        pytest.param({**read("x"), "status": "delivered"}, "'delivered' is not one of", id="not-read"),
        pytest.param({**read("x"), "to": "+" + WA}, "'to' was unexpected", id="extra-field"),
    ],
)
def test_a_receipt_meta_would_refuse_is_a_code_100(
    sandbox: WhatsAppSandbox, body: dict[str, Any], complaint: str
) -> None:
    error = assert_graph_error(send(sandbox, body), 400, 100)

    assert complaint in error["error_data"]["details"]
    assert sandbox.receipts == []


# --- message_template_status_update --------------------------------------------------------------------


def template_status(sandbox: WhatsAppSandbox, **body: Any) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/sandbox/template-status", json=body, timeout=5)


def test_a_template_status_change_posts_metas_webhook_and_changes_the_listing(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, clock: Clock
) -> None:
    answer = template_status(sandbox, name="order_update", language="de_DE", event="APPROVED")

    assert answer.status_code == 200
    shown = answer.json()
    assert (shown["template"]["status"], shown["app_status"], shown["app_body"]) == ("APPROVED", 200, "OK")
    [body] = posted(httpserver)  # signed with the app secret
    assert body == {  # the syntax of Meta's message_template_status_update reference
        "entry": [
            {
                "id": WABA_ID,
                "time": int(clock.now),
                "changes": [
                    {
                        "value": {
                            "event": "APPROVED",
                            "message_template_id": int(shown["template"]["id"]),
                            "message_template_name": "order_update",
                            "message_template_language": "de-DE",
                            "reason": "NONE",
                            "message_template_category": "UTILITY",
                        },
                        "field": "message_template_status_update",
                    }
                ],
            }
        ],
        "object": "whatsapp_business_account",
    }
    [event] = read_webhook(WebhookPayload.model_validate(body)).account_events  # the app's parser
    assert (event.field, event.waba_id) == ("message_template_status_update", WABA_ID)
    assert isinstance(event.value, TemplateStatusUpdate)
    assert (event.value.event, event.value.message_template_name) == ("APPROVED", "order_update")
    german = template("order_update", "de_DE", texts("body", "860198-230332", "31. Mai"))
    assert send(sandbox, german).status_code == 200  # approved now


def test_a_rejected_template_leaves_the_approved_listing_and_cannot_be_sent(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    answer = template_status(
        sandbox, name="seasonal_promotion", language="en_US", event="REJECTED", reason="PROMOTIONAL"
    )

    assert answer.json()["template"]["status"] == "REJECTED"
    assert posted(httpserver)[0]["entry"][0]["changes"][0]["value"]["reason"] == "PROMOTIONAL"
    approved = listed(sandbox, status="APPROVED").json()["data"]
    assert "seasonal_promotion" not in {t["name"] for t in approved}
    assert_graph_error(send(sandbox, PROMOTION), 400, 132001)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        pytest.param(
            {"name": "nope", "language": "en_US", "event": "APPROVED"}, "no template nope", id="unknown"
        ),
        pytest.param({"name": "order_update", "language": "en_US", "event": "LIKED"}, "event", id="event"),
        pytest.param(
            {"name": "order_update", "language": "en_US", "event": "REJECTED", "reason": "UGLY"},
            "reason",
            id="reason",
        ),
        pytest.param({"name": "order_update", "event": "APPROVED"}, "language", id="no-language"),
    ],
)
def test_a_template_status_the_sandbox_cannot_post_is_a_code_100(
    sandbox: WhatsAppSandbox, httpserver: HTTPServer, body: dict[str, Any], complaint: str
) -> None:
    error = assert_graph_error(template_status(sandbox, **body), 400, 100)

    assert complaint in error["error_data"]["details"]
    assert httpserver.log == []
    assert {t["status"] for t in sandbox.templates if t["name"] == "order_update"} == {"APPROVED", "PENDING"}


# --- `make customer-says ... MARKETING=stop|resume` -----------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command as `make customer-says` runs it, its settings from this test rather than the files."""
    import devhost.__main__

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    monkeypatch.setattr(devhost.__main__, "load_local_settings", lambda: {})
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)


def preferences_posted(httpserver: HTTPServer) -> list[tuple[str, str]]:
    return [
        (item["wa_id"], item["value"])
        for body in posted(httpserver)
        for change in body["entry"][0]["changes"]
        for item in change["value"].get("user_preferences", [])
    ]


def test_customer_says_opts_out_through_the_sandbox(
    cli: None, sandbox: WhatsAppSandbox, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devhost.__main__ import main

    monkeypatch.setenv("WHATSAPP_GRAPH_BASE_URL", sandbox.base_url)

    assert main(["customer-says", "--wa", WA, "--text", "Please stop the offers", "--marketing", "stop"]) == 0

    assert preferences_posted(httpserver) == [(WA, "stop")]
    assert_graph_error(send(sandbox, PROMOTION), 400, 131050)  # the sandbox knows, as Meta would


def test_customer_says_posts_the_preference_itself_when_no_sandbox_runs(
    cli: None, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devhost.__main__ import main

    httpserver.expect_request(WEBHOOK, method="POST").respond_with_data("OK")
    monkeypatch.setenv("WHATSAPP_GRAPH_BASE_URL", "https://graph.facebook.com")
    url = httpserver.url_for("/").rstrip("/")

    assert main(["customer-says", "--wa", WA, "--marketing", "resume", "--url", url]) == 0

    assert preferences_posted(httpserver) == [(WA, "resume")]  # signed with the app secret


# --- the app itself takes both webhooks -----------------------------------------------------------------


@pytest.fixture
def app_url(services: Services) -> Iterator[str]:
    from function_app import app

    host = LocalFunctionsHost(app, {}, QueueRules(), port=0, run_queue_triggers=False)
    host.start_in_background()
    yield f"{host.base_url}/api"
    host.stop()


@pytest.fixture
def app_clock() -> Clock:
    """Behind the real clock, so nothing the sandbox dates is in the app's future."""
    return Clock(time.time() - 600)


@pytest.fixture
def app_sandbox(
    app_url: str, services: Services, phone_number_id: str, app_clock: Clock
) -> Iterator[WhatsAppSandbox]:
    """Meta as `make run` starts it, posting to the app's webhook."""
    served = WhatsAppSandbox(
        webhook_url=f"{app_url}/whatsapp/webhook",
        app_secret=THE_APPS_SECRET,  # the app's own, so it takes the webhooks
        access_token=TEST_SETTINGS["WHATSAPP_ACCESS_TOKEN"],
        phone_number_id=phone_number_id,
        status_delays=(),
        clock=app_clock,
        retry_delays=(),
    )
    served.start_in_background()
    yield served
    served.stop()


def opted_out(app_url: str, phone_number_id: str, customer: str) -> bool:
    answer = requests.get(
        f"{app_url}/conversations/{customer}/session", params={"phoneNumberId": phone_number_id}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["marketingOptOut"])


def test_the_app_takes_a_customers_opt_out_and_resume_from_the_sandbox(
    app_url: str, app_sandbox: WhatsAppSandbox, app_clock: Clock, phone_number_id: str
) -> None:
    assert app_sandbox.customer_says(WA, "Hi").app_status == 200
    assert opted_out(app_url, phone_number_id, WA) is False

    stop = marketing(app_sandbox, "stop").json()

    assert (stop["app_status"], json.loads(stop["app_body"])["rejected"]) == (200, 0)
    assert opted_out(app_url, phone_number_id, WA) is True
    app_clock.now += 60
    assert marketing(app_sandbox, "resume").json()["app_status"] == 200
    assert opted_out(app_url, phone_number_id, WA) is False


def test_the_app_acknowledges_a_template_status_change(app_url: str, app_sandbox: WhatsAppSandbox) -> None:
    answer = template_status(app_sandbox, name="order_update", language="es_ES", event="PAUSED").json()

    assert (answer["app_status"], json.loads(answer["app_body"])["rejected"]) == (200, 0)
