"""What the benchmarks share: the local stack, and SDK clients that count the HTTP requests they send."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.pipeline.transport import RequestsTransport

from devhost.provision import provision
from devhost.stack import TEST_PORTS, LocalStack
from shared import services as services_module
from shared.config import Settings
from shared.services import Services
from shared.storage.blob_media import BlobMediaStore
from shared.storage.clients import blob_service, cosmos_container, queue_service
from shared.storage.cosmos_store import CosmosConversationStore
from shared.storage.queues import StorageQueuePublisher
from shared.whatsapp.graph_client import GraphClient

SECRET = "bench-secret"


class CountingTransport(RequestsTransport):  # type: ignore[misc]
    """Counts every HTTP request the SDK really sends (retries included), and for Cosmos DB what kind
    each is (`cosmos.document_requests`, `.point_reads`, `.queries`, `.writes`, `.batches`,
    `.written_bytes`): the cost model (benchmarks/cost_model.py) prices them differently."""

    def __init__(self, counter: Counter[str], name: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.counter = counter
        self.name = name

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.counter[self.name] += 1
        if self.name == "cosmos":
            for kind, amount in cosmos_request_kinds(request).items():
                self.counter[f"cosmos.{kind}"] += amount
        return super().send(request, **kwargs)


def cosmos_request_kinds(request: Any) -> dict[str, int]:
    """What one Cosmos DB REST request does to documents (REST API reference: a query is a POST with
    `x-ms-documentdb-isquery`, a transactional batch a POST with `x-ms-cosmos-is-batch-request`)."""
    method = str(request.method).upper()
    headers = {str(k).lower(): str(v) for k, v in request.headers.items()}
    path = str(request.url).split("?", 1)[0]
    if "/docs" not in path:
        # Account, database, container and partition-range metadata: the SDK reads these at start-up
        # and refreshes the account every 5 minutes on a thread of its own, whatever the app does.
        return {}
    body = request.data if isinstance(request.data, bytes | str) else b""
    raw = body.encode() if isinstance(body, str) else body
    kinds = _document_request_kinds(method, headers, raw)
    return {"document_requests": 1, **kinds} if kinds else {}


def _document_request_kinds(method: str, headers: dict[str, str], raw: bytes) -> dict[str, int]:
    if method == "GET":
        return {"point_reads": 1}
    if method == "POST" and headers.get("x-ms-documentdb-isquery", "").lower() == "true":
        return {"queries": 1}
    if method == "POST" and headers.get("x-ms-cosmos-is-batch-request", "").lower() == "true":
        operations = json.loads(raw or b"[]")
        written = [op.get("resourceBody") for op in operations if op.get("resourceBody") is not None]
        size = sum(len(json.dumps(doc, separators=(",", ":")).encode()) for doc in written)
        return {"batches": 1, "writes": len(written), "written_bytes": size}
    if method in ("POST", "PUT", "PATCH"):
        return {"writes": 1, "written_bytes": len(raw)}
    if method == "DELETE":
        return {"writes": 1}
    return {}


@contextmanager
def local_settings(**overrides: str) -> Iterator[Settings]:
    """The benchmarks' own in-memory emulators (the test ports), provisioned."""
    with LocalStack(TEST_PORTS, data_dir=None) as stack:
        os.environ.update(stack.environment)
        os.environ.update({"WHATSAPP_APP_SECRET": SECRET, "AUTH_DISABLED": "true", **overrides})
        services_module.reset()
        settings = Settings()
        provision(settings)
        yield settings


def counting_services(
    settings: Settings, counter: Counter[str], sender: GraphClient | None = None
) -> Services:
    container = cosmos_container(
        settings, transport=CountingTransport(counter, "cosmos", connection_verify=False)
    )
    queues = queue_service(settings, transport=CountingTransport(counter, "queue"))
    return Services(
        settings,
        CosmosConversationStore(container),
        StorageQueuePublisher(queues),
        sender or GraphClient(settings.WHATSAPP_GRAPH_BASE_URL, settings.WHATSAPP_API_VERSION, "unused"),
        BlobMediaStore(blob_service(settings), settings.MEDIA_CONTAINER),
    )
