"""One update that cannot be placed never sinks the batch it came in (issue 11, item 1).

Meta batches up to 1000 updates in one POST and retries anything but a 200 for 7 days, then drops the
whole batch (WHATSAPP-NOTES §3.1, §4). So each message and status is validated on its own: what can be
stored is stored, and what cannot is kept as a `rejected` document (raw JSON, reason, time, business
number) in the partition `"{phoneNumberId}:rejected"`, counted in `whatsapp.rejected_items` and logged.

The good updates are built by tests/payloads.py from Meta's examples (WHATSAPP-NOTES §3); each bad one
is the same update with one documented field broken, as named in each test.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from shared import telemetry
from shared.conversations.documents import conversation_id, parse_iso
from shared.conversations.ports import Doc, StoreUnavailable
from shared.services import Services
from tests.api import messages
from tests.payloads import contact, envelope, inbound, message, new_wamid, now_ts, signed, status

WA = "447700900123"
WABA_ID = "102290129340398"  # tests/payloads.envelope's entry id


def post(client: Client, payload: Any) -> Any:
    body, headers = signed(payload)
    return client.post("/api/whatsapp/webhook", data=body, headers=headers)


def rejected_in(services: Services, partition: str, wamid: str | None = None) -> list[Doc]:
    """The rejected documents of a partition (of one update, by its wamid, in the shared `unknown`)."""
    query = "SELECT * FROM c WHERE c.conversationId = @partition AND c.type = 'rejected'"
    parameters: list[dict[str, Any]] = [{"name": "@partition", "value": partition}]
    if wamid is not None:
        query += " AND c.raw.id = @wamid"
        parameters.append({"name": "@wamid", "value": wamid})
    container = services.store.container  # type: ignore[attr-defined]
    return list(container.query_items(query, parameters=parameters, partition_key=partition))


def business_app_message(wamid: str) -> dict[str, Any]:
    """A message the business sent from the WhatsApp Business app (`smb_message_echoes`), as in
    ../shared/whatsapp-payloads/smb_message_echo_text.json (PYWA outgoing_message.json "text")."""
    return {
        "from": "15550001111",
        "to": WA,
        "id": wamid,
        "timestamp": now_ts(-10),
        "type": "text",
        "text": {"body": "Your parcel ships today"},
    }


@pytest.fixture
def metrics() -> Iterator[Any]:
    """What the app records, read in memory (as tests/test_infra.py does)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    levels = {name: logging.getLogger(name).level for name in telemetry.CHATTY_LOGGERS}
    reader = InMemoryMetricReader()
    environ = {telemetry.CONNECTION_STRING_SETTING: "InstrumentationKey=00000000-0000-0000-0000-000000000000"}
    assert telemetry.configure_telemetry(environ, meter_provider=MeterProvider(metric_readers=[reader]))
    yield reader
    telemetry.reset_telemetry()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def rejected_counts(reader: Any) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == telemetry.REJECTED_ITEMS:
                    for point in metric.data.data_points:
                        found[(point.attributes["reason"], point.attributes["field"])] = point.value
    return found


def rejection_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "WhatsApp webhook item rejected"]


# --- messages and statuses that do not validate -----------------------------------------------


def test_a_message_without_an_id_is_set_aside_and_the_rest_of_the_batch_is_stored(
    client: Client, phone_number_id: str, services: Services
) -> None:
    bad = message("text", {"body": "sent without its id"}, wa_id=WA)
    del bad["id"]  # `id` (the wamid) is one of the fields Meta always sends (WHATSAPP-NOTES §3.3)
    payload = inbound(
        phone_number_id,
        WA,
        message("text", {"body": "first"}, wa_id=WA),
        bad,
        message("text", {"body": "last"}, wa_id=WA),
    )
    before = datetime.now(UTC)

    response = post(client, payload)

    assert response.status_code == 200, response.text
    assert response.json == {"stored": 2, "duplicates": 0, "statuses": 0, "rejected": 1}
    assert sorted(m["text"] for m in messages(client, phone_number_id, WA)) == ["first", "last"]
    [kept] = rejected_in(services, f"{phone_number_id}:rejected")
    assert kept["raw"] == bad  # exactly as Meta sent it
    assert (kept["reason"], kept["field"]) == ("invalid", "messages")
    assert kept["detail"] == "id: Field required"
    assert (kept["phoneNumberId"], kept["wabaId"]) == (phone_number_id, WABA_ID)
    assert before - timedelta(seconds=2) <= parse_iso(kept["receivedAt"]) <= datetime.now(UTC)
    assert kept["ttl"] == 30 * 24 * 3600  # Meta retries for 7 days; three more weeks to look at it


def test_a_status_whose_timestamp_is_not_unix_seconds_is_set_aside_and_the_others_apply(
    client: Client, phone_number_id: str, services: Services
) -> None:
    wamid = new_wamid()
    post(client, envelope(phone_number_id, contacts=[contact(WA)], echoes=[business_app_message(wamid)]))
    bad = status(wamid, "read", WA, ts="yesterday")  # Meta: Unix seconds, as a string (WHATSAPP-NOTES §3.1)

    response = post(client, envelope(phone_number_id, statuses=[status(wamid, "delivered", WA), bad]))

    assert response.json == {"stored": 0, "duplicates": 0, "statuses": 1, "rejected": 1}
    [sent] = messages(client, phone_number_id, WA)
    assert sent["status"] == "delivered"
    [kept] = rejected_in(services, f"{phone_number_id}:rejected")
    assert (kept["field"], kept["raw"]) == ("statuses", bad)
    assert kept["detail"].startswith("timestamp: ")


def test_a_message_that_names_no_customer_is_set_aside(
    client: Client, phone_number_id: str, services: Services
) -> None:
    # A username user's message carries `from: ""` and a `from_user_id` (WHATSAPP-NOTES §0.1); this one
    # lost its `from_user_id` and comes without `contacts`, so nothing says whose conversation it is.
    nobody = message("text", {"body": "who am I?"}, wa_id="")
    payload = envelope(phone_number_id, messages=[message("text", {"body": "placed"}, wa_id=WA), nobody])

    response = post(client, payload)

    assert response.json == {"stored": 1, "duplicates": 0, "statuses": 0, "rejected": 1}
    assert [m["text"] for m in messages(client, phone_number_id, WA)] == ["placed"]
    [kept] = rejected_in(services, f"{phone_number_id}:rejected")
    assert (kept["reason"], kept["raw"]) == ("no_customer", nobody)  # exactly as Meta sent it


def test_updates_of_an_unnamed_business_number_are_kept_under_unknown(
    client: Client, services: Services
) -> None:
    wamid = new_wamid()
    payload = inbound("1", WA, message("text", {"body": "to which number?"}, wa_id=WA, wamid=wamid))
    del payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]

    response = post(client, payload)

    assert response.json == {"stored": 0, "duplicates": 0, "statuses": 0, "rejected": 1}
    [kept] = rejected_in(services, "unknown:rejected", wamid)
    assert kept["reason"] == "no_business_number"
    assert "phoneNumberId" not in kept


def test_a_malformed_entry_or_change_does_not_hold_back_the_others(
    client: Client, phone_number_id: str, services: Services
) -> None:
    payload = inbound(phone_number_id, WA, message("text", {"body": "still here"}, wa_id=WA))
    odd_entry = f"not an entry {uuid.uuid4()}"
    odd_change = {"field": "messages", "value": f"not a value {uuid.uuid4()}"}
    payload["entry"] = [odd_entry, {"id": WABA_ID, "changes": [odd_change]}, *payload["entry"]]

    response = post(client, payload)

    assert response.json == {"stored": 1, "duplicates": 0, "statuses": 0, "rejected": 2}
    assert [m["text"] for m in messages(client, phone_number_id, WA)] == ["still here"]
    kept = {
        d["field"]: d["raw"]
        for d in rejected_in(services, "unknown:rejected")  # shared with other tests: pick ours
        if d.get("raw") in (odd_entry, odd_change)
    }
    assert kept == {"entry": odd_entry, "messages": odd_change}


def test_an_edit_whose_new_content_does_not_validate_is_set_aside(
    client: Client, phone_number_id: str, services: Services
) -> None:
    # Shape of ../shared/whatsapp-payloads/edit_image.json (PYWA edited_message.json "image"), with the
    # edited image's object replaced by a string.
    edit = {"original_message_id": new_wamid(), "message": {"type": "image", "image": "not an object"}}
    wamid = new_wamid()

    response = post(client, inbound(phone_number_id, WA, message("edit", edit, wa_id=WA, wamid=wamid)))

    assert response.json["rejected"] == 1
    [kept] = rejected_in(services, f"{phone_number_id}:rejected")
    assert (kept["reason"], kept["raw"]["id"]) == ("invalid", wamid)
    assert kept["detail"].startswith("image")


def test_an_oversized_update_is_kept_as_an_excerpt(
    client: Client, phone_number_id: str, services: Services
) -> None:
    bad = message("text", {"body": "huge"}, wa_id=WA, future_field="x" * 300_000)
    del bad["id"]

    assert post(client, inbound(phone_number_id, WA, bad)).json["rejected"] == 1

    [kept] = rejected_in(services, f"{phone_number_id}:rejected")
    assert "raw" not in kept  # a Cosmos document holds 2 MB at most
    assert kept["rawSize"] > 300_000
    assert len(kept["rawExcerpt"]) == 256 * 1024
    assert kept["rawExcerpt"].startswith('{"from":"447700900123"')


def test_a_messages_change_with_nothing_in_it_is_acknowledged(client: Client, phone_number_id: str) -> None:
    # Until issue 11 this was a 400: Meta would have retried it for 7 days, yet there is nothing to keep.
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": {}}]}],
    }
    assert post(client, payload).json == {"stored": 0, "duplicates": 0, "statuses": 0, "rejected": 0}


# --- counted, logged, written once ------------------------------------------------------------


def test_each_rejection_is_counted_by_reason_and_field_and_logged_for_alerts(
    client: Client, phone_number_id: str, metrics: Any, caplog: pytest.LogCaptureFixture
) -> None:
    no_id = message("text", {"body": "x"}, wa_id=WA)
    del no_id["id"]
    no_recipient = status(new_wamid(), "sent", "")  # no recipient_id, no recipient_user_id
    caplog.set_level(logging.WARNING, logger="shared.conversations.ingest")

    post(client, envelope(phone_number_id, contacts=[contact(WA)], messages=[no_id], statuses=[no_recipient]))

    assert rejected_counts(metrics) == {("invalid", "messages"): 1, ("no_customer", "statuses"): 1}
    lines = {r.webhookField: r for r in rejection_logs(caplog)}  # type: ignore[attr-defined]
    assert set(lines) == {"messages", "statuses"}
    line = lines["statuses"]
    assert line.levelno == logging.WARNING
    assert (line.rejectReason, line.phoneNumberId, line.wabaId) == ("no_customer", phone_number_id, WABA_ID)  # type: ignore[attr-defined]
    assert line.wamid == no_recipient["id"]  # type: ignore[attr-defined]
    assert line.conversationId == f"{phone_number_id}:rejected"  # type: ignore[attr-defined]
    assert line.rejectedId.startswith("rejected:")  # type: ignore[attr-defined]


def test_metas_retry_of_the_batch_keeps_and_counts_each_rejected_update_once(
    client: Client, phone_number_id: str, services: Services, metrics: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bad = message("text", {"body": "x"}, wa_id=WA, ts="not a time")
    payload = inbound(phone_number_id, WA, message("text", {"body": "ok"}, wa_id=WA), bad)

    first, retry = post(client, payload), post(client, payload)

    assert first.json == {"stored": 1, "duplicates": 0, "statuses": 0, "rejected": 1}
    assert retry.json == {"stored": 0, "duplicates": 1, "statuses": 0, "rejected": 1}
    assert len(rejected_in(services, f"{phone_number_id}:rejected")) == 1
    assert rejected_counts(metrics) == {("invalid", "messages"): 1}
    assert len(rejection_logs(caplog)) == 1


class FailsOnRejected:
    """The real store, except that writing a rejected document finds Cosmos DB unreachable."""

    def __init__(self, inner: Any):
        self.inner = inner

    def create(self, document: Doc) -> bool:
        return self.create_document(document) is not None

    def create_document(self, document: Doc) -> Doc | None:
        if document.get("type") == "rejected":
            raise StoreUnavailable("Cosmos DB create failed: ServiceRequestError")
        result: Doc | None = self.inner.create_document(document)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_store_failure_while_setting_an_update_aside_is_a_503_and_metas_retry_completes_it(
    client: Client, phone_number_id: str, services: Services
) -> None:
    bad = message("text", {"body": "x"}, wa_id=WA)
    del bad["id"]
    body, headers = signed(inbound(phone_number_id, WA, message("text", {"body": "ok"}, wa_id=WA), bad))
    healthy = services.store
    services.store = FailsOnRejected(healthy)

    first = client.post("/api/whatsapp/webhook", data=body, headers=headers)
    services.store = healthy
    retry = client.post("/api/whatsapp/webhook", data=body, headers=headers)

    assert first.status_code == 503
    assert first.headers["Retry-After"]
    assert retry.json == {"stored": 0, "duplicates": 1, "statuses": 0, "rejected": 1}
    assert [m["text"] for m in messages(client, phone_number_id, WA)] == ["ok"]
    assert len(rejected_in(services, f"{phone_number_id}:rejected")) == 1
    assert services.store.read(conversation_id(phone_number_id, WA), "session") is not None
