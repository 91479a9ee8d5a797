"""What an update that cannot be placed becomes: a `rejected` document, written once however often
Meta retries the batch it came in."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from shared.conversations.documents import RejectedDocument, iso
from shared.whatsapp.webhook_models import RejectedItem

# Cosmos DB refuses documents over 2 MB (and would then fail the whole batch, 7 days long); Meta's
# updates are a few KB, so anything past this is kept as an excerpt instead.
MAX_RAW_CHARS = 256 * 1024


def canonical_json(raw: Any) -> str:
    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def rejected_document(item: RejectedItem, received_at: datetime) -> RejectedDocument:
    """The id hashes where the item sat and its content: the same item twice is the same document."""
    text = canonical_json(item.raw)
    digest = hashlib.sha256(f"{item.field}\n{text}".encode()).hexdigest()
    small = len(text) <= MAX_RAW_CHARS
    return RejectedDocument(
        id=f"rejected:{digest}",
        conversation_id=RejectedDocument.partition_for(item.phone_number_id),
        phone_number_id=item.phone_number_id,
        waba_id=item.waba_id,
        field=item.field,
        reason=item.reason,
        detail=item.detail,
        raw=item.raw if small else None,
        raw_excerpt=None if small else text[:MAX_RAW_CHARS],
        raw_size=len(text),
        received_at=iso(received_at),
    )
