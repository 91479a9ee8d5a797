"""Issue 10's smaller hardening: the webhook body cap, the verify token kept out of logs and spans, and
message timestamps from the future that would hold the 24-hour window open."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from devhost.host import HttpFunctions, LocalFunctionsHost, QueueRules
from shared import telemetry
from shared.api import webhook
from shared.conversations.documents import conversation_id, parse_iso
from shared.conversations.session_window import MAX_CLOCK_SKEW, window_start
from shared.log_redaction import install_log_redaction, redact
from shared.services import Services
from shared.whatsapp.signature import SIGNATURE_HEADER, sign, signature_is_valid
from tests.payloads import APP_SECRET, VERIFY_TOKEN, inbound, message, new_wamid, now_ts, signed

WA = "447700900123"
SECRET_TOKEN = "s3cret-verify-token"
HANDSHAKE = f"/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token={SECRET_TOKEN}&hub.challenge=42"


# --- 1. the webhook body cap ------------------------------------------------------------------------


@pytest.fixture
def hmac_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the webhook's signature checks (each one an HMAC over the whole body)."""
    calls: list[int] = []

    def counting(body: bytes, header_value: str | None, app_secret: str) -> bool:
        calls.append(len(body))
        return signature_is_valid(body, header_value, app_secret)

    monkeypatch.setattr(webhook, "signature_is_valid", counting)
    return calls


def body_of(size: int) -> bytes:
    """A real (empty) WhatsApp webhook, padded with JSON whitespace to exactly `size` bytes."""
    payload = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    return payload + b" " * (size - len(payload))


def test_a_body_over_the_cap_is_refused_before_any_hmac(services: Services, hmac_calls: list[int]) -> None:
    body = body_of(webhook.MAX_BODY_BYTES + 1)
    response = webhook.receive(body, sign(body, APP_SECRET), services)
    assert response.status == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert hmac_calls == []


def test_a_body_at_the_cap_is_checked_as_usual(client: Client, hmac_calls: list[int]) -> None:
    body = body_of(webhook.MAX_BODY_BYTES)
    response = client.post("/api/whatsapp/webhook", data=body, headers=signed(body)[1])
    assert response.status_code == 200, response.text
    assert response.json == {"stored": 0, "duplicates": 0, "statuses": 0, "rejected": 0}
    assert hmac_calls == [webhook.MAX_BODY_BYTES]
    forged = client.post("/api/whatsapp/webhook", data=body, headers={SIGNATURE_HEADER: "sha256=00"})
    assert forged.status_code == 401


def test_meta_s_largest_payload_is_well_under_the_cap() -> None:
    assert webhook.MAX_BODY_BYTES >= 2 * 3 * 1024 * 1024  # Meta: "Payloads can be up to 3 MB"


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anyone reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the body was read")


def test_the_local_host_refuses_a_longer_content_length_unread(
    services: Services, app_functions: list[Any], hmac_calls: list[int]
) -> None:
    environ = EnvironBuilder(
        path="/api/whatsapp/webhook",
        method="POST",
        headers=[(SIGNATURE_HEADER, "sha256=00"), ("Content-Type", "application/json")],
    ).get_environ()
    environ["wsgi.input"] = Unreadable()
    environ["CONTENT_LENGTH"] = str(webhook.MAX_BODY_BYTES + 1)
    chunks, status, _ = run_wsgi_app(HttpFunctions(app_functions), environ)
    assert status.startswith("413")
    assert json.loads(b"".join(chunks))["error"]["code"] == "payload_too_large"
    assert hmac_calls == []


# --- 2. the verify token in logs and telemetry --------------------------------------------------------


class Lines(logging.Handler):
    """Keeps each formatted line, as a console or a log shipper would see it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("tests.hardening")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"GET {HANDSHAKE} HTTP/1.1",
            "GET /api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=REDACTED&hub.challenge=42"
            " HTTP/1.1",
        ),
        (
            f"url='https://x/api?hub.verify_token={SECRET_TOKEN}'",
            "url='https://x/api?hub.verify_token=REDACTED'",
        ),
        (f'"GET /?hub.verify_token={SECRET_TOKEN}" 200 -', '"GET /?hub.verify_token=REDACTED" 200 -'),
        (f"/?hub%2Everify_token={SECRET_TOKEN}", "/?hub%2Everify_token=REDACTED"),
        (f"/?hub.verify_token={SECRET_TOKEN}%26more", "/?hub.verify_token=REDACTED"),
        ("/?hub.verify_token=&hub.challenge=1", "/?hub.verify_token=REDACTED&hub.challenge=1"),
        ("nothing to hide: hub.mode=subscribe", "nothing to hide: hub.mode=subscribe"),
    ],
)
def test_redact_hides_the_token_wherever_a_url_shows_it(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_log_line_with_the_token_is_redacted(lines: Lines) -> None:
    logger = logging.getLogger("tests.hardening")
    install_log_redaction(logger)
    logger.info("request %s answered %d", HANDSHAKE, 200)
    logger.info("a plain line with 100%% of its %s", "arguments")
    assert lines.lines == [
        "request /api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=REDACTED&hub.challenge=42"
        " answered 200",
        "a plain line with 100% of its arguments",
    ]


def test_configure_telemetry_installs_the_redaction_on_the_root_logger(lines: Lines) -> None:
    """What the Functions worker's log handler and Application Insights' exporter get: records from any
    of the app's loggers propagate to them through the root logger."""
    root = logging.getLogger()
    handler = Lines()
    root.addHandler(handler)
    try:
        assert telemetry.configure_telemetry({}) is False  # off, but the redaction is on
        logging.getLogger("shared.api.webhook").warning("refused %s", HANDSHAKE)
    finally:
        root.removeHandler(handler)
    [line] = [text for text in handler.lines if text.startswith("refused")]
    assert SECRET_TOKEN not in line
    assert "hub.verify_token=REDACTED" in line


URL_ATTRIBUTES = {
    "url.full": f"https://app.example{HANDSHAKE}",
    "url.query": HANDSHAKE.split("?", 1)[1],
    "http.url": f"https://app.example{HANDSHAKE}",
    "http.target": HANDSHAKE,
    "url.path": "/api/whatsapp/webhook",
}


def exported_span(register: Callable[[Any], None]) -> dict[str, Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    register(provider)  # the redaction first, then the exporter: it exports whatever the span holds
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("tests").start_span("GET /api/whatsapp/webhook", attributes=URL_ATTRIBUTES).end()
    [span] = exporter.get_finished_spans()
    return dict(span.attributes or {})


def test_a_request_span_exports_its_urls_with_the_token_redacted() -> None:
    attributes = exported_span(lambda p: p.add_span_processor(telemetry.redacting_span_processor()))
    assert not any(SECRET_TOKEN in str(v) for v in attributes.values())
    assert attributes["url.full"] == (
        "https://app.example/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=REDACTED&hub.challenge=42"
    )
    assert attributes["url.query"] == "hub.mode=subscribe&hub.verify_token=REDACTED&hub.challenge=42"
    assert attributes["http.target"].endswith("hub.verify_token=REDACTED&hub.challenge=42")
    assert attributes["url.path"] == "/api/whatsapp/webhook"


def test_configure_telemetry_registers_the_span_redaction() -> None:
    from opentelemetry.sdk.metrics import MeterProvider

    def configure(provider: Any) -> None:
        environ = {
            telemetry.CONNECTION_STRING_SETTING: "InstrumentationKey=00000000-0000-0000-0000-000000000000"
        }
        assert telemetry.configure_telemetry(
            environ, meter_provider=MeterProvider(), tracer_provider=provider
        )

    try:
        attributes = exported_span(configure)
    finally:
        telemetry.reset_telemetry()
    assert attributes["url.full"].endswith("hub.verify_token=REDACTED&hub.challenge=42")


def test_the_local_host_request_log_never_shows_the_token(services: Services) -> None:
    from function_app import app

    werkzeug_log = logging.getLogger("werkzeug")
    handler = Lines()  # on werkzeug's own logger, so no filter of the root logger's handlers can help
    werkzeug_log.addHandler(handler)
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.INFO)
    host = LocalFunctionsHost(app, {}, QueueRules(), port=0, run_queue_triggers=False)
    host.start_in_background()
    try:
        for token in (SECRET_TOKEN, VERIFY_TOKEN):  # refused, and accepted
            answer = requests.get(
                f"{host.base_url}/api/whatsapp/webhook",
                params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"},
                timeout=5,
            )
            assert answer.status_code == (200 if token == VERIFY_TOKEN else 403)
    finally:
        host.stop()
        werkzeug_log.removeHandler(handler)
        werkzeug_log.setLevel(level)
    requests_logged = [line for line in handler.lines if "/api/whatsapp/webhook" in line]
    assert len(requests_logged) == 2, handler.lines
    assert all("hub.verify_token=REDACTED" in line for line in requests_logged)
    assert not any(SECRET_TOKEN in line or VERIFY_TOKEN in line for line in handler.lines)


# --- 3. messages dated in the future -----------------------------------------------------------------


def post(client: Client, payload: Any) -> None:
    body, headers = signed(payload)
    response = client.post("/api/whatsapp/webhook", data=body, headers=headers)
    assert response.status_code == 200, response.text


def session_of(client: Client, phone_number_id: str) -> dict[str, Any]:
    response = client.get(f"/api/conversations/{WA}/session", query_string={"phoneNumberId": phone_number_id})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json
    return found


def test_a_message_dated_next_month_opens_the_window_from_now_only(
    client: Client, phone_number_id: str, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    wamid = new_wamid()
    month = 30 * 86400
    with caplog.at_level(logging.WARNING, logger="shared.conversations.ingest"):
        post(
            client,
            inbound(
                phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA, wamid=wamid, ts=now_ts(month))
            ),
        )
    now = datetime.now(UTC)

    [stored] = client.get(
        f"/api/conversations/{WA}/messages", query_string={"phoneNumberId": phone_number_id}
    ).json["messages"]
    assert stored["wamid"] == wamid
    assert parse_iso(stored["timestamp"]) > now + timedelta(days=29)  # kept as Meta dated it

    state = session_of(client, phone_number_id)
    assert state["active"] is True
    assert abs(parse_iso(state["expiresAt"]) - (now + timedelta(hours=24))) < timedelta(minutes=1)
    assert abs(parse_iso(state["lastInboundAt"]) - now) < timedelta(minutes=1)
    doc = services.store.read(conversation_id(phone_number_id, WA), "session")
    assert doc is not None
    assert 86_300 < doc["ttl"] <= 86_400
    [warning] = [r for r in caplog.records if "ahead of the clock" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert getattr(warning, "wamid", None) == wamid


def test_a_message_dated_next_month_does_not_hold_the_conversations_preview(
    client: Client, phone_number_id: str, services: Services
) -> None:
    future = message("text", {"body": "from the future"}, wa_id=WA, ts=now_ts(30 * 86400))
    post(client, inbound(phone_number_id, WA, future))
    post(
        client,
        inbound(phone_number_id, WA, message("text", {"body": "a minute later"}, wa_id=WA, ts=now_ts(60))),
    )
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    assert conversation["lastMessagePreview"] == "a minute later"
    assert parse_iso(conversation["lastMessageAt"]) < datetime.now(UTC) + timedelta(minutes=5)


def test_a_message_a_little_ahead_of_the_clock_counts_as_dated(
    client: Client, phone_number_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.conversations.ingest"):
        post(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA, ts=now_ts(120))))
    [stored] = client.get(
        f"/api/conversations/{WA}/messages", query_string={"phoneNumberId": phone_number_id}
    ).json["messages"]
    state = session_of(client, phone_number_id)
    assert state["lastInboundAt"] == stored["timestamp"]
    assert parse_iso(state["expiresAt"]) == parse_iso(stored["timestamp"]) + timedelta(hours=24)
    assert "ahead of the clock" not in caplog.text


def test_clock_skew_is_allowed_up_to_its_limit() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert window_start(now + MAX_CLOCK_SKEW, now) == now + MAX_CLOCK_SKEW
    assert window_start(now + MAX_CLOCK_SKEW + timedelta(seconds=1), now) == now
    assert window_start(now - timedelta(hours=1), now) == now - timedelta(hours=1)
