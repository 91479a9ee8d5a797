"""Stores what Meta's webhook reports: each message once, statuses in order, the window, marketing
preferences, the queues, and what cannot be placed as `rejected` documents.

Every step is idempotent, so Meta's retries (7 days, to every subscribed app) are harmless and a
retry after a failure completes whatever the first attempt left undone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from shared.conversations.agent_signals import inbound_ref, newer_inbound
from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    SESSION_DOCUMENT_ID,
    ConversationDocument,
    Direction,
    InboundRef,
    MessageDocument,
    MessageError,
    MetaConversation,
    Pricing,
    ReceiptDocument,
    SessionDocument,
    conversation_id,
    document_id,
    iso,
    parse_iso,
)
from shared.conversations.identity import Identity, IdentityResolver, identity_change, new_conversation
from shared.conversations.in_context import apply_in_context
from shared.conversations.inbound import customer_of, message_document, preview
from shared.conversations.mirror_timing import AT_ONCE, MirrorTiming, status_matters
from shared.conversations.ports import BatchConflict, Change, ConversationStore, Doc, QueuePublisher, Write
from shared.conversations.preferences import PreferenceItem, with_preference
from shared.conversations.pricing import filled, meta_conversation_of, pricing_of
from shared.conversations.queue_messages import MediaCopyRequest, MirrorRequest, NotifyRequest
from shared.conversations.read_cache import ReadCache
from shared.conversations.rejections import rejected_document
from shared.conversations.session_window import closed_by_meta, opens_window, refreshed_session, window_start
from shared.conversations.status import StatusState, advance, merge
from shared.storage.names import DATAVERSE_MIRROR_QUEUE, MEDIA_INBOUND_QUEUE
from shared.telemetry import record_message, record_rejected_item
from shared.templates.catalog import invalidate as invalidate_templates
from shared.whatsapp.graph_errors import WINDOW_CLOSED
from shared.whatsapp.webhook_models import (
    Contact,
    Message,
    ParsedChange,
    ParsedWebhook,
    RejectedItem,
    RejectReason,
    Status,
    UserPreference,
    describe,
)

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# Outbound messages live under `out:<clientMessageId>`: no id a control sends can then collide with a
# wamid, the `session` and `conversation` documents, or a `receipt:`. A send names its message in
# `biz_opaque_callback_data`, which Meta echoes in the message's statuses.
OUTBOUND_ID_PREFIX = "out:"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class InboundItem:
    document: MessageDocument
    contact: Contact | None
    identity: Identity = field(default_factory=Identity)  # every id the item names the customer by


@dataclass(frozen=True)
class StatusItem:
    conversation_id: str
    status: Status
    pricing: Pricing | None = None
    meta_conversation: MetaConversation | None = None
    identity: Identity = field(default_factory=Identity)
    message: Doc | None = None  # our message, found by the id the status echoes (`_ours`)


# System messages that change who the customer is (WHATSAPP-NOTES §3.3): the new id's field.
IDENTITY_CHANGES = {
    "user_changed_number": "wa_id",
    "user_changed_user_id": "user_id",
    "customer_identity_changed": "",
}


@dataclass
class IngestPlan:
    """Everything one webhook call will write, worked out before the first write."""

    messages: list[InboundItem] = field(default_factory=list)
    statuses: list[StatusItem] = field(default_factory=list)
    preferences: list[PreferenceItem] = field(default_factory=list)
    rejected: list[RejectedItem] = field(default_factory=list)
    # WhatsApp Business Accounts whose templates changed (`message_template_status_update`).
    template_accounts: list[str] = field(default_factory=list)


TEMPLATE_STATUS_FIELD = "message_template_status_update"


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    preferences: int = 0
    rejected: int = 0


def _contact_for(message: Message, contacts: list[Contact]) -> Contact | None:
    for contact in contacts:
        if (contact.wa_id and contact.wa_id == message.from_) or (
            contact.user_id and contact.user_id == message.from_user_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else None


def plan(parsed: ParsedWebhook) -> IngestPlan:
    """Pure, and never fails on one update: what cannot be placed becomes a rejection, planned (like
    everything else) before the first write, so a store failure leaves nothing half-written."""
    result = IngestPlan(rejected=list(parsed.rejected))
    for change in parsed.changes:
        _plan_change(result, change)
    for preferences in parsed.preferences:
        for preference in preferences.preferences:
            _plan_preference(result, preferences.phone_number_id, preferences.waba_id, preference)
    accounts = (e.waba_id for e in parsed.account_events if e.field == TEMPLATE_STATUS_FIELD)
    # entry.id names the account; only an id of digits can name a cache partition.
    result.template_accounts = list(dict.fromkeys(a for a in accounts if a and a.isascii() and a.isdigit()))
    return result


def _plan_change(result: IngestPlan, change: ParsedChange) -> None:
    value = change.value
    number = value.metadata.phone_number_id

    def reject(where: str, reason: RejectReason, detail: str, raw: Any) -> None:
        result.rejected.append(RejectedItem(where, reason, detail, raw, number, change.waba_id))

    for error in value.errors:
        log.warning(
            "WhatsApp reported an error for phone number %s: %s %s",
            number,
            error.code,
            error.detail,
            extra={"phoneNumberId": number, "metaErrorCode": error.code},
        )
    for message, echo in [(m, False) for m in value.messages] + [(m, True) for m in value.message_echoes]:
        where = "message_echoes" if echo else "messages"
        contact = _contact_for(message, value.contacts)
        customer = customer_of(message, contact, echo=echo)
        if not customer:
            reject(where, "no_customer", f"message {message.id} names no customer", message.as_sent())
            continue
        direction: Direction = "outbound" if echo else "inbound"
        try:
            doc = message_document(message, number, customer, direction=direction)
        except ValidationError as error:  # e.g. an edit whose inner message does not validate
            reject(where, "invalid", describe(error), message.as_sent())
            continue
        result.messages.append(
            InboundItem(doc, None if echo else contact, _identity_of(message, contact, echo))
        )
    for status in value.statuses:
        recipient = status.recipient_id or status.recipient_user_id
        if not recipient:
            reject("statuses", "no_customer", f"status for {status.id} names no recipient", status.as_sent())
            continue
        result.statuses.append(
            StatusItem(
                conversation_id(number, recipient),
                status,
                pricing_of(status),
                meta_conversation_of(status),
                Identity(status.recipient_id or None, status.recipient_user_id or None),
            )
        )


def _identity_of(message: Message, contact: Contact | None, echo: bool) -> Identity:
    if echo:
        return Identity(message.to or None, message.to_user_id or None)
    phone = message.from_ or (contact.wa_id if contact else "") or None
    user_id = message.from_user_id or (contact.user_id if contact else None) or None
    return Identity(phone, user_id)


def _plan_preference(
    result: IngestPlan, number: str, waba_id: str | None, preference: UserPreference
) -> None:
    customer = preference.wa_id or preference.user_id
    if not customer:
        result.rejected.append(
            RejectedItem(
                "user_preferences",
                "no_customer",
                "preference names no customer",
                preference.as_sent(),
                number,
                waba_id,
            )
        )
        return
    result.preferences.append(
        PreferenceItem(
            conversation_id(number, customer), number, customer, preference.value == "stop", preference.at
        )
    )


def _receipt_change(item: StatusItem, wamid: str) -> Callable[[Doc | None], Doc | None]:
    status, conv = item.status, item.conversation_id
    error = None
    if status.errors:
        first = status.errors[0]
        error = MessageError(code=first.code, title=first.title, detail=first.detail)

    def change(current: Doc | None) -> Doc | None:
        receipt = (
            ReceiptDocument.model_validate(current)
            if current
            else ReceiptDocument(
                id=ReceiptDocument.id_for(wamid), conversation_id=conv, wamid=wamid, status="accepted"
            )
        )
        before = StatusState(receipt.status, receipt.status_times, receipt.error)
        after = advance(before, status.status, iso(status.at), error)
        updated = _delivered(receipt, after, item.pricing, item.meta_conversation)
        return updated if updated is not None or current is not None else receipt.to_document()

    return change


def _delivered(
    doc: ReceiptDocument | MessageDocument,
    after: StatusState,
    pricing: Pricing | None,
    meta_conversation: MetaConversation | None,
) -> Doc | None:
    """`doc` with the delivery state `after` and any pricing it lacked; None when nothing changes.
    Receipts and messages carry the same delivery fields, and change them by the same rule."""
    before = StatusState(doc.status, doc.status_times, doc.error)
    new_pricing = filled(doc.pricing, pricing)
    new_conversation = filled(doc.meta_conversation, meta_conversation)
    if after == before and new_pricing == doc.pricing and new_conversation == doc.meta_conversation:
        return None
    return doc.model_copy(
        update={
            "status": after.status,
            "status_times": after.status_times,
            "error": after.error,
            "pricing": new_pricing,
            "meta_conversation": new_conversation,
        }
    ).to_document()


@dataclass(frozen=True)
class ReceiptApplied:
    changed: bool
    # Queue a Dataverse mirror after this delay; None when the change does not reach the Timeline row
    # or a mirror already pending will carry it (shared/conversations/mirror_timing.py).
    mirror_after: timedelta | None = None


def apply_receipt(
    store: ConversationStore,
    message: Doc,
    receipt: Doc,
    timing: MirrorTiming | None = None,
    now: datetime | None = None,
    wamid: str | None = None,
) -> ReceiptApplied:
    """Brings an outbound message, as just read, up to what its receipt says (status, pricing), and
    records `wamid` if it has none (a send that never got to). With `timing`, the same write
    schedules the message's mirror when the change matters to its Timeline row."""
    state = ReceiptDocument.model_validate(receipt)
    mirror_after: timedelta | None = None

    def change(current: Doc | None) -> Doc | None:
        nonlocal mirror_after
        mirror_after = None
        if current is None:
            return None
        doc = MessageDocument.model_validate(current)
        if wamid and not doc.wamid:
            doc = doc.model_copy(update={"wamid": wamid})
        before = StatusState(doc.status, doc.status_times, doc.error)
        after = merge(before, StatusState(state.status, state.status_times, state.error))
        updated = _delivered(doc, after, state.pricing, state.meta_conversation)
        if updated is None and doc.wamid != current.get("wamid"):
            updated = doc.to_document()
        if updated is None or timing is None or not status_matters(current, updated):
            return updated
        updated, mirror_after = timing.schedule(updated, now or utc_now())
        return updated

    before_etag = message.get("_etag")
    stored = store.update(message["conversationId"], message["id"], change, message)
    changed = stored is not None and stored.get("_etag") != before_etag
    return ReceiptApplied(changed, mirror_after if changed else None)


def _identity_change_kind(doc: MessageDocument) -> str | None:
    kind = str((doc.details or {}).get("type") or "")
    return kind if doc.kind == "system" and kind in IDENTITY_CHANGES else None


class WebhookIngest:
    def __init__(
        self,
        store: ConversationStore,
        queue: QueuePublisher,
        clock: Clock = utc_now,
        mirror_timing: MirrorTiming = AT_ONCE,
        notify_after: timedelta | None = None,
    ):
        # One webhook call's view of the store: the conversation and session read to find the
        # customer's home are the ones its writes replace (read_cache.py). A WebhookIngest serves one call.
        self.store = ReadCache(store)
        self.queue = queue
        self.clock = clock
        self.mirror_timing = mirror_timing
        self.notify_after = notify_after  # None: no D365 notification of unread messages
        self.identities = IdentityResolver(self.store)

    def ingest(self, work: IngestPlan) -> IngestReport:
        report = IngestReport()
        work = self._filed_at_home(work)
        for item in work.messages:
            self._message(item, report)
        for status in work.statuses:
            self._status(status)
            report.statuses += 1
        for preference in work.preferences:
            self._preference(preference)
            report.preferences += 1
        for rejected in work.rejected:
            self._reject(rejected)
            report.rejected += 1
        for account in work.template_accounts:  # the next read of its templates asks Meta afresh
            invalidate_templates(self.store, account, self.clock())
        return report

    def _filed_at_home(self, work: IngestPlan) -> IngestPlan:
        """Each item under its person's home conversation, whichever of their ids it names (one point
        read per id and call; links and merges ids the item shows belong together)."""
        homes: dict[tuple[str, Identity], str] = {}

        def home(number: str, identity: Identity, fallback: str) -> str:
            if not identity.ids:
                return fallback
            key = (number, identity)
            if key not in homes:
                homes[key] = self.identities.home(number, identity)
            return homes[key]

        messages = []
        for item in work.messages:
            doc = item.document
            customer = home(doc.phone_number_id, item.identity, doc.customer_id)
            if customer != doc.customer_id:
                doc = doc.model_copy(
                    update={
                        "conversation_id": conversation_id(doc.phone_number_id, customer),
                        "customer_id": customer,
                    }
                )
            messages.append(InboundItem(doc, item.contact, item.identity))
        statuses = []
        for status in work.statuses:
            if (ours := self._ours(status)) is not None:  # one point read, no home to look up
                statuses.append(replace(status, message=ours))
                continue
            number = status.conversation_id.split(":", 1)[0]
            customer = home(number, status.identity, status.conversation_id.split(":", 1)[1])
            statuses.append(
                StatusItem(
                    conversation_id(number, customer),
                    status.status,
                    status.pricing,
                    status.meta_conversation,
                    status.identity,
                )
            )
        preferences = []
        for preference in work.preferences:
            named = preference.customer_id
            is_phone = named.isascii() and named.isdigit()
            identity = Identity(named if is_phone else None, None if is_phone else named)
            customer = home(preference.phone_number_id, identity, named)
            preferences.append(
                replace(
                    preference,
                    conversation_id=conversation_id(preference.phone_number_id, customer),
                    customer_id=customer,
                )
            )
        return IngestPlan(messages, statuses, preferences, work.rejected, work.template_accounts)

    def _ours(self, item: StatusItem) -> Doc | None:
        """The message an agent sent from here, which the status names in `biz_opaque_callback_data`
        (our id): read under the conversation of the id the status was delivered to, which is its
        home unless the customer has several ids. None sends the status the long way (the home, the
        wamid, a receipt kept for a message not stored yet)."""
        ours = item.status.biz_opaque_callback_data or ""
        if not ours.startswith(OUTBOUND_ID_PREFIX) or document_id(ours) != ours or len(ours) > 255:
            return None
        found = self.store.read(item.conversation_id, ours)
        if found is None or found.get("type") != "message" or found.get("direction") != "outbound":
            return None
        return found if found.get("wamid") in (None, item.status.id) else None

    def _identity_change(self, doc: MessageDocument) -> None:
        """A number, user id or identity change: recorded on the home, the new id made an alias."""
        if not (kind := _identity_change_kind(doc)):
            return
        details = doc.details or {}
        new_field = IDENTITY_CHANGES[kind]
        new_id = (str(details.get(new_field) or "") or None) if new_field else None
        change = identity_change(kind, doc.customer_id, new_id, parse_iso(doc.timestamp))
        self.identities.record_change(doc.phone_number_id, doc.customer_id, change)
        log.info(
            "customer identity changed (%s)",
            kind,
            extra={"conversationId": doc.conversation_id, "wamid": doc.wamid},
        )

    def _reject(self, item: RejectedItem) -> None:
        """Kept once (the id hashes the item) and counted once, however often Meta retries the batch."""
        doc = rejected_document(item, self.clock())
        if not self.store.create(doc.to_document()):
            return
        record_rejected_item(item.reason, item.field)
        log.warning(
            "WhatsApp webhook item rejected",
            extra={
                "rejectReason": item.reason,
                "webhookField": item.field,
                "rejectDetail": item.detail,
                "phoneNumberId": item.phone_number_id,
                "wabaId": item.waba_id,
                "rejectedId": doc.id,
                "conversationId": doc.conversation_id,
                "wamid": item.raw.get("id") if isinstance(item.raw, dict) else None,
            },
        )

    def _preference(self, item: PreferenceItem) -> None:
        def change(current: Doc | None) -> Doc | None:
            conv = ConversationDocument.model_validate(current) if current else None
            new = with_preference(conv, item)
            return new.to_document() if new else None

        self.store.update(item.conversation_id, "conversation", change)
        log.info(
            "customer %s marketing messages",
            "stopped" if item.opt_out else "resumed",
            extra={"conversationId": item.conversation_id, "marketingOptOut": item.opt_out},
        )

    def _message(self, item: InboundItem, report: IngestReport) -> None:
        doc = item.document
        extra = {"wamid": doc.wamid, "conversationId": doc.conversation_id}
        media = doc.media
        copies_media = doc.direction == "inbound" and media is not None and bool(media.meta_media_id)
        copies_media = copies_media and not doc.hidden
        fresh = doc.to_document()
        mirror_after: timedelta | None = timedelta(0)
        if copies_media or doc.direction == "outbound":
            # Still settling: its file is being copied, or Meta's statuses follow (an echo).
            fresh, mirror_after = self.mirror_timing.schedule(fresh, self.clock())
        # What the conversation awaited when the message was written with it (None: not known).
        awaited = self._store_together(fresh, doc, item.contact)
        together = awaited is not None
        created = together or self.store.create(fresh)
        if created:
            report.stored += 1
            record_message(doc.direction, doc.kind)
            log.info("stored %s %s message", doc.direction, doc.kind, extra=extra)
        else:
            report.duplicates += 1
            log.info("duplicate delivery of %s; completing its follow-up work", doc.wamid, extra=extra)
        if not together:  # one write at a time, each idempotent: what a retry needs to complete
            if doc.direction == "outbound":
                receipt = self.store.read(doc.conversation_id, ReceiptDocument.id_for(doc.wamid or doc.id))
                stored = self.store.read(doc.conversation_id, doc.id) if receipt else None
                if receipt and stored:
                    apply_receipt(self.store, stored, receipt)
            elif opens_window(doc):
                self.store.update(doc.conversation_id, SESSION_DOCUMENT_ID, self._session_change(doc))
            self._identity_change(doc)
            self.store.update(
                doc.conversation_id,
                CONVERSATION_DOCUMENT_ID,
                self._conversation_change(doc, item.contact, created),
            )
        self.queue.send(
            DATAVERSE_MIRROR_QUEUE,
            MirrorRequest(conversation_id=doc.conversation_id, id=doc.id),
            mirror_after if created else timedelta(0),  # a retry completes a mirror its first try missed
        )
        for changed in apply_in_context(self.store, doc, awaited):  # edits, revokes, reactions: their target
            self.queue.send(
                DATAVERSE_MIRROR_QUEUE, MirrorRequest(conversation_id=doc.conversation_id, id=changed)
            )
        if self.notify_after is not None and doc.direction == "inbound" and opens_window(doc):
            # Due once the agent side had time to read it (shared/dataverse/notifications.py).
            notify = NotifyRequest(conversation_id=doc.conversation_id, message_id=doc.id, notify=True)
            self.queue.send(DATAVERSE_MIRROR_QUEUE, notify, self.notify_after)
        if copies_media and doc.media is not None and doc.media.meta_media_id:
            self.queue.send(
                MEDIA_INBOUND_QUEUE,
                MediaCopyRequest(
                    conversation_id=doc.conversation_id,
                    id=doc.id,
                    phone_number_id=doc.phone_number_id,
                    meta_media_id=doc.media.meta_media_id,
                    mime_type=doc.media.mime_type,
                    sha256=doc.media.sha256,
                ),
            )

    def _store_together(self, fresh: Doc, doc: MessageDocument, contact: Contact | None) -> list[str] | None:
        """A customer's new message, the window it opens and its conversation's preview and unread
        count, written in one transactional batch (one request, all or nothing) over the documents
        read to find the home; returns the wamids the conversation awaited then (in_context.py).
        None when that cannot be: an echo (its receipt to look for), an identity change, or a batch
        refused because the message exists (a retry) or a document changed meanwhile (an edit
        started awaiting it, say); nothing is then written, and the caller goes one write at a time."""
        if doc.direction != "inbound" or _identity_change_kind(doc):
            return None
        conv = doc.conversation_id
        documents = self.store.read_many(conv, (CONVERSATION_DOCUMENT_ID, SESSION_DOCUMENT_ID))
        writes = [Write(fresh)]
        changes = [(CONVERSATION_DOCUMENT_ID, self._conversation_change(doc, contact, True))]
        if opens_window(doc):
            changes.append((SESSION_DOCUMENT_ID, self._session_change(doc)))
        for document_id_, change in changes:
            current = documents.get(document_id_)
            if (new := change(current)) is not None:
                writes.append(Write(new, current["_etag"] if current else None))
        try:
            self.store.write_batch(conv, writes)
        except BatchConflict as conflict:
            log.info(
                "batch write refused (%s at %s); writing one document at a time",
                conflict.status,
                conflict.index,
                extra={"conversationId": conv, "wamid": doc.wamid},
            )
            return None
        return list((documents.get(CONVERSATION_DOCUMENT_ID) or {}).get("awaited") or [])

    def _session_change(self, doc: MessageDocument) -> Change:
        """The window this customer message opens or extends."""
        sent_at = parse_iso(doc.timestamp)
        now = self.clock()
        inbound_at = window_start(sent_at, now)
        if inbound_at != sent_at:
            log.warning(
                "message is dated %s, ahead of the clock (%s): the window opens from now, not from then",
                doc.timestamp,
                iso(now),
                extra={"wamid": doc.wamid, "conversationId": doc.conversation_id},
            )

        def change(current: Doc | None) -> Doc | None:
            session = SessionDocument.model_validate(current) if current else None
            if session is not None and parse_iso(session.expires_at) <= now:
                session = None  # expired but not yet deleted by TTL: a new window starts
            new = refreshed_session(session, doc.conversation_id, inbound_at, now)
            return new.to_document() if new else None

        return change

    def _conversation_change(self, doc: MessageDocument, contact: Contact | None, created: bool) -> Change:
        """The conversation's profile, preview, newest customer message and unread count (a retry of
        a stored message counts nothing twice)."""

        # Worked out once, not on every run of the change: what the message says.
        at = iso(window_start(parse_iso(doc.timestamp), self.clock()))  # ahead of the clock: now
        shown = preview(doc)
        inbound = inbound_ref(doc)
        from_contact: dict[str, str] = {}
        if contact is not None:
            profile = contact.profile
            for key, value in (
                ("waId", contact.wa_id or None),
                ("userId", contact.user_id),
                ("profileName", profile.name if profile else None),
                ("username", profile.username if profile else None),
            ):
                if value:
                    from_contact[key] = value

        def change(current: Doc | None) -> Doc | None:
            # On the stored dict, not a model of it: this runs for every message (see benchmarks/cpu.py).
            conv = current or new_conversation(doc.phone_number_id, doc.customer_id)
            updates: dict[str, object] = {k: v for k, v in from_contact.items() if conv.get(k) != v}
            # An edit, a revoke or a reaction is not a new message: it leaves the preview alone. (A
            # message dated ahead of the clock counts as now: it must not hold the preview, and its
            # place in a list by activity, until its date.)
            last = conv.get("lastMessageAt")
            if not doc.hidden and (last is None or parse_iso(last) <= parse_iso(at)):
                latest = {
                    "lastMessageAt": at,
                    "lastMessagePreview": shown,
                    "lastMessageDirection": doc.direction,
                }
                updates.update({k: v for k, v in latest.items() if conv.get(k) != v})
            known = conv.get("lastInbound")
            newest = newer_inbound(InboundRef.model_validate(known) if known else None, doc)
            if newest is not None:  # read receipts, typing
                updates["lastInbound"] = newest.to_document()
            if created and inbound is not None:  # the inbox's unread count; a read resets it
                updates["unreadCount"] = int(conv.get("unreadCount") or 0) + 1
            if current is not None and not updates:
                return None
            return {k: v for k, v in {**conv, **updates}.items() if v is not None}  # as to_document()

        return change

    def _adopt(self, conv: str, message_id: str, wamid: str) -> Doc | None:
        """Our send puts its message id in `biz_opaque_callback_data`: a status naming it finds the
        message even when the send never got to record the wamid (a crash, a timeout)."""

        def change(current: Doc | None) -> Doc | None:
            if current is None or current.get("type") != "message" or current.get("direction") != "outbound":
                return None
            if current.get("wamid"):
                return None
            return {**current, "wamid": wamid}

        if document_id(message_id) != message_id:  # not one of ours: ours are document ids already
            return None
        adopted = self.store.update(conv, message_id, change)
        return adopted if adopted is not None and adopted.get("wamid") == wamid else None

    def _close_window(self, conv: str, failed_at: datetime, extra: dict[str, str]) -> None:
        """Meta's asynchronous 131047 ends our window as the synchronous one does, so the panel hides
        the composer; not when the customer has written since."""
        now = self.clock()
        closed = False

        def change(current: Doc | None) -> Doc | None:
            nonlocal closed
            session = SessionDocument.model_validate(current) if current else None
            new = closed_by_meta(session, failed_at, now)
            closed = new is not None
            return new.to_document() if new else None

        self.store.update(conv, "session", change)
        if closed:
            log.info("Meta refused a message with 131047: the window is closed", extra=extra)

    def _status(self, item: StatusItem) -> None:
        status, conv = item.status, item.conversation_id
        extra = {"wamid": status.id, "conversationId": conv, "status": status.status}
        if item.message is not None:  # ours, found at once: the status goes straight onto it
            if status.status == "failed" and any(e.code == WINDOW_CLOSED for e in status.errors):
                self._close_window(conv, status.at, extra)
            as_receipt = _receipt_change(item, status.id)(None)
            assert as_receipt is not None
            # As this call last wrote it (Meta may put sent and delivered in one POST), else as read.
            ours = self.store.read(conv, item.message["id"]) or item.message
            self._applied(item, ours, as_receipt, extra)
            return
        # The receipt is written first, then the message looked up: a sender that records the wamid
        # after this lookup finds the receipt, so a status that races the send is never lost.
        receipt = self.store.update(conv, ReceiptDocument.id_for(status.id), _receipt_change(item, status.id))
        if status.status == "failed" and any(e.code == WINDOW_CLOSED for e in status.errors):
            self._close_window(conv, status.at, extra)
        message = self.store.find_message_by_wamid(conv, status.id)
        if message is None and status.biz_opaque_callback_data:
            message = self._adopt(conv, status.biz_opaque_callback_data, status.id)
        if message is None or receipt is None:
            log.info("status %s for a message not stored yet; kept for later", status.status, extra=extra)
            return
        self._applied(item, message, receipt, extra)

    def _applied(self, item: StatusItem, message: Doc, receipt: Doc, extra: dict[str, str]) -> None:
        applied = apply_receipt(
            self.store, message, receipt, self.mirror_timing, self.clock(), wamid=item.status.id
        )
        if applied.changed:
            log.info("message is now %s", item.status.status, extra=extra)
        if applied.mirror_after is not None:
            mirror = MirrorRequest(conversation_id=message["conversationId"], id=message["id"])
            self.queue.send(DATAVERSE_MIRROR_QUEUE, mirror, applied.mirror_after)
