"""Webhook bodies shaped like Meta's (see WHATSAPP-NOTES.md §3), built per test so ids never collide."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from shared.whatsapp.signature import SIGNATURE_HEADER, sign

Json = dict[str, Any]
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"


def new_wamid() -> str:
    # Real wamids are base64 and may hold `/` and `+`, which Cosmos ids may not.
    return f"wamid.HBgL{uuid.uuid4().hex}/x+y=="


def now_ts(offset: int = 0) -> str:
    return str(int(time.time()) + offset)


def contact(wa_id: str, name: str = "Ada Lovelace", user_id: str | None = None) -> Json:
    found: Json = {"profile": {"name": name}, "wa_id": wa_id}
    if user_id:
        found["user_id"] = user_id
    return found


def message(
    kind: str,
    body: Any,
    *,
    wa_id: str,
    wamid: str | None = None,
    ts: str | None = None,
    context: Json | None = None,
    **extra: Any,
) -> Json:
    found: Json = {"from": wa_id, "id": wamid or new_wamid(), "timestamp": ts or now_ts(), "type": kind}
    if body is not None:
        found[kind] = body
    if context:
        found["context"] = context
    found.update(extra)
    return found


def status(
    wamid: str,
    state: str,
    recipient: str,
    ts: str | None = None,
    errors: list[Json] | None = None,
    **extra: Any,
) -> Json:
    found: Json = {"id": wamid, "status": state, "timestamp": ts or now_ts(), "recipient_id": recipient}
    if errors:
        found["errors"] = errors
    found.update(extra)  # pricing, conversation, biz_opaque_callback_data, ...
    return found


def envelope(
    phone_number_id: str,
    *,
    messages: list[Json] | None = None,
    statuses: list[Json] | None = None,
    contacts: list[Json] | None = None,
    errors: list[Json] | None = None,
    echoes: list[Json] | None = None,
) -> Json:
    value: Json = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
    }
    for key, items in (
        ("contacts", contacts),
        ("messages", messages),
        ("statuses", statuses),
        ("errors", errors),
        ("message_echoes", echoes),
    ):
        if items is not None:
            value[key] = items
    field = "smb_message_echoes" if echoes is not None else "messages"
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}],
    }


def inbound(phone_number_id: str, wa_id: str, *messages: Json, name: str = "Ada Lovelace") -> Json:
    return envelope(phone_number_id, contacts=[contact(wa_id, name)], messages=list(messages))


def signed(payload: Json | bytes, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)}


MEDIA_ID = "1037543291543636"
SHA = "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="

# One body per message type Meta documents, with the kind the history should show.
MESSAGE_TYPES: dict[str, tuple[str, Any, str]] = {
    "text": ("text", {"body": "Hello, is my order on its way?"}, "text"),
    "image": (
        "image",
        {"caption": "the receipt", "mime_type": "image/jpeg", "sha256": SHA, "id": MEDIA_ID},
        "image",
    ),
    "video": (
        "video",
        {"caption": "unboxing", "mime_type": "video/mp4", "sha256": SHA, "id": MEDIA_ID},
        "video",
    ),
    "audio": ("audio", {"mime_type": "audio/mpeg", "sha256": SHA, "id": MEDIA_ID, "voice": False}, "audio"),
    "voice": (
        "audio",
        {"mime_type": "audio/ogg; codecs=opus", "sha256": SHA, "id": MEDIA_ID, "voice": True},
        "audio",
    ),
    "document": (
        "document",
        {
            "caption": "invoice",
            "filename": "invoice.pdf",
            "mime_type": "application/pdf",
            "sha256": SHA,
            "id": MEDIA_ID,
        },
        "document",
    ),
    "sticker": (
        "sticker",
        {"mime_type": "image/webp", "sha256": SHA, "id": MEDIA_ID, "animated": False},
        "sticker",
    ),
    "location": (
        "location",
        {"latitude": 51.5072, "longitude": -0.1276, "name": "Head office", "address": "1 Main St"},
        "location",
    ),
    "contacts": (
        "contacts",
        [
            {
                "name": {"formatted_name": "Grace Hopper"},
                "phones": [{"phone": "+1 555 0100", "wa_id": "15550100"}],
            }
        ],
        "contacts",
    ),
    "button_reply": (
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes, please"}},
        "interactive",
    ),
    "list_reply": (
        "interactive",
        {
            "type": "list_reply",
            "list_reply": {"id": "slot-2", "title": "Tuesday 10:00", "description": "Morning"},
        },
        "interactive",
    ),
    "flow_reply": (
        "interactive",
        {
            "type": "nfm_reply",
            "nfm_reply": {"response_json": '{"rating": 5}', "body": "Sent", "name": "flow"},
        },
        "interactive",
    ),
    "button": ("button", {"payload": "STOP_PROMOS", "text": "Stop promotions"}, "button"),
    "reaction": ("reaction", {"message_id": "wamid.earlier", "emoji": "\U0001f44d"}, "reaction"),
    "order": (
        "order",
        {
            "catalog_id": "cat-1",
            "text": "two please",
            "product_items": [
                {"product_retailer_id": "sku-1", "quantity": 2, "item_price": 9.5, "currency": "EUR"}
            ],
        },
        "order",
    ),
    "system": (
        "system",
        {"body": "User A changed from 1555 to 1556", "type": "user_changed_number", "wa_id": "15550000002"},
        "system",
    ),
    "revoke": ("revoke", {"original_message_id": "wamid.earlier"}, "system"),
    "edit": (
        "edit",
        {"original_message_id": "wamid.earlier", "message": {"type": "text", "text": {"body": "fixed typo"}}},
        "text",
    ),
    "unsupported": ("unsupported", {"type": "poll_creation"}, "unsupported"),
    "unknown_new_type": ("hologram", {"depth": 3}, "unsupported"),
}


# --- statuses: pricing, Meta's conversation, 131047 -------------------------------------------

# `pricing` on a status since PMP (2025-07-01): WHATSAPP-NOTES §3.5 [STATUS],
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
SERVICE_PRICING: Json = {
    "billable": False,
    "pricing_model": "PMP",
    "type": "free_customer_service",
    "category": "service",
}


def meta_conversation(expires: str | None = None) -> Json:
    """`conversation` as on a `sent` status (only `sent` has the expiry): shape of the real body
    ../shared/whatsapp-payloads/status_sent_biz_opaque_callback_data.json (PYWA message_status.json
    "with_tracker"), WHATSAPP-NOTES §3.5."""
    found: Json = {"id": "7270432eae37498234f4444b35ffc5", "origin": {"type": "service"}}
    if expires is not None:
        found["expiration_timestamp"] = expires
    return found


def error_131047() -> Json:
    """The `errors[]` item of a failed status refused for the closed window. Meta publishes no captured
    example (WHATSAPP-NOTES "Gaps"): the shape is the real failed status
    ../shared/whatsapp-payloads/status_failed_130472.json, with code and text from Meta's error-code
    table (WHATSAPP-NOTES §7, https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes)."""
    return {
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {
            "details": "Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number."
        },
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


# --- other webhook fields ---------------------------------------------------------------------


def user_preferences(phone_number_id: str, wa_id: str, value: str, ts: int, **extra: Any) -> Json:
    """Meta's example: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/user_preferences
    (the `timestamp` is an integer there, unlike messages and statuses)."""
    preference: Json = {
        "wa_id": wa_id,
        "detail": f"User requested to {value} marketing messages",
        "category": "marketing_messages",
        "value": value,
        "timestamp": ts,
    }
    preference.update(extra)
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"wa_id": wa_id}],
                            "user_preferences": [preference],
                        },
                        "field": "user_preferences",
                    }
                ],
            }
        ],
    }


def account_field(field: str, value: Json, waba_id: str = "102290129340398") -> Json:
    """The envelope of the account-level fields: no metadata, `entry[].time` (Meta's references)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": 1743451903, "changes": [{"value": value, "field": field}]}],
    }


# Meta's examples, one per field:
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
# ("Disabled update")
ACCOUNT_DISABLED: Json = {
    "event": "DISABLED_UPDATE",
    "ban_info": {"waba_ban_state": "REINSTATE", "waba_ban_date": "April 17, 2025"},
}
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
QUALITY_THROUGHPUT_UPGRADE: Json = {
    "display_phone_number": "15550783881",
    "event": "THROUGHPUT_UPGRADE",
    "current_limit": "TIER_UNLIMITED",
}
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
# ("rejected with INVALID_FORMAT"; Meta's page misses a comma after "reason", restored here)
TEMPLATE_REJECTED: Json = {
    "event": "REJECTED",
    "message_template_id": 1689556908129835,
    "message_template_name": "abandoned_cart",
    "message_template_language": "en",
    "reason": "INVALID_FORMAT",
    "message_template_category": "MARKETING",
    "rejection_info": {
        "reason": "Your template has parameters placed next to each other (like {{1}}{{2}}) without text or "
        "punctuation between them.",
        "recommendation": "Separate parameters with descriptive text and ensure each parameter is clearly "
        "contextualized.",
    },
}
