"""What the D365-facing API answers, as models: the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from shared.conversations.documents import Direction, MediaInfo, MessageError, MessageStatus, Regarding


class ApiModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class SessionStatus(ApiModel):
    active: bool = Field(
        description="True while the customer's 24-hour window is open: free-form messages may be sent."
    )
    expires_at: str | None = Field(
        alias="expiresAt", description="When the window closes (ISO 8601), if open."
    )
    last_inbound_at: str | None = Field(
        alias="lastInboundAt", description="The customer's last message (ISO 8601)."
    )
    marketing_opt_out: bool = Field(
        alias="marketingOptOut",
        description="True when the customer told WhatsApp to stop marketing messages from this business "
        "(and has not resumed them): send them no marketing template.",
    )
    agent_read_at: str | None = Field(
        alias="agentReadAt",
        description="When the agent side last read the conversation (POST .../read, or a typing indicator; "
        "ISO 8601): the customer's messages after it are unread.",
    )


class NestedView(BaseModel):
    """camelCase parts of a message; what Meta sent is kept only where it is text."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", coerce_numbers_to_str=True
    )


class ReactionView(NestedView):
    emoji: str
    from_: Literal["customer", "business"] = Field(
        alias="from", description="customer, or business (an agent or the WhatsApp Business app)."
    )
    direction: Literal["outbound"] | None = Field(
        default=None,
        description="outbound on the business's reaction (an agent's, sent from the panel, or one from "
        "the WhatsApp Business app), as on the business's messages.",
    )
    at: str = Field(description="When it was reacted (ISO 8601).")

    @model_validator(mode="before")
    @classmethod
    def _outbound(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("from") == "business":
            return {**data, "direction": "outbound"}
        return data


class TemplateRefView(NestedView):
    """The approved template an agent's message was; its `text` is the template as the customer read it."""

    name: str
    language: str
    category: str


class QuotedView(NestedView):
    """The message a reply answers, as it is now."""

    id: str = Field(description="The quoted message's id in this history.")
    wamid: str | None = None
    direction: Direction
    kind: str
    text: str | None = Field(default=None, description="Its text or caption, at most 100 characters.")
    deleted: bool | None = Field(default=None, description="The quoted message was deleted: no text.")


class _MetaText(NestedView):
    @field_validator("*", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        """A field of another shape than Meta documents (or empty) is dropped, never a failed history."""
        return (
            value
            if isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""
            else None
        )


class ReferralView(_MetaText):
    """The click-to-WhatsApp ad or post the customer came from (Meta's `referral`)."""

    source_type: str | None = Field(default=None, description="ad or post")
    source_url: str | None = None
    source_id: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = Field(default=None, description="image or video")
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = Field(default=None, description="Meta's click id, for ads reporting.")


class ReferredProductView(_MetaText):
    """The catalog product the customer asked about ("Message business" on a product)."""

    catalog_id: str | None = None
    product_retailer_id: str | None = None


# What a deleted message no longer shows: anything the sender wrote, sent or linked.
_CONTENT = (
    "text", "caption", "media", "details", "context", "forwarded", "edited", "reactions", "quoted",
    "referral", "referredProduct",
)  # fmt: skip


class MessageView(ApiModel):
    """One chat message as the history shows it; absent fields are omitted, bookkeeping is dropped."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    wamid: str | None = None
    phone_number_id: str = Field(alias="phoneNumberId")
    customer_id: str = Field(alias="customerId")
    direction: Direction
    kind: str = Field(
        description="text, image, audio, video, document, sticker, location, contacts, "
        "interactive, button, reaction, order, system, template or unsupported"
    )
    text: str | None = None
    caption: str | None = None
    media: MediaInfo | None = None
    context: str | None = Field(default=None, description="The wamid this message replies to.")
    forwarded: bool | None = None
    details: dict[str, Any] | None = None
    timestamp: str
    status: MessageStatus
    status_times: dict[str, str] = Field(alias="statusTimes")
    error: MessageError | None = None
    sent_by: str | None = Field(default=None, alias="sentBy")
    regarding: Regarding | None = None
    client_message_id: str | None = Field(
        default=None, alias="clientMessageId", description="Outbound: the control's idempotency key."
    )
    edited: bool | None = Field(
        default=None,
        description="Edited by its sender: text/caption are the latest (earlier: details.history).",
    )
    deleted: bool | None = Field(
        default=None, description="Deleted by its sender: only id, timestamp, direction and kind remain."
    )
    reactions: list[ReactionView] | None = Field(
        default=None, description="At most one per side; the latest replaces an earlier one."
    )
    quoted: QuotedView | None = Field(default=None, description="The message this one replies to.")
    referral: ReferralView | None = Field(
        default=None, description="The click-to-WhatsApp ad the customer came from."
    )
    referred_product: ReferredProductView | None = Field(
        default=None, alias="referredProduct", description="The product the customer asked about."
    )
    template: TemplateRefView | None = Field(
        default=None, description="kind template: which one; `text` is what the customer read."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_document(cls, data: Any) -> Any:
        """A stored message as the chat shows it: attribution lifted out of `details`, removed
        reactions dropped, and a deleted message stripped of its content, whatever the document holds."""
        if not isinstance(data, dict):
            return data
        found = dict(data)
        raw_details = found.get("details")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        for key, model in (("referral", ReferralView), ("referredProduct", ReferredProductView)):
            value = details.get(key)
            if isinstance(value, dict) and model.model_validate(value).model_dump(exclude_none=True):
                found.setdefault(key, value)  # absent when Meta sent nothing the view shows
        if isinstance(found.get("reactions"), list):
            shown = [r for r in found["reactions"] if isinstance(r, dict) and r.get("emoji")]
            found["reactions"] = shown or None
        if found.get("deleted"):
            for key in _CONTENT:
                found.pop(key, None)
        return found


class MessagesPage(ApiModel):
    messages: list[MessageView] = Field(description="Newest first.")
    next: str | None = Field(
        description="A page: pass as `before` for the next (older) page; null on the last page. A poll "
        "(`changedSince`): more changes wait than `limit` held; poll again at once with this as "
        "`changedSince`."
    )
    poll_cursor: str = Field(
        alias="pollCursor",
        description="Pass as `changedSince` to get only the messages written or changed since this answer "
        "(new messages and new ticks): one small request per poll, nothing dropped, nothing sent twice.",
    )


ErrorCode = Literal[
    "invalid_request",
    "session_inactive",
    "rejected_by_whatsapp",
    "rate_limited",
    "whatsapp_auth_failed",
    "whatsapp_unavailable",
    "whatsapp_no_answer",
    "empty_file",
    "file_too_large",
    "unsupported_media_type",
    "store_unavailable",
    "unauthenticated",
    "forbidden",
    "auth_not_configured",
    "auth_unavailable",
    "not_found",
    "not_allowed",
    "not_configured",
    "access_check_unavailable",
    "client_message_id_reused",
    "template_not_found",
    "marketing_opt_out",
    "meta_unavailable",
]


class ErrorDetail(ApiModel):
    code: ErrorCode = Field(description="Stable, for code to branch on; `message` is for people.")
    message: str
    retry_after_seconds: int | None = Field(
        default=None, alias="retryAfterSeconds", description="With rate_limited: when to try again."
    )


class ErrorResponse(ApiModel):
    error: ErrorDetail


class SendFailure(ApiModel):
    """An error, with the message as stored (failed, or accepted when the outcome is unknown)."""

    error: ErrorDetail
    message: MessageView


class Health(ApiModel):
    status: Literal["ok", "degraded"]
    backends: dict[str, str]


class UploadResult(ApiModel):
    """Put `mediaUrl` in the control's media URL box and send it with `type` = `kind`."""

    media_url: str = Field(alias="mediaUrl", description="A read-only URL, valid MEDIA_URL_MINUTES.")
    blob_name: str = Field(alias="blobName")
    mime_type: str = Field(alias="mimeType", description="The type sniffed from the file's bytes.")
    kind: Literal["image", "video", "audio", "document", "sticker"]
    size: int
    sha256: str = Field(description="Hex SHA-256 of the file.")
    filename: str


class TemplateParameterView(ApiModel):
    """One value an agent fills in: send it in `template.parameters` (positional: in `index` order)."""

    component: Literal["header", "body", "button"]
    name: str | None = Field(description="NAMED templates: the parameter's name.")
    index: int | None = Field(description="POSITIONAL templates (and buttons): n of `{{n}}`.")
    button_index: int | None = Field(
        alias="buttonIndex", description="Button parameters: the button's position, from 0."
    )
    type: Literal["text", "image", "video", "document"] = Field(
        description='text, or the file a media header needs (`[{"mediaUrl": ...}]`, one of our uploads).'
    )
    example: str | None = Field(description="Meta's example value, when the template has one.")


class TemplateView(ApiModel):
    name: str
    language: str
    category: Literal["UTILITY", "MARKETING", "AUTHENTICATION"]
    status: Literal["APPROVED"]
    parameter_format: Literal["POSITIONAL", "NAMED"] = Field(alias="parameterFormat")
    components: list[dict[str, Any]] = Field(description="Meta's components, exactly as Meta returns them.")
    parameters: list[TemplateParameterView]
    preview: str = Field(
        description="Header, body and footer text joined by a blank line, variables unfilled."
    )


class TemplateList(ApiModel):
    templates: list[TemplateView] = Field(description="Approved templates, by name then language.")
