"""Composition root: builds the adapters once per process, on first use (keeps cold start small).

What the first webhook needs (the Cosmos DB and queue SDKs and their adapters) is imported with this
module, while the worker loads the app. What it does not need is imported where it is first used: the
WhatsApp client and the Blob Storage SDK (built when `sender` or `media` is first read), Dataverse and
sign-in (agent routes), the send pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

from shared.config import Settings, get_settings
from shared.conversations.ingest import Clock, utc_now
from shared.conversations.mirror_timing import AT_ONCE, MirrorTiming, timing_for
from shared.conversations.ports import ConversationStore, MediaStore, QueuePublisher
from shared.storage.clients import cosmos_container_when_ready, queue_service
from shared.storage.cosmos_store import CosmosConversationStore
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from shared.storage.queues import StorageQueuePublisher, WithoutQueues

if TYPE_CHECKING:
    from shared.access.records import AccessPolicy
    from shared.conversations.agent_signals import ReadMarker
    from shared.conversations.send import MessageSender
    from shared.media.inbound_copy import MediaSource

    class WhatsAppApi(MessageSender, MediaSource, ReadMarker, Protocol):
        """Meta's Graph API as the app uses it: sending, and fetching customers' files."""


T = TypeVar("T")


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

    publisher = StorageQueuePublisher(queue_service(settings))
    if announce_mirror_state(settings):
        return publisher
    return WithoutQueues(publisher, frozenset({DATAVERSE_MIRROR_QUEUE}))


def _access(settings: Settings) -> AccessPolicy | None:
    """Dataverse decides which records an agent may see, wherever it is configured and sign-in is on."""
    if not settings.record_checks_on:
        return None
    from shared.access.records import AccessPolicy
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


class _Later(Generic[T]):
    """An adapter built on first use, once, whichever thread asks first."""

    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value


class _AppServices(Services):
    """`get_services()`'s: the WhatsApp client and the media store are built when first read, not
    with the rest: the webhook needs neither, and their imports (the Graph API models; the Blob SDK,
    ~130 ms) were most of its first request's time. Callers get the real adapters."""

    @property
    def sender(self) -> WhatsAppApi:
        found: WhatsAppApi | _Later[WhatsAppApi] = self.__dict__["_sender"]
        return found.get() if isinstance(found, _Later) else found

    @sender.setter
    def sender(self, value: WhatsAppApi | _Later[WhatsAppApi]) -> None:
        self.__dict__["_sender"] = value

    @property
    def media(self) -> MediaStore:
        found: MediaStore | _Later[MediaStore] = self.__dict__["_media"]
        return found.get() if isinstance(found, _Later) else found

    @media.setter
    def media(self, value: MediaStore | _Later[MediaStore]) -> None:
        self.__dict__["_media"] = value


def _graph_client(settings: Settings) -> WhatsAppApi:
    from shared.whatsapp.graph_client import GraphClient

    return GraphClient(
        settings.WHATSAPP_GRAPH_BASE_URL,
        settings.WHATSAPP_API_VERSION,
        settings.WHATSAPP_ACCESS_TOKEN.get_secret_value(),
        media_hosts=settings.media_download_hosts,
    )


def _blob_media(settings: Settings) -> MediaStore:
    from shared.storage.blob_media import BlobMediaStore
    from shared.storage.clients import blob_service

    return BlobMediaStore(blob_service(settings), settings.MEDIA_CONTAINER)


def _build() -> Services:
    settings = get_settings()
    sender: _Later[WhatsAppApi] = _Later(lambda: _graph_client(settings))
    media: _Later[MediaStore] = _Later(lambda: _blob_media(settings))
    return _AppServices(
        settings=settings,
        store=CosmosConversationStore(lambda: cosmos_container_when_ready(settings)),
        queue=_queues(settings),
        sender=cast("WhatsAppApi", sender),  # resolved by _AppServices.sender
        media=cast(MediaStore, media),  # resolved by _AppServices.media
        access=_access(settings),
        mirror_timing=timing_for(settings.DATAVERSE_MIRROR_SETTLE_SECONDS),
        notify_after=(
            timedelta(seconds=settings.DATAVERSE_NOTIFY_AFTER_SECONDS)
            if settings.DATAVERSE_NOTIFY_AFTER_SECONDS > 0
            else None
        ),
    )


_built: Services | None = None
_building = threading.Lock()


def get_services() -> Services:
    """The process's adapters, built once (concurrent first requests wait for the one build)."""
    global _built
    found = _built
    if found is None:
        with _building:
            if _built is None:
                _built = _build()
            found = _built
    return found


def reset() -> None:
    """Forget settings and clients (tests change the environment between cases)."""
    global _built
    with _building:
        _built = None
    get_settings.cache_clear()
