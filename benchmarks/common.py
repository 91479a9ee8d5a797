"""What the benchmarks share: the local stack, and SDK clients that count the HTTP requests they send."""

from __future__ import annotations

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
    """Counts every HTTP request the SDK really sends (retries included)."""

    def __init__(self, counter: Counter[str], name: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.counter = counter
        self.name = name

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.counter[self.name] += 1
        return super().send(request, **kwargs)


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
