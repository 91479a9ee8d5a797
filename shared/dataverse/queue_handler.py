"""What the `dataverse-mirror` queue trigger does with one message, apart from the Functions types."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from shared.conversations.ports import QueuePublisher
from shared.conversations.queue_messages import BackfillRequest, MirrorRequest
from shared.dataverse.backfill import BackfillResult, fan_out_backfill
from shared.dataverse.mirror import DataverseMirror, MirrorResult

log = logging.getLogger(__name__)
# host.json `extensions.queues.maxDequeueCount`: after this many failed attempts the Functions host
# moves the message to `dataverse-mirror-poison`. Only used to say so in the log.
POISON_AFTER_ATTEMPTS = 5


class UnreadableMirrorRequest(ValueError):
    """Not a `{conversationId, id}` pointer: it can never succeed, and belongs in the poison queue."""


def parse_request(body: bytes) -> MirrorRequest | BackfillRequest:
    """A message pointer, or a conversation to backfill (it has no `id`, and `backfill` is required)."""
    try:
        return MirrorRequest.model_validate_json(body)
    except ValidationError as error:
        try:
            return BackfillRequest.model_validate_json(body)
        except ValidationError:
            pass
        raise UnreadableMirrorRequest(f"not a mirror request: {error.error_count()} problem(s)") from error


def handle_mirror_message(
    mirror: DataverseMirror, body: bytes, dequeue_count: int | None, queue: QueuePublisher
) -> MirrorResult | BackfillResult:
    """Mirrors one message; on failure logs why and raises, so the host retries it and, after the
    last attempt, moves it to the poison queue with this reason in the log next to it."""
    attempt = dequeue_count or 1
    request: MirrorRequest | BackfillRequest | None = None
    try:
        request = parse_request(body)
        if isinstance(request, BackfillRequest):  # fans out: a mirror request per message
            return fan_out_backfill(mirror.store, queue, mirror, request.conversation_id)
        return mirror.mirror(request)
    except Exception as error:
        extra = {
            "conversationId": request.conversation_id if request else None,
            "messageId": request.id if isinstance(request, MirrorRequest) else None,
            "attempt": attempt,
            "dataverseErrorCode": getattr(error, "code", None),
        }
        if attempt >= POISON_AFTER_ATTEMPTS:
            log.error(
                "giving up mirroring to Dataverse after %d attempts; the message goes to "
                "dataverse-mirror-poison. Reason: %s",
                attempt,
                error,
                extra=extra,
            )
        else:
            log.warning("mirroring to Dataverse failed (attempt %d): %s", attempt, error, extra=extra)
        raise
