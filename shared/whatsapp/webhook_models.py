"""Typed models of Meta's WhatsApp Business webhook body, read one update at a time.

Every model keeps unknown fields (`extra="allow"`): Meta adds fields and message types without notice,
and an unknown one must be stored, never rejected. Only what the product relies on is required.

Meta batches up to 1000 updates in one POST and retries the whole POST for 7 days unless it gets a 200
(WHATSAPP-NOTES §3.1, §4), so `read_webhook` validates each message, status and preference on its own:
one that fails is returned as a `RejectedItem` with its raw JSON, and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

_log = logging.getLogger(__name__)


class MetaModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)

    def as_sent(self) -> Any:
        """The JSON this was made from, rebuilt from the model."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class MetaItem(MetaModel):
    """An update (a message, a status, a preference): it remembers the JSON it was read from.

    Only these hold a private attribute: pydantic initialises private attributes after validating
    each instance, which costs more than validating a small model, and the parts of an update (its
    text, its contact, the metadata) are never set aside on their own."""

    _source: Any = PrivateAttr(default=None)

    @classmethod
    def read(cls, raw: Any) -> Self:
        """Validates `raw` and remembers it, so an update set aside later is kept exactly as sent."""
        found = cls.model_validate(raw)
        found._source = raw
        return found

    def as_sent(self) -> Any:
        """The JSON this was read from (rebuilt from the model when it was made otherwise)."""
        if self._source is not None:
            return self._source
        return super().as_sent()


def _unix_seconds(value: str) -> str:
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise ValueError("timestamp must be Unix seconds")
    try:
        datetime.fromtimestamp(int(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("timestamp is out of range") from None
    return value


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
    phones: list[ContactPhone] = Field(default_factory=list)


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
    product_items: list[ProductItem] = Field(default_factory=list)


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


class Message(MetaItem):
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
    errors: list[MetaError] = Field(default_factory=list)

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


class Status(MetaItem):
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
    errors: list[MetaError] = Field(default_factory=list)

    _check_timestamp = field_validator("timestamp")(_unix_seconds)

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(int(self.timestamp), tz=UTC)


class MessagesValue(MetaModel):
    """`value` of a `messages` or `smb_message_echoes` change."""

    messaging_product: str = "whatsapp"
    metadata: Metadata
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    message_echoes: list[Message] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    errors: list[MetaError] = Field(default_factory=list)


class UserPreference(MetaItem):
    """A customer stopped or resumed marketing messages (`user_preferences` field).

    Meta documents one category and two values; anything else is rejected with its raw JSON rather
    than guessed at. `timestamp` is an integer here (strings elsewhere): coerced to a string.
    https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/user_preferences
    """

    wa_id: str = ""
    user_id: str | None = None
    detail: str | None = None
    category: Literal["marketing_messages"]
    value: Literal["stop", "resume"]
    timestamp: str

    _check_timestamp = field_validator("timestamp")(_unix_seconds)

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(int(self.timestamp), tz=UTC)


class ViolationInfo(MetaModel):
    violation_type: str | None = None


class BanInfo(MetaModel):
    waba_ban_state: str | None = None
    waba_ban_date: str | None = None


class Restriction(MetaModel):
    restriction_type: str | None = None
    expiration: str | None = None


class AccountUpdate(MetaModel):
    """`account_update`: the WABA was restricted, banned, reinstated, deleted, shared with a partner...
    https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
    """

    event: str | None = None
    phone_number: str | None = None
    country: str | None = None
    violation_info: ViolationInfo | None = None
    ban_info: BanInfo | None = None
    restriction_info: list[Restriction] = Field(default_factory=list)


class PhoneNumberQualityUpdate(MetaModel):
    """`phone_number_quality_update`: a business number's messaging limit or throughput changed.
    https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
    """

    display_phone_number: str | None = None
    event: str | None = None
    current_limit: str | None = None
    old_limit: str | None = None
    max_daily_conversations_per_business: str | None = None


class RejectionInfo(MetaModel):
    reason: str | None = None
    recommendation: str | None = None


class TemplateStatusUpdate(MetaModel):
    """`message_template_status_update`: a template was approved, rejected, paused, disabled...
    https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
    """

    event: str | None = None
    message_template_id: str | None = None
    message_template_name: str | None = None
    message_template_language: str | None = None
    message_template_category: str | None = None
    reason: str | None = None
    rejection_info: RejectionInfo | None = None


AccountEventValue = AccountUpdate | PhoneNumberQualityUpdate | TemplateStatusUpdate
ACCOUNT_EVENT_MODELS: dict[str, type[AccountEventValue]] = {
    "account_update": AccountUpdate,
    "phone_number_quality_update": PhoneNumberQualityUpdate,
    "message_template_status_update": TemplateStatusUpdate,
}


class WebhookPayload(MetaModel):
    """Only the envelope: a body without it is not a WhatsApp webhook at all (400). Each entry is read
    on its own by `read_webhook`, so one malformed entry never sinks the others."""

    object: Literal["whatsapp_business_account"]
    entry: list[Any]


MESSAGE_FIELDS = frozenset({"messages", "smb_message_echoes"})
PREFERENCE_FIELD = "user_preferences"

# Why an update could not be placed; also the `reason` of the `whatsapp.rejected_items` metric.
RejectReason = Literal["invalid", "no_customer", "no_business_number"]


@dataclass(frozen=True)
class RejectedItem:
    """One update that cannot be stored where it belongs, with its raw JSON so that it is not lost.

    `field` says where it sat: the list it came from (`messages`, `statuses`, `user_preferences`, ...),
    or `entry` / `change` (or the change's field) when the wrapper itself was malformed.
    """

    field: str
    reason: RejectReason
    detail: str
    raw: Any
    phone_number_id: str | None = None
    waba_id: str | None = None


@dataclass(frozen=True)
class ParsedChange:
    """A `messages` or `smb_message_echoes` change, holding only the updates that passed validation.

    A plain dataclass: its parts are validated one by one as they are read, and a model here would
    only check them all again."""

    field: str
    value: MessagesValue
    waba_id: str | None = None


@dataclass(frozen=True)
class PreferencesChange:
    phone_number_id: str
    preferences: list[UserPreference]
    waba_id: str | None = None


@dataclass(frozen=True)
class AccountEvent:
    """A change about the account, a number or a template: logged for monitoring, nothing is stored."""

    field: str
    value: AccountEventValue
    waba_id: str | None = None


@dataclass
class ParsedWebhook:
    changes: list[ParsedChange] = field(default_factory=list)
    preferences: list[PreferencesChange] = field(default_factory=list)
    account_events: list[AccountEvent] = field(default_factory=list)
    rejected: list[RejectedItem] = field(default_factory=list)
    skipped_fields: list[str] = field(default_factory=list)  # acknowledged, nothing to do


def describe(error: ValidationError, root: str = "value") -> str:
    """The first problem, as `where: what` (no input values: they may be a customer's text)."""
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or root
    return f"{where}: {first['msg']}"


def _identifier(value: Any) -> str | None:
    """An id Meta may send as a string or a number; None for anything else."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


M = TypeVar("M", bound=MetaModel)
ItemT = TypeVar("ItemT", bound=MetaItem)


@dataclass
class _ChangeReader:
    """Reads the update lists of one change, rejecting each item that does not validate."""

    parsed: ParsedWebhook
    value: dict[str, Any]
    waba_id: str | None

    def __post_init__(self) -> None:
        try:
            self.metadata: Metadata | None = Metadata.model_validate(self.value.get("metadata"))
        except ValidationError:
            self.metadata = None  # its updates are kept as `no_business_number`
        self.phone_number_id = self.metadata.phone_number_id if self.metadata else None

    def reject(self, where: str, reason: RejectReason, detail: str, raw: Any) -> None:
        self.parsed.rejected.append(
            RejectedItem(where, reason, detail, raw, self.phone_number_id, self.waba_id)
        )

    def items(self, key: str, model: type[ItemT]) -> list[ItemT]:
        """The valid items of `value[key]`; without a business number none can be placed."""
        raw_items = self.value.get(key)
        if raw_items is None:
            return []
        if not isinstance(raw_items, list):
            self.reject(key, "invalid", f"{key}: must be a list", raw_items)
            return []
        found: list[ItemT] = []
        for raw in raw_items:
            try:
                item = model.read(raw)
            except ValidationError as error:
                self.reject(key, "invalid", describe(error), raw)
                continue
            if self.phone_number_id is None:
                self.reject(key, "no_business_number", "metadata.phone_number_id is missing", raw)
                continue
            found.append(item)
        return found

    def lenient(self, key: str, model: type[M]) -> list[M]:
        """Context that is not an update (contacts, value-level errors): what is unreadable is skipped."""
        raw_items = self.value.get(key)
        found: list[M] = []
        for raw in raw_items if isinstance(raw_items, list) else []:
            try:
                found.append(model.model_validate(raw))
            except ValidationError as error:
                _log.warning(
                    "unreadable %s item skipped: %s",
                    key,
                    describe(error),
                    extra={"phoneNumberId": self.phone_number_id, "wabaId": self.waba_id},
                )
        return found


def _read_messages(
    field_name: str, value: dict[str, Any], waba_id: str | None, parsed: ParsedWebhook
) -> None:
    reader = _ChangeReader(parsed, value, waba_id)
    messages = reader.items("messages", Message)
    echoes = reader.items("message_echoes", Message)
    statuses = reader.items("statuses", Status)
    errors = reader.lenient("errors", MetaError)
    if reader.metadata is None:
        for error in errors:  # still worth a log line: Meta is telling us something is wrong
            _log.warning(
                "WhatsApp reported an error for an unnamed phone number: %s %s",
                error.code,
                error.detail,
                extra={"wabaId": waba_id, "metaErrorCode": error.code},
            )
        return
    contacts = reader.lenient("contacts", Contact)
    parsed.changes.append(
        ParsedChange(
            field=field_name,
            waba_id=waba_id,
            value=MessagesValue(
                metadata=reader.metadata,
                contacts=contacts,
                messages=messages,
                message_echoes=echoes,
                statuses=statuses,
                errors=errors,
            ),
        )
    )


def _read_preferences(
    field_name: str, value: dict[str, Any], waba_id: str | None, parsed: ParsedWebhook
) -> None:
    reader = _ChangeReader(parsed, value, waba_id)
    preferences = reader.items("user_preferences", UserPreference)
    if reader.phone_number_id is not None and preferences:
        parsed.preferences.append(PreferencesChange(reader.phone_number_id, preferences, waba_id))


def _read_account_event(
    field_name: str, value: dict[str, Any], waba_id: str | None, parsed: ParsedWebhook
) -> None:
    try:
        event = ACCOUNT_EVENT_MODELS[field_name].model_validate(value)
    except ValidationError as error:
        parsed.rejected.append(RejectedItem(field_name, "invalid", describe(error), value, None, waba_id))
        return
    parsed.account_events.append(AccountEvent(field_name, event, waba_id))


_Reader = Callable[[str, dict[str, Any], str | None, ParsedWebhook], None]
_READERS: dict[str, _Reader] = {
    **dict.fromkeys(MESSAGE_FIELDS, _read_messages),
    PREFERENCE_FIELD: _read_preferences,
    **dict.fromkeys(ACCOUNT_EVENT_MODELS, _read_account_event),
}


def _read_change(change: Any, waba_id: str | None, parsed: ParsedWebhook) -> None:
    if not isinstance(change, dict) or not isinstance(change.get("field"), str):
        parsed.rejected.append(
            RejectedItem(
                "change", "invalid", "a change must be an object with a field name", change, None, waba_id
            )
        )
        return
    field_name, value = change["field"], change.get("value")
    read = _READERS.get(field_name)
    if read is None:
        parsed.skipped_fields.append(field_name)
        return
    if not isinstance(value, dict):
        parsed.rejected.append(
            RejectedItem(field_name, "invalid", "value: must be an object", change, None, waba_id)
        )
        return
    read(field_name, value, waba_id, parsed)


def read_webhook(payload: WebhookPayload) -> ParsedWebhook:
    """Every update the product acts on, validated one by one before anything is stored; what does
    not validate comes back in `rejected`. Other subscribed fields are acknowledged and skipped."""
    parsed = ParsedWebhook()
    for entry in payload.entry:
        changes = entry.get("changes", []) if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            parsed.rejected.append(
                RejectedItem("entry", "invalid", "an entry must be an object with a list of changes", entry)
            )
            continue
        waba_id = _identifier(entry.get("id"))
        for change in changes:
            _read_change(change, waba_id, parsed)
    return parsed


def parse_changes(payload: WebhookPayload) -> list[ParsedChange]:
    """The message and echo changes of `payload`, with only their valid updates."""
    return read_webhook(payload).changes
