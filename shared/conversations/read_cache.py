"""One request's view of the conversation store: every document it has read or written is kept, so a
use case that looks at the session, the conversation and its own message several times (the window
rule, the customer's current ids, the preview) pays one request for each, not one per look.

Writes still go to the store at once under optimistic concurrency: a document another writer changed
meanwhile costs a conflict and a re-read, never a lost update. It lives for one request only.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.conversations.ports import UNREAD, BatchConflict, Change, ConversationStore, Doc, Unread, Write


class ReadCache:
    """Wraps a ConversationStore; the queries that list documents always go to the store."""

    def __init__(self, inner: ConversationStore):
        self.inner = inner
        self._known: dict[tuple[str, str], Doc | None] = {}

    def knows(self, partition: str, document_id: str) -> bool:
        return (partition, document_id) in self._known

    def prime(self, partition: str, document_ids: Sequence[str], found: dict[str, Doc]) -> None:
        """Documents read elsewhere in this request (a query): those of `document_ids` not in `found`
        are known to be missing."""
        for document_id in document_ids:
            self._known[(partition, document_id)] = found.get(document_id)

    def create(self, document: Doc) -> bool:
        return self.create_document(document) is not None

    def create_document(self, document: Doc) -> Doc | None:
        key = (str(document["conversationId"]), str(document["id"]))
        created = self.inner.create_document(document)
        if created is None:
            self._known.pop(key, None)  # someone else's: read it when asked
        else:
            self._known[key] = created
        return created

    def read(self, partition: str, document_id: str) -> Doc | None:
        key = (partition, document_id)
        if key not in self._known:
            self._known[key] = self.inner.read(partition, document_id)
        return self._known[key]

    def read_many(self, partition: str, document_ids: Sequence[str]) -> dict[str, Doc]:
        missing = [i for i in document_ids if (partition, i) not in self._known]
        if missing:
            self.prime(partition, missing, self.inner.read_many(partition, missing))
        found = {i: self._known[(partition, i)] for i in document_ids}
        return {i: doc for i, doc in found.items() if doc is not None}

    def update(
        self, partition: str, document_id: str, change: Change, current: Doc | Unread | None = UNREAD
    ) -> Doc | None:
        key = (partition, document_id)
        if isinstance(current, Unread) and key in self._known:
            current = self._known[key]
        stored = self.inner.update(partition, document_id, change, current)
        self._known[key] = stored
        return stored

    def write_batch(self, partition: str, writes: Sequence[Write]) -> list[Doc]:
        try:
            stored = self.inner.write_batch(partition, writes)
        except BatchConflict:
            for write in writes:
                self._known.pop((partition, str(write.document["id"])), None)
            raise
        for document in stored:
            self._known[(partition, str(document["id"]))] = document
        return stored

    def delete(self, partition: str, document_id: str) -> None:
        self.inner.delete(partition, document_id)
        self._known[(partition, document_id)] = None

    def ping(self) -> None:
        self.inner.ping()

    def find_message_by_wamid(self, partition: str, wamid: str) -> Doc | None:
        return self.inner.find_message_by_wamid(partition, wamid)

    def list_messages(self, partition: str, limit: int, before: str | None) -> list[Doc]:
        return self.inner.list_messages(partition, limit, before)

    def list_conversations(
        self,
        phone_number_id: str,
        limit: int,
        after: tuple[str, str] | None = None,
        *,
        unread_only: bool = False,
        inbound_since: str | None = None,
    ) -> list[Doc]:
        return self.inner.list_conversations(
            phone_number_id, limit, after, unread_only=unread_only, inbound_since=inbound_since
        )

    def list_changed(
        self,
        partition: str,
        since: int,
        limit: int,
        seen: tuple[str, ...] = (),
        *,
        with_conversation: bool = False,
    ) -> list[Doc]:
        return self.inner.list_changed(partition, since, limit, seen, with_conversation=with_conversation)
