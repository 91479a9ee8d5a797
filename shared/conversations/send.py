"""The agent's Send button: each kind of outbound message is its own small use case around one pipeline
(send_pipeline.py: window rule, one send per `clientMessageId`, Meta's call, the record, the mirror):

- a session message, text or a file (outbound_session.py), inside the 24-hour window;
- an approved template (outbound_template.py), window open or closed;
- a reaction to a message (outbound_reaction.py), inside the window.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.conversations.commands import AnySendCommand, SendReactionCommand, SendTemplateCommand
from shared.conversations.ingest import OUTBOUND_ID_PREFIX, Clock, utc_now
from shared.conversations.mirror_timing import AT_ONCE, MirrorTiming
from shared.conversations.outbound_media import InvalidMedia, OutboundMedia
from shared.conversations.outbound_reaction import InvalidTarget, SendReaction
from shared.conversations.outbound_session import SendSessionMessage, outbound_request
from shared.conversations.outbound_template import (
    MarketingOptOut,
    SendTemplate,
    TemplateNotFound,
    TemplatesNotConfigured,
)
from shared.conversations.ports import ConversationStore, Doc, MediaStore, QueuePublisher
from shared.conversations.send_pipeline import (
    ClientMessageIdReused,
    MessageSender,
    OutboundPipeline,
    SendFailed,
    SendOutcomeUnknown,
    SessionInactive,
    addressee,
    outbound_message_id,
    request_hash,
)
from shared.templates.catalog import TemplateCatalog

__all__ = [
    "OUTBOUND_ID_PREFIX",
    "ClientMessageIdReused",
    "InvalidMedia",
    "InvalidTarget",
    "MarketingOptOut",
    "MessageSender",
    "OutboundMedia",
    "SendFailed",
    "SendMessage",
    "SendOutcomeUnknown",
    "SessionInactive",
    "TemplateNotFound",
    "TemplatesNotConfigured",
    "addressee",
    "outbound_message_id",
    "outbound_request",
    "request_hash",
]


class SendMessage:
    """The use case for the command's type. `waba_for`: a business number's WhatsApp Business Account
    (whose templates it sends), None where none is configured."""

    def __init__(
        self,
        store: ConversationStore,
        queue: QueuePublisher,
        sender: MessageSender,
        media: MediaStore,
        clock: Clock = utc_now,
        mirror_timing: MirrorTiming = AT_ONCE,
        waba_for: Callable[[str], str | None] = lambda _number: None,
    ):
        pipeline = OutboundPipeline(store, queue, sender, clock, mirror_timing)
        self.session = SendSessionMessage(pipeline, media)
        self.template = SendTemplate(pipeline, TemplateCatalog(store, sender, clock), media, waba_for)
        self.reaction = SendReaction(pipeline)

    def __call__(
        self, phone_number_id: str, customer_id: str, command: AnySendCommand, sent_by: str
    ) -> tuple[Doc, bool]:
        """The stored message, and whether this call sent it (False: a replay of an earlier send)."""
        if isinstance(command, SendTemplateCommand):
            return self.template(phone_number_id, customer_id, command, sent_by)
        if isinstance(command, SendReactionCommand):
            return self.reaction(phone_number_id, customer_id, command, sent_by)
        return self.session(phone_number_id, customer_id, command, sent_by)
