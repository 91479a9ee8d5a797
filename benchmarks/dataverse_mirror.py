"""The Dataverse mirror's cost: Dataverse requests per stored message over realistic conversations,
and messages mirrored per second against a stand-in Dataverse that answers at once.

    .venv/bin/python -m benchmarks.dataverse_mirror

A conversation: the customer writes, the agent answers from D365 (the send path, with the record as
`regarding`), Meta reports sent and delivered within a second or two (the customer has just
written, so their phone is online); three times. The customer reads most replies at once and one
in READ_LATE_EVERY later. Conversations run side by side, and the mirror takes what the queue shows
as the trigger would: a customer's text at once, an agent's message once its settling time has
passed (shortened to SETTLE here; 30 s by default), so its statuses ride in the same write.
Rows are created closed (inbound) or closed once delivered (outbound), so nothing reopens a row
here; replaying a closed row does (the rate runs). Most customers are contacts in D365; one in five
is an unknown number. Requests are counted at the stand-in (Dataverse) and at the SDK transport
(Cosmos DB). The rate is sequential, in-process, without the queue's polling.
"""

from __future__ import annotations

import base64
import json
import logging
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from pytest_httpserver import HTTPServer
from werkzeug.serving import make_server

from benchmarks.common import SECRET, counting_services, local_settings
from benchmarks.results import record
from benchmarks.send_path import instant_meta
from devhost.dataverse_standin import DataverseStandIn, FakeTokens, mirror_for
from shared.api import send, webhook
from shared.config import Settings
from shared.conversations.mirror_timing import MirrorTiming
from shared.conversations.queue_messages import MirrorRequest
from shared.dataverse.mirror import DataverseMirror
from shared.services import Services
from shared.storage.clients import queue_service
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from shared.whatsapp.graph_client import GraphClient
from shared.whatsapp.signature import sign

CONVERSATIONS = 20
EXCHANGES = 3  # customer message, agent reply, its three statuses
UNKNOWN_EVERY = 5  # one customer in five is not in D365
READ_LATE_EVERY = 4  # one reply in four is read after its row was written
SETTLE = timedelta(seconds=5)  # long enough for 20 replies and their statuses on a loaded 2-core machine
RUNS = 5
MESSAGES_PER_RUN = 200


def webhook_body(number: str, value: dict[str, object]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": number},
        **value,
    }
    change = {"field": "messages", "value": value}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    ).encode()


def receive(services: Services, body: bytes) -> None:
    assert webhook.receive(body, sign(body, SECRET), services).status == 200


class Pointers:
    """Drains `dataverse-mirror` the way the trigger receives it."""

    def __init__(self, settings: Settings):
        self.queue = queue_service(settings).get_queue_client(DATAVERSE_MIRROR_QUEUE)
        self.queue.clear_messages()

    def take(self) -> list[MirrorRequest]:
        found = []
        for item in self.queue.receive_messages(messages_per_page=32, visibility_timeout=30):
            found.append(MirrorRequest.model_validate_json(base64.b64decode(item.content)))
            self.queue.delete_message(item)
        return found

    def hidden(self) -> int:
        """Messages on the queue that are not visible yet (the count includes hidden ones)."""
        return int(self.queue.get_queue_properties().approximate_message_count or 0)


class Customer:
    def __init__(self, number: str, index: int, contact: str | None):
        self.number = number
        self.wa_id = f"4477009{index:05d}"
        self.index = index
        self.contact = contact
        self.ours: dict[str, str] = {}  # wamid -> our message id

    def writes(self, services: Services, turn: int) -> None:
        customer = {
            "from": self.wa_id,
            "id": f"wamid.{uuid.uuid4().hex}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": f"Question {turn}: where is my order?"},
        }
        value: dict[str, object] = {
            "contacts": [{"profile": {"name": "Ada"}, "wa_id": self.wa_id}],
            "messages": [customer],
        }
        receive(services, webhook_body(self.number, value))

    def is_answered(self, services: Services, turn: int) -> str:
        reply: dict[str, object] = {"type": "text", "text": f"Answer {turn}: it ships today."}
        if self.contact:
            reply["regarding"] = {"entity": "contact", "id": self.contact}
        answer = send.send_message(
            self.wa_id, {"phoneNumberId": self.number}, json.dumps(reply).encode(), None, services
        )
        assert answer.status == 202, answer.body
        sent = json.loads(answer.body)
        self.ours[str(sent["wamid"])] = str(sent["id"])
        return str(sent["wamid"])

    def meta_reports(self, services: Services, wamid: str, state: str) -> None:
        report = {
            "id": wamid,
            "status": state,
            "timestamp": str(int(time.time())),
            "recipient_id": self.wa_id,
            "biz_opaque_callback_data": self.ours[wamid],  # Meta echoes what the send gave
        }
        receive(services, webhook_body(self.number, {"statuses": [report]}))


def conversations(
    services: Services, mirror: DataverseMirror, pointers: Pointers, customers: list[Customer]
) -> list[MirrorRequest]:
    mirrored: list[MirrorRequest] = []

    def mirror_visible() -> None:
        for request in pointers.take():
            mirror.mirror(request)
            mirrored.append(request)

    for turn in range(EXCHANGES):
        for customer in customers:
            customer.writes(services, turn)
        mirror_visible()  # the customers' texts: at once
        late: list[tuple[Customer, str]] = []
        for customer in customers:
            wamid = customer.is_answered(services, turn)
            customer.meta_reports(services, wamid, "sent")
            customer.meta_reports(services, wamid, "delivered")
            if (customer.index + turn) % READ_LATE_EVERY == 0:
                late.append((customer, wamid))
            else:
                customer.meta_reports(services, wamid, "read")
        mirror_visible()
        waiting = pointers.hidden()
        assert waiting == len(customers), f"{waiting} of {len(customers)} replies wait to settle"
        time.sleep(SETTLE.total_seconds() + 0.5)
        mirror_visible()  # the replies, each with its statuses
        for customer, wamid in late:
            customer.meta_reports(services, wamid, "read")
        mirror_visible()
    return mirrored


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("shared").setLevel(logging.WARNING)
    meta = make_server("127.0.0.1", 0, instant_meta, threaded=True)
    threading.Thread(target=meta.serve_forever, daemon=True).start()
    meta_url = f"http://127.0.0.1:{meta.port}"
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    dataverse = DataverseStandIn(server)
    dataverse.provision()
    try:
        with local_settings(WHATSAPP_GRAPH_BASE_URL=meta_url) as settings:
            counter: Counter[str] = Counter()
            services = replace(
                counting_services(settings, counter, GraphClient(meta_url, "v23.0", "bench-token")),
                mirror_timing=MirrorTiming(SETTLE),
            )
            mirror = mirror_for(dataverse, services.store, tokens=FakeTokens())
            pointers = Pointers(settings)
            number = str(uuid.uuid4().int % 10**15)

            counter.clear()
            dataverse.seen.clear()
            customers = []
            for i in range(CONVERSATIONS):
                known = i % UNKNOWN_EVERY != 0
                contact = dataverse.add_contact(mobilephone=f"+4477009{i:05d}") if known else None
                customers.append(Customer(number, i, contact))
            all_requests = conversations(services, mirror, pointers, customers)
            lookups = len([s for s in dataverse.seen if s.method == "GET"])
            upserts = len([s for s in dataverse.seen if s.method == "PATCH"])
            reopenings = len(
                [
                    s
                    for s in dataverse.seen
                    if s.method == "PATCH" and set(s.body) == {"statecode", "statuscode"}
                ]
            )
            left_open = len([r for r in dataverse.activities.values() if r.get("statecode") == 0])
            messages = len({(r.conversation_id, r.id) for r in all_requests})

            # Mirroring rate: the same pointers again (idempotent), timed, Cosmos reads included.
            batch = (all_requests * 2)[:MESSAGES_PER_RUN]
            for request in batch[:20]:
                mirror.mirror(request)  # warm up
            rates = []
            counter.clear()
            dataverse.seen.clear()
            for _ in range(RUNS):
                start = time.perf_counter()
                for request in batch:
                    mirror.mirror(request)
                rates.append(len(batch) / (time.perf_counter() - start))
            cosmos_per_mirror = counter["cosmos"] / (RUNS * len(batch))
            dataverse_per_rerun = len(dataverse.seen) / (RUNS * len(batch))
    finally:
        server.stop()
        meta.shutdown()

    mirrored = len(all_requests)
    exchanges = CONVERSATIONS * EXCHANGES
    # Per exchange: the customer's webhook, the send, three status webhooks, and the mirror runs.
    executions = (exchanges * (1 + 1 + 3) + mirrored) / exchanges
    record(
        {
            "dataverse_requests_per_stored_message": (lookups + upserts) / messages,
            "dataverse_lookups_per_conversation": lookups / CONVERSATIONS,
            "executions_per_exchange": executions,
        },
        "benchmarks.dataverse_mirror",
    )
    print("| measure | figure |")
    print("|---|---|")
    print(
        f"| Dataverse requests per mirrored message | {(lookups + upserts) / mirrored:.3f} "
        f"({upserts} upserts + {lookups} lookups for {mirrored} queue messages) |"
    )
    print(
        f"| Dataverse requests per stored message | {(lookups + upserts) / messages:.2f} "
        f"({messages} messages; an agent's is mirrored once, {SETTLE.total_seconds():.0f} s after its send) |"
    )
    print(
        f"| lookups per conversation | {lookups / CONVERSATIONS:.2f} (1 in {UNKNOWN_EVERY} numbers unknown) |"
    )
    print(f"| function executions per exchange | {executions:.2f} (webhooks 4, send 1, mirror runs) |")
    print(
        f"| rows left open / reopenings | {left_open} of {len(dataverse.activities)} / {reopenings} "
        "(inbound closed at once, outbound once delivered) |"
    )
    print(
        f"| messages mirrored/s (sequential, stand-in answering at once) | {statistics.median(rates):.0f} |"
    )
    print(
        f"| requests per mirror once linked | Dataverse {dataverse_per_rerun:.2f}, "
        f"Cosmos {cosmos_per_mirror:.2f} (read message, conversation, message again; a replayed "
        "closed row is refused, reopened and rewritten: 3, or 4 after a 412 on a first state) |"
    )
    print(
        f"{CONVERSATIONS} conversations of {EXCHANGES} exchanges, 1 reply in {READ_LATE_EVERY} read late; "
        f"rate: median of {RUNS} runs of {len(batch)}"
    )


if __name__ == "__main__":
    main()
