"""Message templates: the picker's list (read from Meta, every page, cached in Cosmos DB, refreshed by a
status webhook), and sending one on the Send route, window open or closed, checked against the
template before anything leaves. Meta is the stand-in of tests/test_send.py: every body it receives is
checked against Meta's OpenAPI document, template components and parameters included."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, mirror_for
from shared.config import Settings
from shared.conversations.documents import conversation_id
from shared.conversations.queue_messages import MirrorRequest
from shared.services import Services
from shared.templates.catalog import REFRESH_AFTER
from tests.api import deliver
from tests.media_files import pdf, png
from tests.payloads import account_field, user_preferences
from tests.test_media import upload
from tests.test_send import WA, Meta, customer_writes, outbound, send

# Shaped as Meta's `GET /{WABA-ID}/message_templates` returns them (its OpenAPI example response;
# components as in "Template components" and "Authentication templates").
ORDER_UPDATE: dict[str, Any] = {  # positional, a text header, a quick reply then a URL button
    "id": "1001",
    "name": "order_update",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["1234"]}},
        {
            "type": "BODY",
            "text": "Hi {{1}}, your order {{2}} ships today.",
            "example": {"body_text": [["Ada", "1234"]]},
        },
        {"type": "FOOTER", "text": "Shop Example"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {
                    "type": "URL",
                    "text": "Track",
                    "url": "https://shop.example.com/track/{{1}}",
                    "example": ["https://shop.example.com/track/1234"],
                },
            ],
        },
    ],
}
WELCOME_OFFER: dict[str, Any] = {  # named, marketing
    "id": "1002",
    "name": "welcome_offer",
    "language": "en",
    "status": "APPROVED",
    "category": "MARKETING",
    "parameter_format": "NAMED",
    "components": [
        {
            "type": "BODY",
            "text": "Hi {{first_name}}, use {{code}} for 10% off.",
            "example": {
                "body_text_named_params": [
                    {"param_name": "first_name", "example": "Ada"},
                    {"param_name": "code", "example": "WELCOME10"},
                ]
            },
        },
        {"type": "FOOTER", "text": "Not interested? Tap Stop"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]},
    ],
}
RECEIPT_IMAGE: dict[str, Any] = {  # an image header
    "id": "1003",
    "name": "receipt_image",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent.example/x"]}},
        {"type": "BODY", "text": "Here is your receipt, {{1}}.", "example": {"body_text": [["Ada"]]}},
    ],
}
INVOICE_DOCUMENT: dict[str, Any] = {  # a document header, no variables
    "id": "1004",
    "name": "invoice_document",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "DOCUMENT"},
        {"type": "BODY", "text": "Your invoice is attached."},
    ],
}
VERIFICATION_CODE: dict[str, Any] = {  # authentication: the code in the body and on the button at 0
    "id": "1005",
    "name": "verification_code",
    "language": "en_US",
    "status": "APPROVED",
    "category": "AUTHENTICATION",
    "components": [
        {
            "type": "BODY",
            "text": "*{{1}}* is your verification code.",
            "example": {"body_text": [["123456"]]},
        },
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ],
}
PAUSED_NOTICE: dict[str, Any] = {
    "id": "1006",
    "name": "paused_notice",
    "language": "en_US",
    "status": "PAUSED",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Paused for quality."}],
}
CAROUSEL_PROMO: dict[str, Any] = {  # approved, but nothing this app can fill
    "id": "1007",
    "name": "carousel_promo",
    "language": "en_US",
    "status": "APPROVED",
    "category": "MARKETING",
    "components": [{"type": "BODY", "text": "See our picks"}, {"type": "CAROUSEL", "cards": []}],
}
REJECTED_PROMO: dict[str, Any] = {
    **PAUSED_NOTICE,
    "id": "1008",
    "name": "rejected_promo",
    "status": "REJECTED",
}
CATALOG = [
    WELCOME_OFFER,
    ORDER_UPDATE,
    RECEIPT_IMAGE,
    INVOICE_DOCUMENT,
    VERIFICATION_CODE,
    PAUSED_NOTICE,
    CAROUSEL_PROMO,
    REJECTED_PROMO,
]


@pytest.fixture
def waba() -> str:
    """An account of its own per test: its cached templates are a partition no other test touches."""
    return str(random.randrange(10**14, 10**15))


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services, waba: str) -> Iterator[Meta]:
    services.settings.WHATSAPP_BUSINESS_ACCOUNT_ID = waba
    stand_in = Meta(httpserver, services)
    stand_in.has_templates(waba, copy.deepcopy(CATALOG), per_page=3)
    yield stand_in
    stand_in.received  # noqa: B018 - checks every body the app sent against Meta's OpenAPI document
    httpserver.clear()


def templates(client: Client, phone_number_id: str) -> Any:
    return client.get("/api/templates", query_string={"phoneNumberId": phone_number_id})


def send_template(client: Client, phone_number_id: str, name: str, language: str, **parameters: Any) -> Any:
    template = {"name": name, "language": language, "parameters": parameters}
    return send(client, phone_number_id, type="template", template=template, clientMessageId=f"t-{name}")


def order_update(client: Client, phone_number_id: str, **overrides: Any) -> Any:
    parameters = {"header": ["1234"], "body": ["Ada", "1234"], "buttons": [{"index": 1, "value": "1234"}]}
    return send_template(client, phone_number_id, "order_update", "en_US", **{**parameters, **overrides})


BASE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+" + WA, "type": "template"}


# --- the picker --------------------------------------------------------------------------------------


def test_the_picker_lists_the_approved_templates_with_what_each_needs(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    response = templates(client, phone_number_id)
    assert response.status_code == 200, response.text
    listed = response.json["templates"]
    # approved only, fillable only (no carousel), by name then language
    assert [(t["name"], t["language"]) for t in listed] == [
        ("invoice_document", "en_US"),
        ("order_update", "en_US"),
        ("receipt_image", "en_US"),
        ("verification_code", "en_US"),
        ("welcome_offer", "en"),
    ]
    order = listed[1]
    assert order["components"] == ORDER_UPDATE["components"]  # as Meta returns them
    assert (order["category"], order["status"], order["parameterFormat"]) == (
        "UTILITY",
        "APPROVED",
        "POSITIONAL",
    )
    assert order["parameters"] == [
        {
            "component": "header",
            "name": None,
            "index": 1,
            "buttonIndex": None,
            "type": "text",
            "example": "1234",
        },
        {
            "component": "body",
            "name": None,
            "index": 1,
            "buttonIndex": None,
            "type": "text",
            "example": "Ada",
        },
        {
            "component": "body",
            "name": None,
            "index": 2,
            "buttonIndex": None,
            "type": "text",
            "example": "1234",
        },
        {
            "component": "button",
            "name": None,
            "index": 1,
            "buttonIndex": 1,
            "type": "text",
            "example": "1234",
        },
    ]
    assert order["preview"] == "Order {{1}}\n\nHi {{1}}, your order {{2}} ships today.\n\nShop Example"
    welcome = listed[4]
    assert [(p["name"], p["example"]) for p in welcome["parameters"]] == [
        ("first_name", "Ada"),
        ("code", "WELCOME10"),
    ]
    assert listed[2]["parameters"][0]["type"] == "image"
    assert listed[3]["parameters"][-1] == {
        "component": "button",
        "name": None,
        "index": 1,
        "buttonIndex": 0,
        "type": "text",
        "example": None,
    }


def test_every_page_of_metas_list_is_read_on_the_graph_host(
    client: Client, meta: Meta, phone_number_id: str, waba: str
) -> None:
    assert templates(client, phone_number_id).status_code == 200
    reads = meta.template_reads(waba)
    assert len(reads) == 3  # 8 templates, 3 a page
    first = reads[0]
    assert first.args["fields"] == "id,name,language,status,category,parameter_format,components"
    assert [r.args.get("after") for r in reads] == [None, "3", "6"]  # Meta's own next URLs
    assert all(r.headers["Authorization"] == "Bearer test-access-token" for r in reads)


def test_a_next_page_off_the_graph_host_is_never_asked_for(
    client: Client, httpserver: HTTPServer, services: Services, phone_number_id: str, waba: str
) -> None:
    services.settings.WHATSAPP_BUSINESS_ACCOUNT_ID = waba
    meta = Meta(httpserver, services)
    elsewhere = HTTPServer(host="127.0.0.1", port=0)
    elsewhere.start()
    try:
        page = {"data": [ORDER_UPDATE], "paging": {"next": elsewhere.url_for(meta.templates_path(waba))}}
        httpserver.expect_request(meta.templates_path(waba)).respond_with_json(page)
        response = templates(client, phone_number_id)
        assert elsewhere.log == []  # the token never went there
    finally:
        elsewhere.stop()
    assert response.status_code == 502
    assert response.json["error"]["code"] == "meta_unavailable"


def test_metas_list_is_read_once_within_five_minutes(
    client: Client, meta: Meta, services: Services, phone_number_id: str, waba: str
) -> None:
    now = datetime.now(UTC)
    services.clock = lambda: now
    for _ in range(3):
        assert templates(client, phone_number_id).status_code == 200
    order_update(client, phone_number_id)  # a send checks the same cached templates
    assert len(meta.template_reads(waba)) == 3  # one read of Meta's list: its three pages
    later = now + REFRESH_AFTER + timedelta(seconds=1)
    services.clock = lambda: later
    assert templates(client, phone_number_id).status_code == 200
    assert len(meta.template_reads(waba)) == 6  # read afresh


def test_a_template_status_webhook_refreshes_the_list(
    client: Client, meta: Meta, httpserver: HTTPServer, phone_number_id: str, waba: str
) -> None:
    assert "paused_notice" not in [t["name"] for t in templates(client, phone_number_id).json["templates"]]
    httpserver.clear_all_handlers()
    reinstated = {**PAUSED_NOTICE, "status": "APPROVED"}
    meta.has_templates(waba, [ORDER_UPDATE, reinstated], per_page=3)
    event = {**TEMPLATE_EVENT, "event": "REINSTATED", "message_template_name": "paused_notice"}
    deliver(client, account_field("message_template_status_update", event, waba_id=waba))
    names = [t["name"] for t in templates(client, phone_number_id).json["templates"]]
    assert names == ["order_update", "paused_notice"]


def test_a_status_webhook_for_an_account_never_read_writes_nothing(
    client: Client, services: Services, waba: str
) -> None:
    deliver(client, account_field("message_template_status_update", TEMPLATE_EVENT, waba_id=waba))
    assert services.store.read(f"templates:{waba}", "catalog") is None


def test_the_cached_list_is_served_while_meta_fails(
    client: Client, meta: Meta, httpserver: HTTPServer, services: Services, phone_number_id: str, waba: str
) -> None:
    assert templates(client, phone_number_id).status_code == 200
    httpserver.clear_all_handlers()
    httpserver.expect_request(meta.templates_path(waba)).respond_with_json(
        {"error": {"message": "(#1) An unknown error occurred", "code": 1}}, status=500
    )
    services.clock = lambda: datetime.now(UTC) + REFRESH_AFTER * 2
    response = templates(client, phone_number_id)
    assert response.status_code == 200
    assert len(response.json["templates"]) == 5


def test_meta_failing_with_nothing_cached_is_a_502(
    client: Client, httpserver: HTTPServer, services: Services, phone_number_id: str, waba: str
) -> None:
    services.settings.WHATSAPP_BUSINESS_ACCOUNT_ID = waba
    meta = Meta(httpserver, services)
    httpserver.expect_request(meta.templates_path(waba)).respond_with_json(
        {"error": {"message": "Invalid OAuth access token", "type": "OAuthException", "code": 190}},
        status=401,
    )
    response = templates(client, phone_number_id)
    assert response.status_code == 502
    assert response.json["error"]["code"] == "meta_unavailable"


def test_a_number_without_an_account_has_no_templates(
    client: Client, meta: Meta, services: Services, phone_number_id: str
) -> None:
    services.settings.WHATSAPP_BUSINESS_ACCOUNT_ID = ""
    response = templates(client, phone_number_id)
    assert (response.status_code, response.json["error"]["code"]) == (503, "not_configured")
    customer_writes(client, phone_number_id)
    sent = order_update(client, phone_number_id)
    assert (sent.status_code, sent.json["error"]["code"]) == (400, "template_not_found")
    assert "WHATSAPP_BUSINESS_ACCOUNT_ID" in sent.json["error"]["message"]
    assert meta.received == []


def test_each_number_takes_its_own_account_and_a_malformed_map_is_refused() -> None:
    settings = Settings(
        WHATSAPP_BUSINESS_ACCOUNT_ID="111", WHATSAPP_BUSINESS_ACCOUNT_IDS=" 100200300400:222 ,500600:333"
    )
    assert [settings.waba_for(n) for n in ("100200300400", "500600", "999")] == ["222", "333", "111"]
    for bad in ("100200300400", "1002:x", "abc:123", "1:2,1:3", "1:2:3"):
        with pytest.raises(ValidationError) as refused:
            Settings(WHATSAPP_BUSINESS_ACCOUNT_IDS=bad)
        assert "WHATSAPP_BUSINESS_ACCOUNT_IDS" in str(refused.value)
    with pytest.raises(ValidationError):
        Settings(WHATSAPP_BUSINESS_ACCOUNT_ID="12a")


# --- sending one -------------------------------------------------------------------------------------


def test_a_template_goes_out_with_the_window_closed_and_a_text_still_does_not(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    meta.accepts(phone_number_id, wamid="wamid.T1")
    refused = send(client, phone_number_id, type="text", text="hello?")  # the customer never wrote
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "session_inactive")
    response = order_update(client, phone_number_id)
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received == {
        **BASE,
        "biz_opaque_callback_data": "out:t-order_update",
        "template": {
            "name": "order_update",
            "language": {"policy": "deterministic", "code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "1234"}]},
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "1234"}],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "1",
                    "parameters": [{"type": "text", "text": "1234"}],
                },
            ],
        },
    }
    shown = response.json
    assert (shown["kind"], shown["wamid"], shown["status"]) == ("template", "wamid.T1", "accepted")
    assert shown["text"] == "Order 1234\n\nHi Ada, your order 1234 ships today.\n\nShop Example"
    assert shown["template"] == {"name": "order_update", "language": "en_US", "category": "UTILITY"}
    [history] = outbound(client, phone_number_id)
    assert (history["text"], history["template"]) == (shown["text"], shown["template"])


def test_a_named_template_names_each_parameter(client: Client, meta: Meta, phone_number_id: str) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    response = send_template(
        client, phone_number_id, "welcome_offer", "en", body={"code": "WELCOME10", "first_name": "Ada"}
    )
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received["template"] == {
        "name": "welcome_offer",
        "language": {"policy": "deterministic", "code": "en"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Ada", "parameter_name": "first_name"},
                    {"type": "text", "text": "WELCOME10", "parameter_name": "code"},
                ],
            }
        ],
    }
    assert response.json["text"] == "Hi Ada, use WELCOME10 for 10% off.\n\nNot interested? Tap Stop"
    assert response.json["template"]["category"] == "MARKETING"


def test_a_media_header_sends_our_upload_by_metas_media_id(
    client: Client, meta: Meta, httpserver: HTTPServer, phone_number_id: str
) -> None:
    uploaded = upload(client, png(), "receipt.png")
    assert uploaded.status_code == 201, uploaded.text
    httpserver.expect_request(f"/v23.0/{phone_number_id}/media", method="POST").respond_with_json(
        {"id": "777"}
    )
    meta.accepts(phone_number_id)
    response = send_template(
        client,
        phone_number_id,
        "receipt_image",
        "en_US",
        header=[{"mediaUrl": uploaded.json["mediaUrl"]}],
        body=["Ada"],
    )
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "image", "image": {"id": "777"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ada"}]},
    ]
    assert response.json["media"]["blobName"] == uploaded.json["blobName"]  # the history keeps our file
    assert response.json["text"] == "Here is your receipt, Ada."


def test_a_document_header_goes_with_its_name(
    client: Client, meta: Meta, httpserver: HTTPServer, phone_number_id: str
) -> None:
    uploaded = upload(client, pdf(), "March invoice.pdf")
    assert uploaded.status_code == 201, uploaded.text
    httpserver.expect_request(f"/v23.0/{phone_number_id}/media", method="POST").respond_with_json(
        {"id": "778"}
    )
    meta.accepts(phone_number_id)
    response = send_template(
        client, phone_number_id, "invoice_document", "en_US", header=[{"mediaUrl": uploaded.json["mediaUrl"]}]
    )
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received["template"]["components"] == [
        {
            "type": "header",
            "parameters": [{"type": "document", "document": {"id": "778", "filename": "March-invoice.pdf"}}],
        }
    ]


def test_an_authentication_code_goes_in_the_body_and_on_the_first_button(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    meta.accepts(phone_number_id)
    response = send_template(
        client,
        phone_number_id,
        "verification_code",
        "en_US",
        body=["123456"],
        buttons=[{"index": 0, "value": "123456"}],
    )
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received["template"]["components"][1] == {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "123456"}],
    }


@pytest.mark.parametrize(
    ("name", "language", "parameters", "code", "message"),
    [
        (
            "welcome_offer",
            "en",
            {"body": {"first_name": "Ada"}},
            "invalid_request",
            "template welcome_offer (en): body parameter code is missing",
        ),
        (
            "welcome_offer",
            "en",
            {"body": {"first_name": "Ada", "code": "X", "surname": "L"}},
            "invalid_request",
            "template welcome_offer (en): unexpected body parameter surname",
        ),
        (
            "welcome_offer",
            "en",
            {"body": ["Ada", "X"]},
            "invalid_request",
            "template welcome_offer (en): body parameters are named: give an object with first_name, code",
        ),
        (
            "order_update",
            "en_US",
            {"header": ["1"], "body": ["Ada", "1234", "extra"], "buttons": [{"index": 1, "value": "x"}]},
            "invalid_request",
            "template order_update (en_US): unexpected body parameter 3",
        ),
        (
            "order_update",
            "en_US",
            {"header": ["1"], "body": ["Ada", "1234"]},
            "invalid_request",
            "template order_update (en_US): button 1 parameter is missing",
        ),
        (
            "order_update",
            "en_US",
            {
                "header": ["1"],
                "body": ["Ada", "1234"],
                "buttons": [{"index": 1, "value": "x"}, {"index": 0, "value": "y"}],
            },
            "invalid_request",
            "template order_update (en_US): unexpected button parameter for button 0",
        ),
        (
            "order_update",
            "en_US",
            {"header": ["1"], "body": ["Ada", "line one\nline two"], "buttons": [{"index": 1, "value": "x"}]},
            "invalid_request",
            "template order_update (en_US): body parameter 2 may not hold a line break",
        ),
        (
            "receipt_image",
            "en_US",
            {"header": ["not a file"], "body": ["Ada"]},
            "invalid_request",
            "template receipt_image (en_US): header needs an image: give mediaUrl of one of our uploads",
        ),
        (
            "receipt_image",
            "en_US",
            {"body": ["Ada"]},
            "invalid_request",
            "template receipt_image (en_US): header needs an image: give mediaUrl of one of our uploads",
        ),
        (
            "receipt_image",
            "en_US",
            {"header": [{"mediaUrl": "http://cdn.example.com/a.png"}], "body": ["Ada"]},
            "invalid_request",
            "template receipt_image (en_US): header needs an image: mediaUrl must be an https:// URL",
        ),
        (
            "invoice_document",
            "en_US",
            {"body": ["surprise"]},
            "invalid_request",
            "header needs a document: give mediaUrl of one of our uploads",
        ),
        (
            "no_such_template",
            "en_US",
            {},
            "template_not_found",
            "There is no template no_such_template (en_US)",
        ),
        ("order_update", "fr", {}, "template_not_found", "There is no template order_update (fr)"),
        (
            "paused_notice",
            "en_US",
            {},
            "template_not_found",
            "is paused: only approved templates can be sent",
        ),
        ("rejected_promo", "en_US", {}, "template_not_found", "is rejected"),
        (
            "carousel_promo",
            "en_US",
            {},
            "template_not_found",
            "has a carousel component, which this app cannot",
        ),
    ],
    ids=[
        "named-missing",
        "named-extra",
        "named-given-a-list",
        "positional-extra",
        "button-missing",
        "button-extra",
        "line-break",
        "text-for-an-image-header",
        "no-image-for-an-image-header",
        "plain-http-image",
        "document-header-missing-first",
        "unknown-template",
        "unknown-language",
        "paused",
        "rejected",
        "unsupported",
    ],
)
def test_a_template_that_does_not_fit_is_refused_before_anything_leaves(
    client: Client,
    meta: Meta,
    phone_number_id: str,
    name: str,
    language: str,
    parameters: dict[str, Any],
    code: str,
    message: str,
) -> None:
    customer_writes(client, phone_number_id)
    response = send_template(client, phone_number_id, name, language, **parameters)
    assert response.status_code == 400, response.text
    assert response.json["error"]["code"] == code
    assert message in response.json["error"]["message"]
    assert meta.received == []
    assert outbound(client, phone_number_id) == []


def test_an_upload_of_another_kind_is_refused_for_an_image_header(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    uploaded = upload(client, pdf(), "receipt.pdf")
    response = send_template(
        client,
        phone_number_id,
        "receipt_image",
        "en_US",
        header=[{"mediaUrl": uploaded.json["mediaUrl"]}],
        body=["Ada"],
    )
    assert response.status_code == 400
    assert response.json["error"]["message"] == (
        "template receipt_image (en_US): header needs an image, and the uploaded file is a document"
    )
    assert meta.received == []


def test_a_marketing_template_is_never_sent_to_a_customer_who_opted_out(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    deliver(client, user_preferences(phone_number_id, WA, "stop", int(datetime.now(UTC).timestamp())))
    meta.accepts(phone_number_id)
    refused = send_template(
        client, phone_number_id, "welcome_offer", "en", body={"first_name": "Ada", "code": "X"}
    )
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "marketing_opt_out")
    assert meta.received == []
    assert order_update(client, phone_number_id).status_code == 202  # a utility template still goes


def test_the_same_client_message_id_sends_a_template_once(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    meta.accepts(phone_number_id, wamid="wamid.ONCE")
    first, again = order_update(client, phone_number_id), order_update(client, phone_number_id)
    assert first.status_code == again.status_code == 202
    assert len(meta.received) == 1
    other = order_update(client, phone_number_id, body=["Grace", "1234"])
    assert (other.status_code, other.json["error"]["code"]) == (409, "client_message_id_reused")


@pytest.mark.mirror_on
def test_the_dataverse_row_shows_the_template_as_the_customer_read_it(
    client: Client, meta: Meta, services: Services, httpserver: HTTPServer, phone_number_id: str
) -> None:
    dataverse = DataverseStandIn(httpserver)
    dataverse.provision()
    meta.accepts(phone_number_id)
    assert order_update(client, phone_number_id).status_code == 202
    conv = conversation_id(phone_number_id, WA)
    mirror_for(dataverse, services.store).mirror(MirrorRequest(conversation_id=conv, id="out:t-order_update"))
    [row] = dataverse.requests_to("PATCH")
    assert row.body["description"] == "Order 1234\n\nHi Ada, your order 1234 ships today.\n\nShop Example"
    assert row.body["wa_kind"] == "template"
    assert "Order 1234" in row.body["subject"]


TEMPLATE_EVENT: dict[str, Any] = {  # Meta's message_template_status_update reference, "approved"
    "event": "APPROVED",
    "message_template_id": 1689556908129835,
    "message_template_name": "order_update",
    "message_template_language": "en_US",
    "reason": "NONE",
    "message_template_category": "UTILITY",
}


def test_the_template_json_the_stand_in_checks_is_metas(meta: Meta) -> None:
    """The stand-in refuses what Meta's document refuses in a template (so the checks above bite)."""
    from tests.meta_openapi import problems

    body = {**BASE, "template": {"name": "x", "language": {"code": "en_US"}}}
    assert problems(body) == []
    wrong = copy.deepcopy(body)
    wrong["template"]["components"] = [{"type": "body", "parameters": [{"type": "text"}]}]
    assert problems(wrong)  # a text parameter without its text


# --- hostile input -----------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_names = st.sampled_from(["order_update", "welcome_offer", "receipt_image", "verification_code", "x"])
_values = st.lists(st.text(max_size=20) | _json, max_size=4) | st.dictionaries(st.text(max_size=12), _json)
_parameters = st.fixed_dictionaries(
    {}, optional={"header": _values, "body": _values, "buttons": st.lists(_json, max_size=3)}
)


@given(
    template=st.one_of(
        _json,
        st.fixed_dictionaries(
            {"name": _names, "language": st.sampled_from(["en_US", "en", "xx"])},
            optional={"parameters": _parameters | _json},
        ),
    )
)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_template_body_makes_the_send_route_answer_5xx(
    client: Client, meta: Meta, phone_number_id: str, template: Any
) -> None:
    meta.accepts(phone_number_id)
    response = send(client, phone_number_id, type="template", template=template)
    assert response.status_code < 500, response.text
    assert response.status_code in (202, 400, 409), response.text


@given(params=st.dictionaries(st.sampled_from(["phoneNumberId", "regarding", "x"]), st.text(max_size=40)))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_query_makes_the_template_route_answer_5xx(
    client: Client, meta: Meta, params: dict[str, str]
) -> None:
    response = client.get("/api/templates", query_string=params)
    assert response.status_code < 500 or response.json["error"]["code"] == "not_configured", response.text


def test_the_template_route_answers_as_the_openapi_document_says(
    services: Services, app_functions: list[Any], meta: Meta
) -> None:
    """tests/test_openapi.py's check, with an account configured and Meta's list served."""
    import schemathesis
    from schemathesis import Case, GenerationMode

    from devhost.host import HttpFunctions
    from tests.test_openapi import CHECKS

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", HttpFunctions(app_functions))
    operation = schema["/templates"]["GET"]
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @given(case=strategy)
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def conforms(case: Case[Any]) -> None:
        case.call_and_validate(checks=CHECKS)

    conforms()


def test_metas_own_marketing_refusal_is_a_409_too(client: Client, meta: Meta, phone_number_id: str) -> None:
    """Meta may know of the opt-out before its user_preferences webhook reaches the app: 131050."""
    assert templates(client, phone_number_id).status_code == 200  # read before Meta's ordered refusal
    meta.refuses(phone_number_id, 131050, details="User has chosen to stop receiving marketing messages")
    response = send_template(
        client, phone_number_id, "welcome_offer", "en", body={"first_name": "A", "code": "X"}
    )
    assert (response.status_code, response.json["error"]["code"]) == (409, "marketing_opt_out")
    assert outbound(client, phone_number_id)[0]["status"] == "failed"


def test_a_large_catalog_is_kept_in_parts_and_a_crossed_refresh_reads_meta_again(
    client: Client,
    meta: Meta,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    phone_number_id: str,
    waba: str,
) -> None:
    from shared.templates import catalog

    monkeypatch.setattr(catalog, "PART_BYTES", 2000)  # a few templates a document, as 1 MB would be
    assert len(templates(client, phone_number_id).json["templates"]) == 5
    partition = f"templates:{waba}"
    head = services.store.read(partition, "catalog")
    assert head is not None
    assert head["parts"] > 1
    assert head["templates"] == []
    assert len(templates(client, phone_number_id).json["templates"]) == 5  # read back from the parts
    assert len(meta.template_reads(waba)) == 3
    services.store.update(partition, "catalog:part:0", lambda part: {**(part or {}), "generation": "other"})
    assert len(templates(client, phone_number_id).json["templates"]) == 5
    assert len(meta.template_reads(waba)) == 6  # parts of another refresh: read Meta again
