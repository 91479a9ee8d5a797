"""An agent's reaction to a message of the conversation (Meta's `ReactionMessage`; an empty emoji takes
the business's reaction away): inside the window only, as any non-template message.

It is stored like a customer's reaction (shared/conversations/in_context.py): a `reaction` message of
its own, hidden, whose effect is on its target's `reactions`, from the business side (one per side, the
latest wins), applied once Meta has accepted it. Its time keeps milliseconds, so an agent changing a
reaction within a second still ends on the last one. Meta refuses reactions to messages older than 30
days, deleted ones, and reactions (131009, "Reaction messages"): those, and messages WhatsApp has not
yet given an id, are refused here before anything leaves.
https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/reaction-messages
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.conversations.amendments import amendment_of
from shared.conversations.commands import SendReactionCommand
from shared.conversations.documents import MessageDocument, conversation_id, document_id, parse_iso
from shared.conversations.ports import Doc
from shared.conversations.send_pipeline import OutboundPipeline, Recipient, outbound_draft
from shared.whatsapp.graph_models import ReactionBody, SendMessageRequest

OLDEST_REACTED = timedelta(days=30)


class InvalidTarget(ValueError):
    """The message reacted to is not one of this conversation's, or not one Meta takes reactions to."""


class SendReaction:
    def __init__(self, pipeline: OutboundPipeline):
        self.pipeline = pipeline

    def __call__(
        self, phone_number_id: str, customer_id: str, command: SendReactionCommand, sent_by: str
    ) -> tuple[Doc, bool]:
        conv = conversation_id(phone_number_id, customer_id)
        now = self.pipeline.clock()
        self.pipeline.require_window(conv, now)
        target = self._target(conv, command.reaction.message_id, now)
        assert target.wamid is not None
        emoji = command.reaction.emoji
        draft = outbound_draft(
            phone_number_id,
            customer_id,
            command,
            sent_by,
            now,
            kind="reaction",
            timestamp=now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            text=emoji or None,
            details={"message_id": target.wamid, "emoji": emoji},
            hidden=True,
        )
        wamid = target.wamid

        def request_for(recipient: Recipient) -> SendMessageRequest:
            return SendMessageRequest(
                **recipient.address(),
                type="reaction",
                reaction=ReactionBody(message_id=wamid, emoji=emoji),
                biz_opaque_callback_data=recipient.message_id,
            )

        return self.pipeline.send(draft, request_for, command.regarding)

    def _target(self, conv: str, given: str, now: datetime) -> MessageDocument:
        """Our id for it (`out:c-1`, an inbound message's escaped wamid) or its wamid; in this
        conversation only."""
        store = self.pipeline.store
        found = store.read(conv, document_id(given))
        if found is None or found.get("type") != "message":
            found = store.find_message_by_wamid(conv, given)
        if found is None or found.get("type") != "message":
            raise InvalidTarget("reaction.messageId names no message of this conversation")
        target = MessageDocument.model_validate(found)
        if target.hidden or amendment_of(target) is not None:
            raise InvalidTarget("an edit, a deletion or a reaction cannot be reacted to")
        if target.deleted:
            raise InvalidTarget("a deleted message cannot be reacted to")
        if not target.wamid:
            raise InvalidTarget("WhatsApp has not accepted this message yet: it cannot be reacted to")
        if now - parse_iso(target.timestamp) > OLDEST_REACTED:
            raise InvalidTarget("WhatsApp takes no reactions to messages older than 30 days")
        return target
