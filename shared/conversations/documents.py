"""The documents of the `conversations` container, one partition each (docs/architecture.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

Direction = Literal["inbound", "outbound"]
MessageStatus = Literal["received", "accepted", "sent", "delivered", "read", "played", "failed"]
SESSION_DOCUMENT_ID = "session"
CONVERSATION_DOCUMENT_ID = "conversation"
_COSMOS_FORBIDDEN_ID_CHARS = {"%": "%25", "/": "%2F", "\\": "%5C", "?": "%3F", "#": "%23"}
_COSMOS_FORBIDDEN_ID_CHAR = re.compile(r"[%/\\?#]")


def _escaped(found: re.Match[str]) -> str:
    return _COSMOS_FORBIDDEN_ID_CHARS[found.group()]


def document_id(raw: str) -> str:
    """Cosmos ids may not hold `/ \\ ? #`, which WhatsApp ids can: escape them, reversibly.

    Runs for every webhook item: a wamid rarely holds any of them, so it is returned as it is after
    five scans in C, and only an id that does is rewritten (one regular expression pass)."""
    if "%" in raw or "/" in raw or "\\" in raw or "?" in raw or "#" in raw:
        return _COSMOS_FORBIDDEN_ID_CHAR.sub(_escaped, raw)
    return raw


def conversation_id(phone_number_id: str, customer_id: str) -> str:
    return f"{phone_number_id}:{customer_id}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# camelCase aliases for everything the app stores or queues; Python attributes stay snake_case.
CAMEL_CASE = ConfigDict(alias_generator=AliasGenerator(alias=to_camel), populate_by_name=True)


class Document(BaseModel):
    """camelCase on the wire and in Cosmos, snake_case in Python."""

    model_config = ConfigDict(**CAMEL_CASE, extra="ignore")

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class MediaInfo(Document):
    meta_media_id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    size: int | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None
    blob_name: str | None = None
    url: str | None = None  # an external link as sent, or (in API answers only) a fresh read URL
    status: str | None = None  # inbound copies: "stored", or "unavailable" once Meta no longer has it
    unavailable_reason: str | None = None  # why an inbound copy is "unavailable" (gone, refused URL)


class MessageError(Document):
    code: int | None = None
    title: str | None = None
    detail: str | None = None
    retryable: bool | None = None  # nothing went out and the cause may pass: the same send may be retried


# A Dataverse row id exactly as the Web API writes it: it ends up in OData paths (`contacts(<id>)`,
# `@odata.bind`), so nothing else may pass. Stored and compared in lower case.
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class RecordOwner(Document):
    """Who owns a linked contact or lead (a user or a team): the owner of its customer's messages."""

    type: Literal["systemuser", "team"]
    id: Annotated[str, StringConstraints(pattern=GUID_PATTERN, to_lower=True)]


class Regarding(Document):
    """The Contact or Lead a message is about (the record the chat panel sits on)."""

    entity: Literal["contact", "lead"]
    id: Annotated[str, StringConstraints(pattern=GUID_PATTERN, to_lower=True)]
    # Its owner, on the conversation: known only when the phone lookup found the record (a link from an
    # agent's send or a backfill has none). Never taken from nor shown to a client (not in the schema).
    owner: SkipJsonSchema[RecordOwner | None] = None

    def to_param(self) -> str:
        """As the `regarding` query parameter writes it: `contact:<id>`."""
        return f"{self.entity}:{self.id}"


class Pricing(Document):
    """How Meta prices an outbound message, from its status webhooks (WHATSAPP-NOTES §3.5): for cost
    reports. `billable` is being deprecated by Meta in favour of `type` + `category`."""

    billable: bool | None = None
    pricing_model: str | None = None  # PMP (CBP before 2025-07-01)
    category: str | None = None  # marketing, utility, authentication, service, ...
    type: str | None = None  # regular, free_customer_service, free_entry_point


class MetaConversation(Document):
    """Meta's own (billing) conversation on a status: per message up to v23, only in free-entry-point
    windows from v24. Not our `conversationId`."""

    id: str | None = None
    origin_type: str | None = None
    expires_at: str | None = None  # ISO 8601; only on `sent`


class StoredReaction(Document):
    """One side's latest reaction to a message; an empty emoji is a removal, kept so that an older
    reaction arriving later cannot bring it back (in_context.py)."""

    emoji: str
    from_: Literal["customer", "business"] = Field(alias="from")
    at: str  # ISO 8601, from Meta
    wamid: str | None = None  # the reaction's own wamid: with `at`, orders same-second reactions


class Quote(Document):
    """The message a reply answers, as the reply shows it; `version` only ever moves forward."""

    id: str
    wamid: str | None = None
    direction: Direction
    kind: str
    text: str | None = None
    deleted: bool | None = None
    version: str  # "<deleted 0|1>|<time of the current version>|<edit wamid>": compares as text


class TemplateRef(Document):
    """Which approved template an agent's message was, as it was when sent."""

    name: str
    language: str
    category: str


class MessageDocument(Document):
    type: Literal["message"] = "message"
    conversation_id: str
    id: str
    wamid: str | None = None
    phone_number_id: str
    customer_id: str
    direction: Direction
    kind: str
    text: str | None = None
    caption: str | None = None
    media: MediaInfo | None = None
    context: str | None = None  # the wamid this message replies to
    forwarded: bool | None = None
    details: dict[str, Any] | None = None  # the kind's structured content (location, order, ...)
    timestamp: str  # ISO 8601, from Meta
    # Meta's timestamps have one-second resolution: ties are ordered by when the service wrote them.
    sort_key: str
    status: MessageStatus
    status_times: dict[str, str] = Field(default_factory=dict)
    error: MessageError | None = None
    sent_by: str | None = None
    regarding: Regarding | None = None
    # Outbound only: the control's idempotency key, and a hash of what it asked to send with it, so
    # the same key with another body is refused instead of sending the new one under the old record.
    client_message_id: str | None = None
    request_hash: str | None = None
    raw: dict[str, Any] | None = None  # only for what the code does not model
    template: TemplateRef | None = None  # kind "template": `text` holds it as the customer reads it
    # Messages in context (shared/conversations/in_context.py). An edit, revoke or reaction is `hidden`
    # from the history (shown on its own only while its target is unknown); its effect is on the target:
    edited: bool | None = None  # text/caption replaced; earlier versions in details.history
    deleted: bool | None = None  # revoked: the content moved to deleted_content, which is never served
    deleted_content: dict[str, Any] | None = None
    reactions: list[StoredReaction] | None = None
    quoted: Quote | None = None  # set on a reply: the message it answers, kept up to date
    hidden: bool | None = None
    # Outbound only, from Meta's status webhooks (cost reporting).
    pricing: Pricing | None = None
    meta_conversation: MetaConversation | None = None
    # When the Dataverse mirror already queued for this message runs (shared/conversations/mirror_timing.py).
    mirror_due_at: str | None = None


class SessionDocument(Document):
    """Its existence (until `ttl` deletes it) is the 24-hour customer-service window."""

    type: Literal["session"] = "session"
    id: str = SESSION_DOCUMENT_ID
    conversation_id: str
    last_inbound_at: str
    expires_at: str
    ttl: int


class IdentityChange(Document):
    """WhatsApp told us the customer's number, user id or identity changed (a `system` message)."""

    type: str  # user_changed_number, user_changed_user_id, customer_identity_changed
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    at: str


class InboundRef(Document):
    """The customer's newest message (not an edit, reaction or notice): what a read receipt or a
    typing indicator is sent on (shared/conversations/agent_signals.py), kept here by the ingest so
    finding it costs no query."""

    id: str
    wamid: str
    at: str  # ISO 8601, from Meta
    sort_key: str  # the history's order: the newest has the largest


class ConversationDocument(Document):
    type: Literal["conversation"] = "conversation"
    id: str = CONVERSATION_DOCUMENT_ID
    conversation_id: str
    phone_number_id: str
    customer_id: str
    wa_id: str | None = None
    user_id: str | None = None
    profile_name: str | None = None
    username: str | None = None
    last_message_at: str | None = None
    last_message_preview: str | None = None
    last_message_direction: Direction | None = None
    regarding: Regarding | None = None
    # Set on the conversation of a number WhatsApp knows by another id: where its messages live.
    alias_of: str | None = None
    # The customer stopped (True) or resumed (False) marketing messages (`user_preferences` webhook),
    # and when: a conversation outlives the 24-hour session, and opt-outs matter most outside it.
    marketing_opt_out: bool | None = None
    marketing_preference_at: str | None = None
    identity_changes: list[IdentityChange] | None = None
    # Read receipts and typing (shared/conversations/agent_signals.py): the customer's newest message,
    # when the agent side read up to which message (what "unread" is measured against), and the last
    # typing indicator (at most one per 20 s, whichever instance serves the call).
    last_inbound: InboundRef | None = None
    agent_read_at: str | None = None
    agent_read_message_id: str | None = None
    last_typing_at: str | None = None
    # When the linked record's owner was last told of unread messages (shared/dataverse/notifications.py).
    notified_at: str | None = None
    # Customer messages since the agent side last read (the inbox's badge): +1 per new one, 0 on a read.
    unread_count: int | None = None
    # Wamids an edit, a reaction or a reply waits for (their `links:` documents; in_context.py): a new
    # message looks for its links only when named here, so the common one costs no read.
    awaited: list[str] | None = None
    # The person's other ids, already aliases of this home (identity.py): a message naming both ids
    # then needs no read of the other's conversation.
    linked_ids: list[str] | None = None
    # The linked record's name (`fullname`) as the phone lookup found it, for the inbox: only
    # Dataverse sets it, never a client; it goes when the link changes.
    regarding_name: str | None = None


class ReceiptDocument(Document):
    """Statuses Meta reported for one outbound wamid, kept even before the message itself is known."""

    type: Literal["receipt"] = "receipt"
    id: str
    conversation_id: str
    wamid: str
    status: MessageStatus
    status_times: dict[str, str] = Field(default_factory=dict)
    error: MessageError | None = None
    pricing: Pricing | None = None
    meta_conversation: MetaConversation | None = None
    ttl: int = 30 * 24 * 3600  # Meta stops retrying after 7 days; a month is ample

    @staticmethod
    def id_for(wamid: str) -> str:
        return document_id(f"receipt:{wamid}")


REJECTED_TTL_SECONDS = 30 * 24 * 3600


class RejectedDocument(Document):
    """An update from Meta's webhook that could not be placed in a conversation (no customer, no
    business number, or it does not validate), kept with its raw JSON instead of failing the batch.

    Partition `"{phoneNumberId}:rejected"` (`"unknown:rejected"` without a number); the id is a hash of
    the raw item, so Meta's retries write it once. Cosmos deletes it after 30 days: Meta retries for 7,
    which leaves three weeks to look at it (docs/monitoring.md has the query).
    """

    type: Literal["rejected"] = "rejected"
    id: str
    conversation_id: str
    phone_number_id: str | None = None
    waba_id: str | None = None
    field: str  # where it sat in Meta's body: messages, statuses, user_preferences, entry, ...
    reason: str  # invalid, no_customer, no_business_number
    detail: str
    raw: Any = None
    raw_excerpt: str | None = None  # instead of `raw` when that is too large for one document
    raw_size: int  # characters of its canonical JSON
    received_at: str
    ttl: int = REJECTED_TTL_SECONDS

    @staticmethod
    def partition_for(phone_number_id: str | None) -> str:
        return conversation_id(phone_number_id or "unknown", "rejected")
