"""What the D365 control asks for when an agent presses Send (the body of POST .../messages): a session
message (text or media), an approved template, or a reaction to a message, told apart by `type`."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.conversations.documents import Regarding
from shared.templates.filling import TemplateParameters

# Meta's limits: text body 4096 characters, media caption 1024; a document's filename is shown to
# the customer, and 240 keeps it within common filesystem limits.
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_FILENAME = 240
CLIENT_MESSAGE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
SESSION_TYPES = ("text", "image", "document", "audio", "video", "sticker")
SEND_TYPES = (*SESSION_TYPES, "template", "reaction")


def _no_owner(value: Regarding | None) -> Regarding | None:
    """The owner comes from Dataverse's phone lookup only: a client may not choose who owns the
    customer's rows (the send stores its `regarding` on the conversation)."""
    if value is not None and value.owner is not None:
        raise ValueError("regarding takes an entity and an id only")
    return value


class SendMessageCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False)

    type: Literal["text", "image", "document", "audio", "video", "sticker"]
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    media_url: str | None = Field(default=None, alias="mediaUrl", max_length=2048)
    caption: str | None = Field(default=None, max_length=MAX_CAPTION)
    filename: str | None = Field(default=None, min_length=1, max_length=MAX_FILENAME)
    preview_url: bool = Field(default=False, alias="previewUrl")
    reply_to: str | None = Field(default=None, alias="replyTo", min_length=1, max_length=256)
    client_message_id: str | None = Field(default=None, alias="clientMessageId", pattern=CLIENT_MESSAGE_ID)
    regarding: Regarding | None = None

    regarding_has_no_owner = field_validator("regarding")(_no_owner)

    @model_validator(mode="after")
    def _fits_the_type(self) -> SendMessageCommand:
        if self.type == "text":
            if not self.text or not self.text.strip():
                raise ValueError("a text message needs `text` (1 to 4096 characters)")
            if self.media_url or self.caption or self.filename:
                raise ValueError("a text message takes no mediaUrl, caption or filename")
            return self
        if self.text is not None:
            raise ValueError(f"a {self.type} message takes `caption`, not `text`")
        if not self.media_url:
            raise ValueError(f"a {self.type} message needs `mediaUrl`")
        parts = urlsplit(self.media_url)
        # https is checked when sending: our own uploads may be http on the local emulator.
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError("mediaUrl must be an https:// URL that Meta can fetch")
        if self.caption is not None and self.type in ("audio", "sticker"):
            raise ValueError(f"WhatsApp {self.type} messages cannot carry a caption")
        if self.filename is not None and self.type != "document":
            raise ValueError("only documents take a filename")
        return self


# Meta's template names: lowercase letters, digits and underscores, at most 512; language codes like
# `en`, `en_US`, `zh_Hant_HK`.
TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8}){0,2}$")]


class TemplateChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TemplateName
    language: LanguageCode
    parameters: TemplateParameters = Field(default_factory=TemplateParameters)


class SendTemplateCommand(BaseModel):
    """An approved template of the business number's account, open window or not."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["template"]
    template: TemplateChoice
    client_message_id: str | None = Field(default=None, alias="clientMessageId", pattern=CLIENT_MESSAGE_ID)
    regarding: Regarding | None = None

    regarding_has_no_owner = field_validator("regarding")(_no_owner)


class ReactionChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    message_id: str = Field(
        alias="messageId",
        min_length=1,
        max_length=256,
        pattern=r"^[\x21-\x7e]+$",
        description="The message reacted to: its id in this history, or its wamid.",
    )
    emoji: str = Field(max_length=32, description="One emoji; empty removes the agent's reaction.")

    @field_validator("emoji")
    @classmethod
    def _an_emoji(cls, value: str) -> str:
        """Text is refused here; which sequences are emoji is Meta's to judge (it refuses the others)."""
        if not value:
            return value
        words = any(ch.isspace() or (ch.isascii() and ch.isalpha()) for ch in value)
        if words or value.isascii() or any(unicodedata.category(ch) == "Cc" for ch in value):
            raise ValueError("emoji must be an emoji (or empty, to remove the reaction)")
        return value


class SendReactionCommand(BaseModel):
    """The agent's reaction to a message of this conversation; inside the window only, as at Meta."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["reaction"]
    reaction: ReactionChoice
    client_message_id: str | None = Field(default=None, alias="clientMessageId", pattern=CLIENT_MESSAGE_ID)
    regarding: Regarding | None = None

    regarding_has_no_owner = field_validator("regarding")(_no_owner)


AnySendCommand = SendMessageCommand | SendTemplateCommand | SendReactionCommand


class _Kind(BaseModel):
    type: str


def parse_send_command(body: bytes | str) -> AnySendCommand:
    """The command for the body's `type`; raises ValidationError (ValueError for an unknown type), each
    message naming the field as the type's own model does."""
    kind = _Kind.model_validate_json(body).type
    if kind == "template":
        return SendTemplateCommand.model_validate_json(body)
    if kind == "reaction":
        return SendReactionCommand.model_validate_json(body)
    if kind not in SESSION_TYPES:
        raise ValueError(f"type must be one of {', '.join(SEND_TYPES)}")
    return SendMessageCommand.model_validate_json(body)
