"""What Meta tells us besides messages: when the window closes (issue 11, item 4) and the other fields of
the same subscription (item 8): marketing opt-outs, account, number and template events, pricing.

Payload sources: tests/payloads.py builders, each citing Meta's reference page or WHATSAPP-NOTES.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from werkzeug.test import Client

from shared.conversations.documents import MessageDocument, conversation_id
from shared.conversations.session_window import opens_window
from shared.services import Services
from tests.api import deliver, messages
from tests.payloads import (
    ACCOUNT_DISABLED,
    MESSAGE_TYPES,
    QUALITY_THROUGHPUT_UPGRADE,
    SERVICE_PRICING,
    TEMPLATE_REJECTED,
    account_field,
    contact,
    envelope,
    error_131047,
    inbound,
    message,
    meta_conversation,
    new_wamid,
    now_ts,
    status,
    user_preferences,
)

WA = "447700900123"


def session(client: Client, phone_number_id: str, customer: str = WA) -> dict[str, Any]:
    response = client.get(
        f"/api/conversations/{customer}/session", query_string={"phoneNumberId": phone_number_id}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json
    return found


def business_app_message(wamid: str) -> dict[str, Any]:
    """An outbound message we can see today: sent from the WhatsApp Business app (`smb_message_echoes`,
    ../shared/whatsapp-payloads/smb_message_echo_text.json, PYWA outgoing_message.json "text")."""
    return {
        "from": "15550001111",
        "to": WA,
        "id": wamid,
        "timestamp": now_ts(-10),
        "type": "text",
        "text": {"body": "Your parcel ships today"},
    }


def customer_writes(client: Client, phone_number_id: str, ts: str | None = None) -> None:
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hello"}, wa_id=WA, ts=ts)))


# --- item 4: which messages open the window, and Meta closing it ------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "text", "image", "voice", "document", "sticker", "location", "contacts", "order",
        "reaction",  # a message the customer sends; Meta: "Whenever a WhatsApp user messages you"
        "button_reply", "list_reply", "flow_reply",  # interactive replies
        "button",  # a template's quick-reply button
        "unsupported", "unknown_new_type",  # still something the customer sent
    ],
)  # fmt: skip
def test_a_customer_message_of_any_kind_opens_the_window(
    client: Client, phone_number_id: str, name: str
) -> None:
    kind, body, _ = MESSAGE_TYPES[name]
    deliver(client, inbound(phone_number_id, WA, message(kind, body, wa_id=WA)))
    assert session(client, phone_number_id)["active"] is True


def test_a_welcome_request_opens_the_window(client: Client, phone_number_id: str) -> None:
    # `request_welcome`: the customer opened the chat for the first time. Meta: "The request_welcome
    # webhook triggers a customer service window" (Conversational components,
    # https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/conversational-components);
    # the message has no body of its own.
    deliver(client, inbound(phone_number_id, WA, message("request_welcome", None, wa_id=WA)))
    assert session(client, phone_number_id)["active"] is True


@pytest.mark.parametrize("name", ["system", "edit", "revoke"])
def test_notices_edits_and_deletes_do_not_open_the_window(
    client: Client, phone_number_id: str, name: str
) -> None:
    kind, body, _ = MESSAGE_TYPES[name]
    deliver(
        client, envelope(phone_number_id, contacts=[contact(WA)], messages=[message(kind, body, wa_id=WA)])
    )
    assert session(client, phone_number_id)["active"] is False


def test_the_business_writing_or_statuses_do_not_open_the_window(
    client: Client, phone_number_id: str
) -> None:
    wamid = new_wamid()
    deliver(client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[business_app_message(wamid)]))
    deliver(client, envelope(phone_number_id, statuses=[status(wamid, "read", WA)]))
    assert session(client, phone_number_id)["active"] is False


def _doc(kind: str, **fields: Any) -> MessageDocument:
    defaults: dict[str, Any] = {
        "conversation_id": "1:2",
        "id": "m",
        "phone_number_id": "1",
        "customer_id": "2",
        "direction": "inbound",
        "timestamp": "2026-01-01T00:00:00Z",
        "sort_key": "0",
        "status": "received",
    }
    return MessageDocument(kind=kind, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("doc", "opens"),
    [
        (_doc("text"), True),
        (_doc("unsupported", raw={"type": "request_welcome"}), True),
        (_doc("text", direction="outbound"), False),
        (_doc("system", details={"type": "user_changed_number"}), False),
        # today's edit and revoke, and the kinds another change may give them
        (_doc("text", details={"edit_of": "wamid.A"}), False),
        (_doc("system", details={"type": "revoke", "original_message_id": "wamid.A"}), False),
        (_doc("edit"), False),
        (_doc("revoke"), False),
        (_doc("unsupported", raw={"type": "edit"}), False),  # an edit we could not read
    ],
    ids=[
        "text",
        "welcome",
        "echo",
        "system",
        "edit",
        "revoke",
        "kind-edit",
        "kind-revoke",
        "unreadable-edit",
    ],
)
def test_the_window_rule_recognises_edits_and_revokes_in_either_representation(
    doc: MessageDocument, opens: bool
) -> None:
    assert opens_window(doc) is opens


def test_a_failed_131047_status_closes_the_window(
    client: Client, phone_number_id: str, services: Services
) -> None:
    customer_writes(client, phone_number_id, now_ts(-3600))
    assert session(client, phone_number_id)["active"] is True

    deliver(
        client,
        envelope(phone_number_id, statuses=[status(new_wamid(), "failed", WA, errors=[error_131047()])]),
    )

    state = session(client, phone_number_id)
    assert (state["active"], state["expiresAt"]) == (False, None)
    stored = services.store.read(conversation_id(phone_number_id, WA), "session")
    assert stored is None or stored["ttl"] == 1  # Cosmos deletes it within a second


def test_a_131047_older_than_the_customers_last_message_leaves_the_window_open(
    client: Client, phone_number_id: str
) -> None:
    # Meta retries for 7 days: a refusal from before the customer wrote again must not close the window.
    customer_writes(client, phone_number_id, now_ts(-60))
    late = status(new_wamid(), "failed", WA, ts=now_ts(-3600), errors=[error_131047()])
    deliver(client, envelope(phone_number_id, statuses=[late]))
    assert session(client, phone_number_id)["active"] is True


def test_other_failures_leave_the_window_open(client: Client, phone_number_id: str) -> None:
    customer_writes(client, phone_number_id, now_ts(-3600))  # before the failure, as in the 131047 case
    undeliverable = {**error_131047(), "code": 131026, "title": "Message undeliverable"}
    deliver(
        client,
        envelope(phone_number_id, statuses=[status(new_wamid(), "failed", WA, errors=[undeliverable])]),
    )
    assert session(client, phone_number_id)["active"] is True


# --- item 8: marketing preferences ------------------------------------------------------------


def test_a_customer_who_stops_marketing_messages_is_shown_as_opted_out(
    client: Client, phone_number_id: str, services: Services
) -> None:
    assert session(client, phone_number_id)["marketingOptOut"] is False
    at = int(time.time())

    response = deliver(client, user_preferences(phone_number_id, WA, "stop", at))

    assert response.json == {"stored": 0, "duplicates": 0, "statuses": 0, "rejected": 0}
    assert session(client, phone_number_id)["marketingOptOut"] is True
    stored = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert stored is not None
    assert (stored["marketingOptOut"], stored["marketingPreferenceAt"]) == (
        True,
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
    )


def test_the_latest_preference_wins_whatever_order_meta_delivers_them_in(
    client: Client, phone_number_id: str
) -> None:
    at = int(time.time())
    deliver(client, user_preferences(phone_number_id, WA, "stop", at - 60))
    deliver(client, user_preferences(phone_number_id, WA, "resume", at))
    assert session(client, phone_number_id)["marketingOptOut"] is False
    deliver(client, user_preferences(phone_number_id, WA, "stop", at - 30))  # a late retry of an older one
    assert session(client, phone_number_id)["marketingOptOut"] is False


@pytest.mark.parametrize("order", [("stop", "resume"), ("resume", "stop")])
def test_a_stop_and_a_resume_in_the_same_second_leave_the_customer_opted_out(
    client: Client, phone_number_id: str, order: tuple[str, str]
) -> None:
    # Meta's timestamps are whole seconds; sending marketing to someone who said stop is the worse mistake.
    at = int(time.time())
    for value in order:
        deliver(client, user_preferences(phone_number_id, WA, value, at))
    assert session(client, phone_number_id)["marketingOptOut"] is True


def test_a_preference_does_not_disturb_the_conversation_or_the_window(
    client: Client, phone_number_id: str, services: Services
) -> None:
    customer_writes(client, phone_number_id)
    deliver(client, user_preferences(phone_number_id, WA, "stop", int(time.time())))
    state = session(client, phone_number_id)
    assert (state["active"], state["marketingOptOut"]) == (True, True)
    stored = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert stored is not None
    assert stored["lastMessagePreview"] == "hello"


def test_a_preference_meta_does_not_document_is_kept_aside(client: Client, phone_number_id: str) -> None:
    response = deliver(client, user_preferences(phone_number_id, WA, "pause", int(time.time())))
    assert response.json["rejected"] == 1
    assert session(client, phone_number_id)["marketingOptOut"] is False


# --- item 8: account, number and template events ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "account_update",
            ACCOUNT_DISABLED,
            {"event": "DISABLED_UPDATE", "banState": "REINSTATE", "banDate": "April 17, 2025"},
        ),
        (
            "phone_number_quality_update",
            QUALITY_THROUGHPUT_UPGRADE,
            {"event": "THROUGHPUT_UPGRADE", "phoneNumber": "15550783881", "currentLimit": "TIER_UNLIMITED"},
        ),
        (
            "message_template_status_update",
            TEMPLATE_REJECTED,
            {
                "event": "REJECTED",
                "templateId": "1689556908129835",
                "templateName": "abandoned_cart",
                "templateLanguage": "en",
                "templateReason": "INVALID_FORMAT",
            },
        ),
    ],
)
def test_account_number_and_template_events_are_logged_for_alerts(
    client: Client,
    caplog: pytest.LogCaptureFixture,
    field: str,
    value: dict[str, Any],
    expected: dict[str, str],
) -> None:
    caplog.set_level(logging.INFO, logger="shared.whatsapp.account_events")
    response = deliver(client, account_field(field, value, waba_id="980198427658004"))
    assert response.json == {"stored": 0, "duplicates": 0, "statuses": 0, "rejected": 0}
    [line] = [r for r in caplog.records if r.name == "shared.whatsapp.account_events"]
    assert (
        line.getMessage()
        == {
            "account_update": "WhatsApp account update",
            "phone_number_quality_update": "WhatsApp phone number quality update",
            "message_template_status_update": "WhatsApp template status update",
        }[field]
    )
    assert (line.webhookField, line.wabaId) == (field, "980198427658004")  # type: ignore[attr-defined]
    assert {key: getattr(line, key) for key in expected} == expected


def test_events_someone_must_act_on_are_warnings(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="shared.whatsapp.account_events")
    deliver(client, account_field("message_template_status_update", TEMPLATE_REJECTED))
    deliver(client, account_field("phone_number_quality_update", QUALITY_THROUGHPUT_UPGRADE))
    levels = [r.levelno for r in caplog.records if r.name == "shared.whatsapp.account_events"]
    assert levels == [logging.WARNING, logging.INFO]


@pytest.mark.parametrize("field", ["history", "business_capability_update", "a_field_meta_adds_next_year"])
def test_fields_the_product_does_not_use_are_still_acknowledged(client: Client, field: str) -> None:
    response = deliver(client, account_field(field, {"anything": [1, {"nested": True}]}))
    assert response.json == {"stored": 0, "duplicates": 0, "statuses": 0, "rejected": 0}


# --- item 8: pricing and Meta's conversation on statuses --------------------------------------


def test_pricing_and_metas_conversation_are_kept_on_the_message_for_cost_reports(
    client: Client, phone_number_id: str, services: Services
) -> None:
    wamid = new_wamid()
    deliver(client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[business_app_message(wamid)]))
    expires = str(int(time.time()) + 86_400)
    # Meta: pricing on `sent` and on one of delivered/read, the expiry only on `sent` (WHATSAPP-NOTES §3.5).
    sent = status(
        wamid, "sent", WA, now_ts(-5), pricing=SERVICE_PRICING, conversation=meta_conversation(expires)
    )
    delivered = status(wamid, "delivered", WA, pricing=SERVICE_PRICING, conversation=meta_conversation())
    deliver(client, envelope(phone_number_id, statuses=[sent]))
    deliver(client, envelope(phone_number_id, statuses=[delivered]))  # without the expiry: it stays

    [stored] = services.store.list_messages(conversation_id(phone_number_id, WA), 10, None)
    assert stored["status"] == "delivered"
    assert stored["pricing"] == {
        "billable": False,
        "pricingModel": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    assert stored["metaConversation"] == {
        "id": "7270432eae37498234f4444b35ffc5",
        "originType": "service",
        "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(expires))),
    }


def test_pricing_that_arrives_before_its_message_is_applied_when_the_message_is_written(
    client: Client, phone_number_id: str, services: Services
) -> None:
    wamid = new_wamid()
    deliver(client, envelope(phone_number_id, statuses=[status(wamid, "sent", WA, pricing=SERVICE_PRICING)]))
    deliver(client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[business_app_message(wamid)]))
    [stored] = services.store.list_messages(conversation_id(phone_number_id, WA), 10, None)
    assert stored["pricing"]["pricingModel"] == "PMP"


def test_unreadable_pricing_never_costs_the_status(client: Client, phone_number_id: str) -> None:
    wamid = new_wamid()
    deliver(client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[business_app_message(wamid)]))
    odd = status(
        wamid, "read", WA, pricing={"billable": ["?"]}, conversation={"expiration_timestamp": "soon"}
    )
    response = deliver(client, envelope(phone_number_id, statuses=[odd]))
    assert response.json["statuses"] == 1
    [shown] = messages(client, phone_number_id, WA)
    assert shown["status"] == "read"
