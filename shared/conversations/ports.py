"""What the domain needs from storage, as small interfaces; adapters in `shared/storage` implement them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

Doc = dict[str, Any]
Change = Callable[[Doc | None], Doc | None]


class StoreUnavailable(Exception):
    """A store or queue could not be reached or refused the write: the caller should answer 5xx and retry."""


class ConversationStore(Protocol):
    def create(self, document: Doc) -> bool:
        """Writes a new document; False (and no change) when one with that id exists."""
        ...

    def read(self, partition: str, document_id: str) -> Doc | None: ...

    def update(self, partition: str, document_id: str, change: Change) -> Doc | None:
        """Applies `change` to the current document (None if missing) under optimistic concurrency.

        `change` returns the new document, or None to leave it as it is; it may run more than once.
        Returns the document as stored afterwards.
        """
        ...

    def ping(self) -> None:
        """Raises StoreUnavailable when the store does not answer."""
        ...

    def find_message_by_wamid(self, partition: str, wamid: str) -> Doc | None: ...

    def list_messages(self, partition: str, limit: int, before: str | None) -> list[Doc]:
        """Messages newest first by `sortKey`, strictly before the `before` sort key when given."""
        ...


class QueuePublisher(Protocol):
    def send(self, queue: str, message: BaseModel) -> None: ...

    def ping(self) -> None: ...
