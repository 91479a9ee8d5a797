"""Messages that change another message: an edit, a revoke (delete), a reaction; and replies' quotes.

Called by the webhook ingest for every stored inbound or echoed message (and again on Meta's retries);
returns the ids of other messages whose Dataverse row it changed, so they are mirrored again.

- An edit, revoke or reaction is stored under its own wamid like any message (duplicates, audit), and
  `hidden` from the history: its effect is on its target (amendments.py). Its target is looked up in
  the same conversation only, so no message can touch another customer's.
- Its target not stored yet (a retry still on its way, or a message from before this app): the item
  is listed on a `links` document named after the target's wamid, shown on its own meanwhile (nothing
  is lost), and applied and hidden when the target is written. A removed reaction is never shown.
- A reply gets `quoted` when it is written (one read of its target), and is listed on the same `links`
  document, so an edit or a deletion of the target updates the quote: a deleted message's words are
  never served through a reply either.

Race-free the way receipts are: each side writes its own document first and reads the other's after,
so of two concurrent writers at least one sees the other.

Cost in Cosmos DB requests, paid once per webhook message so the history (read far more often, and
polled) pays nothing: any message, one point read of its `links` document (usually a miss); an edit,
revoke or reaction, one point read of its target (plus a query when the target is an agent's
`out:<id>` message), one replace of the target and one read of itself (stored hidden already); an
edit or revoke, one more read (its target's `links`) and one replace per reply quoting the target; a
reply, one upsert of its target's `links`, the same target read and one replace of itself. A target
that comes late costs one more upsert, lookup and replace.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Literal

from shared.conversations.amendments import Amendment, amend, amendment_of, is_removal, quote_of, refusal
from shared.conversations.documents import (
    CONVERSATION_DOCUMENT_ID,
    Document,
    MessageDocument,
    Quote,
    document_id,
)
from shared.conversations.ports import ConversationStore, Doc

log = logging.getLogger(__name__)
# Like receipts: Meta stops retrying after 7 days, and a message is edited or deleted soon after it
# is sent. Every write restarts the clock.
LINKS_TTL_SECONDS = 30 * 24 * 3600
MAX_AWAITED = 50  # the newest awaited wamids a conversation names; older ones are read for as before


class LinksDocument(Document):
    """The messages that name one wamid: items waiting for it, and replies quoting it."""

    type: Literal["links"] = "links"
    id: str
    conversation_id: str
    wamid: str
    waiting: list[str] = []  # edits, revokes, reactions stored before their target
    replies: list[str] = []
    ttl: int = LINKS_TTL_SECONDS

    @staticmethod
    def id_for(wamid: str) -> str:
        return document_id(f"links:{wamid}")


def apply_in_context(
    store: ConversationStore, doc: MessageDocument, awaited: Collection[str] | None = None
) -> list[str]:
    """Applies `doc` to the message it refers to, and anything that was waiting for `doc` to it.
    `awaited`: the conversation's `awaited` as read when `doc` was written in the same batch."""
    amendment = amendment_of(doc)
    if amendment is not None:
        return _amend(store, doc, amendment)
    if doc.context:
        _quote(store, doc, doc.context)
    return _settle(store, doc, awaited) if doc.wamid else []


def find_message(store: ConversationStore, conv: str, wamid: str) -> MessageDocument | None:
    """A webhook's message is stored under its wamid (one point read); an agent's under `out:<id>`."""
    found = store.read(conv, document_id(wamid))
    if found is None or found.get("type") != "message" or found.get("wamid") != wamid:
        found = store.find_message_by_wamid(conv, wamid)
    return MessageDocument.model_validate(found) if found else None


def _amend(store: ConversationStore, item: MessageDocument, amendment: Amendment) -> list[str]:
    conv = item.conversation_id
    extra = {"wamid": item.wamid, "conversationId": conv, "target": amendment.target}
    target = find_message(store, conv, amendment.target)
    if target is None:
        _link(store, conv, amendment.target, waiting=item.id)
        _await(store, conv, amendment.target)
        target = find_message(store, conv, amendment.target)  # written meanwhile? then _settle missed us
    if target is None:
        log.info("%s for a message not stored yet; kept for later", amendment.action, extra=extra)
        return _show_alone(store, item)
    reason = refusal(amendment, item, target)
    if reason is not None:
        log.warning("%s not applied: %s", amendment.action, reason, extra=extra)
        return _show_alone(store, item)
    return _apply(store, item, amendment, target.id)


def _apply(
    store: ConversationStore, item: MessageDocument, amendment: Amendment, target_id: str
) -> list[str]:
    conv = item.conversation_id

    def change(current: Doc | None) -> Doc | None:
        if current is None:
            return None
        changed = amend(amendment, item, MessageDocument.model_validate(current))
        return changed.to_document() if changed is not None else None

    stored = store.update(conv, target_id, change)
    _set_hidden(store, conv, item.id, hidden=True)
    if stored is None or amendment.action == "reaction":
        return []  # reactions are not part of the Dataverse row
    # Even when this retry changed nothing: the first attempt may have failed before mirroring.
    _refresh_quotes(store, MessageDocument.model_validate(stored))
    return [target_id]


def _show_alone(store: ConversationStore, item: MessageDocument) -> list[str]:
    """No target to apply to: the item shows on its own (a removed reaction would say nothing)."""
    if is_removal(item):
        return []
    return [item.id] if _set_hidden(store, item.conversation_id, item.id, hidden=False) else []


def _set_hidden(store: ConversationStore, conv: str, message_id: str, *, hidden: bool) -> bool:
    """True when this call changed it (the mirror skips hidden messages, so it must look again)."""

    wrote = False

    def change(current: Doc | None) -> Doc | None:
        nonlocal wrote  # `change` may run again after a write conflict: the last run decides
        wrote = current is not None and bool(current.get("hidden")) != hidden
        if current is None or not wrote:
            return None
        kept = {k: v for k, v in current.items() if k != "hidden"}
        return {**kept, "hidden": True} if hidden else kept

    store.update(conv, message_id, change)
    return wrote


def _quote(store: ConversationStore, reply: MessageDocument, wamid: str) -> None:
    conv = reply.conversation_id
    _link(store, conv, wamid, reply=reply.id)  # first, so an edit of the target from now on finds it
    target = find_message(store, conv, wamid)
    if target is None:  # not stored yet: it will quote itself here when it comes
        _await(store, conv, wamid)
        target = find_message(store, conv, wamid)  # written meanwhile? then its _settle missed us
    if target is not None and amendment_of(target) is None:
        _write_quote(store, conv, reply.id, quote_of(target))


def _write_quote(store: ConversationStore, conv: str, reply_id: str, quote: Quote) -> None:
    def change(current: Doc | None) -> Doc | None:
        if current is None:
            return None
        existing = (current.get("quoted") or {}).get("version")
        if isinstance(existing, str) and existing >= quote.version:
            return None  # the same, or a newer version written by a concurrent edit
        return {**current, "quoted": quote.to_document()}

    store.update(conv, reply_id, change)


def _refresh_quotes(store: ConversationStore, target: MessageDocument) -> None:
    if not target.wamid:
        return
    found = store.read(target.conversation_id, LinksDocument.id_for(target.wamid))
    if found is None:
        return
    quote = quote_of(target)
    for reply_id in LinksDocument.model_validate(found).replies:
        _write_quote(store, target.conversation_id, reply_id, quote)


def _link(
    store: ConversationStore, conv: str, wamid: str, *, waiting: str | None = None, reply: str | None = None
) -> None:
    def change(current: Doc | None) -> Doc | None:
        links = (
            LinksDocument.model_validate(current)
            if current
            else LinksDocument(id=LinksDocument.id_for(wamid), conversation_id=conv, wamid=wamid)
        )
        added = False
        for name, value in (("waiting", waiting), ("replies", reply)):
            listed: list[str] = getattr(links, name)
            if value is not None and value not in listed:
                listed.append(value)
                added = True
        return links.to_document() if added else None

    store.update(conv, LinksDocument.id_for(wamid), change)


def _await(store: ConversationStore, conv: str, wamid: str) -> None:
    """Names `wamid` on the conversation as awaited. A message written in a batch over the conversation
    it read before (ingest.py) is then refused if this came first, or is written first and found by
    the caller's second look; either way what waits for it is applied."""

    def change(current: Doc | None) -> Doc | None:
        if current is None or wamid in (awaited := list(current.get("awaited") or [])):
            return None
        return {**current, "awaited": [*awaited, wamid][-MAX_AWAITED:]}

    store.update(conv, CONVERSATION_DOCUMENT_ID, change)


def _settle(store: ConversationStore, doc: MessageDocument, awaited: Collection[str] | None) -> list[str]:
    """`doc` has just been written: apply what was waiting for it, and quote it in its replies.
    `awaited`: what the conversation named as awaited when `doc` was written with it (None: unknown,
    so its links are looked for)."""
    assert doc.wamid is not None
    conv = doc.conversation_id
    if awaited is not None and doc.wamid not in awaited:
        return []
    found = store.read(conv, LinksDocument.id_for(doc.wamid))
    if found is None:
        return []
    links = LinksDocument.model_validate(found)
    changed: list[str] = []
    for item_id in links.waiting:
        stored_item = store.read(conv, item_id)
        item = MessageDocument.model_validate(stored_item) if stored_item else None
        amendment = amendment_of(item) if item else None
        if item is None or amendment is None or amendment.target != doc.wamid:
            continue
        reason = refusal(amendment, item, doc)
        if reason is not None:
            log.warning("%s not applied: %s", amendment.action, reason, extra={"wamid": item.wamid})
            continue
        changed += _apply(store, item, amendment, doc.id)
    if links.replies:
        current = store.read(conv, doc.id)  # with whatever was waiting now applied
        if current is not None:
            quote = quote_of(MessageDocument.model_validate(current))
            for reply_id in links.replies:
                _write_quote(store, conv, reply_id, quote)
    return list(dict.fromkeys(changed))
