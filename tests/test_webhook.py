"""Meta's webhook, end to end through the app's own functions into Cosmos DB and the queues."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from shared.conversations.documents import conversation_id, document_id
from shared.services import Services
from shared.storage.names import DATAVERSE_MIRROR_QUEUE, MEDIA_INBOUND_QUEUE
from tests.conftest import Queues
from tests.payloads import (
    MEDIA_ID,
    MESSAGE_TYPES,
    VERIFY_TOKEN,
    contact,
    envelope,
    inbound,
    message,
    new_wamid,
    now_ts,
    signed,
    status,
)

WA = "447700900123"


def post(client: Client, payload: Any, headers: dict[str, str] | None = None) -> Any:
    body, signed_headers = signed(payload)
    return client.post("/api/whatsapp/webhook", data=body, headers=headers or signed_headers)


def history(client: Client, phone_number_id: str, customer: str = WA, **params: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/conversations/{customer}/messages", query_string={"phoneNumberId": phone_number_id, **params}
    )
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json["messages"]
    return messages


def session(client: Client, phone_number_id: str, customer: str = WA) -> dict[str, Any]:
    response = client.get(
        f"/api/conversations/{customer}/session", query_string={"phoneNumberId": phone_number_id}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json
    return found


# --- verification handshake -------------------------------------------------------------------


def test_meta_verification_handshake_echoes_the_challenge_as_text(client: Client) -> None:
    response = client.get(
        "/api/whatsapp/webhook",
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize(
    ("mode", "token"), [("subscribe", "wrong-token"), ("unsubscribe", VERIFY_TOKEN), ("subscribe", "")]
)
def test_verification_with_a_wrong_token_or_mode_is_forbidden(client: Client, mode: str, token: str) -> None:
    response = client.get(
        "/api/whatsapp/webhook",
        query_string={"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "42"},
    )
    assert response.status_code == 403
    assert "42" not in response.text


# --- inbound messages -------------------------------------------------------------------------


@pytest.mark.mirror_on
def test_a_customer_text_is_stored_shown_in_history_and_opens_the_window(
    client: Client, phone_number_id: str, queues: Queues
) -> None:
    wamid = new_wamid()
    response = post(
        client,
        inbound(
            phone_number_id, WA, message("text", {"body": "Hi, where is my parcel?"}, wa_id=WA, wamid=wamid)
        ),
    )
    assert response.status_code == 200, response.text

    [stored] = history(client, phone_number_id)
    assert stored["wamid"] == wamid
    assert stored["direction"] == "inbound"
    assert stored["kind"] == "text"
    assert stored["text"] == "Hi, where is my parcel?"
    assert stored["status"] == "received"
    state = session(client, phone_number_id, "+44 7700 900123")
    assert state["active"] is True
    assert state["lastInboundAt"] == stored["timestamp"]
    mirrored = queues.messages(DATAVERSE_MIRROR_QUEUE)
    assert mirrored == [{"conversationId": f"{phone_number_id}:{WA}", "id": document_id(wamid)}]


def test_the_same_webhook_twice_leaves_one_message(
    client: Client, phone_number_id: str, services: Services
) -> None:
    payload = inbound(phone_number_id, WA, message("text", {"body": "only once"}, wa_id=WA))
    first, second = post(client, payload), post(client, payload)
    assert first.json == {"stored": 1, "duplicates": 0, "statuses": 0, "rejected": 0}
    assert second.json == {"stored": 0, "duplicates": 1, "statuses": 0, "rejected": 0}
    [stored] = history(client, phone_number_id)
    assert stored["text"] == "only once"


def test_a_repeated_delivery_changes_no_stored_data(
    client: Client, phone_number_id: str, services: Services
) -> None:
    wamid = new_wamid()
    payload = inbound(phone_number_id, WA, message("text", {"body": "hello"}, wa_id=WA, wamid=wamid))
    post(client, payload)
    conv = conversation_id(phone_number_id, WA)
    before = {d: services.store.read(conv, d) for d in (document_id(wamid), "session", "conversation")}
    post(client, payload)
    after = {d: services.store.read(conv, d) for d in (document_id(wamid), "session", "conversation")}
    assert after == before  # same content and the same _etag: nothing was rewritten


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_every_message_type_is_stored_with_its_kind(
    client: Client, phone_number_id: str, services: Services, name: str
) -> None:
    kind, body, expected_kind = MESSAGE_TYPES[name]
    wamid = new_wamid()
    response = post(client, inbound(phone_number_id, WA, message(kind, body, wa_id=WA, wamid=wamid)))
    assert response.status_code == 200, response.text
    [stored] = history(client, phone_number_id)
    assert stored["kind"] == expected_kind
    assert stored["wamid"] == wamid
    raw = services.store.read(conversation_id(phone_number_id, WA), document_id(wamid))
    assert raw is not None
    if expected_kind == "unsupported":
        assert raw["raw"]["type"] == kind  # the payload is kept for later, not dropped
        assert raw["raw"][kind] == body
    else:
        assert "raw" not in raw


def test_history_shows_something_readable_for_structured_kinds(client: Client, phone_number_id: str) -> None:
    for name in ("location", "button_reply", "reaction", "order", "contacts"):
        kind, body, _ = MESSAGE_TYPES[name]
        post(client, inbound(phone_number_id, WA, message(kind, body, wa_id=WA)))
    texts = {m["kind"]: m.get("text") for m in history(client, phone_number_id)}
    assert texts == {
        "location": "Head office, 1 Main St",
        "interactive": "Yes, please",
        "reaction": "\U0001f44d",
        "order": "two please",
        "contacts": "Grace Hopper",
    }


def test_inbound_media_is_queued_for_copying_into_blob_storage(
    client: Client, phone_number_id: str, queues: Queues
) -> None:
    _, body, _ = MESSAGE_TYPES["image"]
    wamid = new_wamid()
    post(client, inbound(phone_number_id, WA, message("image", body, wa_id=WA, wamid=wamid)))
    [request] = queues.messages(MEDIA_INBOUND_QUEUE)
    assert request["metaMediaId"] == MEDIA_ID
    assert request["id"] == document_id(wamid)
    assert request["phoneNumberId"] == phone_number_id
    [stored] = history(client, phone_number_id)
    assert stored["media"]["metaMediaId"] == MEDIA_ID
    assert stored["caption"] == "the receipt"


def test_one_call_with_many_entries_and_messages_stores_them_all(
    client: Client, phone_number_id: str
) -> None:
    other = "15551234567"
    first = inbound(
        phone_number_id,
        WA,
        message("text", {"body": "one"}, wa_id=WA),
        message("text", {"body": "two"}, wa_id=WA),
    )
    second = inbound(phone_number_id, other, message("text", {"body": "three"}, wa_id=other))
    first["entry"] += second["entry"]
    response = post(client, first)
    assert response.json["stored"] == 3
    assert sorted(m["text"] for m in history(client, phone_number_id)) == ["one", "two"]
    assert [m["text"] for m in history(client, phone_number_id, other)] == ["three"]


def test_a_customer_known_only_by_business_scoped_id_gets_a_conversation(
    client: Client, phone_number_id: str
) -> None:
    bsuid = "US.13491208655302741918"
    msg = message("text", {"body": "from a username user"}, wa_id="", from_user_id=bsuid)
    payload = envelope(
        phone_number_id, contacts=[{"profile": {"name": "U"}, "wa_id": "", "user_id": bsuid}], messages=[msg]
    )
    assert post(client, payload).status_code == 200
    [stored] = history(client, phone_number_id, bsuid)
    assert stored["customerId"] == bsuid
    assert session(client, phone_number_id, bsuid)["active"] is True


def test_value_level_errors_are_acknowledged(client: Client, phone_number_id: str) -> None:
    errors = [
        {
            "code": 131000,
            "title": "Something went wrong",
            "error_data": {"details": "Unsupported webhook payload"},
        }
    ]
    response = post(client, envelope(phone_number_id, errors=errors))
    assert response.status_code == 200


# --- the session window -----------------------------------------------------------------------


def test_an_older_message_never_moves_the_window_back(client: Client, phone_number_id: str) -> None:
    post(client, inbound(phone_number_id, WA, message("text", {"body": "new"}, wa_id=WA, ts=now_ts())))
    newest = session(client, phone_number_id)
    post(
        client,
        inbound(phone_number_id, WA, message("text", {"body": "late retry"}, wa_id=WA, ts=now_ts(-3600))),
    )
    assert session(client, phone_number_id) == newest


def test_a_message_older_than_a_day_opens_no_window(client: Client, phone_number_id: str) -> None:
    post(
        client,
        inbound(
            phone_number_id, WA, message("text", {"body": "from last week"}, wa_id=WA, ts=now_ts(-7 * 86400))
        ),
    )
    assert session(client, phone_number_id)["active"] is False
    assert len(history(client, phone_number_id)) == 1  # still in the history


def test_the_window_closes_24_hours_after_the_last_message(
    client: Client, phone_number_id: str, services: Services
) -> None:
    post(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    real_clock = services.clock
    services.clock = lambda: real_clock() + timedelta(hours=24, seconds=5)
    state = session(client, phone_number_id)
    assert state["active"] is False
    assert state["expiresAt"] is None


def test_the_session_document_carries_a_ttl_for_cosmos_to_expire_it(
    client: Client, phone_number_id: str, services: Services
) -> None:
    post(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    doc = services.store.read(conversation_id(phone_number_id, WA), "session")
    assert doc is not None
    assert 86_300 < doc["ttl"] <= 86_400


def test_system_messages_do_not_open_the_window(client: Client, phone_number_id: str) -> None:
    kind, body, _ = MESSAGE_TYPES["system"]
    post(client, envelope(phone_number_id, messages=[message(kind, body, wa_id=WA)]))
    assert session(client, phone_number_id)["active"] is False
    assert history(client, phone_number_id)[0]["kind"] == "system"


def test_the_conversation_document_keeps_profile_and_last_message(
    client: Client, phone_number_id: str, services: Services
) -> None:
    post(
        client,
        inbound(
            phone_number_id, WA, message("text", {"body": "later"}, wa_id=WA, ts=now_ts()), name="Ada L."
        ),
    )
    post(client, inbound(phone_number_id, WA, message("text", {"body": "earlier"}, wa_id=WA, ts=now_ts(-60))))
    doc = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert doc is not None
    assert doc["profileName"] == "Ada Lovelace"
    assert doc["lastMessagePreview"] == "later"


# --- statuses ---------------------------------------------------------------------------------


def echo(phone_number_id: str, wamid: str, text: str = "sent from the Business app") -> dict[str, Any]:
    """A message the business sent from the WhatsApp Business app: an outbound message we can see today."""
    sent = {
        "from": "15550001111",
        "to": WA,
        "id": wamid,
        "timestamp": now_ts(-10),
        "type": "text",
        "text": {"body": text},
    }
    return envelope(phone_number_id, contacts=[contact(WA)], echoes=[sent])


def statuses(phone_number_id: str, *items: dict[str, Any]) -> dict[str, Any]:
    return envelope(phone_number_id, statuses=list(items))


def outbound(client: Client, phone_number_id: str) -> dict[str, Any]:
    [found] = [m for m in history(client, phone_number_id) if m["direction"] == "outbound"]
    return found


@pytest.mark.mirror_on
def test_statuses_move_an_outbound_message_forward(
    client: Client, phone_number_id: str, queues: Queues
) -> None:
    wamid = new_wamid()
    post(client, echo(phone_number_id, wamid))
    assert outbound(client, phone_number_id)["status"] == "sent"
    for state in ("delivered", "read"):
        assert post(client, statuses(phone_number_id, status(wamid, state, WA))).status_code == 200
        assert outbound(client, phone_number_id)["status"] == state
    # The message, then `delivered`, which closes its Timeline row; the read after it is the panel's.
    assert len(queues.messages(DATAVERSE_MIRROR_QUEUE)) == 2


def test_a_late_status_never_moves_a_message_backwards(client: Client, phone_number_id: str) -> None:
    wamid = new_wamid()
    post(client, echo(phone_number_id, wamid))
    post(client, statuses(phone_number_id, status(wamid, "read", WA, now_ts(5))))
    post(
        client,
        statuses(
            phone_number_id, status(wamid, "delivered", WA, now_ts(2)), status(wamid, "sent", WA, now_ts(1))
        ),
    )
    found = outbound(client, phone_number_id)
    assert found["status"] == "read"
    assert set(found["statusTimes"]) == {"sent", "delivered", "read"}


def test_a_failed_status_keeps_metas_error(client: Client, phone_number_id: str) -> None:
    wamid = new_wamid()
    post(client, echo(phone_number_id, wamid))
    error = {
        "code": 131026,
        "title": "Message undeliverable",
        "message": "Message undeliverable",
        "error_data": {"details": "Recipient is not a WhatsApp user"},
    }
    post(client, statuses(phone_number_id, status(wamid, "failed", WA, errors=[error])))
    found = outbound(client, phone_number_id)
    assert found["status"] == "failed"
    assert found["error"] == {
        "code": 131026,
        "title": "Message undeliverable",
        "detail": "Recipient is not a WhatsApp user",
    }


def test_a_status_that_arrives_before_its_message_is_applied_when_the_message_is_written(
    client: Client, phone_number_id: str
) -> None:
    wamid = new_wamid()
    assert post(client, statuses(phone_number_id, status(wamid, "delivered", WA))).status_code == 200
    post(client, echo(phone_number_id, wamid))
    found = outbound(client, phone_number_id)
    assert found["status"] == "delivered"


@pytest.mark.mirror_on
def test_repeated_status_webhooks_are_harmless(client: Client, phone_number_id: str, queues: Queues) -> None:
    wamid = new_wamid()
    post(client, echo(phone_number_id, wamid))
    payload = statuses(phone_number_id, status(wamid, "delivered", WA))
    post(client, payload)
    post(client, payload)
    assert outbound(client, phone_number_id)["status"] == "delivered"
    assert len(queues.messages(DATAVERSE_MIRROR_QUEUE)) == 2  # the echo and one status change, not two


# --- bad input --------------------------------------------------------------------------------


def test_a_wrong_signature_is_refused_and_stores_nothing(client: Client, phone_number_id: str) -> None:
    payload = inbound(phone_number_id, WA, message("text", {"body": "forged"}, wa_id=WA))
    body, headers = signed(payload, secret="not-the-app-secret")
    assert client.post("/api/whatsapp/webhook", data=body, headers=headers).status_code == 401
    assert history(client, phone_number_id) == []


def test_a_missing_signature_is_refused(client: Client, phone_number_id: str) -> None:
    body = json.dumps(inbound(phone_number_id, WA, message("text", {"body": "x"}, wa_id=WA))).encode()
    response = client.post("/api/whatsapp/webhook", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_signature"


def test_a_body_changed_after_signing_is_refused(client: Client, phone_number_id: str) -> None:
    body, headers = signed(inbound(phone_number_id, WA, message("text", {"body": "original"}, wa_id=WA)))
    tampered = body.replace(b"original", b"tampered")
    assert client.post("/api/whatsapp/webhook", data=tampered, headers=headers).status_code == 401


def test_the_signature_is_checked_on_the_raw_escaped_bytes(client: Client, phone_number_id: str) -> None:
    # Meta sends non-ASCII escaped (\u00e4); re-serialising before the check would break the HMAC.
    payload = inbound(phone_number_id, WA, message("text", {"body": "äöå 👍"}, wa_id=WA))
    body = json.dumps(payload, ensure_ascii=True).encode()
    response = client.post("/api/whatsapp/webhook", data=body, headers=signed(body)[1])
    assert response.status_code == 200
    assert history(client, phone_number_id)[0]["text"] == "äöå 👍"


def test_malformed_json_is_a_400(client: Client) -> None:
    response = post(client, b'{"object": "whatsapp_business_account", "entry": [')
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "page", "entry": []},
        {"entry": []},
        [1, 2, 3],
        {"object": "whatsapp_business_account", "entry": {"id": "1"}},
    ],
)
def test_a_body_that_is_not_a_whatsapp_webhook_is_a_400(client: Client, payload: Any) -> None:
    response = post(client, payload)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_payload"


# A bad update inside a real webhook is no longer a 400: tests/test_webhook_batches.py.
