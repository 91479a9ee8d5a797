"""The provisioning command against the stand-in's metadata endpoints: it creates the activity table
and its columns, changes nothing on a second run, updates what drifted, and refuses what it cannot fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from shared.dataverse.provision import ProvisioningError, SchemaProvisioner, label, main
from shared.dataverse.schema import COLUMNS, TableNames, check_prefix
from tests.test_dataverse_standin import DataverseStandIn


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    yield DataverseStandIn(httpserver, prefix="contoso")
    httpserver.clear()


def provision(
    dataverse: DataverseStandIn, *, solution: str | None = None, dry_run: bool = False
) -> list[str]:
    said: list[str] = []
    SchemaProvisioner(
        dataverse.client(), dataverse.table, solution=solution, dry_run=dry_run, say=said.append
    ).run()
    return said


def writes(dataverse: DataverseStandIn) -> list[str]:
    return [f"{s.method} {s.path}" for s in dataverse.seen if s.method != "GET"]


def test_a_first_run_creates_a_user_owned_activity_table_with_every_column_and_publishes_it(
    dataverse: DataverseStandIn,
) -> None:
    said = provision(dataverse)
    entity = dataverse.entities["contoso_whatsappmessage"]
    assert entity["IsActivity"] is True
    assert entity["OwnershipType"] == "UserOwned"
    assert entity["EntitySetName"] == "contoso_whatsappmessages"
    assert entity["DisplayName"] == label("WhatsApp message")
    custom = {name for name in entity["Attributes"] if name.startswith("contoso_")}
    assert custom == {f"contoso_{c.name}" for c in COLUMNS}
    assert entity["Attributes"]["contoso_customernumber"]["FormatName"] == {"Value": "Phone"}
    assert entity["Attributes"]["contoso_sentat"]["DateTimeBehavior"] == {"Value": "UserLocal"}
    assert (
        entity["Attributes"]["contoso_errorcode"]["@odata.type"]
        == "Microsoft.Dynamics.CRM.IntegerAttributeMetadata"
    )
    assert dataverse.published == [
        "<importexportxml><entities><entity>contoso_whatsappmessage</entity></entities></importexportxml>"
    ]
    assert said[0] == "create table contoso_whatsappmessage (custom activity)"
    assert said[-1] == "done"


def test_a_second_run_changes_nothing_and_only_reads(dataverse: DataverseStandIn) -> None:
    provision(dataverse)
    dataverse.seen.clear()
    said = provision(dataverse)
    assert writes(dataverse) == []
    assert said == ["nothing to change"]


def test_a_column_added_in_a_later_version_is_created_on_the_next_run(dataverse: DataverseStandIn) -> None:
    provision(dataverse)
    del dataverse.entities["contoso_whatsappmessage"]["Attributes"]["contoso_profilename"]
    dataverse.seen.clear()
    provision(dataverse)
    assert writes(dataverse) == [
        "POST EntityDefinitions(LogicalName='contoso_whatsappmessage')/Attributes",
        "POST PublishXml",
    ]


def test_a_relabelled_or_too_short_column_is_updated_with_its_labels_merged(
    dataverse: DataverseStandIn,
) -> None:
    provision(dataverse)
    attributes = dataverse.entities["contoso_whatsappmessage"]["Attributes"]
    attributes["contoso_errorreason"]["MaxLength"] = 100
    attributes["contoso_kind"]["DisplayName"] = label("Type")
    dataverse.seen.clear()
    provision(dataverse, solution="WhatsAppIntegration")
    puts = dataverse.requests_to("PUT")
    assert sorted(p.path for p in puts) == [
        "EntityDefinitions(LogicalName='contoso_whatsappmessage')/Attributes(LogicalName='contoso_errorreason')",
        "EntityDefinitions(LogicalName='contoso_whatsappmessage')/Attributes(LogicalName='contoso_kind')",
    ]
    assert all(p.headers["Mscrm.Mergelabels"] == "true" for p in puts)
    assert all(p.headers["Mscrm.Solutionuniquename"] == "WhatsAppIntegration" for p in puts)
    assert all("@odata.context" not in p.body for p in puts)
    assert attributes["contoso_errorreason"]["MaxLength"] == 2000
    assert attributes["contoso_kind"]["DisplayName"] == label("Kind")


def test_new_components_go_into_the_named_solution(dataverse: DataverseStandIn) -> None:
    provision(dataverse, solution="WhatsAppIntegration")
    creates = [s for s in dataverse.requests_to("POST") if s.path != "PublishXml"]
    assert len(creates) == 1 + len(COLUMNS)
    assert all(s.headers["Mscrm.Solutionuniquename"] == "WhatsAppIntegration" for s in creates)


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(dataverse: DataverseStandIn) -> None:
    said = provision(dataverse, dry_run=True)
    assert writes(dataverse) == []
    assert dataverse.entities == {}
    assert len(said) == 1 + len(COLUMNS) + 1
    assert said[-1] == "would change the above"


def test_a_column_of_another_type_is_refused_rather_than_dropped(dataverse: DataverseStandIn) -> None:
    provision(dataverse)
    dataverse.entities["contoso_whatsappmessage"]["Attributes"]["contoso_errorcode"]["AttributeType"] = (
        "String"
    )
    with pytest.raises(ProvisioningError, match="cannot change"):
        provision(dataverse)


def test_a_table_of_that_name_that_is_not_an_activity_is_refused(dataverse: DataverseStandIn) -> None:
    provision(dataverse)
    dataverse.entities["contoso_whatsappmessage"]["IsActivity"] = False
    with pytest.raises(ProvisioningError, match="not an activity"):
        provision(dataverse)


def test_the_command_line_reports_and_exits_non_zero_on_refusal(
    dataverse: DataverseStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    client = dataverse.client()
    assert main(["--url", dataverse.url, "--prefix", "contoso"], client=client) == 0
    said = capsys.readouterr().out
    assert "create table contoso_whatsappmessage" in said
    assert "prvActOnBehalfOfAnotherUser" in said  # the agents' record checks need it
    dataverse.entities["contoso_whatsappmessage"]["IsActivity"] = False
    assert main(["--url", dataverse.url, "--prefix", "contoso"], client=client) == 1
    assert "not an activity" in capsys.readouterr().err


def test_the_publisher_prefix_must_be_one_dataverse_accepts() -> None:
    assert check_prefix("wa") == "wa"
    for bad in ("", "x", "WA", "mscrmx", "toolongprefix", "1a"):
        with pytest.raises(ValueError, match="publisher prefix"):
            TableNames(bad)
