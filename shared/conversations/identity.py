"""One conversation per person, whatever WhatsApp calls them.

WhatsApp names a customer by their phone number (`wa_id`), by a business-scoped user id (a BSUID, for
people who use a username), or by both; and either can change (`user_changed_number`,
`user_changed_user_id`). A conversation lives under the id it was first known by, its **home**. Every
other id of the same person gets a conversation document `{"aliasOf": <home id>}` in its own
partition, so a message, a status or an agent's route naming any id finds the home with one point
read (the same aliases the Brazil/Mexico number variants use, shared/conversations/aliases.py).

When two ids that each already have a conversation turn out to be one person (a username customer
later writes with their phone, say), the two **merge**: the BSUID's messages move into the phone's
conversation (D365 records hold phones), the later window wins, and the BSUID becomes an alias.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    SESSION_DOCUMENT_ID,
    ConversationDocument,
    IdentityChange,
    conversation_id,
    iso,
    parse_iso,
)
from shared.conversations.ports import ConversationStore, Doc

log = logging.getLogger(__name__)
HOME_DOCUMENTS = (CONVERSATION_DOCUMENT_ID, SESSION_DOCUMENT_ID)
MAX_ALIAS_HOPS = 4  # aliases point at a home directly; a short chain can form only from merges
_MERGE_PAGE = 200


@dataclass(frozen=True)
class Identity:
    """What one webhook item says about who the customer is."""

    phone: str | None = None  # wa_id: E.164 digits
    user_id: str | None = None  # BSUID

    @property
    def ids(self) -> list[str]:
        return [i for i in (self.phone, self.user_id) if i]


class IdentityResolver:
    """Finds a person's home conversation, and links or merges the ids it learns belong together."""

    def __init__(self, store: ConversationStore):
        self.store = store

    def home_of(self, phone_number_id: str, customer_id: str) -> str | None:
        """The home customer id of the conversation that `customer_id` names; None when it has none."""
        current = customer_id
        for _ in range(MAX_ALIAS_HOPS):
            # The session comes in the same request: the home's writes that follow need both.
            found = self.store.read_many(conversation_id(phone_number_id, current), HOME_DOCUMENTS).get(
                CONVERSATION_DOCUMENT_ID
            )
            if found is None:
                return None if current == customer_id else current
            alias = found.get("aliasOf")
            if not alias or alias == current:
                return current
            current = str(alias)
        log.warning("alias chain longer than %d from %s; using %s", MAX_ALIAS_HOPS, customer_id, current)
        return current

    def home(self, phone_number_id: str, identity: Identity) -> str:
        """The customer id to file this item under; links the item's other id to it."""
        ids = identity.ids
        if len(ids) > 1 and (linked := self._linked_home(phone_number_id, ids)) is not None:
            return linked
        homes = {i: self.home_of(phone_number_id, i) for i in ids}
        found = list(dict.fromkeys(h for h in homes.values() if h))
        if not found:
            home = ids[0]
        elif len(found) == 1:
            home = found[0]
        else:  # both ids have a conversation of their own: one person, so one conversation
            keep, absorb = found  # the phone's first: D365 records hold phones
            home = self.merge(phone_number_id, keep=keep, absorb=absorb)
        for other in ids:
            if other != home and homes[other] != home:
                self.alias(phone_number_id, other, home)
        if len(ids) > 1:
            self._remember_linked(phone_number_id, home, [i for i in ids if i != home])
        return home

    def _linked_home(self, phone_number_id: str, ids: list[str]) -> str | None:
        """The first id's conversation, when it is a home that has already linked the others: with
        both a number and a user id on most messages, this saves the second id's read."""
        first = self.store.read_many(conversation_id(phone_number_id, ids[0]), HOME_DOCUMENTS)
        found = first.get(CONVERSATION_DOCUMENT_ID)
        if found is None or found.get("aliasOf") or not set(ids[1:]) <= set(found.get("linkedIds") or []):
            return None
        return ids[0]

    def _remember_linked(self, phone_number_id: str, home: str, others: list[str]) -> None:
        """Names on the home the ids that are now its aliases (or merged into it), once."""
        conv = conversation_id(phone_number_id, home)

        def change(current: Doc | None) -> Doc | None:
            base = current or new_conversation(phone_number_id, home)
            linked = list(base.get("linkedIds") or [])
            missing = [i for i in others if i not in linked]
            return {**base, "linkedIds": [*linked, *missing]} if missing else None

        self.store.update(conv, CONVERSATION_DOCUMENT_ID, change)

    def alias(self, phone_number_id: str, customer_id: str, home: str) -> None:
        """`customer_id` names the same person as `home`: its conversation document points there."""
        if customer_id == home:
            return
        conv = conversation_id(phone_number_id, customer_id)

        def change(current: Doc | None) -> Doc | None:
            base = current or new_conversation(phone_number_id, customer_id)
            return None if base.get("aliasOf") == home else {**base, "aliasOf": home}

        self.store.update(conv, CONVERSATION_DOCUMENT_ID, change)
        log.info("%s is now an alias of %s", customer_id, home, extra={"conversationId": conv})

    def merge(self, phone_number_id: str, *, keep: str, absorb: str) -> str:
        """Moves `absorb`'s messages and window into `keep`'s conversation; `absorb` becomes an alias.
        Idempotent: a retry after a failure moves what is left. Moved messages are not re-mirrored
        (their Dataverse rows exist already)."""
        source = conversation_id(phone_number_id, absorb)
        target = conversation_id(phone_number_id, keep)
        moved = 0
        while page := self.store.list_messages(source, _MERGE_PAGE, None):
            for message in page:
                copy = {k: v for k, v in message.items() if not k.startswith("_")}
                copy.update(conversationId=target, customerId=keep)
                self.store.create(copy)  # already there after an earlier, interrupted merge: fine
                self.store.delete(source, message["id"])
                moved += 1
        self._merge_window(source, target)
        absorbed = self.store.read(source, CONVERSATION_DOCUMENT_ID) or {}
        self.alias(phone_number_id, absorb, keep)
        self._adopt_profile(target, absorbed)
        log.info(
            "merged %s into %s (%d messages moved)", absorb, keep, moved, extra={"conversationId": target}
        )
        return keep

    def _merge_window(self, source: str, target: str) -> None:
        session = self.store.read(source, SESSION_DOCUMENT_ID)
        if session is None:
            return

        def change(current: Doc | None) -> Doc | None:
            if current is not None and parse_iso(current["expiresAt"]) >= parse_iso(session["expiresAt"]):
                return None
            return {k: v for k, v in session.items() if not k.startswith("_")} | {"conversationId": target}

        self.store.update(target, SESSION_DOCUMENT_ID, change)
        self.store.delete(source, SESSION_DOCUMENT_ID)

    def _adopt_profile(self, target: str, absorbed: Doc) -> None:
        """The home keeps what the absorbed conversation knew and it did not (user id, linked record)."""
        keys = ("userId", "waId", "profileName", "username", "regarding")

        def change(current: Doc | None) -> Doc | None:
            if current is None:
                return None
            missing = {k: absorbed[k] for k in keys if absorbed.get(k) and not current.get(k)}
            if "regarding" in missing:  # the record's name goes with it
                missing["regardingName"] = absorbed.get("regardingName")
            return {**current, **missing} if missing else None

        self.store.update(target, CONVERSATION_DOCUMENT_ID, change)

    def record_change(
        self,
        phone_number_id: str,
        home: str,
        change: IdentityChange,
    ) -> None:
        """Keeps an identity change on the conversation, and the new id as an alias of it."""
        new_id = change.to
        if new_id and new_id != home:
            self.alias(phone_number_id, new_id, home)
        conv = conversation_id(phone_number_id, home)
        entry = change.to_document()

        def update(current: Doc | None) -> Doc | None:
            base = current or new_conversation(phone_number_id, home)
            changes = list(base.get("identityChanges") or [])
            if entry in changes:
                return None
            updated = {**base, "identityChanges": [*changes, entry]}
            if change.type == "user_changed_number" and new_id:
                updated["waId"] = new_id  # replies go to the new number
            if change.type == "user_changed_user_id" and new_id:
                updated["userId"] = new_id
            return updated

        self.store.update(conv, CONVERSATION_DOCUMENT_ID, update)


def new_conversation(phone_number_id: str, customer_id: str) -> Doc:
    """A conversation document for an id that has none yet."""
    return ConversationDocument(
        conversation_id=conversation_id(phone_number_id, customer_id),
        phone_number_id=phone_number_id,
        customer_id=customer_id,
    ).to_document()


def identity_change(
    system_type: str | None, old: str | None, new: str | None, at: datetime
) -> IdentityChange:
    return IdentityChange(type=system_type or "unknown", from_=old, to=new, at=iso(at))
