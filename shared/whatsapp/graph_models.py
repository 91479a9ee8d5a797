"""Requests to and responses from the Graph API's `/{phone-number-id}/messages` edge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MediaType = Literal["image", "document", "audio", "video", "sticker"]


class TextBody(BaseModel):
    body: str = Field(min_length=1, max_length=4096)
    preview_url: bool = False


class MediaBody(BaseModel):
    """Media by `link` (Meta fetches it, caching per URL for 10 minutes) or by an uploaded `id`."""

    link: str | None = None
    id: str | None = None
    caption: str | None = None
    filename: str | None = None


class ReplyContext(BaseModel):
    message_id: str


class SendMessageRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    messaging_product: Literal["whatsapp"] = "whatsapp"
    recipient_type: Literal["individual"] = "individual"
    to: str
    type: Literal["text", "image", "document", "audio", "video", "sticker"]
    text: TextBody | None = None
    image: MediaBody | None = None
    document: MediaBody | None = None
    audio: MediaBody | None = None
    video: MediaBody | None = None
    sticker: MediaBody | None = None
    context: ReplyContext | None = None
    # Echoed in every status webhook: lets a status find its message even if the wamid was never recorded.
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)


class SentContact(BaseModel):
    model_config = ConfigDict(extra="allow")
    input: str = ""
    wa_id: str = ""
    user_id: str | None = None


class SentMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    message_status: str | None = None


class SendMessageResponse(BaseModel):
    """Success means accepted by Meta, not delivered: statuses follow by webhook."""

    model_config = ConfigDict(extra="allow")
    messaging_product: str = "whatsapp"
    contacts: list[SentContact] = []
    messages: list[SentMessage] = Field(min_length=1)

    @property
    def wamid(self) -> str:
        return self.messages[0].id

    @property
    def wa_id(self) -> str | None:
        return self.contacts[0].wa_id or None if self.contacts else None


class UploadedMedia(BaseModel):
    """Answer of `POST /{phone-number-id}/media`: the id to send by (valid 30 days)."""

    model_config = ConfigDict(extra="allow")
    id: str


class MediaLocation(BaseModel):
    """Answer of `GET /{media-id}`: a download URL valid for 5 minutes, with the bearer token."""

    model_config = ConfigDict(extra="allow")
    url: str
    mime_type: str | None = None
    sha256: str | None = None
    file_size: int | None = None
    id: str | None = None
