"""Mirrors one message into Dataverse: the latest state from Cosmos DB, upserted by a deterministic id.

A queue message is only a pointer, so a late or repeated one replays the current document, never
an old event. Two workers can still read two versions and finish in the wrong order; so after each
upsert the document is read again, and written again if it moved on. The last write of any worker
is then always the newest state (see docs/dataverse.md, "Ordering").
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    ConversationDocument,
    MessageDocument,
    Regarding,
    parse_iso,
)
from shared.conversations.mirror_timing import SETTLED_OUTBOUND_STATUSES
from shared.conversations.ports import ConversationStore
from shared.conversations.queue_messages import MirrorRequest
from shared.dataverse.client import DataverseClient
from shared.dataverse.errors import (
    DataverseAuthError,
    DataverseError,
    DataverseNotFound,
    DataverseRequestError,
)
from shared.dataverse.models import OwnerType, WhatsAppMessageRow
from shared.dataverse.owners import SystemUsers
from shared.dataverse.regarding import (
    Healing,
    LinkProblem,
    RegardingResolver,
    link_problem,
)
from shared.dataverse.schema import (
    ACTIVITY_OPEN,
    DESCRIPTION_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    TableNames,
    row_id,
)
from shared.telemetry import record_mirror_lag

log = logging.getLogger(__name__)
MAX_ROUNDS = 4
# Under host.json's functionTimeout (5 min), with room for one more request's read timeout (30 s)
# and the Cosmos DB reads: a mirror that cannot finish by then fails and the queue retries it.
TIME_LIMIT_SECONDS = 240.0
# Dataverse refuses to update a Completed or Canceled activity; its answer's code is not documented,
# its message is "Cannot update Closed or Cancelled Activity"
# (https://github.com/seanmcne/Microsoft.Xrm.Data.PowerShell/issues/222): reopen it, then write.
CLOSED_ACTIVITY = "closed or cancelled activity"


# Creating a row owned by another user is refused without the Assign privilege on the table
# (`prvAssign<table>`, 403 0x80040220 as every missing privilege,
# https://learn.microsoft.com/troubleshoot/power-platform/dataverse/user-permissions/client-errors).
ASSIGN_PRIVILEGE = "prvassign"


def _names_owner(error: DataverseError, owner: str) -> bool:
    """A refused create is about its owner: the user is named (gone), or the Assign privilege is."""
    text = error.message.lower()
    return owner in text or (error.http_status == 403 and ASSIGN_PRIVILEGE in text)


def _unowned(row: WhatsAppMessageRow) -> dict[str, Any]:
    """A customer's row relinked or unlinked is no longer the refused record's owner's: the app's
    (the next message takes the new link's owner from the conversation)."""
    return {"owner": None} if row.direction == "inbound" else {}


class MirrorRaced(Exception):
    """The message kept changing while it was being written: the queue will bring it back."""


@dataclass(frozen=True)
class MirrorResult:
    outcome: Literal["mirrored", "missing", "hidden"]
    row_id: str | None = None
    writes: int = 0
    regarding: Regarding | None = None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _subject(message: MessageDocument, who: str) -> str:
    arrow = "from" if message.direction == "inbound" else "to"
    body = "[deleted]" if message.deleted else message.text or message.caption or f"[{message.kind}]"
    return _clip(" ".join(f"WhatsApp {arrow} {who}: {body}".split()), SUBJECT_MAX_LENGTH)


def _meta_text(found: dict[str, Any], key: str, limit: int) -> str | None:
    """A text field of Meta's `referral` (or referred product), clipped to its column."""
    value = found.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        return None
    return _clip(str(value), limit)


def _attribution(message: MessageDocument) -> dict[str, str | None]:
    """The click-to-WhatsApp ad and the catalog product a message came with, as columns."""
    details = message.details or {}
    found = details.get("referral")
    ad: dict[str, Any] = found if isinstance(found, dict) else {}
    found = details.get("referredProduct")
    product: dict[str, Any] = found if isinstance(found, dict) else {}
    retailer_id = _meta_text(product, "product_retailer_id", 256)
    catalog = _meta_text(product, "catalog_id", 200)
    referred = " ".join(p for p in (retailer_id, f"(catalog {catalog})" if catalog else None) if p)
    return {
        "adsourceurl": _meta_text(ad, "source_url", 4000),
        "adsourcetype": _meta_text(ad, "source_type", 16),
        "adsourceid": _meta_text(ad, "source_id", 256),
        "adheadline": _meta_text(ad, "headline", 1000),
        "adclickid": _meta_text(ad, "ctwa_clid", 1000),
        "referredproduct": referred or None,
    }


def build_row(
    message: MessageDocument,
    conversation: ConversationDocument | None,
    regarding: Regarding | None,
    owner: str | None = None,
    owner_type: OwnerType = "systemuser",
) -> WhatsAppMessageRow:
    """The activity for a message as it is now (pure)."""
    profile = conversation.profile_name if conversation else None
    wa_id = conversation.wa_id if conversation and conversation.wa_id else None
    if wa_id is None and message.customer_id.isdigit():
        wa_id = message.customer_id
    user_id = conversation.user_id if conversation else None
    if user_id is None and not message.customer_id.isdigit():
        user_id = message.customer_id
    number = f"+{wa_id}" if wa_id else None
    shown = (message.text, message.caption) if not message.deleted else ()
    body = "\n\n".join(part for part in shown if part)
    error = message.error
    reason = " - ".join(part for part in (error.title, error.detail) if part) if error else ""
    media = message.media if not message.deleted else None  # a late media copy may re-add it
    times = message.status_times
    return WhatsAppMessageRow(
        subject=_subject(message, profile or number or user_id or "customer"),
        description=_clip(body, DESCRIPTION_MAX_LENGTH) if body else None,
        direction=message.direction,
        kind=message.kind,
        status=message.status,
        mediaurl=media.url if media else None,
        mimetype=media.mime_type if media else None,
        filename=media.filename if media else None,
        wamid=message.wamid,
        messageid=message.id,
        conversationid=message.conversation_id,
        messagetime=message.timestamp,
        sentat=times.get("sent"),
        deliveredat=times.get("delivered"),
        readat=times.get("read"),
        failedat=times.get("failed"),
        errorcode=error.code if error else None,
        errorreason=_clip(reason, 2000) or None,
        customernumber=number,
        whatsappuserid=user_id,
        profilename=profile,
        sentby=message.sent_by,
        sentbyuser=owner if message.direction == "outbound" and owner_type == "systemuser" else None,
        businessnumberid=message.phone_number_id,
        regarding=regarding,
        owner=owner,
        ownertype=owner_type,
        closed=_finished(message),
        first=_first(message),
        **_attribution(message),
    )


def _finished(message: MessageDocument) -> bool:
    """Closed at once when inbound (nothing to do on it but read it; an inbound media message once its
    copy is done, so the copy's update needs no reopening), outbound once delivered, read, played or
    failed: later read receipts are not written to it (shared/conversations/mirror_timing.py)."""
    if message.direction == "inbound":
        return message.media is None or message.media.status is not None
    return message.status in SETTLED_OUTBOUND_STATUSES


def _first(message: MessageDocument) -> bool:
    """As stored on arrival or at send (one status time: received, accepted, or an echo's sent), with no
    later status report, edit, deletion or media copy."""
    copied = message.media is not None and message.media.status is not None
    return len(message.status_times) <= 1 and not (message.edited or message.deleted or copied)


def _lag_seconds(message: MessageDocument) -> float:
    """From the message's latest change (its own time or its newest status) to now, on the Timeline."""
    changed = max([parse_iso(message.timestamp), *(parse_iso(t) for t in message.status_times.values())])
    return max(0.0, (datetime.now(UTC) - changed).total_seconds())


class DataverseMirror:
    def __init__(
        self,
        store: ConversationStore,
        client: DataverseClient,
        table: TableNames,
        regarding: RegardingResolver,
        *,
        time_limit: float = TIME_LIMIT_SECONDS,
        users: SystemUsers | None = None,
    ):
        self.store = store
        self.client = client
        self.table = table
        self.regarding = regarding
        self.time_limit = time_limit
        self.users = users or SystemUsers(client)

    def mirror(self, request: MirrorRequest) -> MirrorResult:
        with self.client.time_limit(self.time_limit):
            return self._mirror(request)

    def _mirror(self, request: MirrorRequest) -> MirrorResult:
        conv, message_id = request.conversation_id, request.id
        extra = {"conversationId": conv, "messageId": message_id}
        current = self.store.read(conv, message_id)
        if current is None:
            log.warning("message to mirror is not in Cosmos DB; nothing to write", extra=extra)
            return MirrorResult("missing")
        message = MessageDocument.model_validate(current)
        if message.hidden:  # an edit, revoke or reaction: its target's row shows it (in_context.py)
            log.info("message changes another message; no row of its own", extra=extra)
            return MirrorResult("hidden")
        conversation_doc = self.store.read(conv, CONVERSATION_DOCUMENT_ID)
        conversation = ConversationDocument.model_validate(conversation_doc) if conversation_doc else None
        regarding = self.regarding.resolve(message, conversation)
        target = row_id(conv, message_id)
        row = build_row(message, conversation, regarding, *self._owner(message, regarding))
        for writes in range(1, MAX_ROUNDS + 1):
            row = self._write(target, row, conversation)
            latest = self.store.read(conv, message_id)
            owned = (row.owner, row.ownertype)
            newer = (
                build_row(MessageDocument.model_validate(latest), conversation, row.regarding, *owned)
                if latest
                else row
            )
            if newer == row:
                record_mirror_lag(_lag_seconds(MessageDocument.model_validate(latest or current)))
                log.info("mirrored %s message as %s", row.status, target, extra=extra)
                return MirrorResult("mirrored", str(target), writes, row.regarding)
            row = newer  # it moved on while we wrote: write the newer state too
        raise MirrorRaced(f"message {message_id} changed during each of {MAX_ROUNDS} writes")

    def _owner(self, message: MessageDocument, regarding: Regarding | None) -> tuple[str | None, OwnerType]:
        """An agent's message is theirs; a customer's is the linked record's owner's, when the phone
        lookup found it (no extra request). Without Assign neither can be given (see `_disown`)."""
        if message.direction == "outbound":
            return self.users.user_id(message.sent_by), "systemuser"
        if regarding is None or regarding.owner is None or self.users.disabled:
            return None, "systemuser"
        return regarding.owner.id, regarding.owner.type

    def _write(
        self, target: uuid.UUID, row: WhatsAppMessageRow, conversation: ConversationDocument | None
    ) -> WhatsAppMessageRow:
        try:
            self._put(target, row)
        except (DataverseNotFound, DataverseAuthError, DataverseRequestError) as error:
            person = (row.owner if row.first else None) or row.sentbyuser  # owner: on create only
            if person is not None and _names_owner(error, person):
                return self._disown(target, row, error)
            problem = link_problem(error, row.regarding)
            if problem is None or row.regarding is None:
                raise
            row = self._relink(target, row, row.regarding, problem, error)
        return row

    def _disown(
        self, target: uuid.UUID, row: WhatsAppMessageRow, error: DataverseError
    ) -> WhatsAppMessageRow:
        """Dataverse refused the owner (an agent, or a linked record's user or team, deleted or disabled
        since it was looked up): the row is written the app's, as without a known owner, rather than
        poisoned."""
        whose = "agent's" if row.direction == "outbound" else "linked record owner's"
        log.warning(
            "%s %s %s was refused as the row's owner (%s); row stays the app's",
            whose,
            row.ownertype,
            row.owner,
            error.code or error.http_status,
            extra={"conversationId": row.conversationid, "messageId": row.messageid},
        )
        if ASSIGN_PRIVILEGE in error.message.lower():
            log.error(
                "the application user may not give rows to agents (missing Assign on the table): "
                "grant it, then restart; until then rows stay the app's"
            )
            self.users.disable()
        elif row.direction == "inbound" and row.regarding is not None:
            self.regarding.drop_owner(row.conversationid, row.regarding)
        elif row.sentby:
            self.users.forget(row.sentby)
        row = row.model_copy(update={"owner": None, "sentbyuser": None})
        return self._write(target, row, None)

    def _relink(
        self,
        target: uuid.UUID,
        row: WhatsAppMessageRow,
        stale: Regarding,
        problem: LinkProblem,
        error: DataverseError,
    ) -> WhatsAppMessageRow:
        """Dataverse refused the row's link, not the row: a conversation is never poisoned by its
        link. The row is written relinked to where the record went, else unlinked, and why is logged
        (customDimensions `linkProblem`, `linkReason`); the row's own columns stay the message's."""
        extra = {
            "conversationId": row.conversationid,
            "messageId": row.messageid,
            "regarding": stale.to_param(),
            "linkProblem": problem,
            "dataverseErrorCode": error.code,
        }
        if problem == "no_append_to":
            # Another record of that table would be refused the same way: keep the remembered link
            # (it works again once the role has Append To) and write this row unlinked.
            healing = Healing(None, f"the application user may not append to {stale.entity} {stale.id}")
        else:
            number = row.customernumber.lstrip("+") if row.customernumber else None
            healing = self.regarding.heal(stale, row.conversationid, number, row.profilename)
        found = healing.regarding
        if found is not None:
            relinked = row.model_copy(update={"regarding": found, **_unowned(row)})
            try:
                self._put(target, relinked)
            except (DataverseNotFound, DataverseAuthError, DataverseRequestError) as again:
                if link_problem(again, found) is None:
                    raise
                healing = Healing(None, f"{healing.reason}; then {again.code or again.http_status}")
            else:
                log.warning(
                    "linked %s %s was refused (%s); activity relinked to %s %s",
                    stale.entity,
                    stale.id,
                    healing.reason,
                    found.entity,
                    found.id,
                    extra={**extra, "linkReason": healing.reason, "relinkedTo": found.to_param()},
                )
                return relinked
        log.warning(
            "linked %s %s was refused (%s); writing the activity unlinked",
            stale.entity,
            stale.id,
            healing.reason,
            extra={**extra, "linkReason": healing.reason},
        )
        row = row.model_copy(update={"regarding": None, **_unowned(row)})
        self._put(target, row)
        return row

    def _put(self, target: uuid.UUID, row: WhatsAppMessageRow) -> None:
        """One request in the usual case. A first state is created with `If-None-Match: *` (412 when
        the row exists: then updated without the create-only fields); any other is an update, or a
        create without them if the first write never happened. A Completed row refuses the update:
        it is reopened and written (and closed again) in the next request."""
        entity_set = self.table.entity_set
        if row.first:
            created = row.payload(self.table, create=True)
            if self.client.upsert(entity_set, target, created, create_only=True):
                return
        try:
            self.client.upsert(entity_set, target, row.payload(self.table))
        except DataverseError as error:
            if error.http_status != 400 or CLOSED_ACTIVITY not in error.message.lower():
                raise
            log.info("row %s is a completed activity: reopening it to write the change", target)
            self.client.upsert(entity_set, target, dict(ACTIVITY_OPEN))
            self.client.upsert(entity_set, target, row.payload(self.table))
