"""The conversation store on Cosmos DB (NoSQL API); one partition per conversation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError
from azure.cosmos import ContainerProxy
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosBatchOperationError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from shared.conversations.ports import (
    UNREAD,
    BatchConflict,
    Change,
    Doc,
    StoreUnavailable,
    Unread,
    Write,
)

_MAX_CONFLICT_RETRIES = 10
_BATCH_CONFLICTS = frozenset({404, 409, 412})


@contextmanager
def _unavailable_on_azure_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (
        CosmosResourceExistsError,
        CosmosAccessConditionFailedError,
        CosmosResourceNotFoundError,
        CosmosBatchOperationError,
    ):
        raise
    except AzureError as error:
        raise StoreUnavailable(f"Cosmos DB {action} failed: {error.__class__.__name__}") from error


class CosmosConversationStore:
    """Takes the container, or a factory for it: creating a CosmosClient already calls the service, so
    a factory lets a cold start with Cosmos down answer 503 (and retry later) instead of crashing."""

    def __init__(self, container: ContainerProxy | Callable[[], ContainerProxy]):
        self._container = container if isinstance(container, ContainerProxy) else None
        self._factory = None if isinstance(container, ContainerProxy) else container
        self._lock = threading.Lock()

    @property
    def container(self) -> ContainerProxy:
        if self._container is None:
            with self._lock, _unavailable_on_azure_errors("connect"):
                if self._container is None:
                    assert self._factory is not None
                    self._container = self._factory()
        return self._container

    def create(self, document: Doc) -> bool:
        return self.create_document(document) is not None

    def create_document(self, document: Doc) -> Doc | None:
        with _unavailable_on_azure_errors("create"):
            try:
                created: Doc = self.container.create_item(document)
            except CosmosResourceExistsError:
                return None
        return created

    def read(self, partition: str, document_id: str) -> Doc | None:
        with _unavailable_on_azure_errors("read"):
            try:
                item: Doc = self.container.read_item(document_id, partition_key=partition)
            except CosmosResourceNotFoundError:
                return None
        return item

    def read_many(self, partition: str, document_ids: Sequence[str]) -> dict[str, Doc]:
        # One query instead of a point read each: a request saved per document, for a little more RU.
        found = self._query(
            partition,
            "SELECT * FROM c WHERE c.conversationId = @partition AND ARRAY_CONTAINS(@ids, c.id)",
            [{"name": "@ids", "value": list(document_ids)}],
        )
        return {str(doc["id"]): doc for doc in found}

    def write_batch(self, partition: str, writes: Sequence[Write]) -> list[Doc]:
        """A transactional batch (one request, all or nothing; Microsoft's limit is 100 operations)."""
        operations: list[Any] = [
            ("create", (w.document,))
            if w.etag is None
            else ("replace", (w.document["id"], w.document), {"if_match_etag": w.etag})
            for w in writes
        ]
        with _unavailable_on_azure_errors("batch"):
            try:
                results = self.container.execute_item_batch(operations, partition_key=partition)
            except CosmosBatchOperationError as error:
                status = int(error.status_code or 0)
                if status not in _BATCH_CONFLICTS:  # throttled or failed: the caller answers 5xx
                    raise StoreUnavailable(f"Cosmos DB batch failed with {status}") from error
                raise BatchConflict(error.error_index, status) from error
        return [dict(result["resourceBody"]) for result in results]

    def update(
        self, partition: str, document_id: str, change: Change, current: Doc | Unread | None = UNREAD
    ) -> Doc | None:
        with _unavailable_on_azure_errors("update"):
            known = current
            for _ in range(_MAX_CONFLICT_RETRIES):
                current = self.read(partition, document_id) if isinstance(known, Unread) else known
                known = UNREAD  # a conflict means it changed: read it afresh
                new = change(current)
                if new is None:
                    return current
                try:
                    if current is None:
                        created: Doc = self.container.create_item(new)
                        return created
                    replaced: Doc = self.container.replace_item(
                        document_id,
                        new,
                        etag=current["_etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return replaced
                except (CosmosResourceExistsError, CosmosAccessConditionFailedError):
                    continue  # another writer got there first: re-read and re-apply
        raise StoreUnavailable(f"gave up on {document_id} after {_MAX_CONFLICT_RETRIES} write conflicts")

    def delete(self, partition: str, document_id: str) -> None:
        with _unavailable_on_azure_errors("delete"), suppress(CosmosResourceNotFoundError):
            self.container.delete_item(document_id, partition_key=partition)

    def ping(self) -> None:
        with _unavailable_on_azure_errors("ping"):
            self.container.read()

    def _query(self, partition: str, query: str, parameters: list[dict[str, Any]]) -> list[Doc]:
        # cosmosdb-server ignores the partition-key header on queries, so the WHERE clause names it too.
        with _unavailable_on_azure_errors("query"):
            return list(
                self.container.query_items(
                    query,
                    parameters=[{"name": "@partition", "value": partition}, *parameters],
                    partition_key=partition,
                )
            )

    def find_message_by_wamid(self, partition: str, wamid: str) -> Doc | None:
        found = self._query(
            partition,
            "SELECT * FROM c WHERE c.conversationId = @partition AND c.type = 'message' AND c.wamid = @wamid",
            [{"name": "@wamid", "value": wamid}],
        )
        return found[0] if found else None

    def list_changed(
        self,
        partition: str,
        since: int,
        limit: int,
        seen: tuple[str, ...] = (),
        *,
        with_conversation: bool = False,
    ) -> list[Doc]:
        # `_ts` is Cosmos's own write time, so no clock of ours can skew a poll; it is indexed by default.
        # Oldest first, so a poll that stops at `limit` resumes there; `seen` (the `_etag`s of the
        # versions already read in second `since`) keeps that second from being sent twice.
        where = "c.type = 'message' AND NOT IS_DEFINED(c.hidden) AND "
        where += "(c._ts > @since OR (c._ts = @since AND NOT ARRAY_CONTAINS(@seen, c._etag)))"
        if with_conversation:  # a poll learns in the same request whether this is the customer's home
            where = f"(c.id = 'conversation' OR ({where}))"
            limit += 1
        where = f"c.conversationId = @partition AND {where}"
        return self._query(
            partition,
            f"SELECT TOP @limit * FROM c WHERE {where} ORDER BY c._ts ASC",  # noqa: S608 - constants only
            [
                {"name": "@limit", "value": limit},
                {"name": "@since", "value": since},
                {"name": "@seen", "value": list(seen)},
            ],
        )

    def list_conversations(
        self,
        phone_number_id: str,
        limit: int,
        after: tuple[str, str] | None = None,
        *,
        unread_only: bool = False,
        inbound_since: str | None = None,
    ) -> list[Doc]:
        """A business number's conversations, most recent activity first (ties by id), after the
        `(lastMessageAt, conversationId)` keyset when given. A cross-partition query: the inbox's, and
        served by the composite index infra/app/cosmos.bicep declares for this ORDER BY."""
        where = "c.type = 'conversation' AND c.phoneNumberId = @number AND IS_DEFINED(c.lastMessageAt)"
        parameters: list[dict[str, Any]] = [
            {"name": "@limit", "value": limit},
            {"name": "@number", "value": phone_number_id},
        ]
        if unread_only:
            where += " AND c.unreadCount > 0"
        if inbound_since is not None:
            where += " AND c.lastInbound.at >= @since"
            parameters.append({"name": "@since", "value": inbound_since})
        if after is not None:
            where += " AND (c.lastMessageAt < @at OR (c.lastMessageAt = @at AND c.conversationId < @id))"
            parameters += [{"name": "@at", "value": after[0]}, {"name": "@id", "value": after[1]}]
        query = (
            f"SELECT TOP @limit * FROM c WHERE {where} "  # noqa: S608 - constants only
            "ORDER BY c.lastMessageAt DESC, c.conversationId DESC"
        )
        with _unavailable_on_azure_errors("query"):
            return list(
                self.container.query_items(query, parameters=parameters, enable_cross_partition_query=True)
            )

    def list_messages(self, partition: str, limit: int, before: str | None) -> list[Doc]:
        # Keyset pagination on sortKey: cheap at any depth, unlike OFFSET (which the emulator lacks too).
        # `hidden` (set only when true): an edit, revoke or reaction applied to its target, which shows
        # it (shared/conversations/in_context.py); polls above leave it out too.
        where = "c.conversationId = @partition AND c.type = 'message' AND NOT IS_DEFINED(c.hidden)"
        parameters: list[dict[str, Any]] = [{"name": "@limit", "value": limit}]
        if before is not None:
            where += " AND c.sortKey < @before"
            parameters.append({"name": "@before", "value": before})
        query = f"SELECT TOP @limit * FROM c WHERE {where} ORDER BY c.sortKey DESC"  # noqa: S608 - constants only
        return self._query(partition, query, parameters)
