"""The app and the WhatsApp sandbox agree, over real HTTP both ways, on what `make run` lets a developer
try: a customer who changes number, and Meta refusing a send by webhook (an asynchronous 131047).

The app is served by the same local host as `make run` (real emulators, tests/conftest.py); the sandbox
posts its signed webhooks to the app's webhook route, and the app sends to the sandbox's Graph API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devhost.host import LocalFunctionsHost, QueueRules
from devhost.sandbox import WhatsAppSandbox
from shared.services import Services
from shared.whatsapp.graph_client import GraphClient
from tests.conftest import TEST_SETTINGS
from tests.payloads import APP_SECRET

OLD = "16505551234"  # the numbers of Meta's `user_changed_number` example
NEW = "12195555358"


class Clock:
    """The sandbox's now: behind the real clock, so nothing it dates is in the app's future."""

    def __init__(self) -> None:
        self.now = time.time() - 600

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app_url(services: Services) -> Iterator[str]:
    from function_app import app

    host = LocalFunctionsHost(app, {}, QueueRules(), port=0, run_queue_triggers=False)
    host.start_in_background()
    yield f"{host.base_url}/api"
    host.stop()


@pytest.fixture
def sandbox(
    app_url: str, services: Services, clock: Clock, phone_number_id: str
) -> Iterator[WhatsAppSandbox]:
    """Meta as `make run` starts it, posting to the app's webhook; the app sends to it."""
    served = WhatsAppSandbox(
        webhook_url=f"{app_url}/whatsapp/webhook",
        app_secret=APP_SECRET,
        access_token=TEST_SETTINGS["WHATSAPP_ACCESS_TOKEN"],
        phone_number_id=phone_number_id,
        # The first pause is long enough that the send's 202 is written before any status arrives.
        status_delays=(0.5, 0.05, 0.05),
        clock=clock,
        retry_delays=(0.1,),
    )
    served.start_in_background()
    services.sender = GraphClient(served.base_url, "v23.0", TEST_SETTINGS["WHATSAPP_ACCESS_TOKEN"])
    yield served
    served.stop()


def agent_sends(app_url: str, phone_number_id: str, customer: str, text: str, key: str) -> requests.Response:
    return requests.post(
        f"{app_url}/conversations/{customer}/messages",
        params={"phoneNumberId": phone_number_id},
        json={"type": "text", "text": text, "clientMessageId": key},
        timeout=15,
    )


def history(app_url: str, phone_number_id: str, customer: str) -> list[dict[str, Any]]:
    """Oldest first, as the panel shows it."""
    answer = requests.get(
        f"{app_url}/conversations/{customer}/messages", params={"phoneNumberId": phone_number_id}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return list(reversed(answer.json()["messages"]))


def session(app_url: str, phone_number_id: str, customer: str) -> dict[str, Any]:
    answer = requests.get(
        f"{app_url}/conversations/{customer}/session", params={"phoneNumberId": phone_number_id}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_customer_who_changes_number_keeps_one_conversation_and_replies_reach_the_new_number(
    app_url: str, sandbox: WhatsAppSandbox, phone_number_id: str
) -> None:
    assert sandbox.customer_says(OLD, "Hi, where is my parcel?").app_status == 200

    changed = requests.post(
        f"{sandbox.base_url}/sandbox/customers/{OLD}/change-number",
        json={"to": NEW, "name": "Sheena Nelson"},
        timeout=15,
    )

    assert (changed.status_code, changed.json()["app_status"]) == (200, 200)
    shown = history(app_url, phone_number_id, NEW)  # the agent opens the record with the new number
    [said, line] = shown
    assert (said["kind"], said["text"]) == ("text", "Hi, where is my parcel?")
    assert line["kind"] == "system"
    assert line["text"].startswith(f"The customer changed their WhatsApp number to +{NEW}")
    assert {m["customerId"] for m in shown} == {OLD}  # one conversation, under the first number
    assert [m["id"] for m in history(app_url, phone_number_id, OLD)] == [m["id"] for m in shown]

    sent = agent_sends(app_url, phone_number_id, NEW, "It ships today.", "change-1")
    assert sent.status_code == 202, sent.text
    from_old_record = agent_sends(app_url, phone_number_id, OLD, "Tracking follows.", "change-2")
    assert from_old_record.status_code == 202, from_old_record.text

    assert sandbox.wait_for_statuses()
    assert [(r.request["to"], r.to, r.statuses) for r in sandbox.sent] == [
        (f"+{NEW}", NEW, ["sent", "delivered", "read"]),  # the app acknowledged each status
        (f"+{NEW}", NEW, ["sent", "delivered", "read"]),
    ]
    replies = [m for m in history(app_url, phone_number_id, NEW) if m["direction"] == "outbound"]
    assert [(m["text"], m["wamid"], m["status"]) for m in replies] == [
        ("It ships today.", sandbox.sent[0].wamid, "read"),
        ("Tracking follows.", sandbox.sent[1].wamid, "read"),
    ]


def test_meta_refusing_by_webhook_fails_the_message_with_131047_and_closes_the_window(
    app_url: str, sandbox: WhatsAppSandbox, clock: Clock, phone_number_id: str
) -> None:
    customer = "447700900123"
    assert sandbox.customer_says(customer, "Hi").app_status == 200
    clock.now += 60  # Meta's refusal comes after the customer's message, as a day later would
    expired = requests.post(
        f"{sandbox.base_url}/sandbox/customers/{customer}/expire-window",
        params={"refusal": "webhook"},
        timeout=5,
    )
    assert expired.status_code == 200
    assert session(app_url, phone_number_id, customer)["active"] is True  # the app has not heard yet

    sent = agent_sends(app_url, phone_number_id, customer, "Are you still there?", "late-1")

    assert sent.status_code == 202, sent.text  # Meta answered 200 and a wamid
    assert sent.json()["status"] == "accepted"
    assert sandbox.wait_for_statuses()
    [record] = sandbox.sent
    assert (record.statuses, record.refused_with) == (["failed"], 131047)  # the app took the status
    [shown] = [m for m in history(app_url, phone_number_id, customer) if m["direction"] == "outbound"]
    assert (shown["wamid"], shown["status"], shown["error"]["code"]) == (record.wamid, "failed", 131047)
    assert session(app_url, phone_number_id, customer)["active"] is False  # the panel hides the composer
    again = agent_sends(app_url, phone_number_id, customer, "Hello?", "late-2")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "session_inactive")
    assert len(sandbox.well_formed) == 1  # refused before anything left the app
