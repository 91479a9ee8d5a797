"""Request and response of marking a customer's message read, with or without the typing indicator
(`POST /{phone-number-id}/messages`, the same edge as sends, with another body).

Meta's OpenAPI document (`business-messaging-api_v23.0.yaml`, vendored in tests/fixtures/meta-openapi)
describes the body as `#/components/schemas/MarkMessageRequestPayload` (`messaging_product`, `status`,
`message_id`) and the answer as `MarkMessageResponsePayload` (`{"success": true}`); its example "Send
typing indicator and read receipt" adds `typing_indicator: {"type": "text"}`. Meta's guides say the
same: "Mark messages as read"
(https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read)
and "Typing indicators"
(https://developers.facebook.com/documentation/business-messaging/whatsapp/typing-indicators).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TypingIndicator(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["text"] = "text"  # the only type Meta documents


class MarkReadRequest(BaseModel):
    """Marks `message_id` (a message the customer sent) and every earlier one read; with
    `typing_indicator`, also shows "typing…" until the reply or for 25 s."""

    model_config = ConfigDict(frozen=True)

    messaging_product: Literal["whatsapp"] = "whatsapp"
    status: Literal["read"] = "read"
    message_id: str = Field(min_length=1)
    typing_indicator: TypingIndicator | None = None

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)


class MarkReadResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    success: bool
