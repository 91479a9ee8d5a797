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

from shared.conversations.documents import ConversationDocument, MessageDocument, Regarding
from shared.conversations.ports import ConversationStore, Doc
from shared.dataverse.client import DataverseClient, odata_string
from shared.dataverse.errors import DataverseNotFound
from shared.dataverse.models import PhoneRecord, PhoneRecordPage
from shared.dataverse.phones import stored_formats
from shared.dataverse.schema import ENTITY_SETS, RegardingEntity, lead_id

log = logging.getLogger(__name__)
Outcome = Literal["found", "none", "ambiguous", "no_number", "created"]
_PHONE_FIELDS = ("mobilephone", "telephone1")  # Mobile Phone, then Business Phone
_TOP = 5  # two are enough to see an ambiguity; a few more make the log useful


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    regarding: Regarding | None = None
    candidates: tuple[str, ...] = ()


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
            "$select": f"{entity}id,{','.join(_PHONE_FIELDS)}",
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
                return Lookup("found", Regarding(entity=entity, id=matches[0].id))
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
        return Lookup("created", Regarding(entity="lead", id=str(new_id)))


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
        self._lock = threading.Lock()

    def resolve(
        self, message: MessageDocument, conversation: ConversationDocument | None
    ) -> Regarding | None:
        if message.regarding is not None:  # the agent sent it from this record
            return message.regarding
        if conversation is not None and conversation.regarding is not None:
            return conversation.regarding
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
        self._keep(conv_id, found.regarding)
        log.info("conversation linked to %s %s", found.regarding.entity, found.regarding.id, extra=extra)
        return found.regarding

    def forget(self, conversation_id: str, stale: Regarding) -> None:
        """The linked record is gone from Dataverse (deleted or merged): look again next time."""

        def change(current: Doc | None) -> Doc | None:
            if current is None or current.get("regarding") != stale.to_document():
                return None
            return {k: v for k, v in current.items() if k != "regarding"}

        self.store.update(conversation_id, "conversation", change)

    def _keep(self, conversation_id: str, regarding: Regarding) -> None:
        """On the conversation document, unless the agent's Send put a record there meanwhile."""

        def change(current: Doc | None) -> Doc | None:
            if current is None or current.get("regarding"):
                return None
            return {**current, "regarding": regarding.to_document()}

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
