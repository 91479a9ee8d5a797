"""Reads a Contact or Lead *as the agent* (`CallerObjectId`), so Dataverse's own security decides.

The application user needs `prvActOnBehalfOfAnotherUser` (the Delegate role) to ask on an agent's
behalf; Dataverse then applies the intersection of both users' privileges
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/impersonate-another-user-web-api).
Privilege and access-check failures come back as 403 with codes 0x80040220 ("Principal user is
missing prv... privilege") and 0x80048306 ("does not have ReadAccess right(s)"), a missing row as 404
0x80040217 (https://learn.microsoft.com/troubleshoot/power-platform/dataverse/user-permissions/client-errors).
"""

from __future__ import annotations

import logging
import re

from shared.access.records import AccessCheckUnavailable, AccessNotConfigured, RecordRefused
from shared.conversations.documents import Regarding
from shared.dataverse.client import DataverseClient
from shared.dataverse.errors import (
    DataverseAuthError,
    DataverseError,
    DataverseNotFound,
    DataverseThrottled,
    DataverseUnavailable,
)
from shared.dataverse.schema import ENTITY_SETS

log = logging.getLogger(__name__)
# Mobile Phone, Business Phone and Home Phone: the same columns on contact and lead.
PHONE_COLUMNS = ("mobilephone", "telephone1", "telephone2")
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
IMPERSONATION_PRIVILEGE = "prvActOnBehalfOfAnotherUser"


class DataverseRecords:
    """The RecordDirectory the access policy asks, over the Web API."""

    def __init__(self, client: DataverseClient):
        self.client = client

    def phones_visible_to(self, agent_object_id: str, record: Regarding) -> tuple[str, ...]:
        if not _OBJECT_ID.fullmatch(agent_object_id):  # it goes into a header: exact shape only
            raise RecordRefused("Your sign-in does not identify a Dynamics 365 user.")
        path = f"{ENTITY_SETS[record.entity]}({record.id})"
        try:
            row = self.client.get(
                path, {"$select": ",".join(PHONE_COLUMNS)}, headers={"CallerObjectId": agent_object_id}
            )
        except DataverseAuthError as error:
            raise _refusal_for(error, record) from None
        except DataverseNotFound as error:
            if "systemuser" in error.message.lower():
                raise RecordRefused("Your account is not a user of this Dynamics 365 environment.") from None
            raise RecordRefused(f"This {record.entity} does not exist in Dynamics 365.") from None
        except (DataverseUnavailable, DataverseThrottled) as error:
            log.warning("access check could not reach Dataverse: %s", error)
            raise AccessCheckUnavailable(str(error)) from None
        except DataverseError as error:
            log.warning("Dataverse refused the access check for %s: %s", record.entity, error)
            raise RecordRefused(f"Dynamics 365 refused to show this {record.entity}.") from None
        return tuple(str(row[c]) for c in PHONE_COLUMNS if isinstance(row.get(c), str))


def _refusal_for(error: DataverseAuthError, record: Regarding) -> Exception:
    if error.http_status == 401:  # our own token, even after a fresh one: the operator must act
        log.error("Dataverse refused the application's token during an access check: %s", error)
        return AccessCheckUnavailable("Dataverse refused the application's token")
    if IMPERSONATION_PRIVILEGE.lower() in error.message.lower():
        log.error(
            "the Dataverse application user lacks %s (Delegate role): agents' access cannot be checked",
            IMPERSONATION_PRIVILEGE,
        )
        return AccessNotConfigured(IMPERSONATION_PRIVILEGE)
    return RecordRefused(f"You do not have permission to read this {record.entity} in Dynamics 365.")
