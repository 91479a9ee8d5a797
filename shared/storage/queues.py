"""Publishes queue messages the way the Functions queue trigger reads them (base64, host.json default)."""

from __future__ import annotations

import math
from datetime import timedelta

from azure.core.exceptions import AzureError
from azure.storage.queue import QueueClient, QueueServiceClient, TextBase64EncodePolicy
from pydantic import BaseModel

from shared.conversations.ports import StoreUnavailable


class StorageQueuePublisher:
    def __init__(self, service: QueueServiceClient):
        self.service = service
        self._clients: dict[str, QueueClient] = {}

    def client(self, queue: str) -> QueueClient:
        if queue not in self._clients:
            self._clients[queue] = self.service.get_queue_client(
                queue, message_encode_policy=TextBase64EncodePolicy()
            )
        return self._clients[queue]

    def ping(self) -> None:
        try:
            self.service.get_service_properties()
        except AzureError as error:
            raise StoreUnavailable(f"queue service unavailable: {error.__class__.__name__}") from error

    def send(self, queue: str, message: BaseModel, delay: timedelta | None = None) -> None:
        # A new message's `visibility_timeout` hides it from receivers for that long ("Put Message",
        # https://learn.microsoft.com/rest/api/storageservices/put-message: 0 s to 7 days).
        hidden = max(0, math.ceil(delay.total_seconds())) if delay else None
        try:
            self.client(queue).send_message(
                message.model_dump_json(by_alias=True, exclude_none=True), visibility_timeout=hidden or None
            )
        except AzureError as error:
            raise StoreUnavailable(f"queue {queue} unavailable: {error.__class__.__name__}") from error


class WithoutQueues:
    """Drops messages for queues nobody consumes here (the Dataverse mirror where DATAVERSE_URL is
    unset), so they do not pile up; everything else goes through."""

    def __init__(self, inner: StorageQueuePublisher, dropped: frozenset[str]):
        self.inner = inner
        self.dropped = dropped

    def send(self, queue: str, message: BaseModel, delay: timedelta | None = None) -> None:
        if queue not in self.dropped:
            self.inner.send(queue, message, delay)

    def ping(self) -> None:
        self.inner.ping()
