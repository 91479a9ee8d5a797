"""Composition root: builds the adapters once per process, on first use (keeps cold start small)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Protocol

from shared.access.records import AccessPolicy
from shared.config import Settings, get_settings
from shared.conversations.agent_signals import ReadMarker
from shared.conversations.ingest import Clock, utc_now
from shared.conversations.mirror_timing import AT_ONCE, MirrorTiming, timing_for
from shared.conversations.ports import ConversationStore, MediaStore, QueuePublisher
from shared.conversations.send import MessageSender
from shared.media.inbound_copy import MediaSource


class WhatsAppApi(MessageSender, MediaSource, ReadMarker, Protocol):
    """Meta's Graph API as the app uses it: sending, and fetching customers' files."""


@dataclass
class Services:
    settings: Settings
    store: ConversationStore
    queue: QueuePublisher
    sender: WhatsAppApi
    media: MediaStore
    clock: Clock = utc_now
    # None where Dataverse is not configured or sign-in is off: any agent sees every conversation.
    access: AccessPolicy | None = None
    mirror_timing: MirrorTiming = AT_ONCE
    notify_after: timedelta | None = None  # unread customer messages tell the record's owner after this


def _queues(settings: Settings) -> QueuePublisher:
    from shared.dataverse import announce_mirror_state
    from shared.storage.clients import queue_service
    from shared.storage.names import DATAVERSE_MIRROR_QUEUE
    from shared.storage.queues import StorageQueuePublisher, WithoutQueues

    publisher = StorageQueuePublisher(queue_service(settings))
    if announce_mirror_state(settings):
        return publisher
    return WithoutQueues(publisher, frozenset({DATAVERSE_MIRROR_QUEUE}))


def _access(settings: Settings) -> AccessPolicy | None:
    """Dataverse decides which records an agent may see, wherever it is configured and sign-in is on."""
    if not settings.record_checks_on:
        return None
    from shared.dataverse.client import DataverseClient
    from shared.dataverse.record_access import DataverseRecords
    from shared.dataverse.tokens import token_provider_for

    # An agent is waiting: a few quick attempts, never the mirror's minutes of patience.
    client = DataverseClient(
        settings.DATAVERSE_URL,
        token_provider_for(settings),
        timeout=(3.05, 10.0),
        max_attempts=3,
        retry_budget_seconds=5.0,
    )
    return AccessPolicy(DataverseRecords(client), grant_seconds=settings.ACCESS_CACHE_SECONDS)


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
            media_hosts=settings.media_download_hosts,
        ),
        media=BlobMediaStore(blob_service(settings), settings.MEDIA_CONTAINER),
        access=_access(settings),
        mirror_timing=timing_for(settings.DATAVERSE_MIRROR_SETTLE_SECONDS),
        notify_after=(
            timedelta(seconds=settings.DATAVERSE_NOTIFY_AFTER_SECONDS)
            if settings.DATAVERSE_NOTIFY_AFTER_SECONDS > 0
            else None
        ),
    )


def reset() -> None:
    """Forget settings and clients (tests change the environment between cases)."""
    get_settings.cache_clear()
    get_services.cache_clear()
