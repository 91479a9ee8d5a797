"""What the domain needs from storage, as small interfaces; adapters in `shared/storage` implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from pydantic import BaseModel

Doc = dict[str, Any]
Change = Callable[[Doc | None], Doc | None]


class StoreUnavailable(Exception):
    """A store or queue could not be reached or refused the write: the caller should answer 5xx and retry."""


class BatchConflict(Exception):
    """A transactional batch was refused and nothing in it was written: `index` names the write that
    failed, `status` why (409: a document to create exists; 412: one to replace changed since it was
    read; 404: it is gone)."""

    def __init__(self, index: int, status: int):
        super().__init__(f"batch write {index} refused with {status}")
        self.index = index
        self.status = status


@dataclass(frozen=True)
class Write:
    """One document of a transactional batch: created when `etag` is None, else replaced only if it
    still has that `_etag` (it has not changed since it was read)."""

    document: Doc
    etag: str | None = None


# What `update` is told when the caller has just read the document: no need to read it again.
class Unread:
    pass


UNREAD = Unread()


class UnsafeBlobName(ValueError):
    """A URL into our media container names something other than an agent's upload (`..`, encoded
    slashes, another folder): refused, so a send can never make the app read any other blob."""


class ConversationStore(Protocol):
    def create(self, document: Doc) -> bool:
        """Writes a new document; False (and no change) when one with that id exists."""
        ...

    def create_document(self, document: Doc) -> Doc | None:
        """Writes a new document and returns it as stored (with its `_etag`); None when one exists."""
        ...

    def read(self, partition: str, document_id: str) -> Doc | None: ...

    def read_many(self, partition: str, document_ids: Sequence[str]) -> dict[str, Doc]:
        """The documents of one partition with those ids, in one request; missing ones are absent."""
        ...

    def update(
        self, partition: str, document_id: str, change: Change, current: Doc | Unread | None = UNREAD
    ) -> Doc | None:
        """Applies `change` to the current document (None if missing) under optimistic concurrency.

        `change` returns the new document, or None to leave it as it is; it may run more than once.
        `current`: the document as the caller just read it (None: known missing), saving a read; a
        stale one costs a conflict and a re-read. Returns the document as stored afterwards.
        """
        ...

    def write_batch(self, partition: str, writes: Sequence[Write]) -> list[Doc]:
        """Writes all of `writes` in one request, or none of them (raises BatchConflict); returns the
        documents as stored, in order."""
        ...

    def delete(self, partition: str, document_id: str) -> None:
        """Removes the document; a missing one is not an error."""
        ...

    def ping(self) -> None:
        """Raises StoreUnavailable when the store does not answer."""
        ...

    def find_message_by_wamid(self, partition: str, wamid: str) -> Doc | None: ...

    def list_messages(self, partition: str, limit: int, before: str | None) -> list[Doc]:
        """Messages newest first by `sortKey`, strictly before the `before` sort key when given."""
        ...

    def list_conversations(
        self,
        phone_number_id: str,
        limit: int,
        after: tuple[str, str] | None = None,
        *,
        unread_only: bool = False,
        inbound_since: str | None = None,
    ) -> list[Doc]:
        """A business number's conversation documents, most recent activity first (ties by id), after
        the `(lastMessageAt, conversationId)` keyset; only those with unread customer messages, or
        whose customer wrote at or after `inbound_since`, when asked."""
        ...

    def list_changed(
        self,
        partition: str,
        since: int,
        limit: int,
        seen: tuple[str, ...] = (),
        *,
        with_conversation: bool = False,
    ) -> list[Doc]:
        """Messages written or changed at or after `since` (the store's own clock, Unix seconds),
        oldest change first, leaving out the versions whose `_etag` is in `seen` (already read in
        second `since`); each carries that time as `_ts`. `with_conversation`: the partition's
        conversation document comes too (in the same request, whether or not it changed), unless
        `limit` changed messages newer than it fill the answer."""
        ...


class QueuePublisher(Protocol):
    def send(self, queue: str, message: BaseModel, delay: timedelta | None = None) -> None:
        """Publish `message`; with `delay`, receivers see it only once that time has passed."""
        ...

    def ping(self) -> None: ...


class MediaStore(Protocol):
    """Blob storage for media files, outbound uploads and inbound copies alike."""

    def put(
        self, blob_name: str, data: bytes | Iterable[bytes], content_type: str, metadata: dict[str, str]
    ) -> None:
        """Writes the blob (replacing one of that name); an iterable is streamed block by block.

        Stored as an attachment, with `content_type` only if WhatsApp accepts it (else opaque bytes)."""
        ...

    def read_url(self, blob_name: str, minutes: int) -> str:
        """A read-only URL for the blob that expires after `minutes` and downloads it as an attachment."""
        ...

    def open(self, blob_name: str) -> StoredMedia:
        """The blob's properties and its content as a stream of chunks; raises KeyError if missing."""
        ...

    def blob_name_of(self, url: str) -> str | None:
        """The upload a URL points at, when it is one of ours; None for any other URL.

        Raises UnsafeBlobName for a URL into our container that is not a plain `outbound/...` name."""
        ...

    def delete(self, blob_name: str) -> None: ...

    def ping(self) -> None: ...


@dataclass(frozen=True)
class StoredMedia:
    content_type: str
    size: int
    metadata: dict[str, str]
    chunks: Iterator[bytes]
