"""What the D365-facing API answers, as models: the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
        "interactive, button, reaction, order, system or unsupported"
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


class MessagesPage(ApiModel):
    messages: list[MessageView] = Field(description="Newest first.")
    next: str | None = Field(description="Pass as `before` for the next (older) page; null on the last page.")
    poll_cursor: str = Field(
        alias="pollCursor",
        description="Pass as `changedSince` to get only the messages written or changed since this answer "
        "(new messages and new ticks): one small request per poll.",
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
