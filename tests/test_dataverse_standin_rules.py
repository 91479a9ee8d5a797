"""The Dataverse stand-in's stricter rules (issue 13 item 8), each checked against what Microsoft
documents, so that a test passing on the stand-in means the request would be accepted by Dataverse:
`$filter` is parsed by the OData v4 grammar and evaluated, names it does not know are refused, `$top`
is bounded, and column definitions must be of a real metadata type. The citations are on the rules
in devhost/dataverse_standin.py."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from devhost import dataverse_standin as standin_module
from devhost.dataverse_standin import CRM, DataverseStandIn, raw
from shared.dataverse.provision import column_definition
from shared.dataverse.schema import COLUMNS


@pytest.fixture
def standin(httpserver: HTTPServer) -> DataverseStandIn:
    found = DataverseStandIn(httpserver)
    found.provision()
    return found


def query(standin: DataverseStandIn, entity_set: str = "contacts", **params: str) -> Any:
    """The answer's JSON, with its status as `status`."""
    answer = raw(standin, "GET", entity_set, params={f"${k}": v for k, v in params.items()})
    return {"status": answer.status_code, **answer.json()}


def ids(answer: Any) -> set[str]:
    return {row["contactid"] for row in answer["value"]}


def test_the_standin_evaluates_filter_by_the_odata_grammar(standin: DataverseStandIn) -> None:
    """filter-rows: eq, ne, and, or, not, parentheses; strings double a quote; GUIDs and null bare."""
    obrien = standin.add_contact(mobilephone="O'Brien", fullname="x")
    active = standin.add_contact(mobilephone="+15550000001")
    inactive = standin.add_contact(mobilephone="+15550000001", statecode=1)
    lead = str(uuid.uuid4())
    from_lead = standin.add_contact(_originatingleadid_value=lead)

    def found(text: str) -> set[str]:
        answer = query(standin, filter=text, select="contactid")
        assert answer["status"] == 200, answer
        return ids(answer)

    assert found("mobilephone eq 'O''Brien'") == {obrien}
    assert found("statecode eq 0 and (mobilephone eq '+15550000001' or telephone1 eq 'x')") == {active}
    assert found("not (statecode eq 0)") == {inactive}
    assert found("statecode ne 0") == {inactive}
    assert found(f"_originatingleadid_value eq {lead.upper()}") == {from_lead}
    assert found("fullname eq null and mobilephone ne null") == {active, inactive}
    # `and` binds tighter than `or`, as OData's grammar says: without parentheses the inactive row passes.
    assert inactive in found("statecode eq 0 and telephone1 eq 'x' or mobilephone eq '+15550000001'")


@pytest.mark.parametrize(
    ("text", "position"),
    [("statecode eq 0 and (mobilephone eq 'x'", 38), ("mobilephone eq 'unclosed", 15), ("eq 0", 2)],
)
def test_the_standin_refuses_a_filter_that_does_not_parse(
    standin: DataverseStandIn, text: str, position: int
) -> None:
    """A syntax error is 400 0x80060888 with its position (the regex stand-in matched these)."""
    answer = query(standin, filter=text)
    assert answer["status"] == 400
    assert answer["error"]["code"] == "0x80060888"
    assert answer["error"]["message"].startswith(f"Syntax error at position {position}")


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "statecode eq 0 and emailaddress1 eq 'x'"},
        {"filter": "MobilePhone eq 'x'"},  # property names are case-sensitive
        {"select": "contactid,emailaddress1"},
    ],
)
def test_the_standin_refuses_a_property_the_table_lacks(
    standin: DataverseStandIn, params: dict[str, str]
) -> None:
    """web-api-client-errors: "Could not find a property named 'x' on type '...CRM.contact'"."""
    answer = query(standin, **params)
    assert answer["status"] == 400
    assert answer["error"]["message"].startswith("Could not find a property named '")
    assert answer["error"]["message"].endswith(f"' on type '{CRM}.contact'.")


def test_the_standin_checks_the_roles_filter_too(standin: DataverseStandIn) -> None:
    root = standin.add_role("O'Neil's role")
    standin.add_role("O'Neil's role", business_unit=str(uuid.uuid4()), parent=root)
    answer = query(standin, "roles", filter="name eq 'O''Neil''s role' and _parentroleid_value eq null")
    assert [r["roleid"] for r in answer["value"]] == [root]
    assert query(standin, "roles", filter="nosuch eq null")["status"] == 400


def test_the_standin_bounds_top(standin: DataverseStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """`$top` is a non-negative integer; a page never holds more than 5,000 rows (page-results:
    here a page of 3 stands for it)."""
    monkeypatch.setattr(standin_module, "_MAX_PAGE", 3)
    for _ in range(4):
        standin.add_contact(mobilephone="+1")
    assert len(query(standin, top="2")["value"]) == 2
    assert len(query(standin, top="0")["value"]) == 0
    assert len(query(standin, top="99999")["value"]) == 3
    assert len(query(standin)["value"]) == 3
    for bad in ("-1", "two", "1.5"):
        answer = query(standin, top=bad)
        assert (answer["status"], answer["error"]["code"]) == (400, "0x80060888")


def _attribute(standin: DataverseStandIn, definition: dict[str, Any]) -> Any:
    path = f"EntityDefinitions(LogicalName='{standin.table.logical_name}')/Attributes"
    return raw(standin, "POST", path, json=definition)


def test_the_standin_accepts_every_column_provisioning_defines(standin: DataverseStandIn) -> None:
    """The app's own definitions pass (they were made on the fixture's table already; here anew)."""
    for spec in COLUMNS:
        definition = column_definition(standin.table, spec) | {"SchemaName": f"wa_copy_{spec.name}"}
        assert _attribute(standin, definition).status_code == 204, spec


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"@odata.type": f"{CRM}.TextAttributeMetadata"}, "0x80060888"),  # no such metadata type
        ({"@odata.type": "StringAttributeMetadata"}, "0x80060888"),  # not namespace-qualified
        ({"@odata.type": f"{CRM}.MemoAttributeMetadata"}, "0x80040203"),  # AttributeType String
        ({"AttributeType": "Integer"}, "0x80040203"),
        ({"AttributeTypeName": {"Value": "MemoType"}}, "0x80040203"),
        ({"MaxLength": 4001}, "0x80040203"),  # a string column holds at most 4,000
        ({"MaxLength": 0}, "0x80040203"),
    ],
)
def test_the_standin_refuses_a_column_of_the_wrong_type(
    standin: DataverseStandIn, change: dict[str, Any], code: str
) -> None:
    """create-update-column-definitions-using-web-api: `@odata.type` names the AttributeMetadata type,
    whose AttributeType (AttributeTypeCode) and AttributeTypeName must agree with it."""
    string = next(spec for spec in COLUMNS if spec.kind == "string")
    definition = column_definition(standin.table, string) | {"SchemaName": "wa_other"} | change
    refused = _attribute(standin, definition)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, code)
