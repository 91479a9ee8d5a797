"""Outbound message statuses only move forward, whatever order Meta's webhooks arrive in."""

from __future__ import annotations

from dataclasses import dataclass

from shared.conversations.documents import MessageError

# `delivered` may never come (a message read at once skips it); `played` is a voice note's first play.
_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4}
_PROOF_OF_DELIVERY = {"delivered", "read", "played"}
KNOWN_STATUSES = frozenset({*_RANK, "failed"})


@dataclass(frozen=True)
class StatusState:
    status: str
    status_times: dict[str, str]
    error: MessageError | None = None


def advance(current: StatusState, new_status: str, at: str, error: MessageError | None) -> StatusState:
    """The state after Meta reports `new_status` at `at`; equal to `current` when it changes nothing.

    `failed` ends a message that was only accepted or sent; once delivered, a stray `failed` is ignored.
    Every status's first time is kept, even when it arrives late and does not change the status.
    """
    if new_status not in KNOWN_STATUSES:
        return current
    times = dict(current.status_times)
    times.setdefault(new_status, at)
    status, kept_error = current.status, current.error
    if current.status in _RANK:  # "failed" and inbound "received" take no further statuses
        if new_status == "failed":
            if current.status not in _PROOF_OF_DELIVERY:
                status, kept_error = "failed", error
        elif _RANK[new_status] > _RANK[current.status]:
            status = new_status
    return StatusState(status=status, status_times=times, error=kept_error)


def merge(current: StatusState, reported: StatusState) -> StatusState:
    """Applies every status a receipt holds, in their natural order, to a message's state."""
    ordered = sorted(reported.status_times.items(), key=lambda kv: _RANK.get(kv[0], 99))
    state = current
    for status, at in ordered:
        state = advance(state, status, at, reported.error if status == "failed" else None)
    return state
