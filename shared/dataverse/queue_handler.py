"""What the `dataverse-mirror` queue trigger does with one message, apart from the Functions types."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import ValidationError

from shared.conversations.ports import QueuePublisher
from shared.conversations.queue_messages import BackfillRequest, MirrorRequest, NotifyRequest
from shared.dataverse.backfill import BackfillResult, fan_out_backfill
from shared.dataverse.mirror import DataverseMirror, MirrorResult
from shared.dataverse.notifications import NotifyResult, UnreadNotifier

log = logging.getLogger(__name__)
# host.json `extensions.queues.maxDequeueCount`: after this many failed attempts the Functions host
# moves the message to `dataverse-mirror-poison`. Only used to say so in the log.
POISON_AFTER_ATTEMPTS = 5


class UnreadableMirrorRequest(ValueError):
    """Not a `{conversationId, id}` pointer: it can never succeed, and belongs in the poison queue."""


Request = MirrorRequest | BackfillRequest | NotifyRequest


def parse_request(body: bytes) -> Request:
    """A message pointer, a conversation to backfill (no `id`; `backfill` is required), or an unread
    message to notify about (`notify` is required)."""
    try:
        return MirrorRequest.model_validate_json(body)
    except ValidationError as error:
        for other in (BackfillRequest, NotifyRequest):
            try:
                return other.model_validate_json(body)
            except ValidationError:
                pass
        raise UnreadableMirrorRequest(f"not a mirror request: {error.error_count()} problem(s)") from error


def handle_mirror_message(
    mirror: DataverseMirror,
    body: bytes,
    dequeue_count: int | None,
    queue: QueuePublisher,
    notifier: UnreadNotifier | None = None,
) -> MirrorResult | BackfillResult | NotifyResult:
    """Mirrors one message; on failure logs why and raises, so the host retries it and, after the
    last attempt, moves it to the poison queue with this reason in the log next to it."""
    attempt = dequeue_count or 1
    request: Request | None = None
    try:
        request = parse_request(body)
        if isinstance(request, NotifyRequest):
            if notifier is None:  # notifications off since it was queued
                return NotifyResult("no_recipient")
            return notifier(request, datetime.now(UTC))
        if isinstance(request, BackfillRequest):  # fans out: a mirror request per message
            return fan_out_backfill(mirror.store, queue, mirror, request.conversation_id)
        return mirror.mirror(request)
    except Exception as error:
        extra = {
            "conversationId": request.conversation_id if request else None,
            "messageId": getattr(request, "id", None) or getattr(request, "message_id", None),
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
