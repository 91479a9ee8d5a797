"""What goes to and comes from the Dataverse Web API, typed: the activity row, lookups, errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from shared.conversations.documents import RecordOwner, Regarding
from shared.dataverse.schema import (
    ACTIVITY_COMPLETED,
    ACTIVITY_OPEN,
    COLUMNS,
    DESCRIPTION_MAX_LENGTH,
    ENTITY_SETS,
    SUBJECT_MAX_LENGTH,
    TableNames,
    clip,
)

OwnerType = Literal["systemuser", "team"]

# The activity columns every activity table has, `sortdate`, `actualstart`, `actualend`,
# `overriddencreatedon` ("Record Created On": "Date and time that the record was migrated"),
# `statecode` and `statuscode`: activitypointer EntityType,
# https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/activitypointer


class DataverseErrorBody(BaseModel):
    """Dataverse's error object: `code` is a hex string such as `0x80072322` (service protection)."""

    model_config = ConfigDict(extra="allow")
    code: str = ""
    message: str = ""


class DataverseErrorEnvelope(BaseModel):
    model_config = ConfigDict(extra="allow")
    error: DataverseErrorBody


class PhoneRecord(BaseModel):
    """A contact or lead as the phone lookup selects it, with its owner: `owninguser` or `owningteam`
    (contact and lead table references,
    https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact), read as
    `_<name>_value` lookups."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(validation_alias=AliasChoices("contactid", "leadid"))
    mobilephone: str | None = None
    telephone1: str | None = None
    fullname: str | None = Field(default=None, max_length=500)  # shown in the inbox
    owning_user: str | None = Field(default=None, validation_alias="_owninguser_value")
    owning_team: str | None = Field(default=None, validation_alias="_owningteam_value")

    def owner(self) -> RecordOwner | None:
        """None if neither is a GUID: the rows then stay the app's rather than fail validation."""
        for kind, value in (("systemuser", self.owning_user), ("team", self.owning_team)):
            if value:
                try:
                    return RecordOwner.model_validate({"type": kind, "id": value})
                except ValueError:
                    return None
        return None


class PhoneRecordPage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    value: list[PhoneRecord]


class WhatsAppMessageRow(BaseModel):
    """One WhatsApp message as a `<prefix>_whatsappmessage` activity; field names are the columns'
    names without the prefix (`shared.dataverse.schema.COLUMNS`), plus the activity's own columns."""

    model_config = ConfigDict(frozen=True)

    subject: str
    description: str | None = None
    direction: str
    kind: str
    status: str
    mediaurl: str | None = None
    mimetype: str | None = None
    filename: str | None = None
    wamid: str | None = None
    messageid: str
    conversationid: str
    messagetime: str | None = None
    sentat: str | None = None
    deliveredat: str | None = None
    readat: str | None = None
    failedat: str | None = None
    errorcode: int | None = None
    errorreason: str | None = None
    customernumber: str | None = None
    whatsappuserid: str | None = None
    profilename: str | None = None
    sentby: str | None = None
    sentbyuser: str | None = None  # the agent's `systemuserid`, bound to the `SentByUser` lookup
    businessnumberid: str | None = None
    adsourceurl: str | None = None
    adsourcetype: str | None = None
    adsourceid: str | None = None
    adheadline: str | None = None
    adclickid: str | None = None
    referredproduct: str | None = None
    regarding: Regarding | None = None
    # The row's owner (set on create only, see payload): the `systemuserid` of the agent who sent it,
    # or for a customer's message the linked record's owner, a user or a team (`ownertype`).
    owner: str | None = None
    ownertype: OwnerType = "systemuser"
    closed: bool = False  # a Completed activity: out of agents' "Open activities" views
    # The message is as it was first stored, so its row is most likely not written yet: the mirror
    # then creates it with `If-None-Match: *` and the create-only fields.
    first: bool = False

    def payload(self, table: TableNames, *, create: bool = False) -> dict[str, Any]:
        """The PATCH body. Every column is sent, nulls included, so the row is exactly the latest
        state of the message; the regarding link only when known (a PATCH cannot bind to nothing).
        Every text is cut to its column's length, which Dataverse would otherwise refuse.

        The Timeline and activity views sort by the activity's own dates, so all carry the message's
        time, not the time the row was written (activitypointer `sortdate`, `actualstart`,
        `actualend`: see above). They follow only from the message's timestamp, so a
        status update writes them unchanged. `overriddencreatedon` ("Record Created On", the date
        a migrated row was created: `createdon` takes it) is valid on create only, hence `create`.
        The state goes in the same request as the fields: a Completed activity refuses updates."""
        description = self.description and clip(self.description, DESCRIPTION_MAX_LENGTH)
        body: dict[str, Any] = {"subject": clip(self.subject, SUBJECT_MAX_LENGTH), "description": description}
        for column in COLUMNS:
            value = getattr(self, column.name)
            if isinstance(value, str) and column.max_length is not None:
                value = clip(value, column.max_length)
            body[table.column(column.name)] = value
        if self.messagetime is not None:
            body |= {
                "sortdate": self.messagetime,
                "actualstart": self.messagetime,
                "actualend": self.messagetime,
            }
            if create:
                body["overriddencreatedon"] = self.messagetime
        body |= ACTIVITY_COMPLETED if self.closed else ACTIVITY_OPEN
        if create and self.owner is not None:
            # Owned by the agent who sent it: `ownerid` is a single-valued navigation property set with
            # `@odata.bind` (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api).
            # On create only: a later change of owner is an assignment, which needs the Assign privilege.
            owners = "teams" if self.ownertype == "team" else "systemusers"
            body["ownerid@odata.bind"] = f"/{owners}({self.owner})"
        if self.sentbyuser is not None:
            body[f"{table.sent_by_lookup}@odata.bind"] = f"/systemusers({self.sentbyuser})"
        if self.regarding is not None:
            target = f"/{ENTITY_SETS[self.regarding.entity]}({self.regarding.id})"
            body[table.regarding_property(self.regarding.entity)] = target
        return body
