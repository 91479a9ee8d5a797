"""Requests to and responses from the Graph API's `/{phone-number-id}/messages` edge.

Shapes follow Meta's OpenAPI document (`business-messaging-api_v23.0.yaml`, `#/components/schemas/Message`,
vendored in tests/fixtures/meta-openapi) and two fields it does not list yet: `recipient` (a
business-scoped user id; WHATSAPP-NOTES.md §0, [BSUID]) and `biz_opaque_callback_data` (echoed in
status webhooks; §3.5, [STATUS]). The tests validate every body sent against that document.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

MediaType = Literal["image", "document", "audio", "video", "sticker"]

# Full E.164 with its `+`: "If the plus sign is omitted, your business phone number's country calling
# code is prepended" (WHATSAPP-NOTES.md §5, [SEND-GUIDE]); so never digits alone, never a national form.
E164Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{5,14}$")]
_USER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9._-]{0,255}")


def _user_id(value: str) -> str:
    """Opaque, up to 256 letters, digits and separators (`US.13491208655302741918`; §0, [BSUID]), with
    a letter, so a phone number can never pass for one."""
    if not _USER_ID.fullmatch(value):
        raise ValueError("not a business-scoped user id")
    return value


BusinessScopedUserId = Annotated[str, AfterValidator(_user_id)]


def e164(digits: str) -> str:
    """`447700900123` (a customer id: E.164 digits) -> `+447700900123`, as Meta should receive it."""
    return "+" + digits


class TextBody(BaseModel):
    body: str = Field(min_length=1, max_length=4096)
    preview_url: bool = False


class MediaBody(BaseModel):
    """Media by `link` (Meta fetches it, caching per URL for 10 minutes) or by an uploaded `id`."""

    link: str | None = None
    id: str | None = None
    caption: str | None = None
    filename: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> MediaBody:
        # Meta's MediaObject is a oneOf: id or link, never both.
        if (self.link is None) == (self.id is None):
            raise ValueError("media needs exactly one of link and id")
        return self


class ReplyContext(BaseModel):
    message_id: str


class TemplateLanguage(BaseModel):
    """Meta's `LanguageObject`: the document requires `policy`, and "deterministic" is its only value."""

    policy: Literal["deterministic"] = "deterministic"
    code: str = Field(min_length=1, max_length=20)


class TemplateTextParameter(BaseModel):
    """`TextParameter` (and `ButtonTextParameter`); a named template names it in `parameter_name`."""

    type: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=32768)
    parameter_name: str | None = None


class TemplateMediaParameter(BaseModel):
    """`ImageParameter`, `VideoParameter`, `DocumentParameter`: a media header, by id or link, no caption."""

    type: Literal["image", "video", "document"]
    image: MediaBody | None = None
    video: MediaBody | None = None
    document: MediaBody | None = None


class TemplateComponent(BaseModel):
    """`HeaderComponent`, `BodyComponent` or `ButtonComponent` (a URL button's suffix; `index` 0-9)."""

    type: Literal["header", "body", "button"]
    sub_type: Literal["url"] | None = None
    index: str | None = Field(default=None, pattern=r"^[0-9]$")
    parameters: list[TemplateTextParameter | TemplateMediaParameter] = Field(min_length=1)


class TemplateBody(BaseModel):
    """`TemplateObject`: which approved template, in which language, filled with what."""

    name: str = Field(min_length=1, max_length=512)
    language: TemplateLanguage
    components: list[TemplateComponent] | None = None


class ReactionBody(BaseModel):
    """`ReactionMessage.reaction`: an empty emoji removes the business's reaction."""

    message_id: str
    emoji: str


class SendMessageRequest(BaseModel):
    """`to` (a phone number) or `recipient` (a business-scoped user id); when both are given Meta
    uses `to` (§0, [BSUID])."""

    model_config = ConfigDict(frozen=True)

    messaging_product: Literal["whatsapp"] = "whatsapp"
    recipient_type: Literal["individual"] = "individual"
    to: E164Phone | None = None
    recipient: BusinessScopedUserId | None = None
    type: Literal["text", "image", "document", "audio", "video", "sticker", "template", "reaction"]
    text: TextBody | None = None
    image: MediaBody | None = None
    document: MediaBody | None = None
    audio: MediaBody | None = None
    video: MediaBody | None = None
    sticker: MediaBody | None = None
    template: TemplateBody | None = None
    reaction: ReactionBody | None = None
    context: ReplyContext | None = None
    # Echoed in every status webhook: lets a status find its message even if the wamid was never recorded.
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)

    @model_validator(mode="after")
    def _addressed(self) -> SendMessageRequest:
        if self.to is None and self.recipient is None:
            raise ValueError("a message needs `to` (a phone number) or `recipient` (a user id)")
        return self

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)


class SentContact(BaseModel):
    """`wa_id` for a send by phone number, `user_id` for a send by business-scoped user id (§0, [BSUID])."""

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

    @property
    def user_id(self) -> str | None:
        return self.contacts[0].user_id or None if self.contacts else None


class UploadedMedia(BaseModel):
    """Answer of `POST /{phone-number-id}/media`: the id to send by (valid 30 days)."""

    model_config = ConfigDict(extra="allow")
    id: str


class TemplatesPaging(BaseModel):
    model_config = ConfigDict(extra="allow")
    next: str | None = None


class TemplatesPage(BaseModel):
    """One page of `GET /{waba-id}/message_templates`: the templates as Meta describes them (read by
    shared/templates), and `paging.next` while more follow."""

    model_config = ConfigDict(extra="allow")
    data: list[dict[str, Any]]
    paging: TemplatesPaging | None = None


class MediaLocation(BaseModel):
    """Answer of `GET /{media-id}`: a download URL valid for 5 minutes, with the bearer token."""

    model_config = ConfigDict(extra="allow")
    url: str
    mime_type: str | None = None
    sha256: str | None = None
    file_size: int | None = None
    id: str | None = None
