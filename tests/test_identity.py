"""One conversation per person across phone numbers, business-scoped user ids and their changes.

Payload shapes follow Meta's documentation as kept in WHATSAPP-NOTES §3.3 (system messages:
`user_changed_number` with the new number in `system.wa_id`, `user_changed_user_id` with the new BSUID in
`system.user_id`, `customer_identity_changed` with an `identity` block; no `contacts[]`) and the BSUID
guide (https://developers.facebook.com/docs/whatsapp/business-scoped-user-ids: `from` may be "" and
`from_user_id` carries the BSUID; statuses carry `recipient_user_id`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.conversations.documents import conversation_id
from shared.conversations.identity import Identity, IdentityResolver, identity_change
from shared.services import Services

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
