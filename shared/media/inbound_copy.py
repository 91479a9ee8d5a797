"""Copies a customer's file from Meta (whose download URLs last 5 minutes and media ids 7 days) into
Blob Storage, so the chat history never loses it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from shared.conversations.documents import MediaInfo, MessageDocument, parse_iso
from shared.conversations.ingest import utc_now
from shared.conversations.mirror_timing import AT_ONCE, MirrorTiming
from shared.conversations.ports import ConversationStore, Doc, MediaStore, QueuePublisher
from shared.conversations.queue_messages import MediaCopyRequest, MirrorRequest
from shared.media.names import inbound_blob_name
from shared.media.rules import LARGEST
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from shared.telemetry import record_meta_error
from shared.whatsapp.graph_errors import GraphError
from shared.whatsapp.graph_models import MediaLocation

log = logging.getLogger(__name__)
# Meta refuses inbound files over 100 MB (131052); anything larger than that is not what it announced.
MAX_INBOUND = LARGEST + 1024 * 1024
GONE_CODES = frozenset({100, 131052})


class MediaUrlRefused(ValueError):
    """Meta's lookup named a download URL the access token must not be sent to: the file is marked
    unavailable (a retry would get the same answer), and nothing was requested."""


class MediaSource(Protocol):
    def media_location(self, media_id: str, phone_number_id: str | None = None) -> MediaLocation: ...

    def download(self, url: str, chunk_size: int = ...) -> Iterator[bytes]:
        """The file's bytes; raises MediaUrlRefused, before any request, for a URL not to be trusted."""
        ...


class MediaIntegrityError(Exception):
    """The bytes do not match what Meta announced: retried by the queue, then poisoned."""


def _digest_matches(expected: str, actual: bytes) -> bool:
    """Meta gives sha256 as base64 in webhooks; accept hex as well."""
    candidates = {actual.hex()}
    candidates.add(base64.b64encode(actual).decode())
    try:
        return base64.b64decode(expected, validate=True) == actual or expected.lower() in candidates
    except (binascii.Error, ValueError):
        return expected.lower() in candidates


class _Counted:
    """Hashes and measures the stream as it passes to Blob Storage, stopping at `limit` bytes."""

    def __init__(self, chunks: Iterator[bytes], limit: int):
        self.chunks = chunks
        self.limit = limit
        self.size = 0
        self.hash = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.size += len(chunk)
            if self.size > self.limit:
                raise MediaIntegrityError(f"download exceeds {self.limit} bytes")
            self.hash.update(chunk)
            yield chunk


class CopyInboundMedia:
    def __init__(
        self,
        store: ConversationStore,
        media: MediaStore,
        source: MediaSource,
        queue: QueuePublisher,
        mirror_timing: MirrorTiming = AT_ONCE,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.store = store
        self.media = media
        self.source = source
        self.queue = queue
        self.mirror_timing = mirror_timing
        self.clock = clock

    def __call__(self, request: MediaCopyRequest) -> str:
        """What happened: "copied", "already-copied", "unavailable" or "no-message"."""
        extra = {"conversationId": request.conversation_id, "messageId": request.id}
        current = self.store.read(request.conversation_id, request.id)
        if current is None:
            log.warning("media copy for a message that is not stored", extra=extra)
            return "no-message"
        message = MessageDocument.model_validate(current)
        if message.media and message.media.status in ("stored", "unavailable"):
            return "already-copied"
        try:
            location = self.source.media_location(request.meta_media_id, request.phone_number_id)
        except GraphError as error:
            record_meta_error(error.code, "media")
            if error.code in GONE_CODES or error.http_status == 404:
                log.warning("Meta no longer has media %s: %s", request.meta_media_id, error, extra=extra)
                reason = f"Meta no longer has this file (error {error.code or error.http_status})"
                self._record(request, {"status": "unavailable", "unavailableReason": reason})
                return "unavailable"
            raise
        try:
            chunks = self.source.download(location.url)
        except MediaUrlRefused as refused:
            log.warning("media %s not downloaded: %s", request.meta_media_id, refused, extra=extra)
            self._record(request, {"status": "unavailable", "unavailableReason": str(refused)})
            return "unavailable"
        mime_type = location.mime_type or request.mime_type or "application/octet-stream"
        blob_name = inbound_blob_name(
            request.conversation_id, request.id, mime_type, parse_iso(message.timestamp)
        )
        limit = min(MAX_INBOUND, (location.file_size or MAX_INBOUND) + 1)
        stream = _Counted(chunks, limit)
        self.media.put(blob_name, stream, mime_type, {"metaMediaId": request.meta_media_id})
        expected = request.sha256 or location.sha256
        if (location.file_size is not None and stream.size != location.file_size) or (
            expected and not _digest_matches(expected, stream.hash.digest())
        ):
            self.media.delete(blob_name)
            raise MediaIntegrityError(f"media {request.meta_media_id}: size or sha256 differs from Meta's")
        self._record(
            request,
            {"status": "stored", "blobName": blob_name, "size": stream.size, "mimeType": mime_type},
        )
        log.info("copied media %s to %s", request.meta_media_id, blob_name, extra=extra)
        return "copied"

    def _record(self, request: MediaCopyRequest, fields: dict[str, Any]) -> None:
        """Writes the copy's outcome. The message's mirror, queued at its arrival to wait for the copy,
        carries it when still pending (shared/conversations/mirror_timing.py); else one is queued."""
        awaited = False

        def change(current: Doc | None) -> Doc | None:
            nonlocal awaited
            if current is None:
                return None
            media = {**(current.get("media") or {}), **fields}
            MediaInfo.model_validate(media)
            awaited = self.mirror_timing.pending(current, self.clock())
            return {**current, "media": media}

        self.store.update(request.conversation_id, request.id, change)
        if not awaited:
            self.queue.send(
                DATAVERSE_MIRROR_QUEUE, MirrorRequest(conversation_id=request.conversation_id, id=request.id)
            )
