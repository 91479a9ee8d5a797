"""Typed models of Meta's WhatsApp Business webhook body.

Every model keeps unknown fields (`extra="allow"`): Meta adds fields and message types without notice,
and an unknown one must be stored, never rejected. Only what the product relies on is required.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MetaModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)


def _unix_seconds(value: str) -> str:
    if not value.strip().isdigit():
        raise ValueError("timestamp must be Unix seconds")
    return value.strip()


class ErrorData(MetaModel):
    details: str | None = None


class MetaError(MetaModel):
    """Errors on unsupported messages, failed statuses and value-level system errors."""

    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None

    @property
    def detail(self) -> str | None:
        return self.error_data.details if self.error_data and self.error_data.details else self.message


class Metadata(MetaModel):
    display_phone_number: str = ""
    phone_number_id: str = Field(min_length=1)


class Profile(MetaModel):
    name: str | None = None
    username: str | None = None
    country_code: str | None = None


class Contact(MetaModel):
    """The sender's profile; `wa_id` is empty for users known only by a business-scoped user id."""

    wa_id: str = ""
    user_id: str | None = None
    parent_user_id: str | None = None
    profile: Profile | None = None


class ReferredProduct(MetaModel):
    catalog_id: str | None = None
    product_retailer_id: str | None = None


class Context(MetaModel):
    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None
    referred_product: ReferredProduct | None = None


class Text(MetaModel):
    body: str = ""


class Media(MetaModel):
    """image, video, audio, document and sticker share this shape; `sha256` is base64."""

    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None
    url: str | None = None


class Location(MetaModel):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ContactName(MetaModel):
    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class ContactPhone(MetaModel):
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class SharedContact(MetaModel):
    name: ContactName | None = None
    phones: list[ContactPhone] = []


class ButtonReply(MetaModel):
    id: str | None = None
    title: str | None = None
    description: str | None = None


class FlowReply(MetaModel):
    response_json: str | None = None  # a string of JSON, as Meta sends it
    body: str | None = None
    name: str | None = None


class Interactive(MetaModel):
    type: str
    button_reply: ButtonReply | None = None
    list_reply: ButtonReply | None = None
    nfm_reply: FlowReply | None = None


class Button(MetaModel):
    payload: str | None = None
    text: str | None = None


class Reaction(MetaModel):
    message_id: str | None = None
    emoji: str | None = None  # empty or absent: the reaction was removed


class ProductItem(MetaModel):
    product_retailer_id: str | None = None
    quantity: int | None = None
    item_price: float | None = None
    currency: str | None = None


class Order(MetaModel):
    catalog_id: str | None = None
    text: str | None = None
    product_items: list[ProductItem] = []


class System(MetaModel):
    body: str | None = None
    type: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    customer: str | None = None


class Edit(MetaModel):
    original_message_id: str | None = None
    message: dict[str, Any] | None = None


class Revoke(MetaModel):
    original_message_id: str | None = None


class Unsupported(MetaModel):
    type: str | None = None


class Message(MetaModel):
    """One inbound message (or, under `smb_message_echoes`, one the business sent from the app)."""

    id: str = Field(min_length=1)
    from_: str = Field(default="", alias="from")
    from_user_id: str | None = None
    to: str | None = None  # echoes only
    to_user_id: str | None = None  # echoes only
    timestamp: str
    type: str = "unknown"
    context: Context | None = None
    referral: dict[str, Any] | None = None
    errors: list[MetaError] = []

    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[SharedContact] | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    reaction: Reaction | None = None
    order: Order | None = None
    system: System | None = None
    edit: Edit | None = None
    revoke: Revoke | None = None
    unsupported: Unsupported | None = None

    _check_timestamp = field_validator("timestamp")(_unix_seconds)

    @property
    def sent_at(self) -> datetime:
        return datetime.fromtimestamp(int(self.timestamp), tz=UTC)


class Status(MetaModel):
    """A receipt for a message the business sent; only id, status, timestamp are guaranteed."""

    id: str = Field(min_length=1)
    status: str
    timestamp: str
    recipient_id: str = ""
    recipient_user_id: str | None = None
    recipient_type: str | None = None
    biz_opaque_callback_data: str | None = None
    conversation: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    errors: list[MetaError] = []

    _check_timestamp = field_validator("timestamp")(_unix_seconds)

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(int(self.timestamp), tz=UTC)


class MessagesValue(MetaModel):
    """`value` of a `messages` or `smb_message_echoes` change."""

    messaging_product: str = "whatsapp"
    metadata: Metadata
    contacts: list[Contact] = []
    messages: list[Message] = []
    message_echoes: list[Message] = []
    statuses: list[Status] = []
    errors: list[MetaError] = []


class Change(MetaModel):
    field: str
    value: dict[str, Any]


class Entry(MetaModel):
    id: str  # the WhatsApp Business Account id
    changes: list[Change] = []


class WebhookPayload(MetaModel):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


MESSAGE_FIELDS = frozenset({"messages", "smb_message_echoes"})


class ParsedChange(BaseModel):
    """A change whose value the product acts on, validated in full before anything is stored."""

    field: str
    value: MessagesValue


def parse_changes(payload: WebhookPayload) -> list[ParsedChange]:
    """Validates every change the product stores; other subscribed fields are acknowledged and skipped."""
    return [
        ParsedChange(field=change.field, value=MessagesValue.model_validate(change.value))
        for entry in payload.entry
        for change in entry.changes
        if change.field in MESSAGE_FIELDS
    ]
