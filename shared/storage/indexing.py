"""The container's indexing policy, declared once: `infra/app/cosmos.bicep` declares the same for Azure
(a test compares them) and `devhost/provision.py` applies it locally.

Only the paths the queries filter or sort on are indexed; everything else is excluded (`/*`), because
every indexed term costs write RU: "RUs consumed for a 1-KB document with 10 indexed terms: 5.0
(document size based) + 0.2 x 10 (indexing)" (Understand request units consumption,
https://learn.microsoft.com/azure/cosmos-db/understand-request-unit-consumption). A query may still
filter on a path left out (the engine checks it on the documents the indexed filters selected); what it
cannot do is sort on one, so every ORDER BY path is here or is a system property.

Not listed, yet indexed: `id` and `_ts`. "If the indexing mode is set to consistent, the system
properties id and _ts are automatically indexed", and they "are not included in the container policy's
indexed paths description" (Indexing policies, https://learn.microsoft.com/azure/cosmos-db/index-policy,
"Include/exclude strategy"). So `ORDER BY c._ts` (the history poll) and `ARRAY_CONTAINS(@ids, c.id)`
are served. The partition key, on the other hand, "isn't indexed by default with the exclude
strategy and should be explicitly included": `/conversationId/?` is. `_etag` stays excluded (its
default): the poll compares it only among the few versions of one `_ts` second.

Cosmos DB serves a multi-property ORDER BY only from a composite index in that order (or its
reverse): "Queries that have an ORDER BY clause with two or more properties require a composite
index" (same page, "Composite indexes"). The inbox orders a business number's conversations by
`(lastMessageAt, conversationId)`.
"""

from __future__ import annotations

from typing import Any, Final

# Every path a query filters or sorts on (`SELECT` in shared/storage/cosmos_store.py and the backfill):
INDEXED_PATHS: Final = (
    "/conversationId/?",  # the partition key: every in-partition query, the inbox's keyset
    "/type/?",  # message, conversation, ... in every query
    "/wamid/?",  # a status finds its message
    "/sortKey/?",  # the history's ORDER BY and keyset
    "/hidden/?",  # NOT IS_DEFINED(c.hidden): edits and reactions stay out of the history
    "/aliasOf/?",  # conversations that moved to another id
    "/phoneNumberId/?",  # the inbox and the backfill, per business number
    "/lastMessageAt/?",  # the inbox's ORDER BY and keyset
    "/unreadCount/?",  # the inbox's `waiting` filter
    "/lastInbound/at/?",  # the inbox's `open` filter (window still open)
)

INBOX_ORDER: Final = (("/lastMessageAt", "descending"), ("/conversationId", "descending"))
# The inbox's filter first: a composite index that starts with the equality filter's property also
# serves `WHERE phoneNumberId = @n ORDER BY ...` at fewer RU (same page, "ORDER BY queries on
# multiple properties" with filters).
INBOX_BY_NUMBER: Final = (("/phoneNumberId", "ascending"), *INBOX_ORDER)

INDEXING_POLICY: Final[dict[str, Any]] = {
    "indexingMode": "consistent",
    "automatic": True,
    "includedPaths": [{"path": path} for path in INDEXED_PATHS],
    "excludedPaths": [{"path": "/*"}, {"path": '/"_etag"/?'}],
    "compositeIndexes": [
        [{"path": path, "order": order} for path, order in INBOX_ORDER],
        [{"path": path, "order": order} for path, order in INBOX_BY_NUMBER],
    ],
}
