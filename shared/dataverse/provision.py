"""Creates or updates the WhatsApp message activity table through the Web API metadata endpoints.

    python -m shared.dataverse.provision [--solution UniqueName] [--dry-run]
        [--grant-read-to "Salesperson,Customer Service Representative"] [--read-depth organization]

Idempotent: a missing table or column is created, an existing column whose label, description or
length differs is updated (labels merged), everything else is left alone; the named security roles
get Read on the table where they lack it; then the table is published, on every run (a run that
died between a change and publishing leaves nothing unpublished). Reads DATAVERSE_URL,
DATAVERSE_TABLE_PREFIX and the credentials from the settings, as the app does, so run it with an
identity allowed to customise the environment (System Customizer; granting Read to roles also needs
Write on Security Role, which System Administrator has).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from shared.config import Settings
from shared.dataverse.client import DataverseClient, odata_string
from shared.dataverse.errors import DataverseError, DataverseNotFound, DataverseUnavailable
from shared.dataverse.schema import (
    COLUMNS,
    DESCRIPTION_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    ColumnSpec,
    TableNames,
)
from shared.dataverse.tokens import token_provider_for

log = logging.getLogger(__name__)
ENGLISH = 1033
_CRM = "Microsoft.Dynamics.CRM"
_TYPES = {  # ColumnSpec.kind -> (metadata type, AttributeType, AttributeTypeName)
    "string": ("StringAttributeMetadata", "String", "StringType"),
    "memo": ("MemoAttributeMetadata", "Memo", "MemoType"),
    "integer": ("IntegerAttributeMetadata", "Integer", "IntegerType"),
    "datetime": ("DateTimeAttributeMetadata", "DateTime", "DateTimeType"),
}
# Metadata calls take minutes, not the mirror's 30 s: creating an activity table makes Dataverse add
# a regarding relationship to every activity-enabled table and publish it, and a call that blocks the
# metadata cache can take longer. (connect, read) in seconds.
METADATA_TIMEOUT = (10.0, 600.0)
# After a create timed out, how often and how far apart the table or column is read back before the
# run gives up saying so (the create is never sent twice: a second one would fail as a duplicate).
READ_BACK_ATTEMPTS = 10
READ_BACK_WAIT_SECONDS = 30.0
# PrivilegeDepth: Local is the business unit, Global the organization
# (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/privilegedepth).
DEPTHS = ("Basic", "Local", "Deep", "Global")
READ_DEPTHS = {"business-unit": "Local", "organization": "Global"}


class ProvisioningError(RuntimeError):
    """The environment holds something this command will not change by itself (a column's type)."""


def label(text: str, language: int = ENGLISH) -> dict[str, Any]:
    return {
        "@odata.type": f"{_CRM}.Label",
        "LocalizedLabels": [
            {"@odata.type": f"{_CRM}.LocalizedLabel", "Label": text, "LanguageCode": language}
        ],
    }


def _label_text(value: Any, language: int) -> str | None:
    for localized in (value or {}).get("LocalizedLabels") or []:
        if localized.get("LanguageCode") == language:
            return str(localized.get("Label"))
    return None


def _not_required() -> dict[str, Any]:
    return {
        "Value": "None",
        "CanBeChanged": True,
        "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
    }


def column_definition(table: TableNames, spec: ColumnSpec, language: int = ENGLISH) -> dict[str, Any]:
    metadata_type, attribute_type, type_name = _TYPES[spec.kind]
    definition: dict[str, Any] = {
        "@odata.type": f"{_CRM}.{metadata_type}",
        "AttributeType": attribute_type,
        "AttributeTypeName": {"Value": type_name},
        "SchemaName": table.column_schema_name(spec),
        "DisplayName": label(spec.label, language),
        "Description": label(spec.description, language),
        "RequiredLevel": _not_required(),
    }
    if spec.kind == "string":
        definition |= {"MaxLength": spec.max_length, "FormatName": {"Value": spec.string_format}}
    elif spec.kind == "memo":
        definition |= {"MaxLength": spec.max_length, "Format": "TextArea"}
    elif spec.kind == "integer":
        definition |= {"Format": "None", "MinValue": -2147483648, "MaxValue": 2147483647}
    else:
        definition |= {"Format": "DateAndTime", "DateTimeBehavior": {"Value": "UserLocal"}}
    return definition


def table_definition(table: TableNames, language: int = ENGLISH) -> dict[str, Any]:
    """A user-owned custom activity (so it shows on the Timeline of the record it is regarding).
    Activities must have `Subject` as their primary column; they must be available offline and
    may not use mail merge."""
    subject = {
        "@odata.type": f"{_CRM}.StringAttributeMetadata",
        "AttributeType": "String",
        "AttributeTypeName": {"Value": "StringType"},
        "SchemaName": "Subject",
        "IsPrimaryName": True,
        "MaxLength": SUBJECT_MAX_LENGTH,
        "FormatName": {"Value": "Text"},
        "DisplayName": label("Subject", language),
        "Description": label("Who wrote and the first words", language),
        "RequiredLevel": _not_required(),
    }
    return {
        "@odata.type": f"{_CRM}.EntityMetadata",
        "SchemaName": table.schema_name,
        "EntitySetName": table.entity_set,
        "DisplayName": label("WhatsApp message", language),
        "DisplayCollectionName": label("WhatsApp messages", language),
        "Description": label(
            "A WhatsApp message to or from a customer, mirrored by the integration", language
        ),
        "OwnershipType": "UserOwned",
        "IsActivity": True,
        "HasActivities": False,
        "HasNotes": False,
        "IsAvailableOffline": True,
        "IsMailMergeEnabled": {
            "Value": False,
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifymailmergesettings",
        },
        "ActivityTypeMask": 1,  # a communication activity: listed on the Timeline and its filters
        "Attributes": [subject],
    }


def sent_by_relationship(table: TableNames, language: int = ENGLISH) -> dict[str, Any]:
    """The `SentByUser` lookup from a message to the agent's `systemuser`: a one-to-many relationship
    created with its lookup in one POST to RelationshipDefinitions ("Create a one-to-many
    relationship", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-entity-relationships-using-web-api).
    Nothing cascades from a user to the messages they sent; a deleted user only clears the link."""
    return {
        "@odata.type": f"{_CRM}.OneToManyRelationshipMetadata",
        "SchemaName": table.sent_by_relationship,
        "ReferencedEntity": "systemuser",
        "ReferencedAttribute": "systemuserid",
        "ReferencingEntity": table.logical_name,
        "CascadeConfiguration": {
            "Assign": "NoCascade",
            "Delete": "RemoveLink",
            "Merge": "NoCascade",
            "Reparent": "NoCascade",
            "Share": "NoCascade",
            "Unshare": "NoCascade",
        },
        "Lookup": {
            "@odata.type": f"{_CRM}.LookupAttributeMetadata",
            "AttributeType": "Lookup",
            "AttributeTypeName": {"Value": "LookupType"},
            "SchemaName": table.sent_by_lookup,
            "DisplayName": label("Sent by user", language),
            "Description": label("The D365 user who sent the message (an agent's message only)", language),
            "RequiredLevel": _not_required(),
        },
    }


@dataclass
class ProvisioningReport:
    created_table: bool = False
    created_relationship: bool = False
    created_columns: list[str] = field(default_factory=list)
    updated_columns: list[str] = field(default_factory=list)
    granted_read_to: list[str] = field(default_factory=list)
    notifications_enabled_in: list[str] = field(default_factory=list)
    published: bool = False

    @property
    def changed(self) -> bool:
        return (
            self.created_table
            or self.created_relationship
            or bool(self.notifications_enabled_in)
            or bool(self.created_columns or self.updated_columns or self.granted_read_to)
        )


class SchemaProvisioner:
    def __init__(
        self,
        client: DataverseClient,
        table: TableNames,
        *,
        solution: str | None = None,
        language: int = ENGLISH,
        dry_run: bool = False,
        say: Callable[[str], None] = print,
        grant_read_to: Sequence[str] = (),
        read_depth: str = "Local",
        sleep: Callable[[float], None] = time.sleep,
        notifications_in: Sequence[str] = (),
    ):
        """`grant_read_to` names security roles that get Read on the table at `read_depth` (a
        PrivilegeDepth name): a new table is in no role, so agents would see no row on the Timeline."""
        if read_depth not in DEPTHS:
            raise ValueError(f"read_depth must be one of {DEPTHS}, not {read_depth!r}")
        self.client = client
        self.table = table
        self.language = language
        self.dry_run = dry_run
        self.say = say
        self.grant_read_to = tuple(grant_read_to)
        self.read_depth = read_depth
        self.sleep = sleep
        self.headers = {"MSCRM.SolutionUniqueName": solution} if solution else {}
        self.notifications_in = tuple(notifications_in)

    @property
    def _entity_path(self) -> str:
        return f"EntityDefinitions(LogicalName='{self.table.logical_name}')"

    def run(self) -> ProvisioningReport:
        report = ProvisioningReport()
        existing = self._table()
        if existing is None:
            self.say(f"create table {self.table.logical_name} (custom activity)")
            report.created_table = True
            if not self.dry_run:
                self._create(
                    "EntityDefinitions",
                    table_definition(self.table, self.language),
                    lambda: self._table() is not None,
                    f"table {self.table.logical_name}",
                )
        else:
            self._check_table(existing)
        columns = {} if self.dry_run and report.created_table else self._columns()
        for spec in COLUMNS:
            name = self.table.column(spec.name)
            current = columns.get(name)
            if current is None:
                self.say(f"create column {name} ({spec.kind})")
                report.created_columns.append(name)
                if not self.dry_run:
                    self._create(
                        f"{self._entity_path}/Attributes",
                        column_definition(self.table, spec, self.language),
                        partial(self._has_column, name),
                        f"column {name}",
                    )
            elif self._differs(spec, current):
                self.say(f"update column {name} (label, description or length)")
                report.updated_columns.append(name)
                if not self.dry_run:
                    self._update_column(spec)
        self._sent_by(report)
        if self._description_too_short(columns.get("description"), report.created_table):
            self.say(f"update column description (at least {DESCRIPTION_MAX_LENGTH} characters)")
            report.updated_columns.append("description")
            if not self.dry_run:
                self._lengthen_description()
        self._grant_read(report)
        self._enable_notifications(report)
        if not self.dry_run:
            # Always: a run that died after a change but before publishing is finished by the next.
            entity = f"<entity>{self.table.logical_name}</entity>"
            xml = f"<importexportxml><entities>{entity}</entities></importexportxml>"
            self._metadata("POST", "PublishXml", {"ParameterXml": xml}, in_solution=False)
            report.published = True
        self.say(
            "nothing to change"
            if not report.changed
            else ("would change the above" if self.dry_run else "done")
        )
        return report

    def _metadata(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        in_solution: bool = True,
    ) -> None:
        """A metadata write with the long timeout; `in_solution` adds what it creates to --solution."""
        self.client.request(
            method,
            path,
            json_body=body,
            headers={**(self.headers if in_solution else {}), **(headers or {})},
            timeout=METADATA_TIMEOUT,
        )

    def _read(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self.client.get(path, params, timeout=METADATA_TIMEOUT)

    def _create(self, path: str, body: dict[str, Any], exists: Callable[[], bool], what: str) -> None:
        """POSTs a table or column once. A create whose answer never came may still be running (an
        activity table takes minutes): it is read back, waiting, and never sent again blindly."""
        try:
            self._metadata("POST", path, body)
            return
        except DataverseUnavailable as failure:
            if failure.http_status is not None:
                raise
            self.say(f"no answer creating {what} in time; checking whether it was created")
        for attempt in range(READ_BACK_ATTEMPTS):
            if exists():
                self.say(f"{what} was created")
                return
            if attempt + 1 < READ_BACK_ATTEMPTS:
                self.sleep(READ_BACK_WAIT_SECONDS)
        raise ProvisioningError(
            f"creating {what} got no answer and it is not there after "
            f"{READ_BACK_ATTEMPTS * READ_BACK_WAIT_SECONDS:.0f} s; it was not sent again: look in the "
            "maker portal (or the solution's import history) and run this command again"
        )

    def _table(self) -> dict[str, Any] | None:
        try:
            return self._read(
                self._entity_path, {"$select": "LogicalName,EntitySetName,IsActivity,MetadataId"}
            )
        except DataverseNotFound:
            return None

    def _has_column(self, name: str) -> bool:
        return name in self._columns()

    def _check_table(self, existing: dict[str, Any]) -> None:
        if not existing.get("IsActivity"):
            raise ProvisioningError(f"{self.table.logical_name} exists but is not an activity table")
        if existing.get("EntitySetName") != self.table.entity_set:
            raise ProvisioningError(
                f"{self.table.logical_name} has entity set {existing.get('EntitySetName')!r}; "
                f"the mirror writes to {self.table.entity_set!r}"
            )

    def _columns(self) -> dict[str, dict[str, Any]]:
        """Every attribute with its type and labels, plus the lengths of the text ones."""
        attributes = self._read(
            f"{self._entity_path}/Attributes",
            {"$select": "LogicalName,AttributeType,DisplayName,Description"},
        )["value"]
        found = {a["LogicalName"]: a for a in attributes}
        for cast in ("StringAttributeMetadata", "MemoAttributeMetadata"):
            typed = self._read(
                f"{self._entity_path}/Attributes/{_CRM}.{cast}", {"$select": "LogicalName,MaxLength"}
            )
            for attribute in typed["value"]:
                if attribute["LogicalName"] in found:
                    found[attribute["LogicalName"]]["MaxLength"] = attribute.get("MaxLength")
        return found

    def _differs(self, spec: ColumnSpec, current: dict[str, Any]) -> bool:
        wanted_type = _TYPES[spec.kind][1]
        if current.get("AttributeType") != wanted_type:
            raise ProvisioningError(
                f"column {self.table.column(spec.name)} is {current.get('AttributeType')}, not "
                f"{wanted_type}: a column's type cannot change; delete it in the maker portal (its data "
                "too) and run again"
            )
        return (
            _label_text(current.get("DisplayName"), self.language) != spec.label
            or _label_text(current.get("Description"), self.language) != spec.description
            or (spec.max_length is not None and (current.get("MaxLength") or 0) < spec.max_length)
        )

    def _update_column(self, spec: ColumnSpec) -> None:
        """The Web API updates a column by PUTting its whole definition back, labels merged."""
        metadata_type = _TYPES[spec.kind][0]
        path = f"{self._entity_path}/Attributes(LogicalName='{self.table.column(spec.name)}')"
        definition = self._definition(path, metadata_type)
        definition["DisplayName"] = label(spec.label, self.language)
        definition["Description"] = label(spec.description, self.language)
        if spec.max_length is not None:
            definition["MaxLength"] = max(spec.max_length, definition.get("MaxLength") or 0)
        self._metadata("PUT", path, definition, {"MSCRM.MergeLabels": "true"})

    def _definition(self, path: str, metadata_type: str) -> dict[str, Any]:
        definition = self._read(f"{path}/{_CRM}.{metadata_type}")
        definition = {k: v for k, v in definition.items() if not k.startswith("@odata.context")}
        definition["@odata.type"] = f"{_CRM}.{metadata_type}"
        return definition

    @staticmethod
    def _description_too_short(current: dict[str, Any] | None, created_now: bool) -> bool:
        """The activity's own `description` (a memo the mirror fills with the text or caption, clipped
        at DESCRIPTION_MAX_LENGTH; WhatsApp text is up to 4,096 characters) comes with the table at a
        length this command does not choose, so it is checked, not trusted. A memo holds at most
        1,048,576 characters (MemoAttributeMetadata.MaxSupportedLength,
        https://learn.microsoft.com/dotnet/api/microsoft.xrm.sdk.metadata.memoattributemetadata)."""
        if current is None:
            return created_now  # a dry run of a new table: the table does not exist yet to read
        return int(current.get("MaxLength") or 0) < DESCRIPTION_MAX_LENGTH

    def _lengthen_description(self) -> None:
        path = f"{self._entity_path}/Attributes(LogicalName='description')"
        definition = self._definition(path, "MemoAttributeMetadata")
        definition["MaxLength"] = max(DESCRIPTION_MAX_LENGTH, definition.get("MaxLength") or 0)
        self._metadata("PUT", path, definition, {"MSCRM.MergeLabels": "true"})

    def _sent_by(self, report: ProvisioningReport) -> None:
        name = self.table.sent_by_relationship
        existing = None if self.dry_run and report.created_table else self._relationship()
        if existing is None:
            self.say(f"create lookup {self.table.sent_by_lookup} to systemuser ({name})")
            report.created_relationship = True
            if not self.dry_run:
                self._create(
                    "RelationshipDefinitions",
                    sent_by_relationship(self.table, self.language),
                    lambda: self._relationship() is not None,
                    f"relationship {name}",
                )
            return
        navigation = existing.get("ReferencingEntityNavigationPropertyName")
        if navigation != self.table.sent_by_lookup or existing.get("ReferencedEntity") != "systemuser":
            raise ProvisioningError(
                f"relationship {name} exists but links {existing.get('ReferencedEntity')!r} through "
                f"{navigation!r}; the mirror binds {self.table.sent_by_lookup!r} to a systemuser"
            )

    def _relationship(self) -> dict[str, Any] | None:
        """Relationships are read by their schema name, an alternate key of RelationshipDefinitions."""
        path = (
            f"RelationshipDefinitions(SchemaName={odata_string(self.table.sent_by_relationship)})"
            f"/{_CRM}.OneToManyRelationshipMetadata"
        )
        try:
            return self._read(path, {"$select": "ReferencedEntity,ReferencingEntityNavigationPropertyName"})
        except DataverseNotFound:
            return None

    def _enable_notifications(self, report: ProvisioningReport) -> None:
        """Turns on in-app notifications in the named model-driven apps (the app setting
        `AllowNotificationsEarlyAccess`, which the maker portal shows as "In-app notifications"), as
        Microsoft's page did it before the designer had the switch: `SaveSettingValue` with the app's
        unique name (Send in-app notifications within model-driven apps,
        https://learn.microsoft.com/power-apps/developer/model-driven-apps/clientapi/send-in-app-notifications).
        Saving the same value again changes nothing, so a re-run is harmless."""
        for app in self.notifications_in:
            self.say(f"turn on in-app notifications in app {app}")
            report.notifications_enabled_in.append(app)
            if not self.dry_run:
                body = {"AppUniqueName": app, "SettingName": "AllowNotificationsEarlyAccess", "Value": "true"}
                self._metadata("POST", "SaveSettingValue", body, in_solution=False)

    # --- who may read the rows ------------------------------------------------------------------

    def _grant_read(self, report: ProvisioningReport) -> None:
        """Adds the table's Read privilege to each named role (its root business unit's copy, which
        Dataverse copies to the child units) unless the role holds it at that depth or deeper.
        The table's privileges: `EntityDefinitions(...)/Privileges` (SecurityPrivilegeMetadata);
        what a role holds: RetrieveRolePrivilegesRole; the grant: AddPrivilegesRole
        (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/addprivilegesrole,
        https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrieveroleprivilegesrole,
        https://learn.microsoft.com/power-apps/developer/data-platform/security-roles)."""
        if not self.grant_read_to:
            return
        roles = [self._role(name) for name in self.grant_read_to]
        read = None if self.dry_run and report.created_table else self._read_privilege()
        for name, role in zip(self.grant_read_to, roles, strict=True):
            held = None if read is None else self._held_depth(role["roleid"], read)
            if held is not None and DEPTHS.index(held) >= DEPTHS.index(self.read_depth):
                continue
            self.say(f"grant Read on {self.table.logical_name} to role {name!r} ({self.read_depth} depth)")
            report.granted_read_to.append(name)
            if self.dry_run or read is None:
                continue
            privilege = {
                "Depth": self.read_depth,
                "PrivilegeId": read,
                "BusinessUnitId": role["_businessunitid_value"],
            }
            self._metadata(
                "POST",
                f"roles({role['roleid']})/{_CRM}.AddPrivilegesRole",
                {"Privileges": [privilege]},
                in_solution=False,
            )

    def _role(self, name: str) -> dict[str, Any]:
        found = self._read(
            "roles",
            {
                "$select": "roleid,name,_businessunitid_value",
                "$filter": f"name eq {odata_string(name)} and _parentroleid_value eq null",
            },
        )["value"]
        if len(found) != 1:
            raise ProvisioningError(
                f"security role {name!r}: {'no' if not found else len(found)} such role in the root "
                "business unit; give the exact name (Settings > Security > Security roles)"
            )
        role: dict[str, Any] = found[0]
        return role

    def _read_privilege(self) -> str:
        privileges = self._read(f"{self._entity_path}/Privileges")["value"]
        read = [p["PrivilegeId"] for p in privileges if p.get("PrivilegeType") == "Read"]
        if len(read) != 1:
            raise ProvisioningError(f"{self.table.logical_name} has no Read privilege to grant")
        return str(read[0])

    def _held_depth(self, role_id: str, privilege_id: str) -> str | None:
        held = self._read(f"RetrieveRolePrivilegesRole(RoleId={role_id})")["RolePrivileges"]
        depths = [p["Depth"] for p in held if p.get("PrivilegeId") == privilege_id]
        return max(depths, key=DEPTHS.index) if depths else None


# The chat panel's routes read the panel's record *as the agent* (CallerObjectId), which only an
# application user holding prvActOnBehalfOfAnotherUser may do (docs/dataverse.md, "Who sees what").
APPLICATION_USER_NEEDS = (
    "the app's application user also needs the Delegate role (prvActOnBehalfOfAnotherUser) and Read "
    "on Contact and Lead at Organization depth: the chat panel's routes read the agent's record as the "
    "agent, and without it they answer 503 not_configured; and Create and Read on Notification "
    "(appnotification) at Business Unit depth or more, to tell record owners of unread messages"
)


def main(argv: Sequence[str] | None = None, client: DataverseClient | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.dataverse.provision",
        description="Create or update the WhatsApp message activity table in Dataverse.",
    )
    parser.add_argument("--url", help="Dataverse environment URL (default: DATAVERSE_URL)")
    parser.add_argument("--prefix", help="publisher prefix (default: DATAVERSE_TABLE_PREFIX)")
    parser.add_argument("--solution", help="unique name of the unmanaged solution to add the table to")
    parser.add_argument("--language", type=int, default=ENGLISH, help="LCID of the labels (default 1033)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    parser.add_argument(
        "--grant-read-to",
        default="",
        metavar="ROLES",
        help='comma-separated security roles whose users see the rows, e.g. "Salesperson,Customer '
        'Service Representative" (default: none)',
    )
    parser.add_argument(
        "--read-depth",
        choices=sorted(READ_DEPTHS),
        default="business-unit",
        help="how far that Read reaches: rows of the user's business unit (default) or every row",
    )
    parser.add_argument(
        "--enable-notifications-in",
        default="",
        metavar="APPS",
        help="comma-separated unique names of model-driven apps in which to turn on in-app "
        "notifications (the unread-message notifications need it), e.g. msdynce_saleshub",
    )
    args = parser.parse_args(argv)
    apps = [a.strip() for a in args.enable_notifications_in.split(",") if a.strip()]
    if any(not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,99}", app) for app in apps):
        parser.error("--enable-notifications-in takes apps' unique names (letters, digits, _)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    if args.url:
        settings = settings.model_copy(update={"DATAVERSE_URL": args.url})
    if not settings.DATAVERSE_URL:
        parser.error("set DATAVERSE_URL or pass --url")
    table = TableNames(args.prefix or settings.DATAVERSE_TABLE_PREFIX)
    if client is None:
        client = DataverseClient(settings.DATAVERSE_URL, token_provider_for(settings))
    print(f"{client.api_url}: table {table.logical_name}, entity set {table.entity_set}")
    provisioner = SchemaProvisioner(
        client,
        table,
        solution=args.solution,
        language=args.language,
        dry_run=args.dry_run,
        grant_read_to=[r.strip() for r in args.grant_read_to.split(",") if r.strip()],
        read_depth=READ_DEPTHS[args.read_depth],
        notifications_in=apps,
    )
    try:
        provisioner.run()
    except (ProvisioningError, DataverseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(APPLICATION_USER_NEEDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
