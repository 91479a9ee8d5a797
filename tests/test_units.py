"""Pure rules, no I/O: signatures, ids, status order, the session window, payload parsing."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.conversations.customer_id import InvalidCustomerId, normalise_customer_id
from shared.conversations.documents import SessionDocument, document_id, iso
from shared.conversations.session_window import is_active, refreshed_session
from shared.conversations.status import StatusState, advance, merge
from shared.whatsapp.signature import sign, signature_is_valid
from shared.whatsapp.webhook_models import WebhookPayload, parse_changes
from tests.payloads import MESSAGE_TYPES, inbound, message

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# --- signature --------------------------------------------------------------------------------


def test_signature_matches_metas_documented_algorithm() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert sign(body, "secret") == f"sha256={expected}"
    assert signature_is_valid(body, f"sha256={expected}", "secret")
    assert signature_is_valid(body, f"sha256={expected.upper()}", "secret")


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "garbage"])
def test_bad_signature_headers_are_invalid(header: str | None) -> None:
    assert not signature_is_valid(b"{}", header, "secret")


def test_no_configured_secret_accepts_nothing() -> None:
    assert not signature_is_valid(b"{}", sign(b"{}", ""), "")


# --- customer ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 7700 900123", "447700900123"),
        ("447700900123", "447700900123"),
        ("0044 7700 900123", "447700900123"),
        ("+1 (650) 555-1234", "16505551234"),
        ("US.13491208655302741918", "US.13491208655302741918"),
        ("user.9373aBc", "user.9373aBc"),
    ],
)
def test_the_control_may_pass_a_phone_in_any_usual_format(raw: str, expected: str) -> None:
    assert normalise_customer_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "07700 900123", "12", "not a phone!", "a/b", "+", "x" * 300])
def test_garbage_customer_ids_are_refused(raw: str) -> None:
    with pytest.raises(InvalidCustomerId):
        normalise_customer_id(raw)


@given(st.text(max_size=40))
def test_normalising_never_crashes_and_is_idempotent(raw: str) -> None:
    try:
        once = normalise_customer_id(raw)
    except InvalidCustomerId:
        return
    assert normalise_customer_id(once) == once


@given(st.text(min_size=1, max_size=60))
def test_document_ids_never_hold_characters_cosmos_forbids_and_stay_distinct(raw: str) -> None:
    escaped = document_id(raw)
    assert not set(escaped) & set("/\\?#")
    assert document_id(raw + "/") != document_id(raw + "%2F")


# --- status order -----------------------------------------------------------------------------

FORWARD = ["sent", "delivered", "read", "played"]


def run(statuses: list[str]) -> StatusState:
    state = StatusState("accepted", {})
    for i, name in enumerate(statuses):
        state = advance(state, name, f"t{i}", None)
    return state


@pytest.mark.parametrize("order", list(itertools.permutations(["sent", "delivered", "read"])))
def test_any_arrival_order_ends_at_the_furthest_status(order: tuple[str, ...]) -> None:
    final = run(list(order))
    assert final.status == "read"
    assert set(final.status_times) == {"sent", "delivered", "read"}


@given(st.lists(st.sampled_from(FORWARD), min_size=1, max_size=8))
def test_the_status_is_the_furthest_ever_reported(statuses: list[str]) -> None:
    assert run(statuses).status == max(statuses, key=FORWARD.index)


def test_read_without_delivered_is_fine() -> None:
    assert run(["sent", "read"]).status == "read"


def test_failed_ends_a_sent_message_but_not_a_delivered_one() -> None:
    assert run(["sent", "failed"]).status == "failed"
    assert run(["sent", "failed", "read"]).status == "failed"
    assert run(["delivered", "failed"]).status == "delivered"


def test_unknown_statuses_change_nothing() -> None:
    assert run(["sent", "deleted"]) == run(["sent"])


def test_merging_a_receipt_applies_its_statuses_in_order() -> None:
    receipt = StatusState("read", {"read": "t3", "sent": "t1", "delivered": "t2"})
    assert merge(StatusState("accepted", {}), receipt).status == "read"


# --- session window ---------------------------------------------------------------------------


def test_a_message_opens_a_24_hour_window_with_a_matching_ttl() -> None:
    session = refreshed_session(None, "p:c", NOW - timedelta(minutes=10), NOW)
    assert session is not None
    assert session.expires_at == iso(NOW + timedelta(hours=24) - timedelta(minutes=10))
    assert session.ttl == 24 * 3600 - 600
    assert is_active(session, NOW)
    assert not is_active(session, NOW + timedelta(hours=24))


def test_an_older_message_changes_nothing() -> None:
    current = refreshed_session(None, "p:c", NOW, NOW)
    assert refreshed_session(current, "p:c", NOW - timedelta(seconds=1), NOW) is None


def test_no_session_means_no_window() -> None:
    assert not is_active(None, NOW)


def test_an_expired_session_not_yet_deleted_is_inactive() -> None:
    stale = SessionDocument(
        conversation_id="p:c",
        last_inbound_at=iso(NOW - timedelta(days=2)),
        expires_at=iso(NOW - timedelta(days=1)),
        ttl=1,
    )
    assert not is_active(stale, NOW)


# --- payload models ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_every_documented_message_type_parses(name: str) -> None:
    kind, body, _ = MESSAGE_TYPES[name]
    payload = WebhookPayload.model_validate(
        inbound("1", "15550001234", message(kind, body, wa_id="15550001234"))
    )
    [change] = parse_changes(payload)
    assert change.value.messages[0].type == kind


def test_unknown_fields_are_kept_not_rejected() -> None:
    msg = message("text", {"body": "hi", "future_field": 1}, wa_id="1555", brand_new={"x": 1})
    payload = WebhookPayload.model_validate(inbound("1", "1555", msg))
    parsed = parse_changes(payload)[0].value.messages[0]
    assert parsed.model_extra == {"brand_new": {"x": 1}}
    assert parsed.text is not None
    assert parsed.text.model_extra == {"future_field": 1}
