"""Webhook ingest throughput in-process against the local emulators, requests per inbound text, and
the import time of `function_app` (the Python part of a cold start).

    make bench        (or: .venv/bin/python -m benchmarks.webhook_ingest)

Figures are medians of several runs; the machine is shared and noisy.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter

from benchmarks.common import SECRET, counting_services, local_settings
from shared.api import webhook
from shared.services import Services
from shared.whatsapp.signature import sign

RUNS = 5
MESSAGES_PER_RUN = 200
# Every message distinct, as in life: its own text, and a second later than the one before, so each
# really moves the window and the conversation's preview (an identical one would skip those writes).
_SENT_AT = itertools.count(int(time.time()) - 3 * 3600)


def text_webhook(phone_number_id: str, wa_id: str, age_seconds: int | None = None) -> bytes:
    sent_at = next(_SENT_AT) if age_seconds is None else int(time.time()) - age_seconds
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.{uuid.uuid4().hex}",
                                    "timestamp": str(sent_at),
                                    "type": "text",
                                    "text": {"body": f"Is order {uuid.uuid4().hex[:6]} on its way?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def ingest_rate(services: Services, customers: int) -> float:
    """Messages per second; each message from one of `customers` customers of a fresh business number."""
    number = str(uuid.uuid4().int % 10**15)
    bodies = [text_webhook(number, f"1555{i % customers:07d}") for i in range(MESSAGES_PER_RUN)]
    signed = [(body, sign(body, SECRET)) for body in bodies]
    start = time.perf_counter()
    for body, signature in signed:
        response = webhook.receive(body, signature, services)
        assert response.status == 200, response.body
    return MESSAGES_PER_RUN / (time.perf_counter() - start)


def requests_per_message(services: Services, counter: Counter[str], new_conversation: bool) -> dict[str, int]:
    number = str(uuid.uuid4().int % 10**15)
    if not new_conversation:  # the customer wrote a minute ago
        webhook.receive(body := text_webhook(number, "15550000001", 60), sign(body, SECRET), services)
    counter.clear()
    body = text_webhook(number, "15550000001", 0)
    assert webhook.receive(body, sign(body, SECRET), services).status == 200
    return dict(counter)


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import function_app; print(time.perf_counter() - t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(RUNS)]
    return statistics.median(runs)


def main() -> None:
    with local_settings() as settings:
        counter: Counter[str] = Counter()
        services = counting_services(settings, counter)
        ingest_rate(services, customers=10)  # warm up connections
        one_customer = [ingest_rate(services, customers=1) for _ in range(RUNS)]
        many_customers = [ingest_rate(services, customers=MESSAGES_PER_RUN) for _ in range(RUNS)]
        first = requests_per_message(services, counter, new_conversation=True)
        later = requests_per_message(services, counter, new_conversation=False)
    rows = [
        ("inbound texts/s, one conversation", f"{statistics.median(one_customer):.0f}"),
        ("inbound texts/s, a new conversation each", f"{statistics.median(many_customers):.0f}"),
        (
            "requests for a conversation's first text",
            f"cosmos {first.get('cosmos')}, queue {first.get('queue')}",
        ),
        ("requests for a later text", f"cosmos {later.get('cosmos')}, queue {later.get('queue')}"),
        ("import function_app, ms", f"{import_seconds() * 1000:.0f}"),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"medians of {RUNS} runs of {MESSAGES_PER_RUN} sequential webhook calls")


if __name__ == "__main__":
    main()
