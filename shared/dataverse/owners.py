"""Who owns an outbound message's row: the agent who sent it, as their Dataverse `systemuser`.

The agent is known by their Entra object id (`sentBy`); the user row holding it in
`azureactivedirectoryobjectid` is asked once per process and agent, so the mirror's budget (one
request per message) holds on the happy path (systemuser table reference,
https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/systemuser).
"""

from __future__ import annotations

import logging
import re
import threading

from shared.dataverse.client import DataverseClient

log = logging.getLogger(__name__)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SystemUsers:
    """Entra object id → `systemuserid`, remembered per process (None: not a user of the environment)."""

    def __init__(self, client: DataverseClient, *, max_remembered: int = 10_000):
        self.client = client
        self.max_remembered = max_remembered
        self._found: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self.disabled = False  # the app may not give rows to others (no Assign): stop asking

    def user_id(self, object_id: str | None) -> str | None:
        """None without a GUID (`local-developer` where sign-in is off): the row stays the app's."""
        if self.disabled or object_id is None or not _GUID.fullmatch(object_id):  # into a $filter
            return None
        key = object_id.lower()
        with self._lock:
            if key in self._found:
                return self._found[key]
        params = {"$select": "systemuserid", "$filter": f"azureactivedirectoryobjectid eq {key}", "$top": "1"}
        rows = self.client.get("systemusers", params).get("value") or []
        found = str(rows[0]["systemuserid"]).lower() if rows and rows[0].get("systemuserid") else None
        if found is None:
            log.warning("agent %s is not a user of this Dataverse environment; row stays the app's", key)
        with self._lock:
            if len(self._found) >= self.max_remembered:
                self._found.clear()
            self._found[key] = found
        return found

    def disable(self) -> None:
        """Dataverse refused to give a row to another user: every agent's row would be refused the
        same way, so rows stay the app's in this process until it restarts (after the role is fixed)."""
        self.disabled = True

    def forget(self, object_id: str) -> None:
        """After Dataverse refused the user (deleted or disabled since): ask again next time."""
        with self._lock:
            self._found.pop(object_id.lower(), None)
