"""The local host serves the app's routes over real HTTP and runs queue triggers like the Functions host."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests
from azure.storage.queue import QueueClient

from devhost.host import LocalFunctionsHost, QueueRules
from shared.services import Services
from tests.payloads import inbound, message, new_wamid, signed

ROOT = Path(__file__).resolve().parent.parent
WA = "15551234567"


@pytest.fixture
def served(services: Services) -> Iterator[LocalFunctionsHost]:
    from function_app import app

    host = LocalFunctionsHost(app, {}, QueueRules(), port=0, run_queue_triggers=False)
    host.start_in_background()
    yield host
    host.stop()


def test_the_app_is_served_over_http_on_its_design_routes(
    served: LocalFunctionsHost, phone_number_id: str
) -> None:
    base = served.base_url
    challenge = requests.get(
        f"{base}/api/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "987"},
        timeout=5,
    )
    assert (challenge.status_code, challenge.text) == (200, "987")
    wamid = new_wamid()
    body, headers = signed(
        inbound(phone_number_id, WA, message("text", {"body": "over HTTP"}, wa_id=WA, wamid=wamid))
    )
    assert (
        requests.post(f"{base}/api/whatsapp/webhook", data=body, headers=headers, timeout=5).status_code
        == 200
    )
    history = requests.get(
        f"{base}/api/conversations/{WA}/messages", params={"phoneNumberId": phone_number_id}, timeout=5
    ).json()
    assert [m["wamid"] for m in history["messages"]] == [wamid]
    session = requests.get(
        f"{base}/api/conversations/{WA}/session", params={"phoneNumberId": phone_number_id}, timeout=5
    )
    assert session.headers["Content-Type"].startswith("application/json")
    assert session.json()["active"] is True
    health = requests.get(f"{base}/api/health", timeout=5)
    assert health.json() == {"status": "ok", "backends": {"cosmos": "ok", "queues": "ok", "blobs": "ok"}}


def test_only_the_allowed_origins_may_call_from_a_browser(services: Services) -> None:
    from function_app import app

    origins = ["https://contoso.crm.dynamics.com"]
    host = LocalFunctionsHost(
        app, {}, QueueRules(), port=0, allowed_origins=origins, run_queue_triggers=False
    )
    host.start_in_background()
    try:
        url = f"{host.base_url}/api/conversations/{WA}/messages"
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        ok = requests.options(
            url, headers={"Origin": "https://contoso.crm.dynamics.com", **preflight}, timeout=5
        )
        assert ok.status_code == 204
        assert ok.headers["Access-Control-Allow-Origin"] == "https://contoso.crm.dynamics.com"
        assert "authorization" in ok.headers["Access-Control-Allow-Headers"]
        evil = requests.options(url, headers={"Origin": "https://evil.example", **preflight}, timeout=5)
        assert evil.status_code == 403
        assert "Access-Control-Allow-Origin" not in evil.headers
        get = requests.get(url, headers={"Origin": "https://contoso.crm.dynamics.com"}, timeout=5)
        assert get.headers["Access-Control-Allow-Origin"] == "https://contoso.crm.dynamics.com"
        other = requests.get(url, headers={"Origin": "https://evil.example"}, timeout=5)
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        host.stop()


def test_unknown_routes_and_methods_get_json_errors(served: LocalFunctionsHost) -> None:
    assert requests.get(f"{served.base_url}/api/nope", timeout=5).status_code == 404
    assert requests.delete(f"{served.base_url}/api/whatsapp/webhook", timeout=5).status_code == 405


def test_host_json_queue_rules_are_read() -> None:
    rules = QueueRules.from_host_json(ROOT / "host.json")
    assert rules.max_dequeue_count == 5
    assert rules.visibility_timeout == 30
    assert rules.base64 is True


# --- queue triggers ---------------------------------------------------------------------------

QUEUE = "devhost-selftest"


class Flaky:
    """A queue-triggered function that fails its first `failures` calls."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls: list[tuple[dict[str, Any], int | None]] = []
        self.done = threading.Event()

    def __call__(self, msg: func.QueueMessage) -> None:
        self.calls.append((json.loads(msg.get_body()), msg.dequeue_count))
        if len(self.calls) <= self.failures:
            raise RuntimeError("transient failure")
        self.done.set()


def queue_app(handler: Flaky) -> func.FunctionApp:
    app = func.FunctionApp()

    @app.function_name("selftest")
    @app.queue_trigger(arg_name="msg", queue_name=QUEUE, connection="AzureWebJobsStorage")
    def selftest(msg: func.QueueMessage) -> None:
        handler(msg)

    return app


@pytest.fixture
def queue_pair(services: Services) -> tuple[QueueClient, QueueClient]:
    connection = os.environ["AzureWebJobsStorage"]
    main = QueueClient.from_connection_string(connection, QUEUE)
    poison = QueueClient.from_connection_string(connection, QUEUE + "-poison")
    for client in (main, poison):
        try:
            client.create_queue()
        except Exception:
            client.clear_messages()
    return main, poison


def run_host(handler: Flaky, rules: QueueRules) -> LocalFunctionsHost:
    host = LocalFunctionsHost(
        queue_app(handler), {"AzureWebJobsStorage": os.environ["AzureWebJobsStorage"]}, rules, port=0
    )
    host.start_in_background()
    return host


def wait_until(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_failing_queue_message_is_retried_then_succeeds(
    queue_pair: tuple[QueueClient, QueueClient],
) -> None:
    main, poison = queue_pair
    handler = Flaky(failures=2)
    host = run_host(handler, QueueRules(max_dequeue_count=5, visibility_timeout=0, max_polling_interval=0.2))
    try:
        main.send_message(base64.b64encode(b'{"n": 1}').decode())
        assert handler.done.wait(20)
        wait_until(lambda: not list(main.peek_messages()))
    finally:
        host.stop()
    assert [count for _, count in handler.calls] == [1, 2, 3]
    assert all(body == {"n": 1} for body, _ in handler.calls)
    assert list(poison.peek_messages()) == []


def test_a_message_that_keeps_failing_moves_to_the_poison_queue(
    queue_pair: tuple[QueueClient, QueueClient],
) -> None:
    main, poison = queue_pair
    handler = Flaky(failures=99)
    host = run_host(handler, QueueRules(max_dequeue_count=3, visibility_timeout=0, max_polling_interval=0.2))
    try:
        main.send_message(base64.b64encode(b'{"n": 2}').decode())
        wait_until(lambda: bool(list(poison.peek_messages())))
    finally:
        host.stop()
    assert len(handler.calls) == 3
    [poisoned] = poison.peek_messages()
    assert json.loads(base64.b64decode(poisoned.content)) == {"n": 2}
    assert list(main.peek_messages()) == []


def test_function_app_registers_one_function_per_job_on_the_design_routes(app_functions: list[Any]) -> None:
    from azure.functions.decorators.http import HttpTrigger

    routes, queues = {}, {}
    for function in app_functions:
        trigger = function.get_trigger()
        if isinstance(trigger, HttpTrigger):
            methods = sorted(str(getattr(m, "value", m)) for m in trigger.methods)
            routes[function.get_function_name()] = (trigger.route, methods)
            # No function keys: Meta signs its calls, and the browser control carries an Entra ID token.
            assert str(getattr(trigger.auth_level, "value", trigger.auth_level)) == "anonymous"
        else:
            queues[function.get_function_name()] = trigger.queue_name
    assert routes == {
        "whatsapp_webhook_verify": ("whatsapp/webhook", ["GET"]),
        "whatsapp_webhook": ("whatsapp/webhook", ["POST"]),
        "get_session": ("conversations/{customerId}/session", ["GET"]),
        "get_messages": ("conversations/{customerId}/messages", ["GET"]),
        "send_message": ("conversations/{customerId}/messages", ["POST"]),
        "get_inbox": ("conversations", ["GET"]),
        "mark_read": ("conversations/{customerId}/read", ["POST"]),
        "send_typing": ("conversations/{customerId}/typing", ["POST"]),
        "get_templates": ("templates", ["GET"]),
        "upload_media": ("media", ["POST"]),
        "health": ("health", ["GET"]),
        "openapi": ("openapi.json", ["GET"]),
    }
    assert queues == {"copy_inbound_media": "media-inbound", "mirror_to_dataverse": "dataverse-mirror"}
