"""Where a chat panel's next poll starts: Cosmos DB's own write time (`_ts`, whole seconds) and which
versions were already seen in that second.

`_ts` alone cannot tell, within one second, a version the panel has from one written just after its
poll: `>=` re-sends the whole second each time, `>` loses what came later in it. The cursor keeps
the `_etag` of every version seen in its newest second (an `_etag` changes with each write, so a
status tick on a message seen earlier in that second is still new). Changes are read oldest first,
so when more wait than a page holds, the next poll starts where this one stopped and drops nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_SEEN = 100  # versions written in one second of one conversation; past it the second is re-read
_TS = re.compile(r"[0-9]{1,12}")
_ETAG = re.compile(r'"?[0-9A-Za-z-]{1,64}"?')
_MAX_TOKEN = 8000


class BadPollCursor(ValueError):
    """Not a `pollCursor` this API returned."""


@dataclass(frozen=True)
class PollCursor:
    ts: int
    seen: tuple[str, ...] = field(default=())  # the `_etag`s of the versions seen at `ts`

    def encode(self) -> str:
        raw = json.dumps([self.ts, list(self.seen)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PollCursor:
        """Its own tokens; a bare number (the cursor before this one) reads as that second, unseen."""
        if _TS.fullmatch(token):
            return cls(int(token))
        if len(token) > _MAX_TOKEN or not token.isascii():
            raise BadPollCursor("changedSince is not a pollCursor this API returned")
        try:
            found = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadPollCursor("changedSince is not a pollCursor this API returned") from None
        if (
            not isinstance(found, list)
            or len(found) != 2
            or not isinstance(found[0], int)
            or isinstance(found[0], bool)
            or not 0 <= found[0] < 10**12
            or not isinstance(found[1], list)
            or len(found[1]) > MAX_SEEN
            or not all(isinstance(e, str) and _ETAG.fullmatch(e) for e in found[1])
        ):
            raise BadPollCursor("changedSince is not a pollCursor this API returned")
        return cls(found[0], tuple(found[1]))

    def after(self, rows: list[dict[str, Any]]) -> PollCursor:
        """The cursor past `rows` (read oldest first from this one)."""
        newest = max([self.ts, *(int(row.get("_ts", 0)) for row in rows)])
        seen = [str(row.get("_etag")) for row in rows if int(row.get("_ts", 0)) == newest]
        if newest == self.ts:
            seen = [*self.seen, *seen]
        unique = tuple(dict.fromkeys(seen))
        # Too many versions in one second to carry: read that second again next time (repeats merge by id).
        return PollCursor(newest, unique if len(unique) <= MAX_SEEN else ())
