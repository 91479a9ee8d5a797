"""Links rows that were written unlinked, once their conversation has a record (issue 13, item 7).

A message mirrored before any Contact or Lead held the customer's number gets an unlinked activity.
When the chat panel later opens on a record holding that number (the agent routes have just checked
it, `shared.api.guard`), the conversation remembers it (`link_conversation`, never overwriting a
link) and a `BackfillRequest` goes on the `dataverse-mirror` queue; the mirror function then
re-mirrors the conversation's messages that have no link of their own (`backfill_conversation`).
Each row keeps its own id and time: the mirror writes the message's latest state by a
deterministic id, with `sortdate`/`actualstart`/`actualend` from the message, so a backfill only
adds the link. On the queue a backfill fans out (`fan_out_backfill`): one mirror request per
message, each with its own retries and time limit, so a long conversation never outlives one
invocation. An operator can run the same by hand (inline, one message at a time):

    python -m shared.dataverse.backfill --conversation <conversationId>
    python -m shared.dataverse.backfill --all-unlinked [--number <phone number id>] [--limit 100]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.conversations.documents import CONVERSATION_DOCUMENT_ID, ConversationDocument, Regarding
from shared.conversations.ports import ConversationStore, Doc, QueuePublisher
from shared.conversations.queue_messages import BackfillRequest, MirrorRequest
from shared.storage.names import DATAVERSE_MIRROR_QUEUE

if TYPE_CHECKING:  # the agent routes import this module for `request_backfill`: keep it light
    from shared.dataverse.mirror import DataverseMirror

log = logging.getLogger(__name__)
PAGE_SIZE = 100
# At most this many messages per backfill: one upsert each, well inside one invocation's time limit
# (mirror.TIME_LIMIT_SECONDS); the newest come first, and the command can run again for the rest.
MAX_MESSAGES = 1000
# A fan-out only queues pointers (a queue send each), so it reaches further back; at Dataverse's
# 6,000 requests per 5 minutes per user, 5,000 rows are still minutes of the mirror's budget.
MAX_FANNED_OUT = 5000


@dataclass(frozen=True)
class BackfillResult:
    mirrored: int  # rows written again, now linked where the conversation has a record
    linked: bool  # the conversation has a record at the end
    truncated: bool  # stopped at the limit: older messages remain
    queued: int = 0  # mirror requests queued for the rest (a fan-out)


def link_conversation(store: ConversationStore, conversation_id: str, regarding: Regarding) -> bool:
    """Remembers the record on a conversation that has none; True only when this call set it (so one
    backfill is enqueued per link, however many panels open at once)."""
    wanted = regarding.to_document()
    changed = False

    def change(current: Doc | None) -> Doc | None:
        nonlocal changed  # `change` may run more than once: the last run decides
        changed = current is not None and not current.get("regarding")
        return {**current, "regarding": wanted} if current is not None and changed else None

    store.update(conversation_id, CONVERSATION_DOCUMENT_ID, change)
    return changed


def request_backfill(
    store: ConversationStore, queue: QueuePublisher, conversation_id: str, regarding: Regarding
) -> bool:
    """What an agent route does after a passed record check: one read when already linked, else one
    write and one queue message; the mirror function does the rest."""
    if not link_conversation(store, conversation_id, regarding):
        return False
    queue.send(DATAVERSE_MIRROR_QUEUE, BackfillRequest(conversation_id=conversation_id, backfill=True))
    log.info(
        "conversation linked to %s from the chat panel; backfill enqueued",
        regarding.to_param(),
        extra={"conversationId": conversation_id, "regarding": regarding.to_param()},
    )
    return True


def _pages(store: ConversationStore, conversation_id: str, limit: int) -> Iterator[list[Doc]]:
    """The conversation's shown messages, newest first, paged by sort key, `limit` at most."""
    before: str | None = None
    seen = 0
    while seen < limit:
        page = store.list_messages(conversation_id, min(PAGE_SIZE, limit - seen), before)
        if not page:
            return
        seen += len(page)
        yield page
        before = str(page[-1]["sortKey"])


def backfill_conversation(
    store: ConversationStore, mirror: DataverseMirror, conversation_id: str, *, limit: int = MAX_MESSAGES
) -> BackfillResult:
    """Re-mirrors the conversation's messages without a link of their own (an agent's message carries
    the record it was sent from, which a backfill must not change). Without a remembered record, the
    first one looks the number up (as any mirror does); if that finds nothing, the rest are left."""
    mirrored = scanned = 0
    linked = _linked(store, conversation_id)
    for page in _pages(store, conversation_id, limit):
        scanned += len(page)
        for doc in (d for d in page if not d.get("regarding")):
            result = mirror.mirror(MirrorRequest(conversation_id=conversation_id, id=str(doc["id"])))
            mirrored += result.outcome == "mirrored"
            if not linked and result.regarding is None:
                log.info("conversation %s still matches no record; backfill stops", conversation_id)
                return BackfillResult(mirrored, False, False)
            linked = True
    truncated = scanned >= limit
    log.info(
        "backfilled %d message(s) of %s",
        mirrored,
        conversation_id,
        extra={"conversationId": conversation_id, "backfilled": mirrored, "truncated": truncated},
    )
    return BackfillResult(mirrored, linked, truncated)


def fan_out_backfill(
    store: ConversationStore,
    queue: QueuePublisher,
    mirror: DataverseMirror,
    conversation_id: str,
    *,
    limit: int = MAX_FANNED_OUT,
) -> BackfillResult:
    """The queue's backfill: a mirror request per message without a link of its own. Without a
    remembered record the newest of them is mirrored here first, as the command does: its lookup
    decides whether there is anything to link (if not, nothing is queued)."""
    mirrored = queued = scanned = 0
    linked = _linked(store, conversation_id)
    for page in _pages(store, conversation_id, limit):
        scanned += len(page)
        for doc in (d for d in page if not d.get("regarding")):
            request = MirrorRequest(conversation_id=conversation_id, id=str(doc["id"]))
            if linked:
                queue.send(DATAVERSE_MIRROR_QUEUE, request)
                queued += 1
                continue
            result = mirror.mirror(request)
            mirrored += result.outcome == "mirrored"
            if result.regarding is None:
                log.info("conversation %s still matches no record; backfill stops", conversation_id)
                return BackfillResult(mirrored, False, False)
            linked = True
    truncated = scanned >= limit
    extra = {"conversationId": conversation_id, "backfilled": mirrored + queued, "truncated": truncated}
    if truncated:
        log.warning(
            "backfill of %s stopped after %d messages; for older ones run "
            "`python -m shared.dataverse.backfill --conversation %s --messages <more>`",
            conversation_id,
            limit,
            conversation_id,
            extra=extra,
        )
    log.info("backfill of %s: %d row(s) queued", conversation_id, queued, extra=extra)
    return BackfillResult(mirrored, linked, truncated, queued)


def _linked(store: ConversationStore, conversation_id: str) -> bool:
    found = store.read(conversation_id, CONVERSATION_DOCUMENT_ID)
    return found is not None and ConversationDocument.model_validate(found).regarding is not None


def unlinked_conversations(
    store: ConversationStore, limit: int, phone_number_id: str | None = None
) -> list[str]:
    """Conversations with no remembered record (of one business number when given), at most `limit`
    (a cross-partition query: the command's, never a request path's)."""
    container = getattr(store, "container", None)
    if container is None:
        raise SystemExit("--all-unlinked needs the Cosmos DB store")
    query = (
        "SELECT TOP @limit c.conversationId FROM c WHERE c.type = 'conversation' "
        "AND (NOT IS_DEFINED(c.regarding) OR IS_NULL(c.regarding))"
    )
    parameters: list[dict[str, object]] = [{"name": "@limit", "value": limit}]
    if phone_number_id is not None:
        query += " AND c.phoneNumberId = @number"
        parameters.append({"name": "@number", "value": phone_number_id})
    rows = container.query_items(query, parameters=parameters, enable_cross_partition_query=True)
    return [str(row["conversationId"]) for row in rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.dataverse.backfill", description=__doc__)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--conversation", help="a conversation id: <phone number id>:<customer id>")
    which.add_argument("--all-unlinked", action="store_true", help="every conversation with no record")
    parser.add_argument("--limit", type=int, default=100, help="conversations at most (--all-unlinked)")
    parser.add_argument("--number", help="only this business number's conversations (its phone number id)")
    parser.add_argument("--messages", type=int, default=MAX_MESSAGES, help="messages per conversation")
    args = parser.parse_args(argv)
    if args.number is not None and not (args.number.isascii() and args.number.isdigit()):
        parser.error("--number is a phone number id: digits only")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from shared.dataverse.composition import get_mirror

    mirror = get_mirror()
    if mirror is None:
        print("the Dataverse mirror is off (DATAVERSE_URL unset)", file=sys.stderr)
        return 2
    targets = (
        [args.conversation]
        if args.conversation
        else unlinked_conversations(mirror.store, args.limit, args.number)
    )
    for conversation_id in targets:
        result = backfill_conversation(mirror.store, mirror, conversation_id, limit=args.messages)
        more = " (more remain: run again with a higher --messages)" if result.truncated else ""
        print(f"{conversation_id}: {result.mirrored} row(s) rewritten, linked={result.linked}{more}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
