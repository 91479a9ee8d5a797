"""The local Dataverse stand-in (devhost/dataverse_standin.py) behaves like Dataverse where the mirror
depends on it: PATCH creates then updates by id, `If-None-Match: *` refuses to overwrite, columns must
exist in the table's metadata, lookups by phone return 0, 1 or 2 records, 429 carries `Retry-After`,
a revoked token gets 401. The citations are on the rules in the stand-in's module."""

from __future__ import annotations

import uuid

import pytest
import requests
from pytest_httpserver import HTTPServer

from devhost.dataverse_standin import DataverseStandIn, raw


@pytest.fixture
def standin(httpserver: HTTPServer) -> DataverseStandIn:
    found = DataverseStandIn(httpserver)
    found.provision()
    return found


def test_the_standin_patch_creates_a_row_then_updates_the_same_row(standin: DataverseStandIn) -> None:
    row = str(uuid.uuid4())
    path = f"{standin.table.entity_set}({row})"
    assert raw(standin, "PATCH", path, json={"subject": "first", "wa_status": "sent"}).status_code == 204
    assert raw(standin, "PATCH", path, json={"wa_status": "read"}).status_code == 204
    assert standin.activities == {row: {"activityid": row, "subject": "first", "wa_status": "read"}}


def test_the_standin_refuses_what_dataverse_refuses(standin: DataverseStandIn) -> None:
    row = str(uuid.uuid4())
    path = f"{standin.table.entity_set}({row})"
    unknown = raw(standin, "PATCH", path, json={"wa_nosuchcolumn": 1})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "0x80060888"
    assert (
        raw(standin, "PATCH", path, json={"subject": "x"}, headers={"If-None-Match": "*"}).status_code == 204
    )
    assert (
        raw(standin, "PATCH", path, json={"subject": "y"}, headers={"If-None-Match": "*"}).status_code == 412
    )
    missing = f"{standin.table.entity_set}({uuid.uuid4()})"
    assert raw(standin, "PATCH", missing, json={"subject": "z"}, headers={"If-Match": "*"}).status_code == 404
    bind = {
        f"regardingobjectid_contact_{standin.table.logical_name}@odata.bind": f"/contacts({uuid.uuid4()})"
    }
    assert raw(standin, "PATCH", path, json=bind).status_code == 404
    assert raw(standin, "PATCH", path, json={"subject": "z"}, bearer="forged").status_code == 401


def test_the_standin_reads_a_record_as_the_impersonated_user_only(standin: DataverseStandIn) -> None:
    mine, theirs = standin.add_contact(mobilephone="+1"), standin.add_contact(mobilephone="+2")
    standin.add_user("agent-a", contacts={mine})
    standin.add_user("agent-b", leads=None)

    def read(row: str, caller: str, select: str = "mobilephone") -> requests.Response:
        return raw(
            standin, "GET", f"contacts({row})", params={"$select": select}, headers={"CallerObjectId": caller}
        )

    assert read(mine, "agent-a").json() == {"mobilephone": "+1"}
    assert read(theirs, "agent-a").json()["error"]["code"] == "0x80048306"  # shared with someone else
    assert read(mine, "agent-b").json()["error"]["code"] == "0x80040220"  # no read privilege on contact
    assert read(mine, "stranger").status_code == 404
    assert read(mine, "agent-a", "nosuchcolumn").status_code == 400
    standin.app_may_impersonate = False
    refused = read(mine, "agent-a")
    assert refused.status_code == 403
    assert "prvActOnBehalfOfAnotherUser" in refused.json()["error"]["message"]


def test_the_standin_finds_contacts_by_phone_with_zero_one_or_two_matches(standin: DataverseStandIn) -> None:
    one = standin.add_contact(mobilephone="+15550000001")
    standin.add_contact(telephone1="+15550000002")
    standin.add_contact(telephone1="+15550000002")
    standin.add_contact(mobilephone="+15550000003", statecode=1)  # inactive

    def matches(number: str) -> list[str]:
        query = {
            "$select": "contactid",
            "$filter": f"statecode eq 0 and (mobilephone eq '{number}' or telephone1 eq '{number}')",
        }
        return [r["contactid"] for r in raw(standin, "GET", "contacts", params=query).json()["value"]]

    assert matches("+15550000001") == [one]
    assert len(matches("+15550000002")) == 2
    assert matches("+15550000003") == []


def test_the_standin_throttles_with_retry_after_and_then_recovers(standin: DataverseStandIn) -> None:
    standin.throttle(1, retry_after="7")
    throttled = raw(standin, "GET", "contacts")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "0x80072322"
    assert raw(standin, "GET", "contacts").status_code == 200


def test_the_standin_refuses_updates_to_a_closed_activity_but_reopening_it(standin: DataverseStandIn) -> None:
    path = f"{standin.table.entity_set}({uuid.uuid4()})"
    created = {"subject": "x", "overriddencreatedon": "2026-01-01T00:00:00Z", "statecode": 1, "statuscode": 2}
    assert raw(standin, "PATCH", path, json=created).status_code == 204
    refused = raw(standin, "PATCH", path, json={"subject": "y", "statecode": 0, "statuscode": 1})
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        400,
        "Cannot update Closed or Cancelled Activity",
    )
    assert raw(standin, "PATCH", path, json={"statecode": 0, "statuscode": 1}).status_code == 204
    later = {"subject": "y", "overriddencreatedon": "2026-02-02T00:00:00Z", "statecode": 1, "statuscode": 2}
    assert raw(standin, "PATCH", path, json=later).status_code == 204
    [row] = standin.activities.values()
    assert (row["subject"], row["statecode"], row["overriddencreatedon"]) == ("y", 1, "2026-01-01T00:00:00Z")
    too_long = raw(
        standin, "PATCH", f"{standin.table.entity_set}({uuid.uuid4()})", json={"subject": "s" * 201}
    )
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (400, "0x80044331")
