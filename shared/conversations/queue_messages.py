"""Queue messages: pointers to documents, so a late or repeated one can only replay the latest state."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from shared.conversations.documents import CAMEL_CASE


class QueueMessage(BaseModel):
    model_config = CAMEL_CASE


class MirrorRequest(QueueMessage):
    """Mirror this message's current state into Dataverse (`dataverse-mirror`)."""

    conversation_id: str
    id: str


class BackfillRequest(QueueMessage):
    """Re-mirror this conversation's messages that carry no link of their own (`dataverse-mirror`):
    sent once the conversation got its `regarding` after they were written unlinked. `backfill` is
    required, so a MirrorRequest body never reads as one."""

    conversation_id: str
    backfill: Literal[True]


class NotifyRequest(QueueMessage):
    """Tell the linked record's owner if this customer message is still unread (`dataverse-mirror`,
    queued hidden for DATAVERSE_NOTIFY_AFTER_SECONDS). `notify` is required, so no other body reads
    as one."""

    conversation_id: str
    message_id: str
    notify: Literal[True]


class MediaCopyRequest(QueueMessage):
    """Copy this inbound message's media from Meta into Blob Storage (`media-inbound`)."""

    conversation_id: str
    id: str
    phone_number_id: str
    meta_media_id: str
    mime_type: str | None = None
    sha256: str | None = None
