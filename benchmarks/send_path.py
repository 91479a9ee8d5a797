"""The send path's own cost: POST .../messages in-process against the local emulators, with a stand-in
Graph API that answers at once, so Meta's latency is left out. Sends per second, p50/p99 latency,
and the storage requests one send costs.

    make bench        (or: .venv/bin/python -m benchmarks.send_path)
"""

from __future__ import annotations

import json
import logging
import statistics
import threading
import time
import uuid
from collections import Counter
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from benchmarks.common import SECRET, counting_services, local_settings
from benchmarks.webhook_ingest import text_webhook
from shared.api import send, webhook
from shared.services import Services
from shared.whatsapp.graph_client import GraphClient
from shared.whatsapp.signature import sign

RUNS = 5
SENDS_PER_RUN = 200
CUSTOMERS = 20


@Request.application
def instant_meta(request: Request) -> Response:
    """Answers a send as Meta does, at once."""
    payload = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "x", "wa_id": "x"}],
        "messages": [{"id": f"wamid.{uuid.uuid4().hex}"}],
    }
    return Response(json.dumps(payload), content_type="application/json")


def open_windows(services: Services, number: str) -> list[str]:
    customers = [f"1555{i:07d}" for i in range(CUSTOMERS)]
    for customer in customers:
        body = text_webhook(number, customer)
        assert webhook.receive(body, sign(body, SECRET), services).status == 200
    return customers


def run(services: Services, number: str, customers: list[str]) -> list[float]:
    latencies = []
    body = json.dumps({"type": "text", "text": "Your parcel ships today."})
    for i in range(SENDS_PER_RUN):
        request = json.loads(body) | {"clientMessageId": uuid.uuid4().hex}
        start = time.perf_counter()
        response = send.send_message(
            customers[i % CUSTOMERS], {"phoneNumberId": number}, json.dumps(request).encode(), None, services
        )
        latencies.append(time.perf_counter() - start)
        assert response.status == 202, response.body
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    meta = make_server("127.0.0.1", 0, instant_meta, threaded=True)
    threading.Thread(target=meta.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{meta.port}"
    with local_settings(WHATSAPP_GRAPH_BASE_URL=base) as settings:
        counter: Counter[str] = Counter()
        services = counting_services(settings, counter, GraphClient(base, "v23.0", "bench-token"))
        number = str(uuid.uuid4().int % 10**15)
        customers = open_windows(services, number)
        run(services, number, customers)  # warm up
        runs: list[dict[str, Any]] = []
        for _ in range(RUNS):
            latencies = run(services, number, customers)
            runs.append(
                {
                    "rps": len(latencies) / sum(latencies),
                    "p50": percentile(latencies, 0.5) * 1000,
                    "p99": percentile(latencies, 0.99) * 1000,
                }
            )
        counter.clear()
        run_one = send.send_message(
            customers[0],
            {"phoneNumberId": number},
            json.dumps({"type": "text", "text": "one more"}).encode(),
            None,
            services,
        )
        assert run_one.status == 202
        per_send = dict(counter)
    meta.shutdown()
    print(
        f"| sends/s (sequential, Meta answering at once) | {statistics.median(r['rps'] for r in runs):.0f} |"
    )
    print(f"| p50 latency, ms | {statistics.median(r['p50'] for r in runs):.1f} |")
    print(f"| p99 latency, ms | {statistics.median(r['p99'] for r in runs):.1f} |")
    print(f"| requests per send | cosmos {per_send.get('cosmos')}, queue {per_send.get('queue')}, Graph 1 |")
    print(f"medians of {RUNS} runs of {SENDS_PER_RUN} sends")


if __name__ == "__main__":
    main()
