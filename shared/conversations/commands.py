"""What the D365 control asks for when an agent presses Send (the body of POST .../messages)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.conversations.documents import Regarding

# Meta's limits: text body 4096 characters, media caption 1024; a document's filename is shown to
# the customer, and 240 keeps it within common filesystem limits.
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_FILENAME = 240
CLIENT_MESSAGE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


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

    @field_validator("regarding")
    @classmethod
    def _no_owner(cls, value: Regarding | None) -> Regarding | None:
        """The owner comes from Dataverse's phone lookup only: a client may not choose who owns the
        customer's rows (the send stores its `regarding` on the conversation)."""
        if value is not None and value.owner is not None:
            raise ValueError("regarding takes an entity and an id only")
        return value

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
