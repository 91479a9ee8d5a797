"""What one operation costs: Cosmos DB requests for an inbound text, a status, a send, an empty poll and a
history page; the app's CPU per one-message webhook against the floor of checking and parsing the
same body; and the first request after a cold start.

    .venv/bin/python -m benchmarks.operations

Every message is distinct (its own text, id and timestamp), so no write is skipped as unchanged.
Requests are counted at the SDK transport (requests to documents: not the SDK's own metadata reads, which
it also makes on a background thread); CPU is the process's own time (`time.process_time`),
median of RUNS runs of CALLS calls; the cold start is a fresh process per run (import, then one
webhook against the emulators), its first request timed alone. Figures go to results.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from benchmarks.common import SECRET, counting_services, local_settings
from benchmarks.results import record
from benchmarks.send_path import instant_meta
from shared.api import conversations, send, webhook
from shared.config import Settings
from shared.services import Services
from shared.whatsapp.graph_client import GraphClient
from shared.whatsapp.signature import sign, signature_is_valid
from shared.whatsapp.webhook_models import WebhookPayload

RUNS = 5
CALLS = 50


def envelope(number: str, value: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": number},
        **value,
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def customer_text(number: str, wa_id: str, seconds_ago: int = 0) -> bytes:
    message = {
        "from": wa_id,
        "id": f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time()) - seconds_ago),
        "type": "text",
        "text": {"body": f"Question {uuid.uuid4().hex[:8]}: where is my order?"},
    }
    return envelope(
        number, {"contacts": [{"profile": {"name": "Ada"}, "wa_id": wa_id}], "messages": [message]}
    )


def status(number: str, wa_id: str, wamid: str, state: str, ours: str | None = None) -> bytes:
    """A status as Meta sends it; `ours`: the message id our send put in `biz_opaque_callback_data`,
    which Meta echoes in every status of that message."""
    report = {"id": wamid, "status": state, "timestamp": str(int(time.time())), "recipient_id": wa_id}
    if ours is not None:
        report["biz_opaque_callback_data"] = ours
    return envelope(number, {"statuses": [report]})


def receive(services: Services, body: bytes) -> None:
    answer = webhook.receive(body, sign(body, SECRET), services)
    assert answer.status == 200, answer.body


OPS_KINDS = ("point_reads", "queries", "writes", "batches", "written_bytes")


def counted(counter: Counter[str], action: Callable[[], Any], name: str, into: dict[str, float]) -> int:
    """Runs `action`, recording under `name` its Cosmos requests and what kind they were."""
    counter.clear()
    action()
    into[f"cosmos_requests.{name}"] = counter["cosmos.document_requests"]
    for kind in OPS_KINDS:
        into[f"cosmos_ops.{name}.{kind}"] = counter[f"cosmos.{kind}"]
    into[f"cosmos_ops.{name}.written_kb"] = counter["cosmos.written_bytes"] / 1024
    return counter["cosmos.document_requests"]


def document_kb(services: Services, conversation: str, message_id: str) -> dict[str, float]:
    """Stored sizes (with Cosmos's own properties) of what an exchange keeps, for the RU estimate."""
    sizes = {}
    for name, document_id in (
        ("message", message_id),
        ("conversation", "conversation"),
        ("session", "session"),
    ):
        found = services.store.read(conversation, document_id)
        assert found is not None, f"no {name} document to measure"
        sizes[f"document_kb.{name}"] = len(json.dumps(found, separators=(",", ":")).encode()) / 1024
    return sizes


def requests_per_operation(services: Services, counter: Counter[str]) -> dict[str, float]:
    number = str(uuid.uuid4().int % 10**15)
    wa_id = "15550000001"
    receive(services, customer_text(number, wa_id, seconds_ago=60))  # a conversation under way
    figures: dict[str, float] = {}
    counted(counter, lambda: receive(services, customer_text(number, wa_id)), "inbound_text", figures)

    def send_one() -> str:
        body = json.dumps({"type": "text", "text": f"Answer {uuid.uuid4().hex[:8]}"}).encode()
        answer = send.send_message(wa_id, {"phoneNumberId": number}, body, None, services)
        assert answer.status == 202, answer.body
        return str(json.loads(answer.body)["wamid"])

    send_one()  # warm
    sent: list[str] = []
    counted(counter, lambda: sent.append(send_one()), "send", figures)
    ours = services.store.find_message_by_wamid(f"{number}:{wa_id}", sent[0])
    assert ours is not None
    delivered = status(number, wa_id, sent[0], "delivered", str(ours["id"]))
    counted(counter, lambda: receive(services, delivered), "status", figures)
    params = {"phoneNumberId": number}
    page = conversations.history(wa_id, params, None, services)
    assert page.status == 200
    cursor = json.loads(page.body)["pollCursor"]
    counted(counter, lambda: conversations.history(wa_id, params, None, services), "history_page", figures)
    poll = {**params, "changedSince": cursor}
    counted(counter, lambda: conversations.history(wa_id, poll, None, services), "empty_poll", figures)
    return figures | document_kb(services, f"{number}:{wa_id}", str(ours["id"]))


def cpu_per_call(action: Callable[[], Any]) -> float:
    """Microseconds of this process's CPU per call, median of RUNS runs of CALLS calls."""
    runs = []
    for _ in range(RUNS):
        start = time.process_time()
        for _ in range(CALLS):
            action()
        runs.append((time.process_time() - start) / CALLS * 1e6)
    return statistics.median(runs)


def webhook_cpu(services: Services, settings: Settings) -> tuple[float, float]:
    number = str(uuid.uuid4().int % 10**15)
    bodies = iter([customer_text(number, f"1555{i:07d}") for i in range(RUNS * CALLS * 2 + 10)])
    secret = settings.WHATSAPP_APP_SECRET.get_secret_value()

    def app() -> None:
        body = next(bodies)
        receive(services, body)

    one = customer_text(number, "15559999999")
    signature = sign(one, secret)

    def floor() -> None:  # what any webhook must do: the HMAC, then JSON and the models
        assert signature_is_valid(one, signature, secret)
        WebhookPayload.model_validate_json(one)

    app()  # warm
    return cpu_per_call(app), cpu_per_call(floor)


FIRST_REQUEST = """
import json, time
t0 = time.perf_counter()
import function_app  # noqa: F401
from shared.api import webhook
from shared.services import get_services
from shared.whatsapp.signature import sign
t1 = time.perf_counter()
body = {body!r}
answer = webhook.receive(body, sign(body, {secret!r}), get_services())
t2 = time.perf_counter()
assert answer.status == 200, answer.body
print(json.dumps({{"import_ms": (t1 - t0) * 1000, "first_request_ms": (t2 - t1) * 1000}}))
"""


def cold_start() -> tuple[float, float]:
    """A fresh process: `import function_app`, then its first webhook (clients built on first use)."""
    imports, firsts = [], []
    for _ in range(RUNS):
        number = str(uuid.uuid4().int % 10**15)
        code = FIRST_REQUEST.format(body=customer_text(number, "15550000002"), secret=SECRET)
        found = json.loads(
            subprocess.check_output([sys.executable, "-c", code], text=True, env=dict(os.environ))
        )
        imports.append(found["import_ms"])
        firsts.append(found["first_request_ms"])
    return statistics.median(imports), statistics.median(firsts)


def main() -> None:
    from threading import Thread

    from werkzeug.serving import make_server

    meta = make_server("127.0.0.1", 0, instant_meta, threaded=True)
    Thread(target=meta.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{meta.port}"
    try:
        with local_settings(WHATSAPP_GRAPH_BASE_URL=base) as settings:
            counter: Counter[str] = Counter()
            services = counting_services(settings, counter, GraphClient(base, "v23.0", "bench-token"))
            figures = requests_per_operation(services, counter)
            app_us, floor_us = webhook_cpu(services, settings)
            import_ms, first_ms = cold_start()
    finally:
        meta.shutdown()
    figures |= {
        "webhook_cpu_us": app_us,
        "webhook_floor_us": floor_us,
        "import_ms": import_ms,
        "first_request_ms": first_ms,
    }
    record(figures, "benchmarks.operations")
    print("| measure | figure |")
    print("|---|---|")
    for key, value in figures.items():
        print(f"| {key} | {value:.1f} |")
    print(f"| app CPU / floor | {app_us / floor_us:.1f}x |")
    print(f"CPU: medians of {RUNS} runs of {CALLS} calls; cold start: median of {RUNS} fresh processes")


if __name__ == "__main__":
    main()
