"""A D365 in-app notification when a customer's message waits unread (issue 15, item 3).

When a customer writes, the webhook queues a `NotifyRequest` on `dataverse-mirror`, hidden for
`DATAVERSE_NOTIFY_AFTER_SECONDS`. When it comes due the mirror function asks: is the customer's
newest message still unread by the agent side (`agentReadMessageId`, set by the panel's read
receipt), and has no notification gone out since the agent last read? If so, the owner of the
linked contact or lead gets one `appnotification` with the message's preview and a link that opens
the record: at most one per conversation per burst of unread messages.

Notifications go to users only ("Sending a notification to a team isn't supported", Send in-app
notifications within model-driven apps,
https://learn.microsoft.com/power-apps/developer/model-driven-apps/clientapi/send-in-app-notifications):
a team-owned record, or a conversation with no record, gets none (the inbox shows it).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    ConversationDocument,
    Regarding,
    iso,
    parse_iso,
)
from shared.conversations.ports import ConversationStore, Doc
from shared.conversations.queue_messages import NotifyRequest
from shared.dataverse.client import DataverseClient
from shared.dataverse.errors import DataverseAuthError, DataverseNotFound
from shared.dataverse.schema import ENTITY_SETS, ROW_ID_NAMESPACE, clip

log = logging.getLogger(__name__)
NOTIFICATIONS = "appnotifications"
# `appnotification` columns (same page, "Notification table"): icontype Info, toasttype Timed.
ICON_INFO = 100_000_000
TOAST_TIMED = 200_000_000
TITLE_MAX_LENGTH = 200  # kept short: a toast shows a line or two
BODY_MAX_LENGTH = 1_000
DATA_MAX_LENGTH = 5_000  # "Data ... The maximum length is 5,000 characters."

Outcome = Literal["notified", "read", "already_notified", "no_recipient", "not_allowed", "missing"]


@dataclass(frozen=True)
class NotifyResult:
    outcome: Outcome
    recipient: str | None = None


def notification_id(conversation_id: str, message_id: str) -> uuid.UUID:
    """One notification per unread burst, named by its newest message: a retry writes the same one."""
    return uuid.uuid5(ROW_ID_NAMESPACE, f"notification:{conversation_id}/{message_id}")


def record_url(regarding: Regarding) -> str:
    """A model-driven app link to the record's form (the `?pagetype=entityrecord` form of the
    notification examples on the same page)."""
    return f"?pagetype=entityrecord&etn={regarding.entity}&id={regarding.id}"


def notification_body(
    conversation: ConversationDocument, regarding: Regarding, recipient: str
) -> dict[str, Any]:
    who = conversation.profile_name or (f"+{conversation.wa_id}" if conversation.wa_id else "a customer")
    preview = conversation.last_message_preview or "New message"
    data = {
        "actions": [
            {
                "title": f"Open {regarding.entity}",
                "data": {"url": record_url(regarding), "navigationTarget": "inline"},
            }
        ]
    }
    return {
        "title": clip(f"WhatsApp from {who}", TITLE_MAX_LENGTH),
        "body": clip(preview, BODY_MAX_LENGTH),
        "ownerid@odata.bind": f"/systemusers({recipient})",
        "icontype": ICON_INFO,
        "toasttype": TOAST_TIMED,
        "data": json.dumps(data)[:DATA_MAX_LENGTH],
    }


def unread(conversation: ConversationDocument) -> bool:
    """The customer's newest message is not the one the agent side last read."""
    newest = conversation.last_inbound
    return newest is not None and conversation.agent_read_message_id != newest.id


def notified_since_read(conversation: ConversationDocument) -> bool:
    """A notification already went out for this burst: none is sent again until an agent reads."""
    if conversation.notified_at is None:
        return False
    return conversation.agent_read_at is None or parse_iso(conversation.notified_at) >= parse_iso(
        conversation.agent_read_at
    )


class UnreadNotifier:
    def __init__(self, store: ConversationStore, client: DataverseClient):
        self.store = store
        self.client = client
        self.disabled = False  # the application user may not notify others: say so once, then stop

    def __call__(self, request: NotifyRequest, now: datetime) -> NotifyResult:
        conv = request.conversation_id
        extra = {"conversationId": conv, "messageId": request.message_id}
        found = self.store.read(conv, CONVERSATION_DOCUMENT_ID)
        if found is None:
            return NotifyResult("missing")
        conversation = ConversationDocument.model_validate(found)
        if not unread(conversation):
            return NotifyResult("read")
        if notified_since_read(conversation):
            return NotifyResult("already_notified")
        regarding = conversation.regarding
        recipient = self._recipient(regarding) if regarding is not None and not self.disabled else None
        if regarding is None or recipient is None:
            log.info(
                "unread WhatsApp message, but nobody to notify (no linked record owned by a user)",
                extra=extra,
            )
            return NotifyResult("no_recipient")
        newest = conversation.last_inbound
        assert newest is not None  # unread() checked it
        body = notification_body(conversation, regarding, recipient)
        try:
            self.client.upsert(NOTIFICATIONS, notification_id(conv, newest.id), body, create_only=True)
        except DataverseAuthError as error:
            if error.http_status != 403:
                raise
            log.error(
                "the application user may not send in-app notifications (%s): give its role Create and "
                "Read on Notification (appnotification); until a restart none are sent",
                error.code or error.http_status,
                extra=extra,
            )
            self.disabled = True
            return NotifyResult("not_allowed")
        self._mark_notified(conv, now)
        log.info(
            "notified the record's owner of an unread WhatsApp message",
            extra={**extra, "recipient": recipient},
        )
        return NotifyResult("notified", recipient)

    def _recipient(self, regarding: Regarding) -> str | None:
        """The record's owner when a user: from the phone lookup if it saw it, else one GET."""
        if regarding.owner is not None:
            return regarding.owner.id if regarding.owner.type == "systemuser" else None
        try:
            row = self.client.get(
                f"{ENTITY_SETS[regarding.entity]}({regarding.id})", {"$select": "_owninguser_value"}
            )
        except DataverseNotFound:
            return None
        owner = row.get("_owninguser_value")
        return str(owner).lower() if owner else None

    def _mark_notified(self, conv: str, now: datetime) -> None:
        def change(current: Doc | None) -> Doc | None:
            return {**current, "notifiedAt": iso(now)} if current is not None else None

        self.store.update(conv, CONVERSATION_DOCUMENT_ID, change)
