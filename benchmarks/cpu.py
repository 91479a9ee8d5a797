"""The app's own CPU per one-message webhook, against the floor any webhook costs, and the cold start.

    .venv/bin/python -m benchmarks.cpu              (figures to results.json)
    .venv/bin/python -m benchmarks.cpu --profile    (cProfile of many webhooks: where the time goes)
    .venv/bin/python -m benchmarks.cpu --no-cold    (CPU only: no emulators needed)

`webhook_cpu_us`: this process's CPU (`time.process_time`) per `shared.api.webhook.receive` of a signed
one-message text webhook, with an in-memory store and queue that do no I/O (below: Cosmos DB's
semantics, and the queue serialises its message as the real publisher does), median of RUNS runs of
CALLS calls; every message is distinct (its own id, text, timestamp and customer), so nothing is
skipped as a duplicate. The settings are the deployed defaults (mirror settling, unread notifications).
`webhook_floor_us`: the same measure for what any webhook must do with such a body: the HMAC, then
JSON and the envelope's model (`WebhookPayload`), the floor benchmarks/operations.py has always used.
`import_ms`, `first_request_ms`: a fresh process imports `function_app`, then serves one webhook against
the emulators (clients built on first use); median of RUNS processes, each timed alone.
"""

from __future__ import annotations

import cProfile
import itertools
import json
import logging
import os
import pstats
import statistics
import subprocess
import sys
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from azure.core.pipeline.transport import RequestsTransport
from pydantic import BaseModel, SecretStr

from benchmarks.results import record
from shared.api import webhook
from shared.config import Settings
from shared.conversations.mirror_timing import timing_for
from shared.conversations.ports import UNREAD, BatchConflict, Change, Doc, StoredMedia, Unread, Write
from shared.services import Services
from shared.whatsapp.graph_client import GraphClient
from shared.whatsapp.signature import sign, signature_is_valid
from shared.whatsapp.webhook_models import WebhookPayload

SECRET = "bench-secret"
RUNS = 7
CALLS = 300
NUMBER = "106540352242922"


class MemoryStore:
    """A ConversationStore in a dict, with Cosmos DB's semantics: `create` refuses an existing id,
    `update` applies the change to the current document (a stale `current` is a conflict: re-read and
    re-applied), a batch is all or nothing, each write gets a new `_etag` and a `_ts`; reads hand out
    copies, as the SDK hands out freshly parsed JSON.

    It keeps the `keep` most recently written conversations only: the app's process does not hold the
    database, and thousands of live documents would make the garbage collector's work part of the
    figure (each benchmark message is a conversation of its own, read back only within its webhook)."""

    def __init__(self, keep: int = 256) -> None:
        self.partitions: OrderedDict[str, dict[str, Doc]] = OrderedDict()
        self.keep = keep
        self._etags = itertools.count(1)

    def _write(self, document: Doc) -> Doc:
        stored = {**document, "_etag": f'"{next(self._etags):08x}"', "_ts": int(time.time())}
        partition = document["conversationId"]
        if partition not in self.partitions:
            self.partitions[partition] = {}
            if len(self.partitions) > self.keep:
                self.partitions.popitem(last=False)
        self.partitions[partition][document["id"]] = stored
        return dict(stored)

    def _stored(self, partition: str, document_id: str) -> Doc | None:
        return self.partitions.get(partition, {}).get(document_id)

    def create(self, document: Doc) -> bool:
        return self.create_document(document) is not None

    def create_document(self, document: Doc) -> Doc | None:
        if self._stored(document["conversationId"], document["id"]) is not None:
            return None
        return self._write(document)

    def read(self, partition: str, document_id: str) -> Doc | None:
        found = self._stored(partition, document_id)
        return dict(found) if found is not None else None

    def read_many(self, partition: str, document_ids: Sequence[str]) -> dict[str, Doc]:
        docs = self.partitions.get(partition, {})
        return {i: dict(docs[i]) for i in document_ids if i in docs}

    def update(
        self, partition: str, document_id: str, change: Change, current: Doc | Unread | None = UNREAD
    ) -> Doc | None:
        if isinstance(current, Unread) or current != self._stored(partition, document_id):
            current = self.read(partition, document_id)  # not given, or stale: Cosmos would say 412
        new = change(current)
        if new is None:
            return current
        if new.get("conversationId") != partition or new.get("id") != document_id:
            raise ValueError("a change may not move a document")
        return self._write(new)

    def write_batch(self, partition: str, writes: Sequence[Write]) -> list[Doc]:
        for index, write in enumerate(writes):
            stored = self._stored(partition, write.document["id"])
            if write.etag is None and stored is not None:
                raise BatchConflict(index, 409)
            if write.etag is not None and stored is None:
                raise BatchConflict(index, 404)
            if write.etag is not None and stored is not None and stored["_etag"] != write.etag:
                raise BatchConflict(index, 412)
        return [self._write(write.document) for write in writes]

    def delete(self, partition: str, document_id: str) -> None:
        self.partitions.get(partition, {}).pop(document_id, None)

    def ping(self) -> None:
        return None

    def _messages(self, partition: str) -> list[Doc]:
        return [d for d in self.partitions.get(partition, {}).values() if d.get("type") == "message"]

    def find_message_by_wamid(self, partition: str, wamid: str) -> Doc | None:
        return next((dict(d) for d in self._messages(partition) if d.get("wamid") == wamid), None)

    def list_messages(self, partition: str, limit: int, before: str | None) -> list[Doc]:
        found = [d for d in self._messages(partition) if before is None or d["sortKey"] < before]
        return [dict(d) for d in sorted(found, key=lambda d: d["sortKey"], reverse=True)[:limit]]

    def list_conversations(
        self,
        phone_number_id: str,
        limit: int,
        after: tuple[str, str] | None = None,
        *,
        unread_only: bool = False,
        inbound_since: str | None = None,
    ) -> list[Doc]:
        found = [
            d
            for docs in self.partitions.values()
            for d in docs.values()
            if d.get("type") == "conversation" and d.get("phoneNumberId") == phone_number_id
        ]
        found.sort(key=lambda d: (d.get("lastMessageAt") or "", d["conversationId"]), reverse=True)
        return [dict(d) for d in found[:limit]]

    def list_changed(
        self,
        partition: str,
        since: int,
        limit: int,
        seen: tuple[str, ...] = (),
        *,
        with_conversation: bool = False,
    ) -> list[Doc]:
        found = [d for d in self._messages(partition) if d["_ts"] >= since and d["_etag"] not in seen]
        changed = [dict(d) for d in sorted(found, key=lambda d: d["_ts"])[:limit]]
        conversation = self._stored(partition, "conversation") if with_conversation else None
        return changed + ([dict(conversation)] if conversation is not None and len(changed) < limit else [])


class MemoryQueue:
    """A QueuePublisher that keeps the last messages, serialised as the Storage queue publisher does."""

    def __init__(self) -> None:
        self.sent: deque[tuple[str, str, timedelta | None]] = deque(maxlen=64)
        self.count = 0

    def send(self, queue: str, message: BaseModel, delay: timedelta | None = None) -> None:
        self.sent.append((queue, message.model_dump_json(by_alias=True, exclude_none=True), delay))
        self.count += 1

    def ping(self) -> None:
        return None


class NoMedia:
    """The webhook stores no files; any call here is a mistake in the benchmark."""

    def put(
        self, blob_name: str, data: bytes | Iterable[bytes], content_type: str, metadata: dict[str, str]
    ) -> None:
        raise NotImplementedError

    def read_url(self, blob_name: str, minutes: int) -> str:
        raise NotImplementedError

    def open(self, blob_name: str) -> StoredMedia:
        raise NotImplementedError

    def blob_name_of(self, url: str) -> str | None:
        raise NotImplementedError

    def delete(self, blob_name: str) -> None:
        raise NotImplementedError

    def ping(self) -> None:
        return None


def customer_text(number: str, wa_id: str, at: int) -> bytes:
    """One customer text as Meta sends it, with its own wamid, text and timestamp."""
    message = {
        "from": wa_id,
        "id": f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(at),
        "type": "text",
        "text": {"body": f"Question {uuid.uuid4().hex[:8]}: where is my order?"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": number},
        "contacts": [{"profile": {"name": "Ada"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def bodies(count: int) -> Iterator[bytes]:
    """Distinct one-message webhooks, each from its own customer (a first message: the most writes)."""
    now = int(time.time())
    for i in range(count):
        yield customer_text(NUMBER, f"1555{i:07d}", now - count + i)


def memory_services() -> Services:
    settings = Settings(WHATSAPP_APP_SECRET=SecretStr(SECRET))
    return Services(
        settings,
        MemoryStore(),
        MemoryQueue(),
        GraphClient("http://127.0.0.1:9", "v23.0", "unused"),
        NoMedia(),
        mirror_timing=timing_for(settings.DATAVERSE_MIRROR_SETTLE_SECONDS),
        notify_after=timedelta(seconds=settings.DATAVERSE_NOTIFY_AFTER_SECONDS),
    )


def cpu_per_call(action: Callable[[], Any], runs: int = RUNS, calls: int = CALLS) -> float:
    """Microseconds of this process's CPU per call, median of `runs` runs of `calls` calls."""
    measured = []
    for _ in range(runs):
        start = time.process_time()
        for _ in range(calls):
            action()
        measured.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(measured)


def webhook_cpu() -> tuple[float, float]:
    services = memory_services()
    pending = iter(list(bodies(RUNS * CALLS + 50)))  # built beforehand: not part of the measure

    def app() -> None:
        body = next(pending)
        answer = webhook.receive(body, sign(body, SECRET), services)
        assert answer.status == 200, answer.body

    one = next(bodies(1))
    signature = sign(one, SECRET)

    def floor() -> None:  # what any webhook must do: the HMAC, then JSON and the envelope's model
        assert signature_is_valid(one, signature, SECRET)
        WebhookPayload.model_validate_json(one)

    for _ in range(50):  # warm: first-use caches (pydantic, logging) out of the measure
        app()
        floor()
    return cpu_per_call(app), cpu_per_call(floor)


def profile(calls: int = 3000, top: int = 40) -> None:
    services = memory_services()
    pending = list(bodies(calls + 50))
    for body in pending[:50]:
        webhook.receive(body, sign(body, SECRET), services)
    signed = [(body, sign(body, SECRET)) for body in pending[50:]]
    profiler = cProfile.Profile()
    profiler.enable()
    for body, signature in signed:
        webhook.receive(body, signature, services)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


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


def cold_start(runs: int = RUNS) -> tuple[float, float]:
    """A fresh process: `import function_app`, then its first webhook (clients built on first use),
    against the emulators `emulator_figures` started."""
    from benchmarks.common import SECRET as STACK_SECRET

    imports, firsts = [], []
    for _ in range(runs):
        number = str(uuid.uuid4().int % 10**15)
        code = FIRST_REQUEST.format(
            body=customer_text(number, "15550000002", int(time.time())), secret=STACK_SECRET
        )
        found = json.loads(
            subprocess.check_output([sys.executable, "-c", code], text=True, env=dict(os.environ))
        )
        imports.append(found["import_ms"])
        firsts.append(found["first_request_ms"])
    return statistics.median(imports), statistics.median(firsts)


def client_cpu(settings: Settings, rounds: int = 9, calls: int = 150) -> dict[str, float]:
    """This process's CPU per Cosmos DB point read and per queue send, with the SDK transport reading
    proxy settings from the environment (`env_on`, the SDKs' default) and without (`env_off`, the
    app's clients: shared/storage/clients.py); the median of `rounds` alternated rounds of `calls`.
    The lookups scan the whole environment, so the difference grows with its size (an Azure instance
    has far more variables than this shell)."""
    from azure.storage.queue import QueueClient, TextBase64EncodePolicy

    from shared.storage.clients import cosmos_container, queue_service
    from shared.storage.names import MEDIA_INBOUND_QUEUE

    def read(container: Any) -> Callable[[], Any]:
        return lambda: container.read_item("bench", partition_key="bench:cpu")

    def send(queue: QueueClient) -> Callable[[], Any]:
        return lambda: queue.send_message("bench")

    def transport(env: bool) -> RequestsTransport:
        return RequestsTransport(use_env_settings=env, connection_timeout=5, read_timeout=60)

    calls_by_key: dict[str, Callable[[], Any]] = {}
    queues = []
    for env in (True, False):
        name = "env_on" if env else "env_off"
        container = cosmos_container(settings, transport=transport(env))
        container.upsert_item({"id": "bench", "conversationId": "bench:cpu", "type": "bench"})
        queue = queue_service(settings, transport=transport(env)).get_queue_client(
            MEDIA_INBOUND_QUEUE, message_encode_policy=TextBase64EncodePolicy()
        )
        queues.append(queue)
        calls_by_key[f"client_cpu_us.cosmos_read.{name}"] = read(container)
        calls_by_key[f"client_cpu_us.queue_send.{name}"] = send(queue)
    measured: dict[str, list[float]] = {key: [] for key in calls_by_key}
    for call in calls_by_key.values():
        call()  # connections open, first-use caches filled
    for _ in range(rounds):  # alternated, so that a busy moment of the machine hits both alike
        for key, call in calls_by_key.items():
            measured[key].append(cpu_per_call(call, runs=1, calls=calls))
    for queue in queues:
        queue.clear_messages()
    return {key: statistics.median(values) for key, values in measured.items()}


def webhook_sdk_cpu(runs: int = 5, calls: int = 50) -> float:
    """CPU per one-message webhook with the app's real clients against the emulators (as
    benchmarks/operations.py measured it before: the SDKs' request handling included)."""
    from benchmarks.common import SECRET as STACK_SECRET
    from shared.services import get_services

    services = get_services()
    number = str(uuid.uuid4().int % 10**15)
    now = int(time.time())
    pending = iter([customer_text(number, f"1555{i:07d}", now - i) for i in range(runs * calls + 5)])

    def app() -> None:
        body = next(pending)
        assert webhook.receive(body, sign(body, STACK_SECRET), services).status == 200

    app()
    return cpu_per_call(app, runs=runs, calls=calls)


def emulator_figures() -> dict[str, float]:
    from benchmarks.common import local_settings

    logging.disable(logging.CRITICAL)
    with local_settings() as settings:
        figures = client_cpu(settings)
        figures["webhook_sdk_cpu_us"] = webhook_sdk_cpu()
        figures["import_ms"], figures["first_request_ms"] = cold_start()
    logging.disable(logging.NOTSET)
    return figures


def main() -> None:
    if "--profile" in sys.argv:
        profile()
        return
    app_us, floor_us = webhook_cpu()
    figures = {"webhook_cpu_us": app_us, "webhook_floor_us": floor_us}
    if "--no-cold" not in sys.argv:
        figures |= emulator_figures()
    record(figures, "benchmarks.cpu")
    print("| measure | figure |")
    print("|---|---|")
    for key, value in figures.items():
        print(f"| {key} | {value:.1f} |")
    print(f"| app CPU / floor | {app_us / floor_us:.1f}x |")
    print(f"CPU: medians of {RUNS} runs of {CALLS} calls, in memory (no I/O); with the SDKs: 5 runs of 50")
    print(f"cold start: median of {RUNS} fresh processes against the emulators")


if __name__ == "__main__":
    main()
