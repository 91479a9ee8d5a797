"""The WhatsApp message activity table, described once: provisioning creates these columns and the
mirror writes exactly these columns, so the two cannot drift apart."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

ColumnKind = Literal["string", "memo", "integer", "datetime"]
RegardingEntity = Literal["contact", "lead"]

# Deterministic row ids (uuid5): a replayed or retried upsert always names the same row. Never change
# this value: every mirrored row's id is derived from it.
ROW_ID_NAMESPACE = uuid.UUID("6f1c8f52-1d3e-5a53-9b0e-2f6a0c3d9e41")
# Dataverse publisher prefixes: 2-8 lowercase letters or digits, starting with a letter, not `mscrm`.
_PREFIX = re.compile(r"^(?!mscrm)[a-z][a-z0-9]{1,7}$")
ENTITY_SETS: dict[RegardingEntity, str] = {"contact": "contacts", "lead": "leads"}


@dataclass(frozen=True)
class ColumnSpec:
    """One custom column; `schema` is its schema name without the publisher prefix (`MediaUrl`)."""

    schema: str
    kind: ColumnKind
    label: str
    description: str
    max_length: int | None = None
    string_format: Literal["Text", "Phone", "Url"] = "Text"

    @property
    def name(self) -> str:
        """The logical name without the prefix: Dataverse lowercases the schema name."""
        return self.schema.lower()


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("Direction", "string", "Direction", "inbound (from the customer) or outbound (to them)", 16),
    ColumnSpec("Kind", "string", "Kind", "text, image, audio, video, document, location, ...", 32),
    ColumnSpec(
        "Status", "string", "WhatsApp status", "received, accepted, sent, delivered, read, played, failed", 16
    ),
    ColumnSpec("MediaUrl", "string", "Media URL", "where the media file is kept", 4000, "Url"),
    ColumnSpec("MimeType", "string", "MIME type", "the media file's type", 255),
    ColumnSpec("FileName", "string", "File name", "a document's file name as the sender gave it", 255),
    ColumnSpec("WaMid", "string", "WhatsApp message id", "Meta's id for the message (wamid)", 256),
    ColumnSpec("MessageId", "string", "Message id", "the app's id for the message (Cosmos DB)", 256),
    ColumnSpec("ConversationId", "string", "Conversation id", "business number id : customer id", 320),
    ColumnSpec("MessageTime", "datetime", "Message time", "when WhatsApp says the message was sent"),
    ColumnSpec("SentAt", "datetime", "Sent at", "when WhatsApp reported it sent"),
    ColumnSpec("DeliveredAt", "datetime", "Delivered at", "when WhatsApp reported it delivered"),
    ColumnSpec("ReadAt", "datetime", "Read at", "when WhatsApp reported it read"),
    ColumnSpec("FailedAt", "datetime", "Failed at", "when WhatsApp reported it failed"),
    ColumnSpec("ErrorCode", "integer", "Error code", "Meta's error code when the message failed"),
    ColumnSpec("ErrorReason", "string", "Error reason", "Meta's error title and details", 2000),
    ColumnSpec(
        "CustomerNumber", "string", "Customer WhatsApp number", "the customer's number, E.164", 32, "Phone"
    ),
    ColumnSpec(
        "WhatsAppUserId", "string", "Customer WhatsApp user id", "business-scoped user id (usernames)", 256
    ),
    ColumnSpec(
        "ProfileName", "string", "Customer profile name", "the name the customer shows on WhatsApp", 256
    ),
    ColumnSpec("SentBy", "string", "Sent by", "the D365 user (Entra object id) who sent it", 128),
    ColumnSpec("BusinessNumberId", "string", "Business number id", "Meta's phone number id of ours", 64),
    # Where a customer came from (Meta's `referral` and `referred_product`): a Lead's origin in D365.
    ColumnSpec(
        "AdSourceUrl",
        "string",
        "Ad URL",
        "the click-to-WhatsApp ad or post the customer came from",
        4000,
        "Url",
    ),
    ColumnSpec("AdSourceType", "string", "Ad source type", "ad or post", 16),
    ColumnSpec("AdSourceId", "string", "Ad id", "Meta's id of the ad or post", 256),
    ColumnSpec("AdHeadline", "string", "Ad headline", "the ad's headline", 1000),
    ColumnSpec("AdClickId", "string", "Ad click id", "Meta's click id (ctwa_clid) for ads reporting", 1000),
    ColumnSpec(
        "ReferredProduct",
        "string",
        "Referred product",
        "the catalog product asked about: retailer id (catalog)",
        512,
    ),
)
# The activity's primary column `subject`, shown as the Timeline card's title. Provisioning creates it
# with this MaxLength (whatever the default of other activity tables), so it is the column's length.
SUBJECT_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000  # the activity's `description`, the card's body: text or caption

# An activity's state and status reason: 0 Open (status 1 Open), 1 Completed (status 2 Completed)
# ("Default status and status reason values", Activity entity,
# https://learn.microsoft.com/previous-versions/dynamicscrm-2016/administering-dynamics-365/dn531157(v=crm.8)).
# The Web API sets them with a PATCH of `statecode` and `statuscode` (the SetState row of every
# table's "Messages" list, e.g.
# https://learn.microsoft.com/dynamics365/developer/reference/entities/msdyn_autocaseclosureagentactivity).
ACTIVITY_OPEN: Final = MappingProxyType({"statecode": 0, "statuscode": 1})
ACTIVITY_COMPLETED: Final = MappingProxyType({"statecode": 1, "statuscode": 2})


def clip(text: str, limit: int) -> str:
    """Dataverse refuses a string longer than its column's MaxLength; keep the start and mark the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_prefix(prefix: str) -> str:
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(
            f"DATAVERSE_TABLE_PREFIX '{prefix}' is not a publisher prefix: 2-8 lowercase letters or digits"
        )
    return prefix


@dataclass(frozen=True)
class TableNames:
    """The names Dataverse derives from the publisher prefix."""

    prefix: str

    def __post_init__(self) -> None:
        check_prefix(self.prefix)

    @property
    def logical_name(self) -> str:
        return f"{self.prefix}_whatsappmessage"

    @property
    def schema_name(self) -> str:
        return f"{self.prefix}_WhatsAppMessage"

    @property
    def entity_set(self) -> str:
        """Dataverse's plural for a custom table (logical name + `s`); provisioning checks it."""
        return f"{self.logical_name}s"

    def column(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def column_schema_name(self, spec: ColumnSpec) -> str:
        return f"{self.prefix}_{spec.schema}"

    @property
    def sent_by_lookup(self) -> str:
        """The lookup to the agent's `systemuser`. A custom lookup's single-valued navigation property
        (what `@odata.bind` names) is its schema name, case included; provisioning checks that it is."""
        return f"{self.prefix}_SentByUser"

    @property
    def sent_by_relationship(self) -> str:
        return f"{self.prefix}_systemuser_{self.logical_name}_sentbyuser"

    def regarding_property(self, entity: RegardingEntity) -> str:
        """Activities are linked by `regardingobjectid`; the Web API sets it through a navigation
        property per target table, named `regardingobjectid_<target>_<activity table>`."""
        return f"regardingobjectid_{entity}_{self.logical_name}@odata.bind"


def row_id(conversation_id: str, message_id: str) -> uuid.UUID:
    """The activity's id: derived from our ids, never from a wamid alone (its `+` and `/` would need
    escaping in URLs, and the same wamid can reach two business numbers)."""
    return uuid.uuid5(ROW_ID_NAMESPACE, f"message:{conversation_id}/{message_id}")


def lead_id(conversation_id: str) -> uuid.UUID:
    """The lead created for an unknown number: one per conversation however often it is attempted."""
    return uuid.uuid5(ROW_ID_NAMESPACE, f"lead:{conversation_id}")
