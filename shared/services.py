"""Composition root: builds the adapters once per process, on first use (keeps cold start small)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from shared.config import Settings, get_settings
from shared.conversations.ingest import Clock, utc_now
from shared.conversations.ports import ConversationStore, MediaStore, QueuePublisher
from shared.conversations.send import MessageSender
from shared.media.inbound_copy import MediaSource


class WhatsAppApi(MessageSender, MediaSource, Protocol):
    """Meta's Graph API as the app uses it: sending, and fetching customers' files."""


@dataclass
class Services:
    settings: Settings
    store: ConversationStore
    queue: QueuePublisher
    sender: WhatsAppApi
    media: MediaStore
    clock: Clock = utc_now


def _queues(settings: Settings) -> QueuePublisher:
    from shared.dataverse import announce_mirror_state
    from shared.storage.clients import queue_service
    from shared.storage.names import DATAVERSE_MIRROR_QUEUE
    from shared.storage.queues import StorageQueuePublisher, WithoutQueues

    publisher = StorageQueuePublisher(queue_service(settings))
    if announce_mirror_state(settings):
        return publisher
    return WithoutQueues(publisher, frozenset({DATAVERSE_MIRROR_QUEUE}))


@lru_cache(maxsize=1)
def get_services() -> Services:
    from shared.storage.blob_media import BlobMediaStore
    from shared.storage.clients import blob_service, cosmos_container
    from shared.storage.cosmos_store import CosmosConversationStore
    from shared.whatsapp.graph_client import GraphClient

    settings = get_settings()
    return Services(
        settings=settings,
        store=CosmosConversationStore(lambda: cosmos_container(settings)),
        queue=_queues(settings),
        sender=GraphClient(
            settings.WHATSAPP_GRAPH_BASE_URL,
            settings.WHATSAPP_API_VERSION,
            settings.WHATSAPP_ACCESS_TOKEN.get_secret_value(),
        ),
        media=BlobMediaStore(blob_service(settings), settings.MEDIA_CONTAINER),
    )


def reset() -> None:
    """Forget settings and clients (tests change the environment between cases)."""
    get_settings.cache_clear()
    get_services.cache_clear()
