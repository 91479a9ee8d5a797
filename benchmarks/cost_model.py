"""What an exchange costs in Azure: Cosmos DB RU, Functions GB-seconds and executions, queue and blob
operations and Application Insights ingestion, per million messages for three traffic profiles; and
what Meta's top throughput tier needs (Cosmos RU/s, instances, queue rate, Dataverse users).

    .venv/bin/python -m benchmarks.cost_model

It measures nothing itself: it reads the figures the other scripts of `make bench` wrote to
benchmarks/results.json (request counts and kinds, document sizes, executions, Dataverse requests,
peak memory), the instance memory infra/app/function-app.bicep gives, and prices them with the list
prices and Microsoft's RU rules below. docs/cost.md cites every price and rule and says what is
measured and what is assumed; docs/capacity.md does the same for the top tier.

An exchange: a customer message, an agent reply, its three statuses (sent, delivered, read) and
their Dataverse mirrors; two stored messages, so a million messages is 500,000 exchanges.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from benchmarks.results import RESULTS, record
from shared.storage.indexing import INDEXING_POLICY

ROOT: Final = Path(__file__).resolve().parents[1]
FUNCTION_APP_BICEP: Final = ROOT / "infra" / "app" / "function-app.bicep"
HOST_JSON: Final = ROOT / "host.json"

# ---- Prices: USD list prices, pay as you go, East US, read 2026-11-30 (docs/cost.md, "Sources") ------
FLEX_GB_SECOND: Final = 0.000026  # Flex Consumption, On Demand Execution Time, per GB-s
FLEX_EXECUTION: Final = 0.40 / 1e6  # On Demand Total Executions ($0.000004 per 10)
FLEX_MIN_PERIOD_S: Final = 1.0  # "The minimum billable execution period ... is 1,000 ms"
COSMOS_SERVERLESS_RU: Final = 0.25 / 1e6  # serverless, per RU
COSMOS_STORAGE_GB_MONTH: Final = 0.25
COSMOS_PROVISIONED_100_RU_HOUR: Final = 0.008  # standard (manual) provisioned, per 100 RU/s per hour
AUTOSCALE_FACTOR: Final = 1.5  # autoscale's rate per 100 RU/s, single write region
QUEUE_OPERATION: Final = 0.004 / 10_000  # Queues v2, Standard LRS, class 1 and class 2 alike
BLOB_WRITE: Final = 0.05 / 10_000  # General Block Blob v2, Hot LRS write operations
BLOB_READ: Final = 0.004 / 10_000  # Hot read operations
BLOB_GB_MONTH: Final = 0.0208  # Hot LRS data stored, first 50 TB
LOG_INGESTION_GB: Final = 2.30  # Log Analytics, Analytics logs, per GB (10^9 bytes) ingested
GB_PER_KB: Final = 1024 / 1e9  # results.json's KB are 1,024 bytes; prices' GB are 10^9

# ---- Cosmos DB RU rules (Understand request units consumption, Request units, capacity planner) ----
# (KB, RU) as Microsoft tabulates them by document size; between two rows the RU is interpolated.
READ_RU_BY_KB: Final = ((1, 1.00), (2, 1.04), (4, 1.14), (8, 1.33), (16, 1.67), (32, 2.19), (64, 4.76))
WRITE_RU_BY_KB: Final = ((1, 4.95), (2, 6.29), (4, 6.67), (8, 7.04), (16, 9.52), (32, 11.23), (64, 22.67))
RU_PER_INDEX_TERM: Final = 0.2  # "5.0 (document size based) + 0.2 x 10 (indexing) = 7 RUs"
# A query in one partition served by the index: ~3 RU when it returns one 1-KB document (Microsoft
# Learn's index exercise), of which 1 RU loads the document; the rest is the query's own.
QUERY_BASE_RU: Final = 2.0
RU_PER_RETURNED_KB: Final = 1.0  # documents a query returns cost about what reading them would
# Documents that a query in an exchange returns: the status's lookup by wamid finds one message.
RETURNED_DOCS: Final = {"inbound_text": 1.0, "status": 1.0, "send": 1.0, "empty_poll": 0.0}
HISTORY_PAGE_MESSAGES: Final = 30  # the chat panel's page (pcf: PAGE_SIZE)
# New documents an operation creates (the rest of its writes replace one): the message.
CREATES: Final = {"inbound_text": 1, "send": 1, "status": 0, "empty_poll": 0, "history_page": 0}
MIRROR_POINT_READS: Final = 3.0  # per mirrored message: the message, its conversation, the message again
OPERATIONS: Final = ("inbound_text", "status", "send", "empty_poll", "history_page")
STATUSES_PER_REPLY: Final = 3  # sent, delivered, read
MESSAGES_PER_EXCHANGE: Final = 2

# ---- Latencies in Azure (assumed; only the busy profile and the top tier depend on them) -----------
COSMOS_S: Final = 0.005  # a point operation in the same region (the SLA is under 10 ms)
QUEUE_S: Final = 0.010
GRAPH_S: Final = 0.300  # Meta's Graph API, a send, read receipt or typing indicator
DATAVERSE_S: Final = 0.150  # one Web API request
MEDIA_COPY_S: Final = 1.0  # a file from Meta's CDN into Blob Storage
TARGET_UTILIZATION: Final = 0.5  # an instance of concurrency 1 must be free when the next request comes

# ---- Telemetry (assumed record sizes, as billed: ~25% below the JSON sent) ---------------------------
REQUEST_RECORD_KB: Final = 0.9  # one per execution (AppRequests)
TRACE_RECORD_KB: Final = 0.5  # the host's "Executing"/"Executed" per execution, and the app's log lines
DEPENDENCY_RECORD_KB: Final = 0.7  # one per outgoing call (Cosmos DB, queue, Graph, Dataverse, blob)
HOST_TRACES_PER_EXECUTION: Final = 2  # "Executing", "Executed": unless host.json sets `Function` above it
# The app's info lines per exchange: "stored inbound text message", "Meta accepted message", three
# "message is now ...", two "mirrored ... message".
APP_LOG_LINES_PER_EXCHANGE: Final = 7

# ---- The chat panel (pcf/WhatsAppChat: 5 s while something happened in the last 2 minutes, then
# slowing to 30 s) and its calls besides polls, per exchange: a read receipt, a typing indicator and
# the session re-read a new customer message triggers.
POLLS_PER_ACTIVE_MINUTE: Final = 12.0
POLLS_PER_IDLE_MINUTE: Final = 2.0
PANEL_SIGNALS_PER_EXCHANGE: Final = 3.0
SESSION_READ_POINT_READS: Final = 2.0  # the session and the conversation

# ---- Meta's top tier, per business number (docs/capacity.md) ------------------------------------------
TOP_TIER_MESSAGES_PER_S: Final = 1000.0
SERVERLESS_MAX_RU_PER_S: Final = 5000.0  # a serverless container up to 50 GB (one physical partition)
SERVERLESS_MAX_GB: Final = 1000.0  # 1 TB per serverless container
QUEUE_OPERATIONS_PER_MESSAGE: Final = 3.0  # put, get, delete
# Dataverse service protection, per user per web server, in a 5-minute sliding window.
DATAVERSE_WINDOW_S: Final = 300.0
DATAVERSE_REQUESTS_PER_WINDOW: Final = 6000.0
DATAVERSE_EXECUTION_S_PER_WINDOW: Final = 1200.0
DATAVERSE_CONCURRENT: Final = 52.0
FLEX_MAX_INSTANCES: Final = 1000
PYTHON_HTTP_CONCURRENCY: Final = 1  # Flex's default for Python apps, at every instance size

# Which script writes which measured figure: a missing one names it.
WRITTEN_BY: Final = {
    "cosmos_ops": "benchmarks.operations",
    "cosmos_requests": "benchmarks.operations",
    "document_kb": "benchmarks.operations",
    "webhook_sdk_cpu_us": "benchmarks.cpu",
    "executions_per_exchange": "benchmarks.dataverse_mirror",
    "dataverse_requests_per_stored_message": "benchmarks.dataverse_mirror",
    "peak_rss_mb": "benchmarks.media_upload",
}


class MissingFigure(KeyError):
    """results.json lacks a figure the model needs: run the script that writes it (`make bench`)."""

    def __init__(self, key: str):
        script = WRITTEN_BY.get(key.split(".", 1)[0], "make bench")
        super().__init__(f"benchmarks/results.json has no `{key}`: run `.venv/bin/python -m {script}` first")
        self.key = key


class ModelError(ValueError):
    """An input the model cannot price honestly (memory that does not fit, an unparsable setting)."""


@dataclass(frozen=True)
class Profile:
    """One kind of traffic; docs/cost.md's table lists them, with why."""

    name: str
    messages_per_day: float  # both directions, every conversation of the deployment
    busy_hours: float  # the hours of the day they come in
    messages_per_conversation: float
    panel_active_minutes: float  # per conversation: polling every 5 s
    panel_idle_minutes: float  # per conversation: open, nothing happening, a poll every 30 s
    media_share: float  # customer messages that carry a file
    media_kb: float  # a file's average size


PROFILES: Final = (
    Profile(
        name="sparse",
        messages_per_day=200,
        busy_hours=8,
        messages_per_conversation=4,
        panel_active_minutes=4,
        panel_idle_minutes=10,
        media_share=0.10,
        media_kb=150,
    ),
    Profile(
        name="typical",
        messages_per_day=20_000,
        busy_hours=10,
        messages_per_conversation=10,
        panel_active_minutes=8,
        panel_idle_minutes=5,
        media_share=0.15,
        media_kb=200,
    ),
    Profile(
        name="busy",
        messages_per_day=500_000,
        busy_hours=12,
        messages_per_conversation=20,
        panel_active_minutes=12,
        panel_idle_minutes=3,
        media_share=0.20,
        media_kb=250,
    ),
)


# ---- reading the inputs ---------------------------------------------------------------------------
def figure(results: Mapping[str, Any], key: str) -> float:
    """A number from results.json's nested figures; MissingFigure names the key and its script."""
    node: Any = results
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise MissingFigure(key)
        node = node[part]
    if not isinstance(node, int | float) or isinstance(node, bool):
        raise MissingFigure(key)
    return float(node)


def bicep_int(text: str, name: str) -> int | None:
    """A parameter's default (`param <name> int = <n>`) or a property (`<name>: <n>`), else None."""
    found = re.search(rf"\bparam {name} int = (\d+)", text) or re.search(rf"\b{name}: (\d+)\b", text)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Infra:
    """What the deployment sets that the costs depend on."""

    instance_memory_mb: int
    http_concurrency: int  # HTTP executions an instance runs at once
    queue_concurrency: int  # queue messages an instance works on at once
    maximum_instances: int
    host_traces_per_execution: int = HOST_TRACES_PER_EXECUTION  # host.json's `Function` log level

    @classmethod
    def read(cls, bicep: str, host: Mapping[str, Any]) -> Infra:
        memory = bicep_int(bicep, "instanceMemoryMB")
        if memory is None:
            raise ModelError("infra/app/function-app.bicep sets no instanceMemoryMB")
        queues = host.get("extensions", {}).get("queues", {})
        return cls(
            instance_memory_mb=memory,
            http_concurrency=bicep_int(bicep, "perInstanceConcurrency") or PYTHON_HTTP_CONCURRENCY,
            queue_concurrency=int(queues.get("batchSize", 16)) + int(queues.get("newBatchThreshold", 8)),
            maximum_instances=bicep_int(bicep, "maximumInstanceCount") or FLEX_MAX_INSTANCES,
            host_traces_per_execution=host_traces(host),
        )


def host_traces(host: Mapping[str, Any]) -> int:
    """The host's "Executing"/"Executed" pair is logged at Information under `Function.<name>`: kept
    unless host.json sets `Function` (or the default) above that."""
    levels = host.get("logging", {}).get("logLevel", {})
    level = str(levels.get("Function", levels.get("default", "Information")))
    return HOST_TRACES_PER_EXECUTION if level in ("Trace", "Debug", "Information") else 0


# ---- indexed terms ----------------------------------------------------------------------------------
ALL_PATHS_POLICY: Final[dict[str, Any]] = {  # Cosmos DB's default: everything but _etag
    "includedPaths": [{"path": "/*"}],
    "excludedPaths": [{"path": '/"_etag"/?'}],
    "compositeIndexes": INDEXING_POLICY["compositeIndexes"],
}

SAMPLE_MESSAGE: Final[dict[str, Any]] = {  # an agent's reply once Meta reported sent and delivered
    "type": "message",
    "conversationId": "106540352242922:447700900123",
    "id": "3f2b9a6e-7c1d-4e8a-9b0c-2d4e6f8a1b3c",
    "wamid": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSQjU5NkQ4RUZGRkE3NjY0NEIyAA==",
    "phoneNumberId": "106540352242922",
    "customerId": "447700900123",
    "direction": "outbound",
    "kind": "text",
    "text": "Your parcel ships today; the tracking link follows.",
    "timestamp": "2026-11-30T10:15:02Z",
    "sortKey": "01796379302-00000000000000000042",
    "status": "delivered",
    "statusTimes": {"sent": "2026-11-30T10:15:03Z", "delivered": "2026-11-30T10:15:04Z"},
    "sentBy": "7f3e2d1c-0b9a-4f8e-8d7c-6b5a4f3e2d1c",
    "regarding": {"entity": "contact", "id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
    "clientMessageId": "c7d1e0a2-5b3f-4e61-9a8d-2f4b6c8e0a1d",
    "requestHash": "9c1185a5c5e9fc54612808977ee8f548b2258d31",
    "pricing": {
        "billable": False,
        "pricingModel": "PMP",
        "category": "service",
        "type": "free_customer_service",
    },
    "mirrorDueAt": "2026-11-30T10:15:32Z",
}
SAMPLE_CONVERSATION: Final[dict[str, Any]] = {
    "type": "conversation",
    "id": "conversation",
    "conversationId": "106540352242922:447700900123",
    "phoneNumberId": "106540352242922",
    "customerId": "447700900123",
    "waId": "447700900123",
    "profileName": "Ada Lovelace",
    "lastMessageAt": "2026-11-30T10:14:40Z",
    "lastMessagePreview": "Hi, where is my parcel?",
    "lastMessageDirection": "inbound",
    "regarding": {
        "entity": "contact",
        "id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "owner": {"type": "systemuser", "id": "7f3e2d1c-0b9a-4f8e-8d7c-6b5a4f3e2d1c"},
    },
    "lastInbound": {
        "id": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E3QjQ0",
        "wamid": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E3QjQ0",
        "at": "2026-11-30T10:14:40Z",
        "sortKey": "01796379280-00000000000000000041",
    },
    "agentReadAt": "2026-11-30T10:14:52Z",
    "agentReadMessageId": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E3QjQ0",
    "unreadCount": 0,
}
SAMPLE_SESSION: Final[dict[str, Any]] = {
    "type": "session",
    "id": "session",
    "conversationId": "106540352242922:447700900123",
    "lastInboundAt": "2026-11-30T10:14:40Z",
    "expiresAt": "2026-12-01T10:14:40Z",
    "ttl": 86400,
}


def _with(doc: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    return {**doc, **changes}


# The replaces of an exchange, before and after: a status on the reply, the conversation and the
# session on a customer's message, and the panel's read receipt and typing indicator.
UPDATES: Final = {
    "status": (
        SAMPLE_MESSAGE,
        _with(
            SAMPLE_MESSAGE,
            status="read",
            statusTimes={**SAMPLE_MESSAGE["statusTimes"], "read": "2026-11-30T10:15:20Z"},
        ),
    ),
    "conversation": (
        SAMPLE_CONVERSATION,
        _with(
            SAMPLE_CONVERSATION,
            lastMessageAt="2026-11-30T10:16:10Z",
            lastMessagePreview="Thanks! And the invoice?",
            lastInbound={
                "id": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUN0M5RTEy",
                "wamid": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUN0M5RTEy",
                "at": "2026-11-30T10:16:10Z",
                "sortKey": "01796379370-00000000000000000043",
            },
            unreadCount=1,
        ),
    ),
    "session": (
        SAMPLE_SESSION,
        _with(SAMPLE_SESSION, lastInboundAt="2026-11-30T10:16:10Z", expiresAt="2026-12-01T10:16:10Z"),
    ),
}
SIGNAL_UPDATE: Final = (
    SAMPLE_CONVERSATION,
    _with(SAMPLE_CONVERSATION, agentReadAt="2026-11-30T10:16:20Z", lastTypingAt="2026-11-30T10:16:25Z"),
)
SYSTEM_TERMS: Final = 2  # id and _ts: always indexed (consistent mode)


def leaves(doc: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar of a document as Cosmos DB names its path (`/a/b/?`, arrays as `/[]`)."""
    if isinstance(doc, Mapping):
        for key, value in doc.items():
            yield from leaves(value, f"{prefix}/{key}")
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            for path, leaf in leaves(value, f"{prefix}/[]"):
                yield f"{path}#{index}", leaf  # one term per element, as arrays index each
    else:
        yield f"{prefix}/?", doc


def _precision(pattern: str, path: str) -> tuple[int, int] | None:
    """How precisely `pattern` matches `path` (deeper wins; `/?` beats `/*`), or None."""
    path = path.split("#", 1)[0]
    if pattern.endswith("/?"):
        return (pattern.count("/"), 1) if pattern.replace('"', "") == path else None
    prefix = pattern.removesuffix("*")
    return (prefix.count("/"), 0) if path.startswith(prefix) else None


def is_indexed(path: str, policy: Mapping[str, Any]) -> bool:
    """The most precise included or excluded path decides (Indexing policies, "precedence")."""
    best: tuple[tuple[int, int], bool] | None = None
    for kind, included in (("includedPaths", True), ("excludedPaths", False)):
        for entry in policy[kind]:
            found = _precision(entry["path"], path)
            if found is not None and (best is None or found > best[0]):
                best = (found, included)
    return best is not None and best[1]


def _explicit(policy: Mapping[str, Any]) -> list[str]:
    return [entry["path"] for entry in policy["includedPaths"] if entry["path"].endswith("/?")]


def indexed_terms(doc: Mapping[str, Any], policy: Mapping[str, Any]) -> int:
    """Index terms a new document adds: its indexed scalars, an "undefined" term for each explicitly
    included path it lacks, id and _ts, and one per composite index."""
    present = {path.split("#", 1)[0] for path, _ in leaves(doc) if path != "/id/?"}
    terms = sum(1 for path, _ in leaves(doc) if path != "/id/?" and is_indexed(path, policy))
    missing = sum(1 for path in _explicit(policy) if path not in present)
    return terms + missing + SYSTEM_TERMS + len(policy["compositeIndexes"])


def changed_terms(before: Mapping[str, Any], after: Mapping[str, Any], policy: Mapping[str, Any]) -> int:
    """Index terms a replace removes and adds again: the indexed scalars that changed, _ts, and the
    composite indexes any of whose paths changed."""
    old, new = dict(leaves(before)), dict(leaves(after))
    changed = {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}
    scalars = sum(1 for path in changed if is_indexed(path, policy))
    composite = sum(
        1
        for index in policy["compositeIndexes"]
        if any(f"{entry['path']}/?" in {path.split("#", 1)[0] for path in changed} for entry in index)
    )
    return scalars + 1 + composite


@dataclass(frozen=True)
class Terms:
    """Index terms under one policy: for a new message, and per replace (the updates' average)."""

    create: float
    replace: float
    signal: float

    @classmethod
    def under(cls, policy: Mapping[str, Any]) -> Terms:
        replaces = [changed_terms(before, after, policy) for before, after in UPDATES.values()]
        return cls(
            create=float(indexed_terms(SAMPLE_MESSAGE, policy)),
            replace=sum(replaces) / len(replaces),
            signal=float(changed_terms(*SIGNAL_UPDATE, policy)),
        )


# ---- RU -----------------------------------------------------------------------------------------------
def interpolated(table: Sequence[tuple[float, float]], kb: float) -> float:
    """The table's RU at `kb`: its first row below it, linear between rows, the last slope beyond."""
    if kb <= table[0][0]:
        return table[0][1]
    for (k0, r0), (k1, r1) in pairwise(table):
        if kb <= k1:
            return r0 + (r1 - r0) * (kb - k0) / (k1 - k0)
    (k0, r0), (k1, r1) = table[-2], table[-1]
    return r1 + (r1 - r0) * (kb - k1) / (k1 - k0)


def read_ru(kb: float) -> float:
    return interpolated(READ_RU_BY_KB, kb)


def create_ru(kb: float, terms: float) -> float:
    """Insert the document and its index terms."""
    return interpolated(WRITE_RU_BY_KB, kb) + RU_PER_INDEX_TERM * terms


def replace_ru(kb: float, changed: float) -> float:
    """Delete and insert the document; remove and add its changed terms."""
    return 2 * interpolated(WRITE_RU_BY_KB, kb) + 2 * RU_PER_INDEX_TERM * changed


def query_ru(returned_kb: float) -> float:
    return QUERY_BASE_RU + RU_PER_RETURNED_KB * returned_kb


@dataclass(frozen=True)
class Measured:
    """The figures make bench measured, as the model uses them."""

    ops: dict[str, dict[str, float]]
    requests: dict[str, float]
    message_kb: float
    conversation_kb: float
    session_kb: float
    executions_per_exchange: float
    dataverse_per_message: float
    peak_rss_mb: float
    cpu_s: float

    @classmethod
    def read(cls, results: Mapping[str, Any]) -> Measured:
        kinds = ("point_reads", "queries", "writes", "written_kb", "batches")
        return cls(
            ops={op: {k: figure(results, f"cosmos_ops.{op}.{k}") for k in kinds} for op in OPERATIONS},
            requests={op: figure(results, f"cosmos_requests.{op}") for op in OPERATIONS},
            message_kb=figure(results, "document_kb.message"),
            conversation_kb=figure(results, "document_kb.conversation"),
            session_kb=figure(results, "document_kb.session"),
            executions_per_exchange=figure(results, "executions_per_exchange"),
            dataverse_per_message=figure(results, "dataverse_requests_per_stored_message"),
            peak_rss_mb=figure(results, "peak_rss_mb"),
            # The app's CPU with the SDKs' own (serialising, signing), as an execution spends it.
            cpu_s=figure(results, "webhook_sdk_cpu_us") / 1e6,
        )

    @property
    def read_kb(self) -> float:
        """A point read's document: the exchange reads its three kinds alike."""
        return (self.message_kb + self.conversation_kb + self.session_kb) / 3


def operation_ru(m: Measured, op: str, terms: Terms) -> float:
    """One operation's RU from what it did: point reads, queries (and what they return), creates and
    replaces of the KB it wrote. A transactional batch costs its operations' sum, like them apart."""
    ops = m.ops[op]
    writes = ops["writes"]
    kb = ops["written_kb"] / writes if writes else 0.0
    creates = min(CREATES[op], writes)
    returned = HISTORY_PAGE_MESSAGES if op == "history_page" else RETURNED_DOCS[op]
    per_query = query_ru(returned * m.message_kb)
    return (
        ops["point_reads"] * read_ru(m.read_kb)
        + ops["queries"] * per_query
        + creates * create_ru(kb, terms.create)
        + (writes - creates) * replace_ru(kb, terms.replace)
    )


def mirror_ru(m: Measured) -> float:
    """The Dataverse mirror's reads, per stored message."""
    return MIRROR_POINT_READS * read_ru(m.read_kb)


def exchange_ru(m: Measured, terms: Terms) -> float:
    """A customer message, a reply, its three statuses and both mirrors (no chat panel)."""
    return (
        operation_ru(m, "inbound_text", terms)
        + operation_ru(m, "send", terms)
        + STATUSES_PER_REPLY * operation_ru(m, "status", terms)
        + MESSAGES_PER_EXCHANGE * mirror_ru(m)
    )


# ---- Functions billing --------------------------------------------------------------------------------
def billed_seconds(rate_per_s: float, duration_s: float, concurrency: int, worst: bool = False) -> float:
    """Billed seconds per execution of a function group (Flex scales HTTP functions as one group and
    each other function on its own). An instance is billed while it executes, at least 1 s per
    activity period; executions starting inside an open period share it. With Poisson arrivals at
    `lam` per instance, periods of w = max(duration, 1 s) cover 1 - e^(-lam*w) of the time, so each
    execution costs (1 - e^(-lam*w)) / lam, and never less than its own duration over the instance's
    concurrency. `worst`: every execution alone in its own period."""
    window = max(duration_s, FLEX_MIN_PERIOD_S)
    if worst or rate_per_s <= 0:
        return window
    instances = max(1, math.ceil(rate_per_s * duration_s / (concurrency * TARGET_UTILIZATION)))
    lam = rate_per_s / instances
    return max(duration_s / concurrency, (1 - math.exp(-lam * window)) / lam)


@dataclass(frozen=True)
class Group:
    """Executions of one scaling group per exchange, how long each runs, and how many run at once."""

    executions: float
    duration_s: float
    concurrency: int


def panel_polls(p: Profile) -> float:
    """Chat panel polls per exchange."""
    per_conversation = p.panel_active_minutes * POLLS_PER_ACTIVE_MINUTE
    per_conversation += p.panel_idle_minutes * POLLS_PER_IDLE_MINUTE
    return per_conversation / (p.messages_per_conversation / MESSAGES_PER_EXCHANGE)


def panel_loads(p: Profile) -> float:
    """The panel's first load (session and a history page) per exchange: once per conversation."""
    return 1 / (p.messages_per_conversation / MESSAGES_PER_EXCHANGE)


def groups(m: Measured, p: Profile, infra: Infra) -> dict[str, Group]:
    """The executions of an exchange and the panel around it, by scaling group."""
    webhooks = 1 + STATUSES_PER_REPLY  # the customer's message and the reply's statuses
    mirrors = max(0.0, m.executions_per_exchange - webhooks - 1)  # measured total less webhooks, send
    r = m.requests
    durations = {
        "inbound": m.cpu_s + r["inbound_text"] * COSMOS_S + QUEUE_S,
        "status": m.cpu_s + r["status"] * COSMOS_S,
        "send": m.cpu_s + r["send"] * COSMOS_S + GRAPH_S + QUEUE_S,
        "poll": m.cpu_s + r["empty_poll"] * COSMOS_S,
        "load": m.cpu_s + (r["history_page"] + SESSION_READ_POINT_READS) * COSMOS_S / 2,
        "signal": m.cpu_s + 2 * COSMOS_S + GRAPH_S * 2 / 3,  # read receipt and typing go to Meta
    }
    http = {
        "inbound": 1.0,
        "status": float(STATUSES_PER_REPLY),
        "send": 1.0,
        "poll": panel_polls(p),
        "load": 2 * panel_loads(p),  # the session and the history page, side by side
        "signal": PANEL_SIGNALS_PER_EXCHANGE,
    }
    count = sum(http.values())
    mirror_s = MIRROR_POINT_READS * COSMOS_S + m.dataverse_per_message * DATAVERSE_S
    return {
        "http": Group(count, sum(http[k] * durations[k] for k in http) / count, infra.http_concurrency),
        "mirror": Group(mirrors, m.cpu_s + mirror_s, infra.queue_concurrency),
        "media": Group(p.media_share, MEDIA_COPY_S, infra.queue_concurrency),
    }


# ---- cost per million messages -----------------------------------------------------------------------
def exchanges_per_s(p: Profile) -> float:
    return p.messages_per_day / MESSAGES_PER_EXCHANGE / (p.busy_hours * 3600)


def profile_ru(m: Measured, p: Profile, terms: Terms) -> float:
    """An exchange's RU with the chat panel's polls, first load and signals, and media copies."""
    returned_changes = (MESSAGES_PER_EXCHANGE + STATUSES_PER_REPLY) * read_ru(m.message_kb)
    signals = PANEL_SIGNALS_PER_EXCHANGE - 1  # read receipt, typing: read and replace the conversation
    session_reads = SESSION_READ_POINT_READS * read_ru(m.read_kb)
    return (
        exchange_ru(m, terms)
        + panel_polls(p) * operation_ru(m, "empty_poll", terms)
        + returned_changes
        + panel_loads(p) * (operation_ru(m, "history_page", terms) + session_reads)
        + session_reads  # the session re-read after a customer message
        + signals * (read_ru(m.conversation_kb) + replace_ru(m.conversation_kb, terms.signal))
        + p.media_share * (read_ru(m.message_kb) + replace_ru(m.message_kb, terms.replace))
    )


def telemetry_kb(m: Measured, p: Profile, g: Mapping[str, Group], infra: Infra) -> float:
    """Application Insights KB per exchange: a request per execution, the host's traces and the
    app's log lines, a dependency per outgoing call."""
    executions = sum(group.executions for group in g.values())
    r = m.requests
    signals = PANEL_SIGNALS_PER_EXCHANGE - 1
    cosmos = (
        r["inbound_text"]
        + r["send"]
        + STATUSES_PER_REPLY * r["status"]
        + MESSAGES_PER_EXCHANGE * MIRROR_POINT_READS
        + panel_polls(p) * r["empty_poll"]
        + panel_loads(p) * (r["history_page"] + SESSION_READ_POINT_READS)
        + SESSION_READ_POINT_READS  # the session re-read
        + signals * 2  # read and replace the conversation
        + p.media_share * 2  # read and replace the message
    )
    queue_puts = g["mirror"].executions + p.media_share
    graph = 1 + signals + 2 * p.media_share  # the send, read receipt, typing; a file's URL and bytes
    dataverse = MESSAGES_PER_EXCHANGE * m.dataverse_per_message
    outgoing = cosmos + queue_puts + graph + dataverse + p.media_share  # the last: the blob upload
    traces = infra.host_traces_per_execution * executions + APP_LOG_LINES_PER_EXCHANGE
    return executions * REQUEST_RECORD_KB + traces * TRACE_RECORD_KB + outgoing * DEPENDENCY_RECORD_KB


def cost_parts(
    m: Measured, p: Profile, infra: Infra, terms: Terms, worst: bool = False, telemetry_kept: float = 1.0
) -> dict[str, float]:
    """USD per million messages, by meter; `telemetry_kept`: the share Application Insights keeps."""
    exchanges = 1e6 / MESSAGES_PER_EXCHANGE
    g = groups(m, p, infra)
    rate = exchanges_per_s(p)
    gb = infra.instance_memory_mb / 1024
    billed = sum(
        group.executions * billed_seconds(rate * group.executions, group.duration_s, group.concurrency, worst)
        for group in g.values()
    )
    stored_kb = MESSAGES_PER_EXCHANGE * m.message_kb + (m.conversation_kb + m.session_kb) * panel_loads(p)
    queue_messages = g["mirror"].executions + p.media_share
    return {
        "functions_gb_seconds": exchanges * billed * gb * FLEX_GB_SECOND,
        "executions": exchanges * sum(group.executions for group in g.values()) * FLEX_EXECUTION,
        "cosmos": exchanges
        * (profile_ru(m, p, terms) * COSMOS_SERVERLESS_RU + stored_kb * GB_PER_KB * COSMOS_STORAGE_GB_MONTH),
        "queues": exchanges * queue_messages * QUEUE_OPERATIONS_PER_MESSAGE * QUEUE_OPERATION,
        "blob": exchanges * p.media_share * (BLOB_WRITE + BLOB_READ + p.media_kb * GB_PER_KB * BLOB_GB_MONTH),
        "app_insights": exchanges
        * telemetry_kb(m, p, g, infra)
        * telemetry_kept
        * GB_PER_KB
        * LOG_INGESTION_GB,
    }


SAMPLED: Final = 0.1  # Application Insights sampling: one item in ten kept
INSTANCE_SIZES_MB: Final = (512, 2048, 4096)  # what Flex Consumption offers


def smallest_instance_mb(peak_rss_mb: float) -> int:
    """The smallest instance size the measured peak memory fits."""
    return next((size for size in INSTANCE_SIZES_MB if peak_rss_mb < size), INSTANCE_SIZES_MB[-1])


def levers(m: Measured, infra: Infra, terms: Terms) -> dict[str, float]:
    """The typical profile's USD per million messages with each of the big levers, and all of them: a
    chat panel that does not poll (pushed changes), the smallest instance the measured peak memory
    fits, telemetry sampled to 10%."""
    typical = next(p for p in PROFILES if p.name == "typical")
    quiet = replace(typical, panel_active_minutes=0.0, panel_idle_minutes=0.0)
    small = replace(
        infra, instance_memory_mb=min(infra.instance_memory_mb, smallest_instance_mb(m.peak_rss_mb))
    )

    def total(p: Profile, i: Infra, kept: float = 1.0) -> float:
        return sum(cost_parts(m, p, i, terms, telemetry_kept=kept).values())

    return {
        "cost_per_million_usd_levers.typical.no_panel_polls": total(quiet, infra),
        "cost_per_million_usd_levers.typical.smallest_instance": total(typical, small),
        "smallest_fitting_instance_mb": small.instance_memory_mb,
        "cost_per_million_usd_levers.typical.telemetry_sampled_10_percent": total(typical, infra, SAMPLED),
        "cost_per_million_usd_levers.typical.all_three": total(quiet, small, SAMPLED),
    }


# ---- Meta's top tier ----------------------------------------------------------------------------------
def capacity(m: Measured, infra: Infra, terms: Terms) -> dict[str, float]:
    """1,000 agent messages per second on one number, three statuses each, every one mirrored."""
    mps = TOP_TIER_MESSAGES_PER_S
    ru = mps * (operation_ru(m, "send", terms) + STATUSES_PER_REPLY * operation_ru(m, "status", terms))
    ru += mps * mirror_ru(m)
    gb_per_day = mps * 86400 * m.message_kb * GB_PER_KB
    autoscale_max = math.ceil(ru * 1.2 / 1000) * 1000
    r = m.requests
    send_s = m.cpu_s + r["send"] * COSMOS_S + GRAPH_S + QUEUE_S
    status_s = m.cpu_s + r["status"] * COSMOS_S
    mirror_s = m.cpu_s + MIRROR_POINT_READS * COSMOS_S + m.dataverse_per_message * DATAVERSE_S
    dataverse_per_s = mps * m.dataverse_per_message
    pair_limit = min(
        DATAVERSE_REQUESTS_PER_WINDOW / DATAVERSE_WINDOW_S,
        DATAVERSE_EXECUTION_S_PER_WINDOW / DATAVERSE_WINDOW_S / DATAVERSE_S,
        DATAVERSE_CONCURRENT / DATAVERSE_S,
    )
    return {
        "capacity.cosmos_ru_per_s": ru,
        "capacity.serverless_max_ru_per_s": SERVERLESS_MAX_RU_PER_S,
        "capacity.cosmos_gb_per_day": gb_per_day,
        "capacity.serverless_days_to_full": SERVERLESS_MAX_GB / gb_per_day,
        "capacity.autoscale_max_ru_per_s": autoscale_max,
        "capacity.autoscale_usd_per_hour_at_max": autoscale_max
        / 100
        * COSMOS_PROVISIONED_100_RU_HOUR
        * AUTOSCALE_FACTOR,
        "capacity.http_instances": math.ceil(
            mps * (send_s + STATUSES_PER_REPLY * status_s) / infra.http_concurrency
        ),
        "capacity.mirror_instances": math.ceil(mps * mirror_s / infra.queue_concurrency),
        "capacity.maximum_instances": infra.maximum_instances,
        "capacity.mirror_queue_messages_per_s": mps,
        "capacity.storage_requests_per_s": mps * QUEUE_OPERATIONS_PER_MESSAGE,
        "capacity.dataverse_requests_per_s": dataverse_per_s,
        "capacity.dataverse_requests_per_s_per_user_server": pair_limit,
        "capacity.dataverse_user_servers": math.ceil(dataverse_per_s / pair_limit),
        "capacity.dataverse_backlog_messages_per_hour": max(0.0, dataverse_per_s - pair_limit)
        * 3600
        / m.dataverse_per_message,
    }


# ---- all figures --------------------------------------------------------------------------------------
def figures(results: Mapping[str, Any], bicep: str, host: Mapping[str, Any]) -> dict[str, float]:
    """Everything the model records, from results.json's figures and the infra's settings."""
    m = Measured.read(results)
    infra = Infra.read(bicep, host)
    if m.peak_rss_mb >= infra.instance_memory_mb:
        raise ModelError(
            f"peak RSS {m.peak_rss_mb:.0f} MB (benchmarks.media_upload) does not fit an instance of "
            f"{infra.instance_memory_mb} MB (infra/app/function-app.bicep, instanceMemoryMB)"
        )
    narrow, everything = Terms.under(INDEXING_POLICY), Terms.under(ALL_PATHS_POLICY)
    ru = exchange_ru(m, narrow)
    out: dict[str, float] = {
        "ru_per_exchange_estimate": ru,
        "ru_per_exchange_all_paths_indexed": exchange_ru(m, everything),
        "index_saving_ru_per_exchange": exchange_ru(m, everything) - ru,
        "index_terms.create": narrow.create,
        "index_terms.create_all_paths": everything.create,
        "index_terms.replace": narrow.replace,
        "index_terms.replace_all_paths": everything.replace,
        "instance_memory_mb": infra.instance_memory_mb,
        "memory_headroom_mb": infra.instance_memory_mb - m.peak_rss_mb,
    }
    for op in OPERATIONS:
        out[f"ru_per_operation.{op}"] = operation_ru(m, op, narrow)
    for p in PROFILES:
        parts = cost_parts(m, p, infra, narrow)
        g = groups(m, p, infra)
        out[f"cost_per_million_usd.{p.name}"] = sum(parts.values())
        out |= {f"cost_per_million_usd_parts.{p.name}.{k}": v for k, v in parts.items()}
        out[f"cost_per_million_usd_worst_case.{p.name}"] = sum(
            cost_parts(m, p, infra, narrow, worst=True).values()
        )
        out[f"executions_per_exchange_with_panel.{p.name}"] = sum(group.executions for group in g.values())
        out[f"panel_polls_per_exchange.{p.name}"] = panel_polls(p)
        out[f"ru_per_exchange_with_panel.{p.name}"] = profile_ru(m, p, narrow)
        out[f"app_insights_kb_per_exchange.{p.name}"] = telemetry_kb(m, p, g, infra)
    return out | levers(m, infra, narrow) | capacity(m, infra, narrow)


def main() -> None:
    try:
        found = figures(
            json.loads(RESULTS.read_text()), FUNCTION_APP_BICEP.read_text(), json.loads(HOST_JSON.read_text())
        )
    except (MissingFigure, ModelError) as problem:
        sys.exit(f"cost model: {problem.args[0]}")
    record(found, "benchmarks.cost_model")
    print("| profile | USD per million messages | worst case (each execution billed 1 s) |")
    print("|---|---|---|")
    for p in PROFILES:
        typical, worst = (
            found[f"cost_per_million_usd.{p.name}"],
            found[f"cost_per_million_usd_worst_case.{p.name}"],
        )
        print(f"| {p.name} | {typical:.2f} | {worst:.2f} |")
    print(
        f"RU per exchange: {found['ru_per_exchange_estimate']:.1f} (all paths indexed: "
        f"{found['ru_per_exchange_all_paths_indexed']:.1f})"
    )


if __name__ == "__main__":
    main()
