"""A local stand-in for the Dataverse Web API: in memory, strict where the app depends on Dataverse,
so a test (or `make run`) that passes against it makes requests Dataverse would accept. PATCH
creates then updates by id, `If-None-Match: *` refuses to overwrite, columns must exist in the
table's metadata (created by the real provisioning command), lookups by phone return 0, 1 or 2
records, 429 carries `Retry-After`, a revoked or unknown token gets 401.

Two ways to run it: inside a test, on pytest-httpserver's server (`DataverseStandIn(httpserver)`,
accepting the tests' `token-<n>` from `FakeTokens`); or as a long-lived local server
(`local_dataverse()`, which `python -m devhost run` starts when `DATAVERSE_URL` is a loopback address
with a port), accepting only the fixed local token the app sends to a Dataverse on this machine
(`shared.dataverse.tokens.LOCAL_DATAVERSE_TOKEN`), seeded with the demo customers and an agent, and
showing its rows at `GET /standin/rows`.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests
from odata_query import ast as odata
from odata_query.exceptions import ODataException, ODataSyntaxError
from odata_query.grammar import ODataLexer, ODataParser
from werkzeug import Request, Response
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from shared.config import Settings
from shared.conversations.ports import ConversationStore
from shared.dataverse.client import DataverseClient
from shared.dataverse.mirror import DataverseMirror
from shared.dataverse.provision import SchemaProvisioner
from shared.dataverse.regarding import PhoneDirectory, RegardingResolver
from shared.dataverse.schema import TableNames
from shared.dataverse.tokens import LOCAL_DATAVERSE_TOKEN, TokenProvider, is_loopback_url, token_provider_for

if TYPE_CHECKING:  # tests hand in pytest-httpserver's server; a local run serves with werkzeug itself
    from pytest_httpserver import HTTPServer

API = "/api/data/v9.2"
CRM = "Microsoft.Dynamics.CRM"
_ROW = re.compile(r"^(?P<set>[A-Za-z0-9_]+)\((?P<id>[0-9a-fA-F-]{36})\)$")
# A relationship by its schema name, an alternate key, cast to its type to read the type's properties.
_RELATIONSHIP = re.compile(
    r"RelationshipDefinitions\(SchemaName='(?P<name>\w+)'\)/Microsoft\.Dynamics\.CRM\.OneToManyRelationshipMetadata"
)
_ENTITY = re.compile(r"^EntityDefinitions\(LogicalName='(?P<name>[a-z0-9_]+)'\)(?P<rest>.*)$")
# The activity columns every activity table inherits (activitypointer EntityType,
# https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/activitypointer):
# the mirror writes `sortdate`, `actualstart`, `actualend`, `overriddencreatedon` and the state.
_ACTIVITY_COLUMNS = {
    "subject",
    "description",
    "activityid",
    "regardingobjectid",
    "actualstart",
    "actualend",
    "sortdate",
    "overriddencreatedon",
    "statecode",
    "statuscode",
}
# An activity's `description` is a memo (multiline text); its length here stands for whatever the
# environment created, which provisioning checks rather than trusts.
_INHERITED_DESCRIPTION_LENGTH = 2000
# Security roles (https://learn.microsoft.com/power-apps/developer/data-platform/security-roles):
# creating a table makes its privileges (prvCreate<table>, prvRead<table>, ...: SecurityPrivilegeMetadata,
# `EntityDefinitions(...)/Privileges`) and gives them to no role but System Administrator/Customizer.
# A role is copied into every business unit; the root business unit's copy has no parent role.
# Depths: PrivilegeDepth Basic 0 (user), Local 1 (business unit), Deep 2 (parent: child BUs), Global 3
# (organization) (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/privilegedepth).
_PRIVILEGE_TYPES = ("Create", "Read", "Write", "Delete", "Assign", "Share", "Append", "AppendTo")
_DEPTHS = ("Basic", "Local", "Deep", "Global")
ROOT_BUSINESS_UNIT = "5b2f1e7c-4a3d-4c8e-9f10-2d6a7b8c9d01"
_ROLE = re.compile(r"^roles\((?P<id>[0-9a-fA-F-]{36})\)/Microsoft\.Dynamics\.CRM\.AddPrivilegesRole$")
_ROLE_PRIVILEGES = re.compile(r"^RetrieveRolePrivilegesRole\(RoleId=(?P<id>[0-9a-fA-F-]{36})\)$")
# The tests' tokens (FakeTokens); a token refused by `revoke` is 401 even so.
_METADATA_PATH = re.compile(r"^/api/data/v9\.2/(EntityDefinitions|RelationshipDefinitions|PublishXml)\b")
_TEST_TOKEN = re.compile(r"token-\d+")


class _DataRequestLog(WSGIRequestHandler):
    """The server's request log without the metadata calls: provisioning makes some forty at every
    `make run`, while the mirror's reads and writes are what a developer watches for."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not _METADATA_PATH.match(self.path):
            super().log_request(code, size)


class _FixedToken:
    def __init__(self, token: str):
        self._token = token

    def token(self, *, force_refresh: bool = False) -> str:
        return self._token


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
# Merge and qualification leave these on the record (contact and lead table references,
# https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact): `merged`,
# the lookup `masterid` (read as `_masterid_value`), and on a contact `originatingleadid`.
for _columns in _RECORD_COLUMNS.values():
    _columns |= {"merged", "_masterid_value"}
    # The owner, a user or a team: `ownerid`, and which of `owninguser`/`owningteam` holds it.
    _columns |= {"_ownerid_value", "_owninguser_value", "_owningteam_value"}
_RECORD_COLUMNS["contacts"].add("_originatingleadid_value")
_ROLE_COLUMNS = {"roleid", "name", "_businessunitid_value", "_parentroleid_value"}
# `$top` limits the rows returned (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-data-web-api):
# a non-negative integer (OData `$top`); a page holds at most 5,000 rows
# (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results).
_MAX_PAGE = 5000


class FilterRefused(Exception):
    """A `$filter` or `$select` Dataverse answers 400 to, with its error code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_filter(text: str) -> odata._Node:
    """`$filter` parsed by odata-query's OData v4 grammar: Dataverse's comparison (eq, ne, ...),
    logical (and, or, not) and grouping operators, literals as OData writes them (strings with a
    doubled quote, GUIDs and null unquoted)
    (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows).
    What does not parse is 0x80060888 "Syntax error at position N" (the code is the one Dataverse
    gives OData errors, https://learn.microsoft.com/troubleshoot/power-platform/dataverse/dataverse-web-api-and-sdk/web-api-client-errors;
    the exact wording of a syntax error is not documented there)."""
    try:
        tree: odata._Node = ODataParser().parse(ODataLexer().tokenize(text))
    except ODataSyntaxError as refused:
        token = getattr(refused, "token", None)
        at = getattr(token, "index", len(text)) if token is not None else len(text)
        raise FilterRefused("0x80060888", f"Syntax error at position {at} in '{text}'.") from refused
    except ODataException as refused:  # an unknown function, a wrong argument count
        raise FilterRefused("0x80060888", str(refused)) from refused
    return tree


def unknown_property(names: list[str], columns: set[str] | None, entity: str) -> FilterRefused | None:
    """A name the table lacks: "Could not find a property named 'x' on type
    'Microsoft.Dynamics.CRM.contact'" (400; web-api-client-errors, above). The page shows code 0x0;
    the stand-in keeps the OData code 0x80060888 its `$select` check already answered with."""
    for name in names:
        if columns is not None and name not in columns:
            return FilterRefused(
                "0x80060888", f"Could not find a property named '{name}' on type '{CRM}.{entity}'."
            )
    return None


def filter_columns(node: odata._Node) -> list[str]:
    """Every column a parsed `$filter` names."""
    if isinstance(node, odata.Identifier):
        return [node.name]
    if isinstance(node, (odata.Compare, odata.BoolOp)):
        return filter_columns(node.left) + filter_columns(node.right)
    if isinstance(node, odata.UnaryOp):
        return filter_columns(node.operand)
    return []


def _literal(node: odata._Node) -> Any:
    if isinstance(node, odata.Null):
        return None
    if isinstance(node, odata.Integer):
        return int(node.val)
    if isinstance(node, odata.Boolean):
        return node.val.lower() == "true"
    if isinstance(node, odata.GUID):
        return node.val.lower()
    if isinstance(node, odata.String):
        return node.val  # odata-query has already undoubled '' to '
    raise FilterRefused("0x80060888", f"The stand-in does not evaluate {type(node).__name__} in $filter.")


def matches(node: odata._Node, row: dict[str, Any]) -> bool:
    """Whether a row passes a parsed `$filter` (eq, ne, and, or, not, parentheses); a GUID literal
    is lowered, as the stand-in keeps ids (GUIDs compare case-insensitively)."""
    if isinstance(node, odata.BoolOp):
        if isinstance(node.op, odata.And):
            return matches(node.left, row) and matches(node.right, row)
        return matches(node.left, row) or matches(node.right, row)
    if isinstance(node, odata.UnaryOp) and isinstance(node.op, odata.Not):
        return not matches(node.operand, row)
    if isinstance(node, odata.Compare) and isinstance(node.left, odata.Identifier):
        value = row.get(node.left.name)
        wanted = _literal(node.right)
        if isinstance(node.comparator, odata.Eq):
            return bool(value == wanted)
        if isinstance(node.comparator, odata.NotEq):
            return bool(value != wanted)
    raise FilterRefused("0x80060888", f"The stand-in does not evaluate {node!r} in $filter.")


def top_of(request: Request) -> int:
    """`$top` as a row count: a non-negative integer, else 400 (see `_MAX_PAGE`)."""
    text = request.args.get("$top")
    if text is None:
        return _MAX_PAGE
    if not text.isdigit():
        raise FilterRefused("0x80060888", f"Invalid value '{text}' for $top query option found.")
    return min(int(text), _MAX_PAGE)


# A column is created or updated as one of the AttributeMetadata types, named by `@odata.type`
# (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-column-definitions-using-web-api),
# each with its AttributeType (AttributeTypeCode,
# https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/attributetypecode)
# and AttributeTypeName. A string holds at most 4,000 characters, a memo 1,048,576 (MaxSupportedLength,
# https://learn.microsoft.com/dotnet/api/microsoft.xrm.sdk.metadata.stringattributemetadata.maxsupportedlength
# and .../memoattributemetadata.maxsupportedlength).
_ATTRIBUTE_TYPES = {  # @odata.type -> (AttributeType, AttributeTypeName, largest MaxLength)
    "StringAttributeMetadata": ("String", "StringType", 4000),
    "MemoAttributeMetadata": ("Memo", "MemoType", 1_048_576),
    "IntegerAttributeMetadata": ("Integer", "IntegerType", None),
    "BigIntAttributeMetadata": ("BigInt", "BigIntType", None),
    "DateTimeAttributeMetadata": ("DateTime", "DateTimeType", None),
    "BooleanAttributeMetadata": ("Boolean", "BooleanType", None),
    "DecimalAttributeMetadata": ("Decimal", "DecimalType", None),
    "DoubleAttributeMetadata": ("Double", "DoubleType", None),
    "MoneyAttributeMetadata": ("Money", "MoneyType", None),
    "PicklistAttributeMetadata": ("Picklist", "PicklistType", None),
    "LookupAttributeMetadata": ("Lookup", "LookupType", None),
}


def attribute_refusal(body: dict[str, Any]) -> Response | None:
    """An attribute definition Dataverse refuses: an `@odata.type` that is no metadata type (OData's
    "could not be resolved by the model"), an AttributeType or AttributeTypeName that is not that
    type's, a MaxLength past the type's largest. The codes are not documented: 0x80060888 (OData) and
    0x80040203 (invalid argument) stand in."""
    named = str(body.get("@odata.type") or "").removeprefix("#")
    kind = named.removeprefix(f"{CRM}.")
    if kind not in _ATTRIBUTE_TYPES or named == kind:
        return error(
            400,
            "0x80060888",
            f"A type named '{named}' could not be resolved by the model. When a model is available, "
            "each type name must resolve to a valid type.",
        )
    attribute_type, type_name, longest = _ATTRIBUTE_TYPES[kind]
    given_name = (body.get("AttributeTypeName") or {}).get("Value", type_name)
    if body.get("AttributeType", attribute_type) != attribute_type or given_name != type_name:
        return error(
            400,
            "0x80040203",
            f"{kind} has AttributeType {attribute_type} ({type_name}), not {body.get('AttributeType')} "
            f"({given_name}).",
        )
    length = body.get("MaxLength")
    fits = isinstance(length, int) and 1 <= length <= (longest or 0)
    if longest is not None and length is not None and not fits:
        return error(400, "0x80040203", f"MaxLength {length!r} is out of range for {kind} (1 to {longest}).")
    return None


APP_USER_ID = "9d5e1c0a-3b7f-4e21-8a6c-5f4d3e2b1a09"


@dataclass
class DataverseUser:
    """A user the app may impersonate: which rows of each table their roles and sharing let them read
    (`None`: the table's read privilege at organisation depth; a set: just those rows)."""

    systemuserid: str
    reads: dict[str, set[str] | None] = field(default_factory=dict)


class DataverseStandIn:
    """Dataverse as far as the mirror, provisioning and the access checks use it, in memory.

    `server`: a test's pytest-httpserver, which then routes the Web API here; without it, serve it
    yourself with `start_in_background`. `accepted_token`: the one bearer token accepted (as
    Dataverse accepts only its own tokens: any other is 401); None accepts the tests' `token-<n>`.
    `keep_requests`: how many requests `seen` keeps (None: all, as a test wants; a long-lived server
    keeps the last few)."""

    def __init__(
        self,
        server: HTTPServer | None = None,
        prefix: str = "wa",
        *,
        has_leads: bool = True,
        accepted_token: str | None = None,
        keep_requests: int | None = None,
    ):
        self.server = server
        self.accepted_token = accepted_token
        self.keep_requests = keep_requests
        self._own_server: BaseWSGIServer | None = None
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
        self.teams: set[str] = set()  # teamid of the teams that may own rows
        self.app_may_impersonate = True
        # Links the application user may not make: tables whose prvAppendTo<table> its role lacks.
        self.no_append_to: set[str] = set()
        # Whether the application user's role lacks Assign on the activity table (prvAssign<table>),
        # needed to create a row owned by another user.
        self.no_assign = False
        # Whether the application user's role lacks Create on Notification (appnotification).
        self.no_notifications = False
        self.app_settings: dict[tuple[str, str], str] = {}  # (app unique name, setting) -> value
        # Whether Dataverse refuses an activity's link to an inactive record is not documented; by
        # default the stand-in refuses (as issue 13 reports), and tests also run it accepting.
        self.refuse_inactive_links = True
        self.roles: dict[str, dict[str, Any]] = {}  # roleid -> role row plus "privileges": {id: depth}
        self.relationships: dict[str, dict[str, Any]] = {}  # schema name -> OneToManyRelationshipMetadata
        # Dataverse (Azure App Service) answers with a server-affinity cookie
        # (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits#remove-the-affinity-cookie).
        self.affinity_cookie = "ARRAffinity=standin-web-server-1; Path=/; HttpOnly"
        if server is not None:
            server.expect_request(re.compile(r"^/api/data/v9\.2/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        if self.server is not None:
            return self.server.url_for("/").rstrip("/")
        if self._own_server is None:
            raise RuntimeError("the stand-in is not serving; call start_in_background() first")
        host = self._own_server.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self._own_server.port}"

    def client(self, tokens: TokenProvider | None = None, **options: Any) -> DataverseClient:
        """A client of this stand-in, never sleeping, with tokens it accepts unless others are given."""
        options.setdefault("sleep", lambda seconds: None)
        if tokens is None:
            tokens = FakeTokens() if self.accepted_token is None else _FixedToken(self.accepted_token)
        return DataverseClient(self.url, tokens, **options)

    def provision(self) -> None:
        """The activity table as the provisioning command creates it, then a clean request log."""
        SchemaProvisioner(self.client(), self.table, say=lambda line: None).run()
        self.seen.clear()

    # --- arranging ------------------------------------------------------------------------------

    def add_contact(
        self,
        mobilephone: str | None = None,
        telephone1: str | None = None,
        *,
        row_id: str | None = None,
        **extra: Any,
    ) -> str:
        return self._add("contacts", "contactid", mobilephone, telephone1, extra, row_id)

    def add_lead(
        self,
        mobilephone: str | None = None,
        telephone1: str | None = None,
        *,
        row_id: str | None = None,
        **extra: Any,
    ) -> str:
        return self._add("leads", "leadid", mobilephone, telephone1, extra, row_id)

    def _add(
        self,
        entity_set: str,
        key: str,
        mobile: str | None,
        phone: str | None,
        extra: Any,
        row_id: str | None = None,
    ) -> str:
        new_id = (row_id or str(uuid.uuid4())).lower()
        with self.lock:
            self.rows[entity_set][new_id] = {
                key: new_id,
                "mobilephone": mobile,
                "telephone1": phone,
                "telephone2": None,
                "statecode": 0,
                "_ownerid_value": None,
                "_owninguser_value": None,
                "_owningteam_value": None,
                **extra,
            }
        return new_id

    @staticmethod
    def owned_by(user: DataverseUser | None = None, team: str | None = None) -> dict[str, Any]:
        """A record's owner columns: `add_contact(..., **standin.owned_by(user))`."""
        owner = user.systemuserid if user else team
        return {"_ownerid_value": owner, "_owninguser_value": user and owner, "_owningteam_value": team}

    def add_team(self) -> str:
        team = str(uuid.uuid4())
        self.teams.add(team)
        return team

    def merge(self, entity_set: str, subordinate: str, master: str) -> None:
        """Merge moves the subordinate's data to the target, then deactivates the subordinate (not a
        delete), marking it `merged` with `masterid`
        (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/merge-entity-using-web-api)."""
        with self.lock:
            self.rows[entity_set][subordinate] |= {"statecode": 1, "merged": True, "_masterid_value": master}

    def qualify(self, lead: str, **contact: Any) -> str:
        """QualifyLead with CreateContact: a contact "linked to the originating lead record"
        (`originatingleadid`) and the lead Qualified, statecode 1 / statuscode 3
        (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/qualifylead)."""
        with self.lock:
            self.rows["leads"][lead] |= {"statecode": 1, "statuscode": 3}
        return self.add_contact(_originatingleadid_value=lead, **contact)

    def add_user(self, object_id: str, **reads: set[str] | None) -> DataverseUser:
        """`add_user(oid, contacts={id1}, leads=None)`: reads contact id1 and every lead."""
        user = DataverseUser(str(uuid.uuid4()), dict(reads))
        self.users[object_id] = user
        return user

    def add_role(self, name: str, business_unit: str = ROOT_BUSINESS_UNIT, parent: str | None = None) -> str:
        """A security role holding nothing on the app's table (as every role but the admins' does)."""
        role_id = str(uuid.uuid4())
        self.roles[role_id] = {
            "roleid": role_id,
            "name": name,
            "_businessunitid_value": business_unit,
            "_parentroleid_value": parent,
            "privileges": {},
        }
        return role_id

    def role_depth(self, role_id: str, privilege_name: str) -> str | None:
        entity = next(e for e in self.entities.values() if privilege_name.endswith(e["LogicalName"]))
        privilege = next(p for p in entity["Privileges"] if p["Name"] == privilege_name)
        depth: str | None = self.roles[role_id]["privileges"].get(privilege["PrivilegeId"])
        return depth

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

    def start_in_background(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on `host:port` (0: any free port) until `stop`, in a thread (a long-lived local server)."""
        if self.server is not None:
            raise RuntimeError("this stand-in is served by its test's HTTPServer")
        server = self._own_server = make_server(
            host, port, self, threaded=True, request_handler=_DataRequestLog
        )
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._own_server is not None:
            self._own_server.shutdown()
            self._own_server.server_close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI app of a stand-in serving itself: the Web API, and the local `/standin/` routes."""
        request = Request(environ)
        if request.path.startswith(API + "/"):
            response = self.handle(request)
        elif request.path == "/standin/rows" and request.method == "GET":
            response = self._rows_view()
        elif request.path == "/standin/users" and request.method == "POST":
            response = self._add_agent(request)
        else:
            response = error(404, "0x8006088a", f"Resource not found for the segment '{request.path}'.")
        return response(environ, start_response)

    def _rows_view(self) -> Response:
        """Every row the stand-in holds, by entity set (the activity table first), and its agents."""
        with self.lock:
            tables = {self.table.entity_set: list(self.activities.values())}
            tables |= {name: list(rows.values()) for name, rows in self.rows.items() if name not in tables}
            users = [
                {"azureactivedirectoryobjectid": oid, "systemuserid": user.systemuserid}
                for oid, user in self.users.items()
            ]
        return Response(
            json.dumps({**tables, "systemusers": users}, indent=2), content_type="application/json"
        )

    def _add_agent(self, request: Request) -> Response:
        """`{"objectId": "<Entra object id>"}`: a user who reads every contact and lead, so a local
        run with sign-in on (AUTH_DISABLED=false) can check records as that agent."""
        body = request.get_json(force=True, silent=True)
        try:
            object_id = str(uuid.UUID(str(body.get("objectId") if isinstance(body, dict) else None)))
        except ValueError:
            return error(400, "0x80040203", 'Send {"objectId": "<the agent\'s Entra object id, a GUID>"}.')
        with self.lock:
            user = self.users.get(object_id) or self.add_user(object_id, contacts=None, leads=None)
        return Response(
            json.dumps({"azureactivedirectoryobjectid": object_id, "systemuserid": user.systemuserid}),
            status=201,
            content_type="application/json",
        )

    def _token_accepted(self, token: str) -> bool:
        if token in self.revoked:
            return False
        if self.accepted_token is not None:
            return token == self.accepted_token
        return _TEST_TOKEN.fullmatch(token) is not None

    def handle(self, request: Request) -> Response:
        path = unquote(request.path[len(API) + 1 :])
        body = json.loads(request.get_data()) if request.get_data() else None
        with self.lock:
            self.seen.append(Seen(request.method, path, dict(request.args), dict(request.headers), body))
            if self.keep_requests is not None and len(self.seen) > self.keep_requests:
                del self.seen[: len(self.seen) - self.keep_requests]
            token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
            if not self._token_accepted(token):
                return Response(status=401, headers={"WWW-Authenticate": "Bearer authorization_uri=x"})
            fault = self.faults[0] if self.faults else None
            if fault is not None and request.method in fault.methods:
                self.faults.popleft()
                if fault.delay:
                    time.sleep(fault.delay)  # then a status (if any) the client has stopped waiting for
                if not fault.delay or fault.status:
                    return error(
                        fault.status,
                        (fault.body or {}).get("code", ""),
                        (fault.body or {}).get("message", ""),
                        fault.headers,
                    )
            response = self._route(request, path, body)
            if self.affinity_cookie:
                response.headers.add("Set-Cookie", self.affinity_cookie)
            return response

    def _route(self, request: Request, path: str, body: Any) -> Response:
        if path == "PublishXml" and request.method == "POST":
            self.published.append(body["ParameterXml"])
            return Response(status=204)
        if path == "EntityDefinitions" and request.method == "POST":
            return self._create_entity(body)
        if match := _ENTITY.match(path):
            return self._metadata(request, match["name"], match["rest"], body)
        if path == "SaveSettingValue" and request.method == "POST":
            # An app setting by the app's unique name (in-app notifications: AllowNotificationsEarlyAccess).
            self.app_settings[(body["AppUniqueName"], body["SettingName"])] = body["Value"]
            return Response(status=204)
        if path == "RelationshipDefinitions" and request.method == "POST":
            return self._create_relationship(body)
        if (match := _RELATIONSHIP.fullmatch(path)) and request.method == "GET":
            return self._read_relationship(request, match["name"])
        if path == "roles" and request.method == "GET":
            return self._query_roles(request)
        if path == "systemusers" and request.method == "GET":
            return self._query_systemusers(request)
        if (match := _ROLE_PRIVILEGES.match(path)) and request.method == "GET":
            return self._role_privileges(match["id"].lower())
        if (match := _ROLE.match(path)) and request.method == "POST":
            return self._add_privileges(match["id"].lower(), body)
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

    def _notification(self, request: Request, row_id: str, body: dict[str, Any]) -> Response:
        """An in-app notification: the columns of the Notification table, a user (never a team) as
        owner, `data` at most 5,000 characters (Send in-app notifications within model-driven apps,
        https://learn.microsoft.com/power-apps/developer/model-driven-apps/clientapi/send-in-app-notifications).
        Sending to others needs the application user's Create and Read on it (same page, "Managing
        security for notifications"): `no_notifications` stands for a role without them."""
        if self.no_notifications:
            return error(
                403,
                "0x80040220",
                f"Principal user (Id={APP_USER_ID}, type=8, roleCount=1) is missing "
                "prvCreateappnotification privilege",
            )
        allowed = {"title", "body", "icontype", "toasttype", "ttlinseconds", "data", "ownerid@odata.bind"}
        if unknown := set(body) - allowed:
            return error(
                400,
                "0x80060888",
                f"Invalid property '{sorted(unknown)[0]}' was found in entity 'appnotification'.",
            )
        owner = re.fullmatch(r"/systemusers\(([0-9a-f-]{36})\)", str(body.get("ownerid@odata.bind", "")))
        if owner is None:
            return error(
                400, "0x80040203", "A notification is sent to one user: ownerid must bind a systemuser."
            )
        if owner[1] not in {u.systemuserid for u in self.users.values()}:
            return error(404, "0x80040217", f"systemuser With Id = {owner[1]} Does Not Exist")
        if len(str(body.get("data", ""))) > 5000 or not str(body.get("title", "")):
            return error(400, "0x80044331", "A validation error occurred on appnotification.")
        rows = self.rows["appnotifications"]
        if request.headers.get("If-None-Match") == "*" and row_id in rows:
            return error(412, "0x80040237", "A record with matching key values already exists.")
        rows[row_id] = {
            "appnotificationid": row_id,
            **{k: v for k, v in body.items() if "@" not in k},
            "_ownerid_value": owner[1],
        }
        return Response(status=204)

    def _upsert(self, request: Request, entity_set: str, row_id: str, body: dict[str, Any]) -> Response:
        if entity_set == "appnotifications":
            return self._notification(request, row_id, body)
        if not self._known_set(entity_set):
            return error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        entity = next((e for e in self.entities.values() if e["EntitySetName"] == entity_set), None)
        values: dict[str, Any] = {}
        for key, value in body.items():
            if key == "ownerid@odata.bind":  # a user (or team) that must exist, as a regarding target must
                owner = re.fullmatch(r"/(systemusers|teams)\(([0-9a-f-]{36})\)", value)
                if owner is None:
                    return error(400, "0x80060888", f"Invalid navigation property '{key}'.")
                kind, owner_id = owner[1][:-1], owner[2]
                known = {u.systemuserid for u in self.users.values()} if kind == "systemuser" else self.teams
                if owner_id not in known:
                    return error(404, "0x80040217", f"{kind} With Id = {owner_id} Does Not Exist")
                if self.no_assign and entity is not None:
                    return error(
                        403,
                        "0x80040220",
                        f"Principal user (Id={APP_USER_ID}, type=8, roleCount=1) is missing "
                        f"prvAssign{entity['LogicalName']} privilege",
                    )
                values |= {"_ownerid_value": owner_id, "owneridtype": kind}
                continue
            lookup = self._lookup_of(entity, key) if entity is not None else None
            if lookup is not None:
                # A lookup bound by its navigation property to a user that must exist.
                user = re.fullmatch(r"/systemusers\(([0-9a-f-]{36})\)", value)
                if user is None:
                    return error(400, "0x80060888", f"Invalid navigation property '{key}'.")
                if user[1] not in {u.systemuserid for u in self.users.values()}:
                    return error(404, "0x80040217", f"systemuser With Id = {user[1]} Does Not Exist")
                values[f"_{lookup}_value"] = user[1]
                continue
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
                if target[1] in self.no_append_to:  # the missing-privilege wording of client-errors
                    return error(
                        403,
                        "0x80040220",
                        f"Principal user (Id={APP_USER_ID}, type=8, roleCount=1) is missing "
                        f"prvAppendTo{target[1][:-1]} privilege on OTC for entity '{target[1][:-1]}'",
                    )
                if self.refuse_inactive_links and self.rows[target[1]][target[2]].get("statecode", 0) != 0:
                    # Undocumented: a generic invalid-argument code, naming the record.
                    return error(400, "0x80040203", f"{target[1][:-1]} With Id = {target[2]} is not active")
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
        if entity is not None:
            refused = self._refusal(entity, rows.get(row_id), values)
            if refused is not None:
                return refused
            if exists:  # `overriddencreatedon` is valid on create only: `createdon` is set once
                values.pop("overriddencreatedon", None)
        rows.setdefault(row_id, {"activityid" if entity else "id": row_id}).update(values)
        return Response(status=204, headers={"OData-EntityId": f"{self.url}{API}/{entity_set}({row_id})"})

    @staticmethod
    def _refusal(
        entity: dict[str, Any], current: dict[str, Any] | None, values: dict[str, Any]
    ) -> Response | None:
        """A text longer than its column's `MaxLength` is refused. A Completed (1) or Canceled (2)
        activity refuses any update but reopening it (statecode 0, with its statuscode): "Cannot update
        Closed or Cancelled Activity" (https://github.com/seanmcne/Microsoft.Xrm.Data.PowerShell/issues/222,
        reopened there with SetState; the Web API's SetState is a PATCH of statecode and statuscode).
        Neither answer's code is documented: 0x80044331 and 0x80040203 (invalid argument) stand in."""
        for key, value in values.items():
            limit = entity["Attributes"].get(key, {}).get("MaxLength")
            if isinstance(value, str) and isinstance(limit, int) and len(value) > limit:
                return error(
                    400,
                    "0x80044331",
                    f"A validation error occurred. The length of the '{key}' attribute of the "
                    f"'{entity['LogicalName']}' entity exceeded the maximum allowed length of '{limit}'.",
                )
        reopening = set(values) <= {"statecode", "statuscode"} and values.get("statecode") == 0
        if entity.get("IsActivity") and current and current.get("statecode") in (1, 2) and not reopening:
            return error(400, "0x80040203", "Cannot update Closed or Cancelled Activity")
        return None

    def _columns(self, entity_set: str) -> set[str] | None:
        """The properties a query may name on a table (None: a table the stand-in does not model)."""
        if entity_set in _RECORD_COLUMNS:
            return _RECORD_COLUMNS[entity_set]
        entity = next((e for e in self.entities.values() if e["EntitySetName"] == entity_set), None)
        if entity is None:
            return None
        return set(entity["Attributes"]) | {
            "activityid",
            "_regardingobjectid_value",
            "regardingobjecttypecode",
        }

    @staticmethod
    def _filtered(request: Request, rows: Any, entity: str, columns: set[str] | None) -> list[dict[str, Any]]:
        """The rows `$filter` keeps, cut to `$top`, with the `$select` columns (FilterRefused: 400)."""
        text = request.args.get("$filter")
        tree = parse_filter(text) if text is not None else None
        select = request.args.get("$select")
        fields = select.split(",") if select else []
        refused = unknown_property(fields + (filter_columns(tree) if tree else []), columns, entity)
        if refused is not None:
            raise refused
        top = top_of(request)
        found = [row for row in rows if tree is None or matches(tree, row)][:top]
        return [{k: row.get(k) for k in fields} for row in found] if fields else found

    def _query(self, request: Request, entity_set: str) -> Response:
        if not self._known_set(entity_set):
            return error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        try:
            found = self._filtered(
                request, self.rows[entity_set].values(), entity_set[:-1], self._columns(entity_set)
            )
        except FilterRefused as refused:
            return error(400, refused.code, refused.message)
        payload = {"@odata.context": f"{self.url}{API}/$metadata#{entity_set}", "value": found}
        return Response(json.dumps(payload), content_type="application/json")

    # --- security roles ------------------------------------------------------------------------

    def _query_roles(self, request: Request) -> Response:
        """`roles?$filter=name eq '<name>' and _parentroleid_value eq null` (the root BU's copy)."""
        rows = [{k: v for k, v in role.items() if k != "privileges"} for role in self.roles.values()]
        try:
            found = self._filtered(request, rows, "role", _ROLE_COLUMNS)
        except FilterRefused as refused:
            return error(400, refused.code, refused.message)
        return Response(json.dumps({"value": found}), content_type="application/json")

    def _query_systemusers(self, request: Request) -> Response:
        """`systemusers?$select=systemuserid&$filter=azureactivedirectoryobjectid eq <guid>` (systemuser
        table reference, https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/systemuser)."""
        rows = [
            {"systemuserid": u.systemuserid, "azureactivedirectoryobjectid": oid.lower()}
            for oid, u in self.users.items()
        ]
        try:
            found = self._filtered(
                request, rows, "systemuser", {"systemuserid", "azureactivedirectoryobjectid"}
            )
        except FilterRefused as refused:
            return error(400, refused.code, refused.message)
        return Response(json.dumps({"value": found}), content_type="application/json")

    def _role_privileges(self, role_id: str) -> Response:
        """RetrieveRolePrivilegesRole: RolePrivilege {Depth, PrivilegeId, BusinessUnitId, PrivilegeName}
        (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrieveroleprivilegesrole)."""
        role = self.roles.get(role_id)
        if role is None:
            return error(404, "0x80040217", f"role With Id = {role_id} Does Not Exist")
        held = [
            {"Depth": depth, "PrivilegeId": privilege, "BusinessUnitId": role["_businessunitid_value"]}
            for privilege, depth in role["privileges"].items()
        ]
        return Response(json.dumps({"RolePrivileges": held}), content_type="application/json")

    def _add_privileges(self, role_id: str, body: Any) -> Response:
        """AddPrivilegesRole, bound to a role: adds each RolePrivilege at its Depth, replacing the depth
        of one the role already holds
        (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/addprivilegesrole)."""
        role = self.roles.get(role_id)
        if role is None:
            return error(404, "0x80040217", f"role With Id = {role_id} Does Not Exist")
        known = {p["PrivilegeId"]: p for e in self.entities.values() for p in e.get("Privileges", [])}
        for wanted in (body or {}).get("Privileges") or []:
            privilege = known.get(wanted.get("PrivilegeId"))
            if privilege is None:
                missing = wanted.get("PrivilegeId")
                return error(404, "0x80040217", f"privilege With Id = {missing} Does Not Exist")
            depth = wanted.get("Depth")
            if depth not in _DEPTHS or not privilege[f"CanBe{depth}"]:
                return error(400, "0x80040203", f"Invalid depth {depth!r} for privilege {privilege['Name']}")
        for wanted in body["Privileges"]:
            role["privileges"][wanted["PrivilegeId"]] = wanted["Depth"]
        return Response(status=204)

    # --- metadata -------------------------------------------------------------------------------

    def _lookup_of(self, entity: dict[str, Any], key: str) -> str | None:
        """The lookup column a `<navigation property>@odata.bind` sets, when a relationship has that
        single-valued navigation property on this table (names are case-sensitive, as in OData)."""
        for relationship in self.relationships.values():
            if (
                relationship["ReferencingEntity"] == entity["LogicalName"]
                and f"{relationship['ReferencingEntityNavigationPropertyName']}@odata.bind" == key
            ):
                return str(relationship["ReferencingAttribute"])
        return None

    def _create_relationship(self, body: dict[str, Any]) -> Response:
        """A one-to-many relationship and its lookup column in one POST ("Create a one-to-many
        relationship",
        https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-entity-relationships-using-web-api).
        The lookup's single-valued navigation property takes the lookup's schema name, case included
        (ReferencingEntityNavigationPropertyName, OneToManyRelationshipMetadata,
        https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/onetomanyrelationshipmetadata)."""
        if body.get("@odata.type") != f"{CRM}.OneToManyRelationshipMetadata":
            return error(400, "0x80040203", "The relationship's @odata.type must name its metadata type.")
        name = body["SchemaName"]
        if name in self.relationships:
            return error(400, "0x80047013", f"A relationship with the name {name} already exists.")
        referencing = self.entities.get(body.get("ReferencingEntity", ""))
        if referencing is None or body.get("ReferencedEntity") not in {"systemuser", "contact", "lead"}:
            return error(400, "0x80040203", "Both tables of a relationship must exist.")
        lookup = body.get("Lookup") or {}
        if (
            lookup.get("@odata.type") != f"{CRM}.LookupAttributeMetadata"
            or lookup.get("AttributeType") != "Lookup"
        ):
            return error(400, "0x80040203", "A one-to-many relationship needs its Lookup attribute.")
        logical = lookup["SchemaName"].lower()
        if logical in referencing["Attributes"]:
            return error(400, "0x80044363", f"An attribute with the name {logical} already exists.")
        referencing["Attributes"][logical] = {
            **lookup,
            "LogicalName": logical,
            "MetadataId": str(uuid.uuid4()),
        }
        self.relationships[name] = {
            **{k: v for k, v in body.items() if k != "Lookup"},
            "ReferencingAttribute": logical,
            "ReferencingEntityNavigationPropertyName": lookup["SchemaName"],
            "MetadataId": str(uuid.uuid4()),
        }
        return Response(status=204)

    def _read_relationship(self, request: Request, name: str) -> Response:
        relationship = self.relationships.get(name)
        if relationship is None:
            return error(404, "0x80040217", f"Could not find a relationship with the name {name}.")
        fields = request.args.get("$select", "SchemaName").split(",")
        return Response(json.dumps({k: relationship.get(k) for k in fields}), content_type="application/json")

    def _create_entity(self, body: dict[str, Any]) -> Response:
        name = body["SchemaName"].lower()
        if name in self.entities:
            return error(400, "0x80047013", f"An entity with the specified name {name} already exists.")
        for definition in body["Attributes"]:
            if (refused := attribute_refusal(definition)) is not None:
                return refused
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
        entity["Privileges"] = [
            {
                "PrivilegeId": str(uuid.uuid4()),
                "Name": f"prv{kind}{name}",
                "PrivilegeType": kind,
                **{f"CanBe{depth}": True for depth in _DEPTHS},
            }
            for kind in _PRIVILEGE_TYPES
        ]
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
            attributes["description"] |= {
                "AttributeType": "Memo",
                "@odata.type": f"{CRM}.MemoAttributeMetadata",
                "MaxLength": _INHERITED_DESCRIPTION_LENGTH,
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
        if rest == "/Privileges" and request.method == "GET":
            return Response(json.dumps({"value": entity["Privileges"]}), content_type="application/json")
        if rest == "/Attributes" and request.method == "POST":
            logical = body["SchemaName"].lower()
            if logical in attributes:
                return error(400, "0x80044363", f"An attribute with the name {logical} already exists.")
            if (refused := attribute_refusal(body)) is not None:
                return refused
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
                if (refused := attribute_refusal(body)) is not None:
                    return refused
                attributes[match[1]] = {**body, "LogicalName": match[1]}
                return Response(status=204)
        return error(405, "0x80060888", f"{request.method} {rest} is not supported here")


def raw(
    standin: DataverseStandIn, method: str, path: str, bearer: str = "token-1", **kwargs: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{standin.url}{API}/{path}", headers=headers, timeout=5, **kwargs)


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


# --- the long-lived local server (`python -m devhost run`) ------------------------------------------

# The agent the demo records belong to: rows of their customers' messages are owned by this agent's
# systemuser, as in an environment where agents own their contacts and leads.
LOCAL_AGENT_OBJECT_ID = "7f3e2d1c-0b9a-4f8e-8d7c-6b5a4f3e2d1c"
# The sandbox's demo customer (docs/local-development.md), on the contact the chat panel's
# harness sits on by default (pcf/harness: `record=contact:3f2504e0-...`), in a usual D365 spelling.
DEMO_CONTACT_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
DEMO_CONTACT_PHONE = "+1 555-123-4567"
DEMO_LEAD_ID = "8c1b6a2e-5d4f-4a3b-9e2c-7f6d5e4c3b2a"
DEMO_LEAD_PHONE = "+15552345678"
KEPT_REQUESTS = 500  # a long-lived server keeps only the last requests it saw


def local_dataverse(prefix: str = "wa") -> DataverseStandIn:
    """The stand-in `python -m devhost run` serves: only the fixed local token is accepted, state in
    memory, the last requests kept; an agent (LOCAL_AGENT_OBJECT_ID, reading every contact and lead)
    owning the demo contact Ada Lovelace (+1 555-123-4567) and lead Grace Hopper (+1 555 234 5678).
    Not provisioned: the caller runs the real provisioning against it, as against an environment."""
    standin = DataverseStandIn(
        prefix=prefix, accepted_token=LOCAL_DATAVERSE_TOKEN, keep_requests=KEPT_REQUESTS
    )
    agent = standin.add_user(LOCAL_AGENT_OBJECT_ID, contacts=None, leads=None)
    standin.add_contact(
        DEMO_CONTACT_PHONE, row_id=DEMO_CONTACT_ID, fullname="Ada Lovelace", **standin.owned_by(agent)
    )
    standin.add_lead(
        telephone1=DEMO_LEAD_PHONE,
        row_id=DEMO_LEAD_ID,
        fullname="Grace Hopper",
        subject="Bulk order enquiry",
        **standin.owned_by(agent),
    )
    return standin


def local_dataverse_address(dataverse_url: str) -> tuple[str, int] | None:
    """Where to serve the local stand-in: only for an `http://` loopback `DATAVERSE_URL` with a port."""
    parts = urlsplit(dataverse_url.strip())
    if parts.scheme == "http" and parts.hostname and parts.port and is_loopback_url(dataverse_url):
        return parts.hostname, parts.port
    return None


def start_local_dataverse(settings: Settings) -> DataverseStandIn | None:
    """The local stand-in served at `DATAVERSE_URL` and provisioned there by the provisioning
    command's own code (`python -m shared.dataverse.provision`), with the token the app itself sends
    (`token_provider_for`: the fixed local token); None when `DATAVERSE_URL` is not on this machine."""
    address = local_dataverse_address(settings.DATAVERSE_URL)
    if address is None:
        return None
    standin = local_dataverse(settings.DATAVERSE_TABLE_PREFIX)
    standin.start_in_background(*address)
    try:
        client = DataverseClient(settings.DATAVERSE_URL, token_provider_for(settings))
        SchemaProvisioner(client, standin.table, say=lambda line: None).run()
    except BaseException:
        standin.stop()
        raise
    return standin
