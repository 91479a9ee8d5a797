"""The inbox's cost: Cosmos DB requests, request units and time per page over a business number with many
conversations.

    .venv/bin/python -m benchmarks.inbox

CONVERSATIONS customers each write once (one in three has been read by an agent since), through
the webhook as in production; then the inbox route is called in-process for its first page, a
following page, and the `waiting` and `open` filters. Requests are counted at the SDK transport;
request units are Cosmos DB's `x-ms-request-charge` answer header as the emulator reports it (the
emulator's charge is not Azure's: docs/api.md "Inbox" has the estimate).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from benchmarks.common import SECRET, CountingTransport, counting_services, local_settings
from benchmarks.webhook_ingest import text_webhook
from shared.api import webhook
from shared.api.inbox import inbox
from shared.conversations.documents import conversation_id
from shared.services import Services
from shared.storage.clients import cosmos_container
from shared.storage.cosmos_store import CosmosConversationStore
from shared.whatsapp.signature import sign

CONVERSATIONS = 300
LIMIT = "25"
RUNS = 5


class ChargedTransport(CountingTransport):
    """Counts requests and adds up the request charge Cosmos DB answers with."""

    def __init__(self, counter: Counter[str], **kwargs: Any):
        super().__init__(counter, "cosmos", **kwargs)
        self.total = 0.0

    def send(self, request: Any, **kwargs: Any) -> Any:
        response = super().send(request, **kwargs)
        self.total += float(response.headers.get("x-ms-request-charge") or 0)
        return response


def fill(services: Services, number: str) -> None:
    for i in range(CONVERSATIONS):
        wa_id = f"4477008{i:05d}"
        body = text_webhook(number, wa_id, age_seconds=CONVERSATIONS - i)
        assert webhook.receive(body, sign(body, SECRET), services).status == 200
        if i % 3 == 0:
            services.store.update(
                conversation_id(number, wa_id), "conversation", lambda d: {**(d or {}), "unreadCount": 0}
            )


def measure(
    services: Services, counter: Counter[str], charges: ChargedTransport, params: dict[str, str]
) -> tuple[float, float, float, Any]:
    times, answer = [], None
    for _ in range(RUNS):
        counter.clear()
        charges.total = 0.0
        start = time.perf_counter()
        answer = inbox(params, None, services)
        times.append((time.perf_counter() - start) * 1000)
    assert answer is not None
    assert answer.status == 200, answer
    return counter["cosmos"], charges.total, statistics.median(times), answer.json()


def main() -> None:
    logging.getLogger("shared").setLevel(logging.WARNING)
    with local_settings() as settings:
        counter: Counter[str] = Counter()
        charges = ChargedTransport(counter, connection_verify=False)
        services = replace(
            counting_services(settings, counter),
            store=CosmosConversationStore(cosmos_container(settings, transport=charges)),
        )
        number = str(int(time.time() * 1000) % 10**15)
        fill(services, number)
        first = measure(services, counter, charges, {"phoneNumberId": number, "limit": LIMIT})
        following = {"phoneNumberId": number, "limit": LIMIT, "next": first[3]["next"]}
        cases = {
            f"first page ({LIMIT} of {CONVERSATIONS})": first,
            "the following page": measure(services, counter, charges, following),
            "state=waiting": measure(
                services, counter, charges, {**first_params(number), "state": "waiting"}
            ),
            "state=open": measure(services, counter, charges, {**first_params(number), "state": "open"}),
        }
    print("| inbox call | Cosmos requests | request charge (emulator) | median time |")
    print("|---|---|---|---|")
    for name, (requests, charge, ms, _) in cases.items():
        print(f"| {name} | {requests:.0f} | {charge:.1f} | {ms:.1f} ms |")
    print(f"{CONVERSATIONS} conversations on one business number; median of {RUNS} calls each")


def first_params(number: str) -> dict[str, str]:
    return {"phoneNumberId": number, "limit": LIMIT}


if __name__ == "__main__":
    main()
