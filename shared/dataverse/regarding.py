"""Which Contact or Lead a conversation is about, looked up by the customer's number once per
conversation: a match is kept on the conversation document (`regarding`), where the agent's Send
also puts the record it was sent from; no match or several are remembered in memory for a while, so
an unknown number costs one lookup per instance per `negative_ttl` rather than one per message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.conversations.documents import ConversationDocument, MessageDocument, Regarding
from shared.conversations.ports import ConversationStore, Doc
from shared.dataverse.client import DataverseClient, odata_string
from shared.dataverse.errors import DataverseError, DataverseNotFound
from shared.dataverse.models import PhoneRecord, PhoneRecordPage
from shared.dataverse.phones import stored_formats
from shared.dataverse.schema import ENTITY_SETS, RegardingEntity, lead_id

log = logging.getLogger(__name__)
Outcome = Literal["found", "none", "ambiguous", "no_number", "created"]
_PHONE_FIELDS = ("mobilephone", "telephone1")  # Mobile Phone, then Business Phone
_OWNER_FIELDS = ("_owninguser_value", "_owningteam_value")  # one is set: the owner is a user or a team
_TOP = 5  # two are enough to see an ambiguity; a few more make the log useful
_MAX_HOPS = 3  # merged into a record merged again, or a lead qualified then its contact merged
RECORD_DOES_NOT_EXIST = "0x80040217"  # what a write answers when the record it binds to is gone
LinkProblem = Literal["missing", "refused", "no_append_to"]


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    regarding: Regarding | None = None
    candidates: tuple[str, ...] = ()
    name: str | None = None  # the record's full name, for the inbox


def customer_number(conversation: ConversationDocument | None, message: MessageDocument) -> str | None:
    """The customer's WhatsApp number (digits), if known: BSUID-only customers have none."""
    for candidate in (conversation.wa_id if conversation else None, message.customer_id):
        if candidate and candidate.isdigit():
            return candidate
    return None


class PhoneDirectory:
    """Finds the Contact (mobile, then business phone), else the Lead, that has a number."""

    def __init__(self, client: DataverseClient, *, create_leads: bool = False):
        self.client = client
        self.create_leads = create_leads
        self._leads_missing = False  # Dataverse without the Sales app has no lead table

    def find(self, number: str, conversation_id: str, profile_name: str | None = None) -> Lookup:
        formats = stored_formats(number)
        if not formats:
            return Lookup("no_number")
        for entity in ("contact", "lead"):
            found = self._match(entity, formats)
            if found.outcome != "none":
                return found
        if self.create_leads and not self._leads_missing:
            return self._create_lead(number, conversation_id, profile_name)
        return Lookup("none")

    def _match(self, entity: RegardingEntity, formats: list[str]) -> Lookup:
        if entity == "lead" and self._leads_missing:
            return Lookup("none")
        clauses = " or ".join(f"{field} eq {odata_string(f)}" for field in _PHONE_FIELDS for f in formats)
        params = {
            # The owner comes in the same request: the customer's messages are owned by it.
            # And its name, which the inbox shows.
            "$select": f"{entity}id,fullname,{','.join(_PHONE_FIELDS)},{','.join(_OWNER_FIELDS)}",
            # statecode 0: active contacts, open leads (a qualified lead's contact is found first).
            "$filter": f"statecode eq 0 and ({clauses})",
            "$top": str(_TOP),
        }
        try:
            page = PhoneRecordPage.model_validate(self.client.get(ENTITY_SETS[entity], params))
        except DataverseNotFound:
            if entity != "lead":
                raise
            log.warning("this Dataverse environment has no lead table; numbers are matched to contacts only")
            self._leads_missing = True
            return Lookup("none")
        wanted = set(formats)
        for field in _PHONE_FIELDS:
            matches: list[PhoneRecord] = [r for r in page.value if getattr(r, field) in wanted]
            if len(matches) == 1:
                found = matches[0]
                regarding = Regarding(entity=entity, id=found.id, owner=found.owner())
                return Lookup("found", regarding, name=found.fullname or None)
            if len(matches) > 1:
                return Lookup("ambiguous", candidates=tuple(f"{entity}:{r.id}" for r in matches))
        return Lookup("none")

    def _create_lead(self, number: str, conversation_id: str, profile_name: str | None) -> Lookup:
        """An unknown number becomes a lead whose id is derived from the conversation: a retry or a
        second instance racing this one finds the same lead instead of making another."""
        new_id = lead_id(conversation_id)
        body = {
            "subject": f"WhatsApp conversation with +{number}",
            "lastname": profile_name or f"+{number}",
            "mobilephone": f"+{number}",
            "description": "Created by the WhatsApp integration for a number no contact or lead had.",
        }
        created = self.client.upsert(ENTITY_SETS["lead"], new_id, body, create_only=True)
        if created:
            log.info("created lead %s for an unknown WhatsApp number", new_id)
        return Lookup("created", Regarding(entity="lead", id=str(new_id)), name=body["lastname"])


class LinkedRecord(BaseModel):
    """A contact or lead as healing reads it: is it still active, or merged, and into what.

    Merge deactivates the subordinate record rather than deleting it
    (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/merge-entity-using-web-api)
    and sets its `merged` flag and `masterid` lookup to the surviving record (contact and lead
    table references, https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact
    and .../entities/lead). A lookup reads as `_<name>_value` in the Web API.
    """

    model_config = ConfigDict(extra="ignore")
    statecode: int | None = None  # a record created without one is active (0)
    merged: bool | None = None
    masterid: str | None = Field(default=None, alias="_masterid_value")


@dataclass(frozen=True)
class Healing:
    """What a link Dataverse refused became: another record, or none; `reason` says why, for the log."""

    regarding: Regarding | None
    reason: str


def link_problem(error: DataverseError, regarding: Regarding | None) -> LinkProblem | None:
    """Whether a refused row write is about its `regarding` link (the `@odata.bind` target) rather
    than the row: only then can relinking or writing unlinked fix it. A 404 0x80040217 from an
    upsert by id can only be the bound record (the row itself is created); other answers must name
    the record's id, or the Append To privilege on its table (0x80040220, "is missing
    prvAppendTocontact privilege",
    https://learn.microsoft.com/troubleshoot/power-platform/dataverse/user-permissions/client-errors)."""
    if regarding is None or error.http_status not in (400, 403, 404):
        return None
    text = error.message.lower()
    names_link = regarding.id in text or f"prvappendto{regarding.entity}" in text
    if error.http_status == 404 and (error.code == RECORD_DOES_NOT_EXIST or names_link):
        return "missing"
    if not names_link:
        return None
    return "no_append_to" if error.http_status == 403 else "refused"


class RegardingResolver:
    """The record a message's activity is linked to, at most one Dataverse lookup per conversation."""

    def __init__(
        self,
        store: ConversationStore,
        directory: PhoneDirectory,
        *,
        negative_ttl: float = 900.0,
        max_remembered: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.directory = directory
        self.negative_ttl = negative_ttl
        self.max_remembered = max_remembered
        self.clock = clock
        self._unmatched: OrderedDict[str, float] = OrderedDict()
        self._replaced: OrderedDict[str, Regarding | None] = OrderedDict()  # healed links, by old
        self._lock = threading.Lock()

    def resolve(
        self, message: MessageDocument, conversation: ConversationDocument | None
    ) -> Regarding | None:
        if message.regarding is not None:  # the agent sent it from this record
            return self._replacement(message.regarding)
        if conversation is not None and conversation.regarding is not None:
            return self._replacement(conversation.regarding)
        conv_id = message.conversation_id
        if self._recently_unmatched(conv_id):
            return None
        number = customer_number(conversation, message)
        if number is None:
            self._remember_unmatched(conv_id)
            log.info("no customer number to look up (WhatsApp user id only); activity left unlinked")
            return None
        profile = conversation.profile_name if conversation else None
        found = self.directory.find(number, conv_id, profile)
        extra = {"conversationId": conv_id, "lookup": found.outcome}
        if found.regarding is None:
            self._remember_unmatched(conv_id)
            if found.outcome == "ambiguous":
                log.warning(
                    "number matches %d records (%s); activity left unlinked",
                    len(found.candidates),
                    ", ".join(found.candidates),
                    extra=extra,
                )
            else:
                log.info("number matches no contact or lead; activity left unlinked", extra=extra)
            return None
        self._keep(conv_id, found.regarding, found.name)
        log.info("conversation linked to %s %s", found.regarding.entity, found.regarding.id, extra=extra)
        return found.regarding

    def heal(
        self, stale: Regarding, conversation_id: str, number: str | None, profile: str | None = None
    ) -> Healing:
        """The record Dataverse refused to link is looked at once (merged: its master; a qualified
        lead: the contact made from it), else the number is looked up again; the conversation's
        remembered link is replaced by the result (or dropped), so later messages cost one request."""
        found, reason = self._successor(stale)
        if found is None and number is not None:
            lookup = self.directory.find(number, conversation_id, profile)
            if lookup.regarding is not None and lookup.regarding.to_param() != stale.to_param():
                found, reason = lookup.regarding, f"{reason}; found again by number"
            else:
                reason = f"{reason}; number lookup: {lookup.outcome}"
        self._remember_replacement(stale, found)
        self._replace(conversation_id, stale, found)
        return Healing(found, reason)

    def _successor(self, stale: Regarding) -> tuple[Regarding | None, str]:
        """Follows merges and a lead's qualification from a record, reading each one once."""
        current, steps = stale, []
        for _ in range(_MAX_HOPS):
            try:
                raw = self.directory.client.get(
                    f"{ENTITY_SETS[current.entity]}({current.id})",
                    {"$select": "statecode,merged,_masterid_value"},
                )
            except DataverseNotFound:
                steps.append(f"{current.entity} {current.id} no longer exists (deleted)")
                return None, "; ".join(steps)
            record = LinkedRecord.model_validate(raw)
            if record.merged and record.masterid:
                steps.append(f"{current.entity} {current.id} was merged into {record.masterid}")
                current = Regarding(entity=current.entity, id=record.masterid)
                continue
            if current.entity == "lead" and record.statecode == 1:
                contact = self._contact_from_lead(current.id)
                if contact is None:
                    steps.append(f"lead {current.id} was qualified without one active contact from it")
                    return None, "; ".join(steps)
                steps.append(f"lead {current.id} was qualified as contact {contact.id}")
                current = contact
                continue
            if record.statecode not in (None, 0):
                steps.append(f"{current.entity} {current.id} is inactive")
                return None, "; ".join(steps)
            if current == stale:
                steps.append(f"{current.entity} {current.id} is active but the link was refused")
                return None, "; ".join(steps)
            return current, "; ".join(steps)
        steps.append("too many merges to follow")
        return None, "; ".join(steps)

    def _contact_from_lead(self, lead: str) -> Regarding | None:
        """Qualifying a lead makes the contact "linked to the originating lead record": its
        `originatingleadid` (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/qualifylead,
        https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact)."""
        page = self.directory.client.get(
            ENTITY_SETS["contact"],
            {
                "$select": "contactid",
                "$filter": f"statecode eq 0 and _originatingleadid_value eq {lead}",
                "$top": "2",
            },
        )
        found = [r.get("contactid") for r in page.get("value", []) if isinstance(r, dict)]
        if len(found) != 1 or not isinstance(found[0], str):
            return None
        return Regarding(entity="contact", id=found[0])

    def _replacement(self, regarding: Regarding) -> Regarding | None:
        """A link healed earlier on this instance (an agent's message keeps its own `regarding`)."""
        with self._lock:
            key = regarding.to_param()
            return self._replaced.get(key, regarding)

    def _remember_replacement(self, stale: Regarding, found: Regarding | None) -> None:
        with self._lock:
            self._replaced[stale.to_param()] = found
            self._replaced.move_to_end(stale.to_param())
            while len(self._replaced) > self.max_remembered:
                self._replaced.popitem(last=False)

    def _replace(self, conversation_id: str, stale: Regarding, found: Regarding | None) -> None:
        """On the conversation document, only if it still remembers the refused record."""

        def change(current: Doc | None) -> Doc | None:
            if current is None or current.get("regarding") != stale.to_document():
                return None
            rest = {k: v for k, v in current.items() if k not in ("regarding", "regardingName")}
            return {**rest, "regarding": found.to_document()} if found else rest

        self.store.update(conversation_id, "conversation", change)

    def drop_owner(self, conversation_id: str, regarding: Regarding) -> None:
        """Dataverse refused the record's owner (deleted since): later rows stay the app's without
        asking again; the link itself is kept."""

        def change(current: Doc | None) -> Doc | None:
            if current is None or current.get("regarding") != regarding.to_document():
                return None
            kept = regarding.model_copy(update={"owner": None})
            return {**current, "regarding": kept.to_document()}

        self.store.update(conversation_id, "conversation", change)

    def _keep(self, conversation_id: str, regarding: Regarding, name: str | None) -> None:
        """On the conversation document, unless the agent's Send put a record there meanwhile."""

        def change(current: Doc | None) -> Doc | None:
            if current is None or current.get("regarding"):
                return None
            return {**current, "regarding": regarding.to_document(), "regardingName": name}

        self.store.update(conversation_id, "conversation", change)

    def _recently_unmatched(self, conversation_id: str) -> bool:
        with self._lock:
            since = self._unmatched.get(conversation_id)
            if since is None:
                return False
            if self.clock() - since < self.negative_ttl:
                return True
            del self._unmatched[conversation_id]
            return False

    def _remember_unmatched(self, conversation_id: str) -> None:
        with self._lock:
            self._unmatched[conversation_id] = self.clock()
            self._unmatched.move_to_end(conversation_id)
            while len(self._unmatched) > self.max_remembered:
                self._unmatched.popitem(last=False)
