"""Creates or updates the WhatsApp message activity table through the Web API metadata endpoints.

    python -m shared.dataverse.provision [--solution UniqueName] [--dry-run]

Idempotent: a missing table or column is created, an existing column whose label, description or
length differs is updated (labels merged), everything else is left alone; then the table is
published. Reads DATAVERSE_URL, DATAVERSE_TABLE_PREFIX and the credentials from the settings, as the
app does, so run it with an identity allowed to customise the environment (System Customizer).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.config import Settings
from shared.dataverse.client import DataverseClient
from shared.dataverse.errors import DataverseError, DataverseNotFound
from shared.dataverse.schema import COLUMNS, SUBJECT_MAX_LENGTH, ColumnSpec, TableNames
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


@dataclass
class ProvisioningReport:
    created_table: bool = False
    created_columns: list[str] = field(default_factory=list)
    updated_columns: list[str] = field(default_factory=list)
    published: bool = False

    @property
    def changed(self) -> bool:
        return self.created_table or bool(self.created_columns or self.updated_columns)


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
    ):
        self.client = client
        self.table = table
        self.language = language
        self.dry_run = dry_run
        self.say = say
        self.headers = {"MSCRM.SolutionUniqueName": solution} if solution else {}

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
                self.client.request(
                    "POST",
                    "EntityDefinitions",
                    json_body=table_definition(self.table, self.language),
                    headers=self.headers,
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
                    self.client.request(
                        "POST",
                        f"{self._entity_path}/Attributes",
                        json_body=column_definition(self.table, spec, self.language),
                        headers=self.headers,
                    )
            elif self._differs(spec, current):
                self.say(f"update column {name} (label, description or length)")
                report.updated_columns.append(name)
                if not self.dry_run:
                    self._update_column(spec)
        if report.changed and not self.dry_run:
            entity = f"<entity>{self.table.logical_name}</entity>"
            xml = f"<importexportxml><entities>{entity}</entities></importexportxml>"
            self.client.request("POST", "PublishXml", json_body={"ParameterXml": xml})
            report.published = True
        self.say(
            "nothing to change"
            if not report.changed
            else ("would change the above" if self.dry_run else "done")
        )
        return report

    def _table(self) -> dict[str, Any] | None:
        try:
            return self.client.get(
                self._entity_path, {"$select": "LogicalName,EntitySetName,IsActivity,MetadataId"}
            )
        except DataverseNotFound:
            return None

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
        attributes = self.client.get(
            f"{self._entity_path}/Attributes",
            {"$select": "LogicalName,AttributeType,DisplayName,Description"},
        )["value"]
        found = {a["LogicalName"]: a for a in attributes}
        for cast in ("StringAttributeMetadata", "MemoAttributeMetadata"):
            typed = self.client.get(
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
        definition = self.client.get(f"{path}/{_CRM}.{metadata_type}")
        definition = {k: v for k, v in definition.items() if not k.startswith("@odata.context")}
        definition["@odata.type"] = f"{_CRM}.{metadata_type}"
        definition["DisplayName"] = label(spec.label, self.language)
        definition["Description"] = label(spec.description, self.language)
        if spec.max_length is not None:
            definition["MaxLength"] = max(spec.max_length, definition.get("MaxLength") or 0)
        self.client.request(
            "PUT", path, json_body=definition, headers={**self.headers, "MSCRM.MergeLabels": "true"}
        )


# The chat panel's routes read the panel's record *as the agent* (CallerObjectId), which only an
# application user holding prvActOnBehalfOfAnotherUser may do (docs/dataverse.md, "Who sees what").
APPLICATION_USER_NEEDS = (
    "the app's application user also needs the Delegate role (prvActOnBehalfOfAnotherUser) and Read "
    "on Contact and Lead at Organization depth: the chat panel's routes read the agent's record as the "
    "agent, and without it they answer 503 not_configured"
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
    args = parser.parse_args(argv)
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
        client, table, solution=args.solution, language=args.language, dry_run=args.dry_run
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
