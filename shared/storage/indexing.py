"""The container's indexing policy, declared once: `infra/app/cosmos.bicep` declares the same for Azure
(a test compares them) and `devhost/provision.py` applies it locally.

Cosmos DB serves a multi-property ORDER BY only from a composite index in that order (or its
reverse): "Queries that have an ORDER BY clause with two or more properties require a composite
index" (Indexing policies, https://learn.microsoft.com/azure/cosmos-db/index-policy#composite-indexes).
The inbox orders a business number's conversations by `(lastMessageAt, conversationId)`.
"""

from __future__ import annotations

from typing import Any, Final

INBOX_ORDER: Final = (("/lastMessageAt", "descending"), ("/conversationId", "descending"))
# The inbox's filter first: a composite index that starts with the equality filter's property also
# serves `WHERE phoneNumberId = @n ORDER BY ...` at fewer RU (same page, "ORDER BY queries on
# multiple properties" with filters).
INBOX_BY_NUMBER: Final = (("/phoneNumberId", "ascending"), *INBOX_ORDER)

INDEXING_POLICY: Final[dict[str, Any]] = {
    "indexingMode": "consistent",
    "automatic": True,
    "includedPaths": [{"path": "/*"}],
    "excludedPaths": [{"path": '/"_etag"/?'}],
    "compositeIndexes": [
        [{"path": path, "order": order} for path, order in INBOX_ORDER],
        [{"path": path, "order": order} for path, order in INBOX_BY_NUMBER],
    ],
}
