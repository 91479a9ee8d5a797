"""One conversation per person across phone numbers, business-scoped user ids and their changes.

Payload shapes follow Meta's documentation as kept in WHATSAPP-NOTES §3.3 (system messages:
`user_changed_number` with the new number in `system.wa_id`, `user_changed_user_id` with the new BSUID in
`system.user_id`, `customer_identity_changed` with an `identity` block; no `contacts[]`) and the BSUID
guide (https://developers.facebook.com/docs/whatsapp/business-scoped-user-ids: `from` may be "" and
`from_user_id` carries the BSUID; statuses carry `recipient_user_id`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from shared.conversations.documents import conversation_id
from shared.conversations.identity import Identity, IdentityResolver, identity_change
from shared.services import Services
from tests.api import deliver, messages, send_message
from tests.payloads import Json, contact, envelope, inbound, message, status, user_preferences
from tests.test_send import Meta

PHONE = "16315551181"
NEW_PHONE = "12195555358"
BSUID = "US.13491208655302741918"
NEW_BSUID = "US.99991208655302741918"


def seed(
    services: Services, number: str, customer: str, *message_ids: str, expires: str | None = None
) -> None:
    conv = conversation_id(number, customer)
    services.store.create(
        {"id": "conversation", "type": "conversation", "conversationId": conv, "phoneNumberId": number,
         "customerId": customer}
    )  # fmt: skip
    for i, message_id in enumerate(message_ids):
        services.store.create(
            {"id": message_id, "type": "message", "conversationId": conv, "phoneNumberId": number,
             "customerId": customer, "direction": "inbound", "kind": "text", "text": message_id,
             "timestamp": "2026-11-01T10:00:00Z", "sortKey": f"{i:011d}-{i:020d}", "status": "received",
             "statusTimes": {}}
        )  # fmt: skip
    if expires:
        services.store.create(
            {"id": "session", "type": "session", "conversationId": conv, "lastInboundAt": expires,
             "expiresAt": expires, "ttl": 86400}
        )  # fmt: skip


def test_a_new_person_is_filed_under_their_phone_and_their_user_id_points_there(
    services: Services, phone_number_id: str
) -> None:
    resolver = IdentityResolver(services.store)
    assert resolver.home(phone_number_id, Identity(PHONE, BSUID)) == PHONE
    assert resolver.home_of(phone_number_id, BSUID) == PHONE
    assert resolver.home(phone_number_id, Identity(None, BSUID)) == PHONE  # a later username-only message


def test_a_username_customer_who_reveals_their_phone_stays_in_their_conversation(
    services: Services, phone_number_id: str
) -> None:
    seed(services, phone_number_id, BSUID, "wamid.1")
    resolver = IdentityResolver(services.store)
    assert resolver.home(phone_number_id, Identity(PHONE, BSUID)) == BSUID
    assert resolver.home_of(phone_number_id, PHONE) == BSUID  # an agent opening the record by phone finds it


def test_two_conversations_of_one_person_merge_into_the_phones(
    services: Services, phone_number_id: str
) -> None:
    seed(services, phone_number_id, PHONE, "wamid.p1", expires="2026-11-01T10:00:00Z")
    seed(services, phone_number_id, BSUID, "wamid.b1", "wamid.b2", expires="2026-11-02T10:00:00Z")
    resolver = IdentityResolver(services.store)
    assert resolver.home(phone_number_id, Identity(PHONE, BSUID)) == PHONE
    home = conversation_id(phone_number_id, PHONE)
    moved = services.store.list_messages(home, 10, None)
    assert sorted(m["id"] for m in moved) == ["wamid.b1", "wamid.b2", "wamid.p1"]
    assert all(m["customerId"] == PHONE for m in moved)
    assert services.store.list_messages(conversation_id(phone_number_id, BSUID), 10, None) == []
    session = services.store.read(home, "session")
    assert session is not None
    assert session["expiresAt"] == "2026-11-02T10:00:00Z"  # the later window wins
    assert resolver.home_of(phone_number_id, BSUID) == PHONE
    assert resolver.home(phone_number_id, Identity(PHONE, BSUID)) == PHONE  # a repeat changes nothing


def test_a_changed_number_is_recorded_once_and_becomes_an_alias(
    services: Services, phone_number_id: str
) -> None:
    seed(services, phone_number_id, PHONE, "wamid.1")
    resolver = IdentityResolver(services.store)
    change = identity_change("user_changed_number", PHONE, NEW_PHONE, datetime(2026, 11, 3, tzinfo=UTC))
    resolver.record_change(phone_number_id, PHONE, change)
    resolver.record_change(phone_number_id, PHONE, change)  # Meta's retry
    conversation = services.store.read(conversation_id(phone_number_id, PHONE), "conversation")
    assert conversation is not None
    assert conversation["waId"] == NEW_PHONE  # replies go to the new number
    assert conversation["identityChanges"] == [
        {"type": "user_changed_number", "from": PHONE, "to": NEW_PHONE, "at": "2026-11-03T00:00:00Z"}
    ]
    assert resolver.home_of(phone_number_id, NEW_PHONE) == PHONE


def test_a_changed_user_id_points_at_the_same_conversation(services: Services, phone_number_id: str) -> None:
    seed(services, phone_number_id, BSUID, "wamid.1")
    resolver = IdentityResolver(services.store)
    change = identity_change("user_changed_user_id", BSUID, NEW_BSUID, datetime(2026, 11, 3, tzinfo=UTC))
    resolver.record_change(phone_number_id, BSUID, change)
    assert resolver.home(phone_number_id, Identity(None, NEW_BSUID)) == BSUID
    conversation = services.store.read(conversation_id(phone_number_id, BSUID), "conversation")
    assert conversation is not None
    assert conversation["userId"] == NEW_BSUID


# --- through the webhook and the agent's routes ------------------------------------------------------


def _username_message(phone_number_id: str, text: str, *, phone: str = "") -> Json:
    """A username customer's message as the BSUID guide shows it: `from` may be "", `from_user_id` set,
    and `contacts[]` carrying `user_id` (and `wa_id` "" when the phone is withheld)."""
    body = message("text", {"body": text}, wa_id=phone, from_user_id=BSUID)
    who = {"profile": {"name": "Sam", "username": "@sam"}, "wa_id": phone, "user_id": BSUID}
    return envelope(phone_number_id, contacts=[who], messages=[body])


def _changed_number(phone_number_id: str) -> Json:
    """Meta's `user_changed_number` example (WHATSAPP-NOTES §3.3; the shared payload
    system_user_changed_number.json): no contacts[], the new number in `system.wa_id`."""
    return envelope(
        phone_number_id,
        messages=[
            message(
                "system",
                {
                    "body": f"User Sheena Nelson changed from {PHONE} to {NEW_PHONE}",
                    "wa_id": NEW_PHONE,
                    "type": "user_changed_number",
                },
                wa_id=PHONE,
            )
        ],
    )


def _texts(client: Client, phone_number_id: str, customer: str) -> list[str]:
    return [m.get("text") or "" for m in reversed(messages(client, phone_number_id, customer))]


def test_a_customer_who_changes_number_keeps_one_conversation(
    client: Client, services: Services, httpserver: HTTPServer, phone_number_id: str
) -> None:
    deliver(client, inbound(phone_number_id, PHONE, message("text", {"body": "old phone"}, wa_id=PHONE)))
    deliver(client, _changed_number(phone_number_id))
    deliver(
        client, inbound(phone_number_id, NEW_PHONE, message("text", {"body": "new phone"}, wa_id=NEW_PHONE))
    )
    shown = _texts(client, phone_number_id, PHONE)
    assert shown[0] == "old phone"
    assert shown[1].startswith("The customer changed their WhatsApp number to +12195555358")
    assert shown[2] == "new phone"
    assert _texts(client, phone_number_id, NEW_PHONE) == shown  # the record with the new number finds it
    session = client.get(
        f"/api/conversations/{NEW_PHONE}/session", query_string={"phoneNumberId": phone_number_id}
    )
    assert session.json["active"] is True
    # The agent's reply goes to the new number.
    meta = Meta(httpserver, services)
    meta.accepts(phone_number_id, wa_id=NEW_PHONE)
    sent = send_message(client, phone_number_id, NEW_PHONE, type="text", text="noted")
    assert sent.status_code == 202, sent.text
    assert meta.received[-1]["to"] == f"+{NEW_PHONE}"
    assert sent.json["customerId"] == PHONE  # filed in the one conversation


def test_a_status_naming_the_new_number_reaches_the_message(
    client: Client, services: Services, phone_number_id: str
) -> None:
    deliver(client, inbound(phone_number_id, PHONE, message("text", {"body": "hi"}, wa_id=PHONE)))
    deliver(client, _changed_number(phone_number_id))
    echo = message("text", {"body": "from the app"}, wa_id=PHONE, to=NEW_PHONE, wamid="wamid.ECHO1")
    deliver(client, envelope(phone_number_id, echoes=[echo]))
    deliver(client, envelope(phone_number_id, statuses=[status("wamid.ECHO1", "read", NEW_PHONE)]))
    [echoed] = [m for m in messages(client, phone_number_id, PHONE) if m.get("wamid") == "wamid.ECHO1"]
    assert echoed["status"] == "read"


def test_a_username_customer_who_later_shows_their_phone_stays_in_one_conversation(
    client: Client, phone_number_id: str
) -> None:
    deliver(client, _username_message(phone_number_id, "as a username"))
    deliver(client, _username_message(phone_number_id, "with my phone", phone=PHONE))
    assert _texts(client, phone_number_id, BSUID) == ["as a username", "with my phone"]
    assert _texts(client, phone_number_id, PHONE) == ["as a username", "with my phone"]


def test_two_conversations_of_one_person_merge_when_a_message_names_both(
    client: Client, phone_number_id: str
) -> None:
    deliver(client, inbound(phone_number_id, PHONE, message("text", {"body": "by phone"}, wa_id=PHONE)))
    deliver(client, _username_message(phone_number_id, "by username"))
    assert _texts(client, phone_number_id, BSUID) == ["by username"]  # two people, as far as we knew
    deliver(client, _username_message(phone_number_id, "both", phone=PHONE))
    assert sorted(_texts(client, phone_number_id, PHONE)) == ["both", "by phone", "by username"]
    assert sorted(_texts(client, phone_number_id, BSUID)) == ["both", "by phone", "by username"]


def test_a_changed_user_id_without_contacts_is_not_refused(client: Client, phone_number_id: str) -> None:
    deliver(client, _username_message(phone_number_id, "hello"))
    change = message(
        "system",
        {"body": "User changed user id", "user_id": NEW_BSUID, "type": "user_changed_user_id"},
        wa_id="",
        from_user_id=BSUID,
    )
    answer = deliver(client, envelope(phone_number_id, messages=[change]))
    assert answer.json["rejected"] == 0
    later = message("text", {"body": "again"}, wa_id="", from_user_id=NEW_BSUID)
    deliver(client, envelope(phone_number_id, messages=[later]))
    shown = _texts(client, phone_number_id, BSUID)
    assert shown[0] == "hello"
    assert "user id changed" in shown[1]
    assert shown[2] == "again"


def test_an_identity_change_is_recorded_and_shown(
    client: Client, services: Services, phone_number_id: str
) -> None:
    """Meta's `customer_identity_changed` example (system_customer_identity_changed.json)."""
    changed = message(
        "system",
        {"body": "User identity changed", "type": "customer_identity_changed"},
        wa_id=PHONE,
        identity={"acknowledged": True, "created_timestamp": "1697044706", "hash": "xyzxyz"},
    )
    deliver(client, envelope(phone_number_id, contacts=[contact(PHONE)], messages=[changed]))
    [shown] = _texts(client, phone_number_id, PHONE)
    assert "identity changed" in shown
    conversation = services.store.read(conversation_id(phone_number_id, PHONE), "conversation")
    assert conversation is not None
    assert [c["type"] for c in conversation["identityChanges"]] == ["customer_identity_changed"]


def test_a_marketing_stop_from_a_changed_number_reaches_the_one_conversation(
    client: Client, phone_number_id: str
) -> None:
    deliver(client, inbound(phone_number_id, PHONE, message("text", {"body": "hi"}, wa_id=PHONE)))
    deliver(client, _changed_number(phone_number_id))
    deliver(client, user_preferences(phone_number_id, NEW_PHONE, "stop", int(datetime.now(UTC).timestamp())))
    for customer in (PHONE, NEW_PHONE):
        session = client.get(
            f"/api/conversations/{customer}/session", query_string={"phoneNumberId": phone_number_id}
        )
        assert session.json["marketingOptOut"] is True
