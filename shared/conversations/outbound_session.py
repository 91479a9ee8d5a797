"""A session message (text, or a file) from an agent: only inside the 24-hour window."""

from __future__ import annotations

from typing import Any

from shared.conversations.commands import SendMessageCommand
from shared.conversations.documents import conversation_id
from shared.conversations.outbound_media import OutboundMedia, resolve_media
from shared.conversations.ports import Doc, MediaStore
from shared.conversations.send_pipeline import OutboundPipeline, Recipient, addressee, outbound_draft
from shared.whatsapp.graph_models import MediaBody, ReplyContext, SendMessageRequest, TextBody


def outbound_request(
    customer_id: str,
    command: SendMessageCommand,
    message_id: str,
    meta_media_id: str | None = None,
    *,
    phone: str | None = None,
    user_id: str | None = None,
    filename: str | None = None,
) -> SendMessageRequest:
    """The body of Meta's send call. `phone`, `user_id`: the customer's current ids (see `addressee`);
    `filename`: the name a document goes by when the agent gave none (its upload's)."""
    fields: dict[str, Any] = {
        **addressee(customer_id, phone, user_id),
        "type": command.type,
        "biz_opaque_callback_data": message_id,
    }
    if command.type == "text":
        fields["text"] = TextBody(body=command.text or "", preview_url=command.preview_url)
    else:
        source = {"id": meta_media_id} if meta_media_id else {"link": command.media_url}
        fields[command.type] = MediaBody(
            **source,
            caption=command.caption,
            filename=(command.filename or filename) if command.type == "document" else None,
        )
    if command.reply_to:
        fields["context"] = ReplyContext(message_id=command.reply_to)
    return SendMessageRequest(**fields)


class SendSessionMessage:
    def __init__(self, pipeline: OutboundPipeline, media: MediaStore):
        self.pipeline = pipeline
        self.media = media

    def __call__(
        self, phone_number_id: str, customer_id: str, command: SendMessageCommand, sent_by: str
    ) -> tuple[Doc, bool]:
        """The stored message, and whether this call sent it (False: a replay of an earlier send)."""
        now = self.pipeline.clock()
        self.pipeline.require_window(conversation_id(phone_number_id, customer_id), now)
        media: OutboundMedia | None = None
        if command.type != "text" and command.media_url:
            media = resolve_media(self.media, command.media_url, command.type, command.filename)
        draft = outbound_draft(
            phone_number_id,
            customer_id,
            command,
            sent_by,
            now,
            kind=command.type,
            text=command.text,
            caption=command.caption,
            media=media.info if media else None,
            context=command.reply_to,
        )

        def request_for(recipient: Recipient) -> SendMessageRequest:
            meta_media_id = recipient.upload(media) if media and media.blob_name else None
            return outbound_request(
                customer_id,
                command,
                recipient.message_id,
                meta_media_id,
                phone=recipient.phone,
                user_id=recipient.user_id,
                filename=media.info.filename if media else None,
            )

        return self.pipeline.send(draft, request_for, command.regarding)
