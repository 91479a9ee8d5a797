"""What one operation costs in Cosmos DB: the requests (and their kinds, and the KB written) for an
inbound text, a status, a send, an empty poll and a history page, and the sizes of the documents an
exchange keeps. CPU and the cold start: benchmarks/cpu.py.

    .venv/bin/python -m benchmarks.operations

Every message is distinct (its own text, id and timestamp), so no write is skipped as unchanged.
Requests are counted at the SDK transport: requests to documents, not the SDK's own metadata reads,
which it also makes on a background thread. Figures go to results.json.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from benchmarks.common import SECRET, counting_services, local_settings
from benchmarks.results import record
from benchmarks.send_path import instant_meta
from shared.api import conversations, send, webhook
from shared.services import Services
from shared.whatsapp.graph_client import GraphClient
from shared.whatsapp.signature import sign


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
    finally:
        meta.shutdown()
    record(figures, "benchmarks.operations")
    print("| measure | figure |")
    print("|---|---|")
    for key, value in figures.items():
        print(f"| {key} | {value:.1f} |")


if __name__ == "__main__":
    main()
