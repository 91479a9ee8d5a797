"""Record-level authorisation, the way D365 itself decides.

An agent may open a conversation only from a Contact or Lead they can read in Dynamics 365 (security
roles, business units and sharing all apply, because Dataverse is asked *as the agent*), and only for
a customer whose number is one of that record's phones. The record's phones are remembered per
(agent, record) for a few minutes, so a chat panel's polling costs Dataverse one read per agent and
record per few minutes, not one per poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from cachetools import TTLCache

from shared.conversations.customer_id import InvalidCustomerId, normalise_customer_id
from shared.conversations.documents import Regarding
from shared.dataverse.phones import stored_formats

# A refusal is remembered for less time than a grant: an admin who shares the record with the agent
# should not wait long, and a flood of refused calls still costs Dataverse one read a minute.
REFUSAL_SECONDS = 60.0
MAX_REMEMBERED = 10_000


class RecordRefused(Exception):
    """D365 does not let this agent see this conversation; `reason` is worded for the agent."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AccessCheckUnavailable(Exception):
    """Dataverse could not be asked (down, throttled, our token refused): try again later."""


class AccessNotConfigured(Exception):
    """The application user cannot ask on the agent's behalf (it lacks prvActOnBehalfOfAnotherUser)."""


class RecordDirectory(Protocol):
    def phones_visible_to(self, agent_object_id: str, record: Regarding) -> tuple[str, ...]:
        """The record's phone numbers as the agent may read them; RecordRefused when they may not."""
        ...


def record_has_number(phones: Iterable[str], customer_ids: Sequence[str]) -> bool:
    """Whether one of the record's phones, in whatever spelling it was typed, is one of the customer's
    ids. Spellings are those the mirror looks records up by (shared/dataverse/phones.py)."""
    numbers = [c for c in customer_ids if c.isascii() and c.isdigit()]
    for phone in phones:
        typed = phone.strip()
        if not typed:
            continue
        if any(typed in stored_formats(number) for number in numbers):
            return True
        try:
            if normalise_customer_id(typed) in numbers:
                return True
        except InvalidCustomerId:
            continue
    return False


class AccessPolicy:
    """Asks the directory once per (agent, record) and remembers the answer, grant or refusal."""

    def __init__(
        self,
        directory: RecordDirectory,
        *,
        grant_seconds: float,
        refusal_seconds: float = REFUSAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.directory = directory
        self._granted: TTLCache[tuple[str, str, str], tuple[str, ...]] = TTLCache(
            MAX_REMEMBERED, grant_seconds, timer=clock
        )
        self._refused: TTLCache[tuple[str, str, str], str] = TTLCache(
            MAX_REMEMBERED, min(refusal_seconds, grant_seconds), timer=clock
        )
        self._lock = threading.Lock()

    def check(self, agent_object_id: str, record: Regarding, customer_ids: Sequence[str] | None) -> None:
        """Returns when the agent may read `record` and (if given) the customer is on it; else raises
        RecordRefused, AccessCheckUnavailable or AccessNotConfigured."""
        phones = self._phones(agent_object_id, record)
        if customer_ids is not None and not record_has_number(phones, customer_ids):
            raise RecordRefused(
                f"This customer's number is not one of this {record.entity}'s phone numbers "
                "(mobile, business or home) in Dynamics 365."
            )

    def _phones(self, agent: str, record: Regarding) -> tuple[str, ...]:
        key = (agent, record.entity, record.id)
        with self._lock:
            if (phones := self._granted.get(key)) is not None:
                return phones
            if (reason := self._refused.get(key)) is not None:
                raise RecordRefused(reason)
        try:
            phones = self.directory.phones_visible_to(agent, record)
        except RecordRefused as refused:
            with self._lock:
                self._refused[key] = refused.reason
            raise
        with self._lock:
            self._granted[key] = phones
        return phones
