"""When the Dataverse mirror writes a message: once per change that matters to its Timeline row.

An agent's message is followed within seconds by Meta's `sent` and `delivered` (and `read` while the
customer is in the chat); a customer's file by its copy into Blob Storage. Mirroring each step
separately costs a Dataverse request per step and reopens closed rows. Instead the first step
schedules one mirror a little later (`settle`, the queue message's visibility delay) and records
when it is due on the message (`mirrorDueAt`, in the same write as the step); a later step finds
that mirror still pending and leaves it to carry the newer state, since a mirror always writes the
message as it is when it runs. A customer's text has nothing to wait for and is mirrored at once.

Once an outbound message is delivered (or read, played, failed) its row is closed, and a later read
receipt is not written to it: Dataverse refuses updates to a closed activity, so writing it would
take three requests (reopen, write, close). The panel shows read ticks from the conversation store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.conversations.documents import parse_iso
from shared.conversations.ports import Doc

# Outbound statuses after which the Timeline row is final (closed): delivered or beyond.
SETTLED_OUTBOUND_STATUSES = frozenset({"delivered", "read", "played", "failed"})
MIRROR_DUE_FIELD = "mirrorDueAt"
MAX_SETTLE = timedelta(minutes=5)


@dataclass(frozen=True)
class MirrorTiming:
    """`settle`: how long a message that is still changing waits before its mirror runs (0 = at once)."""

    settle: timedelta = timedelta(0)

    @property
    def guard(self) -> timedelta:
        """A pending mirror due sooner than this may already have read the message when this step's
        write lands; such a step schedules its own mirror rather than trust the pending one."""
        return self.settle / 4

    def pending(self, doc: Doc, now: datetime) -> bool:
        due = doc.get(MIRROR_DUE_FIELD)
        return isinstance(due, str) and parse_iso(due) > now + self.guard

    def schedule(self, doc: Doc, now: datetime) -> tuple[Doc, timedelta | None]:
        """`doc` as it should be written, and the delay to mirror it after; None when a pending
        mirror will read this write."""
        if self.settle <= timedelta(0):
            return doc, timedelta(0)
        if self.pending(doc, now):
            return doc, None
        due = (now + self.settle).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {**doc, MIRROR_DUE_FIELD: due}, self.settle


AT_ONCE = MirrorTiming()  # no settling: every change is mirrored as it happens


def settled(doc: Doc) -> bool:
    """An outbound message whose row is final; inbound rows are closed at once (see the mirror)."""
    return doc.get("direction") == "outbound" and doc.get("status") in SETTLED_OUTBOUND_STATUSES


def status_matters(before: Doc, after: Doc) -> bool:
    """Whether a delivery report changes the message's Timeline row: any change before the row is
    final, and a failure after it (which Meta does not send after `delivered`, but would matter)."""
    if not settled(before):
        return True
    return after.get("status") == "failed" and before.get("status") != "failed"


def timing_for(settle_seconds: int) -> MirrorTiming:
    return MirrorTiming(min(timedelta(seconds=max(settle_seconds, 0)), MAX_SETTLE))
