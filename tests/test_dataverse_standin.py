"""A local stand-in for the Dataverse Web API (pytest-httpserver), and the tests that it behaves like
Dataverse where the mirror depends on it: PATCH creates then updates by id, `If-None-Match: *`
refuses to overwrite, columns must exist in the table's metadata, lookups by phone return 0, 1 or 2
records, 429 carries `Retry-After`, a revoked token gets 401. The other Dataverse tests import it.

Impersonation (`CallerObjectId`, as the access checks read records as the agent) follows Microsoft's
documented rules: the application user needs prvActOnBehalfOfAnotherUser, and a read is allowed
only if the impersonated user may read the row
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/impersonate-another-user-web-api);
refusals use the documented codes 0x80040220 (missing privilege) and 0x80048306 (access check
failed), a missing row 0x80040217
(https://learn.microsoft.com/troubleshoot/power-platform/dataverse/user-permissions/client-errors).
An object id that is no Dataverse user is not documented; it is answered here as a missing
`systemuser` (404 0x80040217), and the app refuses the agent whatever the code.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shared.conversations.ports import ConversationStore
from shared.dataverse.client import DataverseClient
from shared.dataverse.mirror import DataverseMirror
from shared.dataverse.provision import SchemaProvisioner
from shared.dataverse.regarding import PhoneDirectory, RegardingResolver
from shared.dataverse.schema import TableNames

API = "/api/data/v9.2"
CRM = "Microsoft.Dynamics.CRM"
_PHONE_CLAUSE = re.compile(r"(mobilephone|telephone1) eq '((?:[^']|'')*)'")
_ROW = re.compile(r"^(?P<set>[A-Za-z0-9_]+)\((?P<id>[0-9a-fA-F-]{36})\)$")
_ENTITY = re.compile(r"^EntityDefinitions\(LogicalName='(?P<name>[a-z0-9_]+)'\)(?P<rest>.*)$")
_ACTIVITY_COLUMNS = {"subject", "description", "activityid", "regardingobjectid", "actualend", "statecode"}


class FakeTokens:
    """Issues `token-1`, `token-2`, ...; a forced refresh always gives a new one."""

    def __init__(self) -> None:
        self.issued = 0
        self.forced = 0
        self.current = self._next()

    def _next(self) -> str:
        self.issued += 1
        return f"token-{self.issued}"

    def token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.forced += 1
            self.current = self._next()
        return self.current


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    methods: frozenset[str] = frozenset({"GET", "PATCH", "POST", "PUT"})
    delay: float = 0.0  # answer normally, but only after this long (a client timeout)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """Dataverse's error shape."""
    return Response(
        json.dumps({"error": {"code": code, "message": message}}),
        status=status,
        headers=headers or {},
        content_type="application/json; odata.metadata=minimal",
    )


def _label_of(value: Any) -> str | None:
    labels = (value or {}).get("LocalizedLabels") or []
    return str(labels[0]["Label"]) if labels else None


# Columns of contact and lead the app reads ($select names anything else: 400, as Dataverse does).
_RECORD_COLUMNS = {
    "contacts": {"contactid", "mobilephone", "telephone1", "telephone2", "statecode", "fullname"},
    "leads": {"leadid", "mobilephone", "telephone1", "telephone2", "statecode", "fullname", "subject"},
}
APP_USER_ID = "9d5e1c0a-3b7f-4e21-8a6c-5f4d3e2b1a09"


@dataclass
class DataverseUser:
    """A user the app may impersonate: which rows of each table their roles and sharing let them read
    (`None`: the table's read privilege at organisation depth; a set: just those rows)."""

    systemuserid: str
    reads: dict[str, set[str] | None] = field(default_factory=dict)


class DataverseStandIn:
    """Dataverse as far as the mirror, provisioning and the access checks use it, in memory."""

    def __init__(self, server: HTTPServer, prefix: str = "wa", *, has_leads: bool = True):
        self.server = server
        self.table = TableNames(prefix)
        self.has_leads = has_leads
        self.rows: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.entities: dict[str, dict[str, Any]] = {}  # logical name -> EntityMetadata with Attributes
        self.faults: deque[Fault] = deque()
        self.revoked: set[str] = set()
        self.seen: list[Seen] = []
        self.published: list[str] = []
        self.lock = threading.RLock()
        self.users: dict[str, DataverseUser] = {}  # by Entra object id
        self.app_may_impersonate = True
        server.expect_request(re.compile(r"^/api/data/v9\.2/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def client(self, tokens: FakeTokens | None = None, **options: Any) -> DataverseClient:
        options.setdefault("sleep", lambda seconds: None)
        return DataverseClient(self.url, tokens or FakeTokens(), **options)

    def provision(self) -> None:
        """The activity table as the provisioning command creates it, then a clean request log."""
        SchemaProvisioner(self.client(), self.table, say=lambda line: None).run()
        self.seen.clear()

    # --- arranging ------------------------------------------------------------------------------

    def add_contact(self, mobilephone: str | None = None, telephone1: str | None = None, **extra: Any) -> str:
        return self._add("contacts", "contactid", mobilephone, telephone1, extra)

    def add_lead(self, mobilephone: str | None = None, telephone1: str | None = None, **extra: Any) -> str:
        return self._add("leads", "leadid", mobilephone, telephone1, extra)

    def _add(self, entity_set: str, key: str, mobile: str | None, phone: str | None, extra: Any) -> str:
        new_id = str(uuid.uuid4())
        with self.lock:
            self.rows[entity_set][new_id] = {
                key: new_id,
                "mobilephone": mobile,
                "telephone1": phone,
                "telephone2": None,
                "statecode": 0,
                **extra,
            }
        return new_id

    def add_user(self, object_id: str, **reads: set[str] | None) -> DataverseUser:
        """`add_user(oid, contacts={id1}, leads=None)`: reads contact id1 and every lead."""
        user = DataverseUser(str(uuid.uuid4()), dict(reads))
        self.users[object_id] = user
        return user

    def throttle(self, times: int, retry_after: str = "2") -> None:
        """The next `times` requests hit the service protection limit (number of requests)."""
        for _ in range(times):
            self.faults.append(
                Fault(
                    429,
                    {"Retry-After": retry_after},
                    {
                        "code": "0x80072322",
                        "message": "Number of requests exceeded the limit of 6000 over time window of "
                        "300 seconds.",
                    },
                )
            )

    def fail(self, times: int, status: int = 500, methods: frozenset[str] | None = None) -> None:
        for _ in range(times):
            fault = Fault(status, body={"code": "0x80040216", "message": "An unexpected error occurred."})
            if methods:
                fault.methods = methods
            self.faults.append(fault)

    def slow(self, seconds: float) -> None:
        self.faults.append(Fault(0, delay=seconds))

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    # --- reading back ---------------------------------------------------------------------------

    @property
    def activities(self) -> dict[str, dict[str, Any]]:
        return self.rows[self.table.entity_set]

    def requests_to(self, method: str, prefix: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]

    @property
    def data_requests(self) -> list[Seen]:
        """Requests the mirror makes (not metadata)."""
        return [s for s in self.seen if not s.path.startswith(("EntityDefinitions", "PublishXml"))]

    # --- serving --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = unquote(request.path[len(API) + 1 :])
        body = json.loads(request.get_data()) if request.get_data() else None
        with self.lock:
            self.seen.append(Seen(request.method, path, dict(request.args), dict(request.headers), body))
            token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
            if not token.startswith("token-") or token in self.revoked:
                return Response(status=401, headers={"WWW-Authenticate": "Bearer authorization_uri=x"})
            fault = self.faults[0] if self.faults else None
            if fault is not None and request.method in fault.methods:
                self.faults.popleft()
                if fault.delay:
                    time.sleep(fault.delay)
                else:
                    return error(
                        fault.status,
                        (fault.body or {}).get("code", ""),
                        (fault.body or {}).get("message", ""),
                        fault.headers,
                    )
            return self._route(request, path, body)

    def _route(self, request: Request, path: str, body: Any) -> Response:
        if path == "PublishXml" and request.method == "POST":
            self.published.append(body["ParameterXml"])
            return Response(status=204)
        if path == "EntityDefinitions" and request.method == "POST":
            return self._create_entity(body)
        if match := _ENTITY.match(path):
            return self._metadata(request, match["name"], match["rest"], body)
        if match := _ROW.match(path):
            if request.method == "PATCH":
                return self._upsert(request, match["set"], match["id"].lower(), body)
            if request.method == "GET":
                return self._read_row(request, match["set"], match["id"].lower())
        if request.method == "GET" and re.fullmatch(r"[a-z_]+", path):
            return self._query(request, path)
        return error(404, "0x8006088a", f"Resource not found for the segment '{path}'.")

    # --- rows -----------------------------------------------------------------------------------

    def _known_set(self, entity_set: str) -> bool:
        if entity_set == "leads":
            return self.has_leads
        if entity_set == "contacts":
            return True
        return any(e["EntitySetName"] == entity_set for e in self.entities.values())

    def _read_row(self, request: Request, entity_set: str, row_id: str) -> Response:
        if not self._known_set(entity_set):
            return error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        caller = request.headers.get("CallerObjectId")
        if caller is not None:
            refused = self._impersonation_refusal(caller, entity_set, row_id)
            if refused is not None:
                return refused
        row = self.rows[entity_set].get(row_id)
        if not row:
            return self._no_row()
        select = request.args.get("$select")
        if select:
            fields = select.split(",")
            known = _RECORD_COLUMNS.get(entity_set)
            unknown = [f for f in fields if known is not None and f not in known]
            if unknown:
                return error(
                    400,
                    "0x80060888",
                    f"Could not find a property named '{unknown[0]}' on type '{CRM}.{entity_set[:-1]}'.",
                )
            row = {k: row.get(k) for k in fields}
        return Response(json.dumps(row), content_type="application/json")

    def _impersonation_refusal(self, caller: str, entity_set: str, row_id: str) -> Response | None:
        if not self.app_may_impersonate:
            return error(
                403,
                "0x80040220",
                f"Principal user (Id={APP_USER_ID}, type=8, roleCount=1, privilegeCount=602) is missing "
                "prvActOnBehalfOfAnotherUser privilege (Id=26ec2d50-3ad6-4f0a-8b3b-9e4c3b0f6d8e)",
            )
        user = self.users.get(caller)
        if user is None:
            return error(404, "0x80040217", f"systemuser With Id = {caller} Does Not Exist")
        entity = entity_set[:-1]
        if entity_set not in user.reads:
            return error(
                403,
                "0x80040220",
                f"Principal user (Id={user.systemuserid}, type=8) is missing prvRead{entity.title()} "
                "privilege",
            )
        visible = user.reads[entity_set]
        if visible is not None and row_id in self.rows[entity_set] and row_id not in visible:
            return error(
                403,
                "0x80048306",
                f"Principal with ID {user.systemuserid} does not have ReadAccess right(s) for record with "
                f"ID {row_id} of entity {entity}.",
            )
        return None

    def _no_row(self) -> Response:
        return error(404, "0x80040217", "Entity Does Not Exist")

    def _upsert(self, request: Request, entity_set: str, row_id: str, body: dict[str, Any]) -> Response:
        if not self._known_set(entity_set):
            return error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        entity = next((e for e in self.entities.values() if e["EntitySetName"] == entity_set), None)
        values: dict[str, Any] = {}
        for key, value in body.items():
            if key.endswith("@odata.bind"):
                target = re.fullmatch(r"/(contacts|leads)\(([0-9a-f-]{36})\)", value)
                allowed = (
                    {f"regardingobjectid_{t}_{entity['LogicalName']}@odata.bind" for t in ("contact", "lead")}
                    if entity
                    else set()
                )
                if key not in allowed or target is None:
                    return error(400, "0x80060888", f"Invalid navigation property '{key}'.")
                if target[2] not in self.rows[target[1]]:
                    return error(404, "0x80040217", f"{target[1][:-1]} With Id = {target[2]} Does Not Exist")
                values["_regardingobjectid_value"] = target[2]
                values["regardingobjecttypecode"] = target[1][:-1]
                continue
            if entity is not None and key not in entity["Attributes"]:
                return error(
                    400,
                    "0x80060888",
                    f"Invalid property '{key}' was found in entity '{CRM}.{entity['LogicalName']}'.",
                )
            values[key] = value
        rows = self.rows[entity_set]
        exists = row_id in rows
        if request.headers.get("If-None-Match") == "*" and exists:
            return error(412, "0x80040237", "A record with matching key values already exists.")
        if request.headers.get("If-Match") == "*" and not exists:
            return self._no_row()
        rows.setdefault(row_id, {"activityid" if entity else "id": row_id}).update(values)
        return Response(status=204, headers={"OData-EntityId": f"{self.url}{API}/{entity_set}({row_id})"})

    def _query(self, request: Request, entity_set: str) -> Response:
        if not self._known_set(entity_set):
            return error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        text = request.args.get("$filter", "")
        wanted = [(f, v.replace("''", "'")) for f, v in _PHONE_CLAUSE.findall(text)]
        state = re.search(r"statecode eq (\d)", text)
        found = [
            row
            for row in self.rows[entity_set].values()
            if (state is None or row.get("statecode") == int(state[1]))
            and (not wanted or any(row.get(f) == v for f, v in wanted))
        ]
        found = found[: int(request.args.get("$top", "5000"))]
        select = request.args.get("$select")
        if select:
            fields = select.split(",")
            found = [{k: row.get(k) for k in fields} for row in found]
        payload = {"@odata.context": f"{self.url}{API}/$metadata#{entity_set}", "value": found}
        return Response(json.dumps(payload), content_type="application/json")

    # --- metadata -------------------------------------------------------------------------------

    def _create_entity(self, body: dict[str, Any]) -> Response:
        name = body["SchemaName"].lower()
        if name in self.entities:
            return error(400, "0x80047013", f"An entity with the specified name {name} already exists.")
        primary = [a for a in body["Attributes"] if a.get("IsPrimaryName")]
        if body.get("IsActivity") and (len(primary) != 1 or primary[0]["SchemaName"] != "Subject"):
            return error(400, "0x80040203", "The primary attribute of an activity must be Subject.")
        if body.get("IsActivity") and (
            not body.get("IsAvailableOffline") or body["IsMailMergeEnabled"]["Value"]
        ):
            return error(400, "0x80040203", "A custom activity must be offline-enabled and not mail-merge.")
        entity = {k: v for k, v in body.items() if k != "Attributes"}
        entity["LogicalName"] = name
        entity.setdefault("EntitySetName", name + "s")
        entity["MetadataId"] = str(uuid.uuid4())
        attributes = {
            a["SchemaName"].lower(): {**a, "LogicalName": a["SchemaName"].lower()} for a in body["Attributes"]
        }
        if body.get("IsActivity"):
            for inherited in _ACTIVITY_COLUMNS - set(attributes):
                attributes[inherited] = {
                    "LogicalName": inherited,
                    "AttributeType": "String",
                    "SchemaName": inherited,
                }
        entity["Attributes"] = attributes
        self.entities[name] = entity
        return Response(
            status=204,
            headers={"OData-EntityId": f"{self.url}{API}/EntityDefinitions({entity['MetadataId']})"},
        )

    def _metadata(self, request: Request, name: str, rest: str, body: Any) -> Response:
        entity = self.entities.get(name)
        if entity is None:
            return error(404, "0x80040217", f"Could not find an entity with the logical name '{name}'.")
        attributes: dict[str, dict[str, Any]] = entity["Attributes"]
        if rest == "" and request.method == "GET":
            fields = request.args.get("$select", "").split(",")
            return Response(json.dumps({k: entity.get(k) for k in fields}), content_type="application/json")
        if rest == "/Attributes" and request.method == "POST":
            logical = body["SchemaName"].lower()
            if logical in attributes:
                return error(400, "0x80044363", f"An attribute with the name {logical} already exists.")
            attributes[logical] = {**body, "LogicalName": logical, "MetadataId": str(uuid.uuid4())}
            return Response(status=204)
        if match := re.fullmatch(rf"/Attributes(?:/{CRM}\.(\w+))?", rest):
            kind = match[1]
            chosen = [
                a
                for a in attributes.values()
                if kind is None
                or a.get("@odata.type") == f"#{CRM}.{kind}"
                or a.get("@odata.type") == f"{CRM}.{kind}"
            ]
            fields = request.args.get("$select", "LogicalName").split(",")
            value = [{k: a.get(k) for k in fields} for a in chosen]
            return Response(json.dumps({"value": value}), content_type="application/json")
        if match := re.fullmatch(rf"/Attributes\(LogicalName='(\w+)'\)(?:/{CRM}\.(\w+))?", rest):
            attribute = attributes.get(match[1])
            if attribute is None:
                return error(404, "0x80040217", f"Could not find attribute {match[1]}.")
            if request.method == "GET":
                found = {
                    **attribute,
                    "@odata.context": f"{self.url}{API}/$metadata#x",
                    "@odata.type": f"#{CRM}.{match[2]}",
                }
                return Response(json.dumps(found), content_type="application/json")
            if request.method == "PUT":
                if request.headers.get("MSCRM.MergeLabels") != "true":
                    return error(400, "0x80040203", "labels would be lost without MSCRM.MergeLabels")
                if body.get("AttributeType") != attribute.get("AttributeType"):
                    return error(400, "0x80040203", "an attribute's type cannot change")
                attributes[match[1]] = {**body, "LogicalName": match[1]}
                return Response(status=204)
        return error(405, "0x80060888", f"{request.method} {rest} is not supported here")


# --- the stand-in's own behaviour -------------------------------------------------------------------


@pytest.fixture
def standin(httpserver: HTTPServer) -> DataverseStandIn:
    found = DataverseStandIn(httpserver)
    found.provision()
    return found


def raw(
    standin: DataverseStandIn, method: str, path: str, bearer: str = "token-1", **kwargs: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{standin.url}{API}/{path}", headers=headers, timeout=5, **kwargs)


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


def mirror_for(
    standin: DataverseStandIn,
    store: ConversationStore,
    *,
    tokens: FakeTokens | None = None,
    create_leads: bool = False,
    clock: Callable[[], float] = time.monotonic,
    **client_options: Any,
) -> DataverseMirror:
    """The mirror as `composition.get_mirror` builds it, pointed at the stand-in, never sleeping."""
    client = standin.client(tokens, **client_options)
    resolver = RegardingResolver(store, PhoneDirectory(client, create_leads=create_leads), clock=clock)
    return DataverseMirror(store, client, standin.table, resolver)
