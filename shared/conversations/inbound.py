"""Turns a message from Meta's webhook into the message document the chat history shows."""

from __future__ import annotations

import json
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared.conversations.amendments import amendment_of
from shared.conversations.documents import (
    Direction,
    MediaInfo,
    MessageDocument,
    MessageError,
    conversation_id,
    document_id,
    iso,
)
from shared.whatsapp.webhook_models import Contact, Media, Message

MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})
MODELLED_KINDS = MEDIA_KINDS | {
    "text", "location", "contacts", "interactive", "button", "reaction", "order", "system",
}  # fmt: skip


def sort_key(at: datetime) -> str:
    """Sorts by Meta's timestamp, then by the moment this service wrote the message."""
    return f"{int(at.timestamp()):011d}-{time.time_ns():020d}"


@dataclass(frozen=True)
class Content:
    kind: str
    text: str | None = None
    caption: str | None = None
    media: MediaInfo | None = None
    details: dict[str, Any] | None = None


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True, by_alias=True)


def _media(kind: str, media: Media) -> Content:
    info = MediaInfo(
        meta_media_id=media.id,
        mime_type=media.mime_type,
        sha256=media.sha256,
        filename=media.filename,
        voice=media.voice,
        animated=media.animated,
    )
    return Content(kind=kind, caption=media.caption, media=info)


def _content(message: Message) -> Content | None:
    """The modelled content of `message`, or None when its type or body is not one the code knows."""
    kind = message.type
    if kind in MEDIA_KINDS:
        media = getattr(message, kind)
        return _media(kind, media) if media is not None else None
    if kind == "text" and message.text is not None:
        return Content(kind="text", text=message.text.body)
    if kind == "location" and message.location is not None:
        loc = message.location
        label = ", ".join(p for p in (loc.name, loc.address) if p) or f"{loc.latitude}, {loc.longitude}"
        return Content(kind="location", text=label, details=_dump(loc))
    if kind == "contacts" and message.contacts is not None:
        names = [c.name.formatted_name for c in message.contacts if c.name and c.name.formatted_name]
        return Content(
            kind="contacts",
            text=", ".join(names) or None,
            details={"contacts": [_dump(c) for c in message.contacts]},
        )
    if kind == "interactive" and message.interactive is not None:
        it = message.interactive
        reply = it.button_reply or it.list_reply
        if reply is not None:
            return Content(kind="interactive", text=reply.title, details=_dump(it))
        if it.nfm_reply is not None:
            details = _dump(it)
            with suppress(ValueError):  # a Flow's answers arrive as a string of JSON: keep them as data
                details["nfm_reply"]["response"] = json.loads(it.nfm_reply.response_json or "null")
            return Content(kind="interactive", text=it.nfm_reply.body, details=details)
        return None
    if kind == "button" and message.button is not None:
        return Content(kind="button", text=message.button.text, details=_dump(message.button))
    if kind == "reaction" and message.reaction is not None:
        return Content(kind="reaction", text=message.reaction.emoji or None, details=_dump(message.reaction))
    if kind == "order" and message.order is not None:
        return Content(kind="order", text=message.order.text, details=_dump(message.order))
    if kind == "system" and message.system is not None:
        return Content(kind="system", text=_system_line(message), details=_dump(message.system))
    if kind == "revoke" and message.revoke is not None:
        return Content(
            kind="system",
            text="The customer deleted a message",
            details={"type": "revoke", "original_message_id": message.revoke.original_message_id},
        )
    if kind == "edit" and message.edit is not None and message.edit.message is not None:
        edited = Message.model_validate(
            {**message.edit.message, "id": message.id, "timestamp": message.timestamp}
        )
        inner = _content(edited)
        if inner is None:
            return None
        details = {**(inner.details or {}), "edit_of": message.edit.original_message_id}
        return Content(inner.kind, inner.text, inner.caption, inner.media, details)
    return None


def _system_line(message: Message) -> str | None:
    """What the agent reads in the chat for an identity change; Meta's own body is kept in details."""
    system = message.system
    assert system is not None
    if system.type == "user_changed_number" and system.wa_id:
        return f"The customer changed their WhatsApp number to +{system.wa_id}. Replies go to the new number."
    if system.type == "user_changed_user_id":
        return "The customer's WhatsApp user id changed. This is still the same conversation."
    if system.type == "customer_identity_changed":
        return (
            "The customer's WhatsApp identity changed (a new phone or a reinstall). Check who you are "
            "talking to before sharing personal details."
        )
    return system.body


def customer_of(message: Message, contact: Contact | None, *, echo: bool) -> str:
    """The customer's id: the phone-based id when Meta gives one, else the business-scoped user id."""
    if echo:
        candidates = [message.to, message.to_user_id]
    else:
        candidates = [message.from_, message.from_user_id]
    if contact is not None:
        candidates += [contact.wa_id, contact.user_id]
    return next((c for c in candidates if c), "")


def message_document(
    message: Message,
    phone_number_id: str,
    customer_id: str,
    *,
    direction: Direction = "inbound",
) -> MessageDocument:
    content = _content(message)
    raw = None
    errors = message.errors
    if content is None:
        content = Content(kind="unsupported", text=None)
        raw = message.model_dump(mode="json", by_alias=True, exclude_none=True)
    error = None
    if errors:
        first = errors[0]
        error = MessageError(code=first.code, title=first.title, detail=first.detail)
    context = message.context
    at = message.sent_at
    sent = iso(at)
    status = "received" if direction == "inbound" else "sent"
    details = _with_attribution(content.details, message)
    revoked = content.kind == "system" and (details or {}).get("type") == "revoke"
    if revoked and direction == "outbound":  # what it says while its target is unknown
        content = Content(content.kind, "The business deleted a message", details=content.details)
    doc = MessageDocument(
        conversation_id=conversation_id(phone_number_id, customer_id),
        id=document_id(message.id),
        wamid=message.id,
        phone_number_id=phone_number_id,
        customer_id=customer_id,
        direction=direction,
        kind=content.kind,
        text=content.text,
        caption=content.caption,
        media=content.media,
        context=context.id if context else None,
        forwarded=(bool(context.forwarded or context.frequently_forwarded) or None) if context else None,
        details=details,
        timestamp=sent,
        sort_key=sort_key(at),
        status=status,
        status_times={status: sent},
        error=error,
        raw=raw,
    )
    # An edit, revoke or reaction shows as a change to its target, not as a message (in_context.py).
    return doc.model_copy(update={"hidden": True}) if amendment_of(doc) else doc


def _with_attribution(details: dict[str, Any] | None, message: Message) -> dict[str, Any] | None:
    """Where the customer came from: a click-to-WhatsApp ad (`referral`, all of it, ids as text) or a
    product's "Message business" button (`context.referred_product`); WHATSAPP-NOTES §3.3."""
    found = dict(details or {})
    if message.referral:
        # Meta sends text; a whole number (an id) is kept as text, since Cosmos DB stores numbers as
        # doubles and would round an 18-digit ad id.
        found["referral"] = {
            k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in message.referral.items()
        }
    product = message.context.referred_product if message.context else None
    if product is not None:
        found["referredProduct"] = _dump(product)
    return found or None


def preview(doc: MessageDocument) -> str:
    """One line for the conversation list."""
    if doc.text:
        return doc.text[:100]
    if doc.caption:
        return doc.caption[:100]
    return f"[{doc.kind}]"
