"""What an edit, a revoke or a reaction does to the message it names, and the quote a reply shows.

Pure rules; `in_context.py` reads and writes the documents. Meta retries for 7 days and keeps no
order (WHATSAPP-NOTES §0.2, §4), so every rule is idempotent, and an older edit or reaction that
arrives after a newer one never wins: versions are ordered by Meta's timestamp, then by wamid, so
every arrival order ends in the same document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.conversations.documents import MessageDocument, Quote, StoredReaction, parse_iso

Action = Literal["edit", "revoke", "reaction"]
QUOTE_MAX = 100
# Where the customer came from (the lead's origin), not what they wrote: kept when they delete it.
ATTRIBUTION_KEYS = ("referral", "referredProduct")


@dataclass(frozen=True)
class Amendment:
    action: Action
    target: str  # the wamid of the message it changes


def amendment_of(doc: MessageDocument) -> Amendment | None:
    """The change `doc` makes to another message, as `inbound.message_document` records it."""
    details = doc.details or {}
    if doc.kind == "reaction" and isinstance(details.get("message_id"), str) and details["message_id"]:
        return Amendment("reaction", details["message_id"])
    if doc.kind == "system" and details.get("type") == "revoke":
        original = details.get("original_message_id")
        return Amendment("revoke", original) if isinstance(original, str) and original else None
    edit_of = details.get("edit_of")
    if isinstance(edit_of, str) and edit_of:
        return Amendment("edit", edit_of)
    return None


def is_removal(item: MessageDocument) -> bool:
    """A reaction with an empty emoji takes the sender's reaction away (WHATSAPP-NOTES §3.4)."""
    return item.kind == "reaction" and not (item.details or {}).get("emoji")


def refusal(amendment: Amendment, item: MessageDocument, target: MessageDocument) -> str | None:
    """Why `item` may not change `target`, if it may not."""
    if target.hidden or amendment_of(target) is not None:
        return "its target is itself an edit, a deletion or a reaction"
    if amendment.action != "reaction" and item.direction != target.direction:
        return "only the sender of a message can edit or delete it"
    return None


def amend(amendment: Amendment, item: MessageDocument, target: MessageDocument) -> MessageDocument | None:
    """The target with `item` applied, or None when that changes nothing (already applied, older)."""
    if amendment.action == "edit":
        return _edit(item, target)
    if amendment.action == "revoke":
        return _revoke(item, target)
    return _react(item, target)


def _moment(at: str, wamid: str | None) -> tuple[datetime, str]:
    return parse_iso(at), wamid or ""


def _version(field: str, value: str | None, at: str, edit: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {field: value, "at": at, "edit": edit}
    return {k: v for k, v in found.items() if v is not None}


def _edit(edit: MessageDocument, target: MessageDocument) -> MessageDocument | None:
    if target.deleted:
        return None  # deleted stays deleted; the edit is still stored as its own (hidden) document
    details = dict(target.details or {})
    history: list[dict[str, Any]] = [dict(v) for v in details.get("history") or []]
    last: dict[str, Any] | None = details.get("lastEdit")
    applied = {v.get("edit") for v in history} | ({last.get("wamid")} if last else set())
    if edit.wamid in applied:
        return None
    current_at, current_edit = (last["at"], last.get("wamid")) if last else (target.timestamp, None)
    # A media message's words are its caption; an edit of one arrives as the same media type.
    field = "caption" if target.media is not None else "text"
    content = (edit.caption or edit.text) if field == "caption" else (edit.text or edit.caption)
    updates: dict[str, Any] = {"edited": True}
    if _moment(edit.timestamp, edit.wamid) > _moment(current_at, current_edit):
        history.append(_version(field, getattr(target, field), current_at, current_edit))
        updates[field] = content
        details["lastEdit"] = {"wamid": edit.wamid, "at": edit.timestamp}
    else:  # an older edit arriving late: it joins the history and changes nothing shown
        history.append(_version(field, content, edit.timestamp, edit.wamid))
    history.sort(key=lambda v: _moment(v["at"], v.get("edit")))
    updates["details"] = {**details, "history": history}
    return target.model_copy(update=updates)


def _revoke(revoke: MessageDocument, target: MessageDocument) -> MessageDocument | None:
    if target.deleted:
        return None
    details = dict(target.details or {})
    kept = {key: details.pop(key) for key in ATTRIBUTION_KEYS if key in details}
    audit = {
        "text": target.text,
        "caption": target.caption,
        "media": target.media.to_document() if target.media else None,
        "details": details or None,
        "forwarded": target.forwarded,
        "deletedAt": revoke.timestamp,
        "deletedBy": revoke.wamid,
    }
    return target.model_copy(
        update={
            "text": None,
            "caption": None,
            "media": None,
            "details": kept or None,
            "forwarded": None,
            "deleted": True,
            "deleted_content": {k: v for k, v in audit.items() if v is not None},
        }
    )


def _react(reaction: MessageDocument, target: MessageDocument) -> MessageDocument | None:
    side: Literal["customer", "business"] = "customer" if reaction.direction == "inbound" else "business"
    emoji = (reaction.details or {}).get("emoji") or ""
    new = StoredReaction.model_validate(
        {"emoji": emoji, "from": side, "at": reaction.timestamp, "wamid": reaction.wamid}
    )
    reactions = target.reactions or []
    theirs = next((r for r in reactions if r.from_ == side), None)
    if theirs is not None and _moment(theirs.at, theirs.wamid) >= _moment(new.at, new.wamid):
        return None  # the same reaction again, or an older one than the side's latest
    kept = [*(r for r in reactions if r.from_ != side), new]
    return target.model_copy(update={"reactions": sorted(kept, key=lambda r: _moment(r.at, r.wamid))})


def _clip(text: str | None) -> str | None:
    if not text:
        return None
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1] + "…"


def quote_of(target: MessageDocument) -> Quote:
    """What a reply to `target` shows of it; the version orders quotes of the same message."""
    last = (target.details or {}).get("lastEdit") if not target.deleted else None
    at, edit = (last["at"], last.get("wamid") or "") if last else (target.timestamp, "")
    version = f"{int(bool(target.deleted))}|{at}|{edit}"
    if target.deleted:
        return Quote(
            id=target.id,
            wamid=target.wamid,
            direction=target.direction,
            kind=target.kind,
            deleted=True,
            version=version,
        )
    return Quote(
        id=target.id,
        wamid=target.wamid,
        direction=target.direction,
        kind=target.kind,
        text=_clip(target.text or target.caption),
        version=version,
    )
