"""What goes to and comes from the Dataverse Web API, typed: the activity row, lookups, errors."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from shared.conversations.documents import Regarding
from shared.dataverse.schema import COLUMNS, ENTITY_SETS, TableNames


class DataverseErrorBody(BaseModel):
    """Dataverse's error object: `code` is a hex string such as `0x80072322` (service protection)."""

    model_config = ConfigDict(extra="allow")
    code: str = ""
    message: str = ""


class DataverseErrorEnvelope(BaseModel):
    model_config = ConfigDict(extra="allow")
    error: DataverseErrorBody


class PhoneRecord(BaseModel):
    """A contact or lead as the phone lookup selects it."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(validation_alias=AliasChoices("contactid", "leadid"))
    mobilephone: str | None = None
    telephone1: str | None = None


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
    businessnumberid: str | None = None
    adsourceurl: str | None = None
    adsourcetype: str | None = None
    adsourceid: str | None = None
    adheadline: str | None = None
    adclickid: str | None = None
    referredproduct: str | None = None
    regarding: Regarding | None = None

    def payload(self, table: TableNames) -> dict[str, Any]:
        """The PATCH body. Every column is sent, nulls included, so the row is exactly the latest
        state of the message; the regarding link only when known (a PATCH cannot bind to nothing)."""
        body: dict[str, Any] = {"subject": self.subject, "description": self.description}
        for column in COLUMNS:
            body[table.column(column.name)] = getattr(self, column.name)
        if self.regarding is not None:
            target = f"/{ENTITY_SETS[self.regarding.entity]}({self.regarding.id})"
            body[table.regarding_property(self.regarding.entity)] = target
        return body
