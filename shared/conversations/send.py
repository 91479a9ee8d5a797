"""An agent's message to a customer: refused outside the 24-hour window, sent at most once per
`clientMessageId`, recorded before Meta is called so that nothing is ever sent without a trace."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.conversations.commands import SendMessageCommand
from shared.conversations.documents import (
    ConversationDocument,
    MediaInfo,
    MessageDocument,
    MessageError,
    ReceiptDocument,
    SessionDocument,
    conversation_id,
    document_id,
    iso,
)
from shared.conversations.in_context import apply_in_context
from shared.conversations.inbound import preview, sort_key
from shared.conversations.ingest import Clock, apply_receipt, utc_now
from shared.conversations.mirror_timing import AT_ONCE, MirrorTiming
from shared.conversations.ports import (
    ConversationStore,
    Doc,
    MediaStore,
    QueuePublisher,
    StoredMedia,
    UnsafeBlobName,
)
from shared.conversations.queue_messages import MirrorRequest
from shared.conversations.session_window import is_active
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from shared.telemetry import record_message, record_meta_error, record_window_refusal
from shared.whatsapp.graph_errors import WINDOW_CLOSED, GraphError
from shared.whatsapp.graph_models import (
    MediaBody,
    ReplyContext,
    SendMessageRequest,
    SendMessageResponse,
    TextBody,
    e164,
)

log = logging.getLogger(__name__)


class MessageSender(Protocol):
    def send_message(self, phone_number_id: str, request: SendMessageRequest) -> SendMessageResponse: ...

    def upload_media(self, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str: ...


class InvalidMedia(ValueError):
    """The media URL cannot be sent: not https, or one of our uploads that is missing or of another kind."""


@dataclass(frozen=True)
class OutboundMedia:
    """What a media message sends: an external link, or one of our blobs (uploaded to Meta first)."""

    info: MediaInfo
    blob_name: str | None = None
    stored: StoredMedia | None = None  # our blob, as read when checked; its bytes are read when uploaded


# Outbound messages live under `out:<clientMessageId>`: no id a control sends can then collide with a
# wamid, the `session` and `conversation` documents, or a `receipt:`.
OUTBOUND_ID_PREFIX = "out:"


def outbound_message_id(client_message_id: str | None) -> str:
    return document_id(OUTBOUND_ID_PREFIX + (client_message_id or str(uuid.uuid4())))


def request_hash(phone_number_id: str, customer_id: str, command: SendMessageCommand) -> str:
    """What a clientMessageId stands for: the same id must always mean the same message."""
    asked = command.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"client_message_id"})
    canonical = json.dumps([phone_number_id, customer_id, asked], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ClientMessageIdReused(Exception):
    """The clientMessageId was sent before with another body: refused before Meta is called."""


class SessionInactive(Exception):
    """The customer has not written in the last 24 hours: only templates may go out."""


class SendOutcomeUnknown(Exception):
    """Meta's answer does not say whether the message went out (no answer in time, a 5xx without
    Meta's error object). It stays `accepted`, so Meta's status webhooks (which name it in
    `biz_opaque_callback_data`) can still move it forward."""

    def __init__(self, message: Doc, reason: str = "WhatsApp did not answer in time"):
        super().__init__(reason)
        self.message = message
        self.reason = reason


class SendFailed(Exception):
    """Meta refused the message or could not be reached; `message` is the stored, failed message."""

    def __init__(self, error: MessageError, message: Doc):
        super().__init__(f"send failed: {error.code} {error.title}")
        self.error = error
        self.message = message


def addressee(customer_id: str, phone: str | None = None, user_id: str | None = None) -> dict[str, str]:
    """Whom Meta delivers to: a phone number in `to`, as E.164 with its `+` (without it Meta would
    prepend the business number's country code), else a business-scoped user id in `recipient`.

    `phone` and `user_id` are the customer's current ids as WhatsApp last gave them (the conversation's
    `waId`, `userId`: a changed number, a changed user id); else the customer id itself, which is E.164
    digits or a user id (customer_id.py). A number wins over a user id, as at Meta when both are given.
    """
    number = phone if phone and phone.isdigit() else customer_id if customer_id.isdigit() else None
    if number:
        return {"to": e164(number)}
    return {"recipient": user_id or customer_id}


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


def _error_of(error: GraphError) -> MessageError:
    return MessageError(
        code=error.code, title=error.title, detail=error.details, retryable=error.transient or None
    )


class SendMessage:
    def __init__(
        self,
        store: ConversationStore,
        queue: QueuePublisher,
        sender: MessageSender,
        media: MediaStore,
        clock: Clock = utc_now,
        mirror_timing: MirrorTiming = AT_ONCE,
    ):
        self.store = store
        self.queue = queue
        self.sender = sender
        self.media = media
        self.clock = clock
        self.mirror_timing = mirror_timing

    def _media(self, command: SendMessageCommand) -> OutboundMedia | None:
        """Our own uploads are sent by Meta media id (the storage account stays private, and the
        history keeps the blob, not a URL that expires); any other https URL by link."""
        if command.type == "text" or not command.media_url:
            return None
        try:
            blob_name = self.media.blob_name_of(command.media_url)
        except UnsafeBlobName as error:
            raise InvalidMedia("mediaUrl does not name one of our uploads") from error
        if blob_name is None:
            if not command.media_url.startswith("https://"):
                raise InvalidMedia(
                    "mediaUrl must be an https:// URL that Meta can fetch, or one of our uploads"
                )
            return OutboundMedia(MediaInfo(url=command.media_url, filename=command.filename))
        try:
            stored = self.media.open(blob_name)
        except KeyError as error:
            raise InvalidMedia("the uploaded file no longer exists; upload it again") from error
        kind = stored.metadata.get("kind")
        if kind != command.type:
            raise InvalidMedia(
                f"the uploaded file is {'a ' + kind if kind else 'not media'}: send it as type {kind}"
            )
        info = MediaInfo(
            blob_name=blob_name,
            mime_type=stored.content_type,
            size=stored.size,
            sha256=stored.metadata.get("sha256"),
            filename=command.filename or (stored.metadata.get("filename") if kind == "document" else None),
        )
        return OutboundMedia(info, blob_name, stored)

    def _upload_to_meta(self, phone_number_id: str, media: OutboundMedia) -> str:
        stored = media.stored
        assert stored is not None, "only our own blobs are uploaded to Meta"
        content = b"".join(stored.chunks)
        filename = media.info.filename or (media.blob_name or "file").rsplit("/", 1)[-1]
        return self.sender.upload_media(phone_number_id, content, stored.content_type, filename)

    def __call__(
        self, phone_number_id: str, customer_id: str, command: SendMessageCommand, sent_by: str
    ) -> tuple[Doc, bool]:
        """The stored message, and whether this call sent it (False: a replay of an earlier send)."""
        conv = conversation_id(phone_number_id, customer_id)
        now = self.clock()
        session = self.store.read(conv, "session")
        if not is_active(SessionDocument.model_validate(session) if session else None, now):
            record_window_refusal("session")
            raise SessionInactive(conv)

        media = self._media(command)
        message_id = outbound_message_id(command.client_message_id)
        draft = self._draft(conv, phone_number_id, customer_id, command, message_id, sent_by, now, media)
        if not self.store.create(draft.to_document()):
            existing = self.store.read(conv, message_id)
            assert existing is not None
            if existing.get("requestHash") != draft.request_hash:
                log.warning("clientMessageId %s reused with another body", command.client_message_id)
                raise ClientMessageIdReused(message_id)
            if not self._may_retry(existing):
                log.info(
                    "replayed send %s",
                    message_id,
                    extra={"conversationId": conv, "wamid": existing.get("wamid")},
                )
                if existing.get("status") == "failed":
                    raise SendFailed(MessageError.model_validate(existing.get("error") or {}), existing)
                return existing, False
            self._set(conv, message_id, status="accepted", error=None)

        try:
            meta_media_id = (
                self._upload_to_meta(phone_number_id, media) if media and media.blob_name else None
            )
            if meta_media_id:
                self._set(
                    conv, message_id, media={**draft.to_document()["media"], "metaMediaId": meta_media_id}
                )
            phone, user_id = self._current_ids(conv)
            request = outbound_request(
                customer_id,
                command,
                message_id,
                meta_media_id,
                phone=phone,
                user_id=user_id,
                filename=media.info.filename if media else None,
            )
            response = self.sender.send_message(phone_number_id, request)
        except GraphError as error:
            record_meta_error(error.code, "send")
            if error.code == WINDOW_CLOSED:
                record_window_refusal("meta")
            if error.outcome_unknown:
                log.warning(
                    "no clear answer from Meta for %s (%s); it may have been sent",
                    message_id,
                    error.title,
                    extra={"conversationId": conv, "httpStatus": error.http_status},
                )
                stored_now = self.store.read(conv, message_id) or draft.to_document()
                raise SendOutcomeUnknown(stored_now, error.title) from error
            stored = self._failed(conv, message_id, error, now)
            if error.code == WINDOW_CLOSED:
                self._close_window(conv, now)
            raise SendFailed(MessageError.model_validate(stored["error"]), stored) from error
        return self._accepted(conv, message_id, response, command, request), True

    def _draft(
        self,
        conv: str,
        phone_number_id: str,
        customer_id: str,
        command: SendMessageCommand,
        message_id: str,
        sent_by: str,
        now: datetime,
        media: OutboundMedia | None,
    ) -> MessageDocument:
        return MessageDocument(
            conversation_id=conv,
            id=message_id,
            phone_number_id=phone_number_id,
            customer_id=customer_id,
            direction="outbound",
            kind=command.type,
            text=command.text,
            caption=command.caption,
            media=media.info if media else None,
            context=command.reply_to,
            timestamp=iso(now),
            sort_key=sort_key(now),
            status="accepted",
            status_times={"accepted": iso(now)},
            sent_by=sent_by,
            regarding=command.regarding,
            client_message_id=command.client_message_id,
            request_hash=request_hash(phone_number_id, customer_id, command),
        )

    def _current_ids(self, conv: str) -> tuple[str | None, str | None]:
        """The number and user id WhatsApp last gave for this customer (the conversation document)."""
        current = self.store.read(conv, "conversation")
        if current is None:
            return None, None
        known = ConversationDocument.model_validate(current)
        return known.wa_id, known.user_id

    @staticmethod
    def _may_retry(existing: Doc) -> bool:
        """A send that failed for a passing reason (throttling, Meta unreachable) may be tried again."""
        error = existing.get("error") or {}
        return (
            existing.get("status") == "failed" and bool(error.get("retryable")) and not existing.get("wamid")
        )

    def _set(self, conv: str, message_id: str, **fields: Any) -> Doc:
        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            return {**current, **fields}

        stored = self.store.update(conv, message_id, change)
        assert stored is not None
        return stored

    def _failed(self, conv: str, message_id: str, error: GraphError, now: datetime) -> Doc:
        log.warning(
            "WhatsApp refused message %s: %s",
            message_id,
            error,
            extra={"conversationId": conv, "metaErrorCode": error.code},
        )
        detail = _error_of(error).to_document()

        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            times = dict(current.get("statusTimes") or {})
            times.setdefault("failed", iso(now))
            return {**current, "status": "failed", "statusTimes": times, "error": detail}

        stored = self.store.update(conv, message_id, change)
        assert stored is not None
        self.queue.send(DATAVERSE_MIRROR_QUEUE, MirrorRequest(conversation_id=conv, id=message_id))
        return stored

    def _close_window(self, conv: str, now: datetime) -> None:
        """Meta's 131047 is the final word on the window: end ours so the control hides the composer."""

        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            return {**current, "expiresAt": iso(now), "ttl": 1}

        self.store.update(conv, "session", change)

    def _accepted(
        self,
        conv: str,
        message_id: str,
        response: SendMessageResponse,
        command: SendMessageCommand,
        request: SendMessageRequest,
    ) -> Doc:
        stored, mirror_after = self._record_wamid(conv, message_id, response.wamid)
        customer = str(stored["customerId"])
        # Meta rewrote the number the conversation is keyed by (Brazil, Mexico). A send to a user id,
        # or to the customer's newer number, leaves the conversation where it is.
        sent_to_customer = request.to == e164(customer)
        if sent_to_customer and response.wa_id and response.wa_id != customer and response.wa_id.isdigit():
            stored = self._rehome(stored, response.wa_id)
            conv = stored["conversationId"]
        extra = {"conversationId": conv, "wamid": response.wamid}
        log.info("Meta accepted message %s", message_id, extra=extra)
        record_message("outbound", command.type)
        # A status webhook may have raced this write: it left a receipt, which is applied now.
        receipt = self.store.read(conv, ReceiptDocument.id_for(response.wamid))
        if receipt is not None and apply_receipt(self.store, stored, receipt).changed:
            stored = self.store.read(conv, message_id) or stored
        if command.reply_to:  # the agent's reply shows a quote of what it answers, as a customer's does
            apply_in_context(self.store, MessageDocument.model_validate(stored))
            stored = self.store.read(conv, message_id) or stored
        self._touch_conversation(conv, MessageDocument.model_validate(stored), response, command)
        if mirror_after is not None:
            self.queue.send(
                DATAVERSE_MIRROR_QUEUE, MirrorRequest(conversation_id=conv, id=message_id), mirror_after
            )
        return stored

    def _record_wamid(self, conv: str, message_id: str, wamid: str) -> tuple[Doc, timedelta | None]:
        """Meta's id for the message; the same write schedules its mirror, late enough for the statuses
        that follow within seconds to ride along (shared/conversations/mirror_timing.py)."""
        mirror_after: timedelta | None = None

        def change(current: Doc | None) -> Doc | None:
            nonlocal mirror_after
            if current is None:
                return None
            updated, mirror_after = self.mirror_timing.schedule(
                {**current, "wamid": wamid, "error": None}, self.clock()
            )
            return updated

        stored = self.store.update(conv, message_id, change)
        assert stored is not None
        return stored, mirror_after

    def _rehome(self, message: Doc, wa_id: str) -> Doc:
        """Meta delivered to another id than the number given (Brazil, Mexico): replies and statuses
        will come under that id, so the message moves there and the number becomes an alias of it."""
        old_conv = message["conversationId"]
        new_conv = conversation_id(message["phoneNumberId"], wa_id)
        log.info("WhatsApp knows %s as %s; moving the conversation there", message["customerId"], wa_id)
        moved = {k: v for k, v in message.items() if not k.startswith("_")}
        moved.update(conversationId=new_conv, customerId=wa_id)
        self.store.create(moved)
        self.store.delete(old_conv, message["id"])

        def alias(current: Doc | None) -> Doc | None:
            base = (
                current
                or ConversationDocument(
                    conversation_id=old_conv,
                    phone_number_id=message["phoneNumberId"],
                    customer_id=message["customerId"],
                ).to_document()
            )
            return None if base.get("aliasOf") == wa_id else {**base, "aliasOf": wa_id}

        self.store.update(old_conv, "conversation", alias)
        return self.store.read(new_conv, message["id"]) or moved

    def _touch_conversation(
        self, conv: str, doc: MessageDocument, response: SendMessageResponse, command: SendMessageCommand
    ) -> None:
        def change(current: Doc | None) -> Doc | None:
            existing = (
                ConversationDocument.model_validate(current)
                if current
                else ConversationDocument(
                    conversation_id=conv, phone_number_id=doc.phone_number_id, customer_id=doc.customer_id
                )
            )
            updates: dict[str, Any] = {
                "last_message_at": doc.timestamp,
                "last_message_preview": preview(doc),
                "last_message_direction": "outbound",
            }
            linked = existing.regarding
            same_record = (
                linked is not None
                and command.regarding is not None
                and ((linked.entity, linked.id) == (command.regarding.entity, command.regarding.id))
            )
            if command.regarding is not None and not same_record:  # the same record keeps its owner
                updates["regarding"] = command.regarding
            if response.wa_id:
                updates["wa_id"] = response.wa_id
            if response.user_id:
                updates["user_id"] = response.user_id
            return existing.model_copy(update=updates).to_document()

        self.store.update(conv, "conversation", change)
