"""The provisioning command against the stand-in's metadata endpoints: it creates the activity table
and its columns, changes nothing on a second run (but publishes), updates what drifted, refuses what it
cannot fix, survives slow metadata calls without repeating a create, and grants Read to named roles."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from pytest_httpserver import HTTPServer

from devhost.dataverse_standin import ROOT_BUSINESS_UNIT, DataverseStandIn, Fault, raw
from shared.dataverse import provision as provision_module
from shared.dataverse.provision import (
    READ_BACK_ATTEMPTS,
    ProvisioningError,
    SchemaProvisioner,
    label,
    main,
)
from shared.dataverse.schema import COLUMNS, DESCRIPTION_MAX_LENGTH, TableNames, check_prefix


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    yield DataverseStandIn(httpserver, prefix="contoso")
    httpserver.clear()


def provision(
    dataverse: DataverseStandIn,
    *,
    solution: str | None = None,
    dry_run: bool = False,
    grant_read_to: Sequence[str] = (),
    read_depth: str = "Local",
) -> list[str]:
    said: list[str] = []
    SchemaProvisioner(
        dataverse.client(),
        dataverse.table,
        solution=solution,
        dry_run=dry_run,
        say=said.append,
        grant_read_to=grant_read_to,
        read_depth=read_depth,
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
    assert custom == {f"contoso_{c.name}" for c in COLUMNS} | {"contoso_sentbyuser"}
    sent_by = dataverse.relationships["contoso_systemuser_contoso_whatsappmessage_sentbyuser"]
    assert (sent_by["ReferencedEntity"], sent_by["ReferencingEntityNavigationPropertyName"]) == (
        "systemuser",
        "contoso_SentByUser",
    )
    assert entity["Attributes"]["contoso_customernumber"]["FormatName"] == {"Value": "Phone"}
    assert entity["Attributes"]["contoso_sentat"]["DateTimeBehavior"] == {"Value": "UserLocal"}
    assert (
        entity["Attributes"]["contoso_errorcode"]["@odata.type"]
        == "Microsoft.Dynamics.CRM.IntegerAttributeMetadata"
    )
    assert dataverse.published == [
        "<importexportxml><entities><entity>contoso_whatsappmessage</entity></entities></importexportxml>"
    ]
    # WhatsApp text is up to 4,096 characters; the mirror clips the description at 10,000
    assert entity["Attributes"]["description"]["MaxLength"] == DESCRIPTION_MAX_LENGTH
    assert said[0] == "create table contoso_whatsappmessage (custom activity)"
    assert said[-1] == "done"


def test_a_second_run_changes_nothing_but_publishes(dataverse: DataverseStandIn) -> None:
    """Publishing every time finishes a run that died between a change and its publishing."""
    provision(dataverse)
    dataverse.seen.clear()
    said = provision(dataverse)
    assert writes(dataverse) == ["POST PublishXml"]
    assert said == ["nothing to change"]
    assert len(dataverse.published) == 2


def test_a_column_added_in_a_later_version_is_created_on_the_next_run(dataverse: DataverseStandIn) -> None:
    provision(dataverse)
    del dataverse.entities["contoso_whatsappmessage"]["Attributes"]["contoso_profilename"]
    dataverse.seen.clear()
    provision(dataverse)
    assert writes(dataverse) == [
        "POST EntityDefinitions(LogicalName='contoso_whatsappmessage')/Attributes",
        "POST PublishXml",
    ]


def test_a_description_shorter_than_the_mirror_writes_is_lengthened_with_its_labels_merged(
    dataverse: DataverseStandIn,
) -> None:
    provision(dataverse)
    description = dataverse.entities["contoso_whatsappmessage"]["Attributes"]["description"]
    description["MaxLength"] = 2000
    dataverse.seen.clear()
    said = provision(dataverse)
    (put,) = dataverse.requests_to("PUT")
    assert put.path.endswith("/Attributes(LogicalName='description')")
    assert put.headers["Mscrm.Mergelabels"] == "true"
    assert put.body["@odata.type"] == "Microsoft.Dynamics.CRM.MemoAttributeMetadata"
    description = dataverse.entities["contoso_whatsappmessage"]["Attributes"]["description"]
    assert description["MaxLength"] == DESCRIPTION_MAX_LENGTH
    assert f"update column description (at least {DESCRIPTION_MAX_LENGTH} characters)" in said
    description["MaxLength"] = 1_048_576  # longer is left alone
    dataverse.seen.clear()
    provision(dataverse)
    assert dataverse.requests_to("PUT") == []


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
    assert len(creates) == 1 + len(COLUMNS) + 1  # the table, its columns, the agent's lookup
    assert all(s.headers["Mscrm.Solutionuniquename"] == "WhatsAppIntegration" for s in creates)


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(dataverse: DataverseStandIn) -> None:
    said = provision(dataverse, dry_run=True)
    assert writes(dataverse) == []
    assert dataverse.entities == {}
    assert len(said) == 1 + len(COLUMNS) + 3  # the table, its columns, the lookup, the description, the end
    assert said[-1] == "would change the above"


def test_a_column_of_another_type_is_refused_rather_than_dropped(dataverse: DataverseStandIn) -> None:
    provision(dataverse)
    dataverse.entities["contoso_whatsappmessage"]["Attributes"]["contoso_errorcode"]["AttributeType"] = (
        "String"
    )
    with pytest.raises(ProvisioningError, match="cannot change"):
        provision(dataverse)


def test_a_sent_by_relationship_that_binds_another_way_is_refused_rather_than_written_through(
    dataverse: DataverseStandIn,
) -> None:
    provision(dataverse)
    relationship = dataverse.relationships["contoso_systemuser_contoso_whatsappmessage_sentbyuser"]
    relationship["ReferencingEntityNavigationPropertyName"] = "contoso_sentbyuser"
    with pytest.raises(ProvisioningError, match="contoso_SentByUser"):
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


# --- slow metadata calls -----------------------------------------------------------------------


def test_metadata_calls_wait_minutes_not_the_mirrors_read_timeout(dataverse: DataverseStandIn) -> None:
    """The client's own read timeout (here 0.2 s, the mirror's 30 s in production) is not the
    provisioning's: a table create that answers late is waited for, not abandoned or repeated."""
    dataverse.faults.append(Fault(0, delay=0.6, methods=frozenset({"POST"})))
    client = dataverse.client(timeout=(2, 0.2), max_attempts=1)
    SchemaProvisioner(client, dataverse.table, say=lambda line: None).run()
    assert len(dataverse.requests_to("POST", "EntityDefinitions")) == 1 + len(COLUMNS)
    assert "contoso_whatsappmessage" in dataverse.entities


@pytest.fixture
def short_metadata_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision_module, "METADATA_TIMEOUT", (2.0, 0.2))


@pytest.mark.usefixtures("short_metadata_timeout")
def test_a_create_that_timed_out_is_read_back_and_not_sent_again(dataverse: DataverseStandIn) -> None:
    # Dataverse finishes creating the table after the command stopped waiting
    dataverse.faults.append(Fault(0, delay=0.6, methods=frozenset({"POST"})))
    said: list[str] = []
    SchemaProvisioner(dataverse.client(), dataverse.table, say=said.append, sleep=lambda s: None).run()
    assert len(dataverse.requests_to("POST", "EntityDefinitions")) == 1 + len(COLUMNS)
    assert {f"contoso_{c.name}" for c in COLUMNS} <= set(
        dataverse.entities["contoso_whatsappmessage"]["Attributes"]
    )
    assert "table contoso_whatsappmessage was created" in said
    assert said[-1] == "done"


@pytest.mark.usefixtures("short_metadata_timeout")
def test_a_create_that_timed_out_and_never_appears_stops_the_run_without_repeating_it(
    dataverse: DataverseStandIn,
) -> None:
    dataverse.faults.append(Fault(503, delay=0.6, methods=frozenset({"POST"})))  # it failed, late
    sleeps: list[float] = []
    provisioner = SchemaProvisioner(
        dataverse.client(), dataverse.table, say=lambda line: None, sleep=sleeps.append
    )
    with pytest.raises(ProvisioningError, match="not sent again"):
        provisioner.run()
    assert len(dataverse.requests_to("POST", "EntityDefinitions")) == 1
    # the first read-back may itself time out while the stand-in (one request at a time) still sleeps
    assert len(dataverse.requests_to("GET", "EntityDefinitions")) >= 1 + READ_BACK_ATTEMPTS
    assert len(sleeps) == READ_BACK_ATTEMPTS - 1
    assert dataverse.entities == {}


# --- Read for the agents' roles ----------------------------------------------------------------

AGENT_ROLES = ("Salesperson", "Customer Service Representative")


def test_named_roles_get_read_at_business_unit_depth_once(dataverse: DataverseStandIn) -> None:
    sales = dataverse.add_role("Salesperson")
    service = dataverse.add_role("Customer Service Representative")
    child_copy = dataverse.add_role("Salesperson", business_unit="child-bu", parent=sales)
    other = dataverse.add_role("Marketing Professional")
    said = provision(dataverse, grant_read_to=AGENT_ROLES)
    read = "prvReadcontoso_whatsappmessage"
    assert dataverse.role_depth(sales, read) == "Local"
    assert dataverse.role_depth(service, read) == "Local"
    assert dataverse.role_depth(child_copy, read) is None  # Dataverse copies the root role's privileges
    assert dataverse.role_depth(other, read) is None
    grants = dataverse.requests_to("POST", "roles(")
    assert [g.path for g in grants] == [
        f"roles({sales})/Microsoft.Dynamics.CRM.AddPrivilegesRole",
        f"roles({service})/Microsoft.Dynamics.CRM.AddPrivilegesRole",
    ]
    assert grants[0].body["Privileges"][0]["BusinessUnitId"] == ROOT_BUSINESS_UNIT
    assert "grant Read on contoso_whatsappmessage to role 'Salesperson' (Local depth)" in said
    dataverse.seen.clear()
    assert provision(dataverse, grant_read_to=AGENT_ROLES) == ["nothing to change"]
    assert dataverse.requests_to("POST", "roles(") == []


def test_organization_depth_raises_a_lower_grant_and_never_lowers_a_higher_one(
    dataverse: DataverseStandIn,
) -> None:
    sales = dataverse.add_role("Salesperson")
    service = dataverse.add_role("Customer Service Representative")
    provision(dataverse, grant_read_to=["Salesperson"])
    provision(dataverse, grant_read_to=["Customer Service Representative"], read_depth="Global")
    dataverse.seen.clear()
    provision(dataverse, grant_read_to=AGENT_ROLES, read_depth="Global")
    read = "prvReadcontoso_whatsappmessage"
    assert dataverse.role_depth(sales, read) == "Global"
    assert [g.path for g in dataverse.requests_to("POST", "roles(")] == [
        f"roles({sales})/Microsoft.Dynamics.CRM.AddPrivilegesRole"
    ]
    dataverse.seen.clear()
    provision(dataverse, grant_read_to=AGENT_ROLES)  # business unit asked: organization stays
    assert dataverse.role_depth(service, read) == "Global"
    assert dataverse.requests_to("POST", "roles(") == []


def test_an_unknown_role_is_refused_by_name_and_nothing_is_granted(dataverse: DataverseStandIn) -> None:
    dataverse.add_role("Salesperson")
    with pytest.raises(ProvisioningError, match="'Sales person': no such role"):
        provision(dataverse, grant_read_to=["Salesperson", "Sales person"])
    assert dataverse.requests_to("POST", "roles(") == []


def test_a_dry_run_names_the_grants_it_would_make(dataverse: DataverseStandIn) -> None:
    dataverse.add_role("Salesperson")
    said = provision(dataverse, dry_run=True, grant_read_to=["Salesperson"])
    assert writes(dataverse) == []
    assert "grant Read on contoso_whatsappmessage to role 'Salesperson' (Local depth)" in said


def test_the_command_line_grants_read_at_the_depth_asked(dataverse: DataverseStandIn) -> None:
    sales = dataverse.add_role("Salesperson")
    service = dataverse.add_role("Customer Service Representative")
    args = ["--url", dataverse.url, "--prefix", "contoso", "--grant-read-to", ",".join(AGENT_ROLES)]
    assert main([*args, "--read-depth", "organization"], client=dataverse.client()) == 0
    read = "prvReadcontoso_whatsappmessage"
    assert dataverse.role_depth(sales, read) == dataverse.role_depth(service, read) == "Global"
    assert main([*args[:4], "--grant-read-to", "Nobody"], client=dataverse.client()) == 1


def test_the_standin_refuses_role_calls_dataverse_refuses(dataverse: DataverseStandIn) -> None:
    provision(dataverse)
    role = dataverse.add_role("Salesperson")
    privileges = raw(dataverse, "GET", "EntityDefinitions(LogicalName='contoso_whatsappmessage')/Privileges")
    read = next(p["PrivilegeId"] for p in privileges.json()["value"] if p["PrivilegeType"] == "Read")
    action = "Microsoft.Dynamics.CRM.AddPrivilegesRole"
    grant = {"Privileges": [{"Depth": "Local", "PrivilegeId": read, "BusinessUnitId": ROOT_BUSINESS_UNIT}]}
    nobody = "00000000-0000-0000-0000-000000000001"
    assert raw(dataverse, "POST", f"roles({nobody})/{action}", json=grant).status_code == 404
    assert raw(dataverse, "GET", f"RetrieveRolePrivilegesRole(RoleId={nobody})").status_code == 404
    unknown = {"Privileges": [{**grant["Privileges"][0], "PrivilegeId": nobody}]}
    assert raw(dataverse, "POST", f"roles({role})/{action}", json=unknown).status_code == 404
    bad_depth = {"Privileges": [{**grant["Privileges"][0], "Depth": "Everywhere"}]}
    assert raw(dataverse, "POST", f"roles({role})/{action}", json=bad_depth).status_code == 400
    assert dataverse.role_depth(role, "prvReadcontoso_whatsappmessage") is None
    assert raw(dataverse, "POST", f"roles({role})/{action}", json=grant).status_code == 204
    held = raw(dataverse, "GET", f"RetrieveRolePrivilegesRole(RoleId={role})").json()["RolePrivileges"]
    assert held == [{"Depth": "Local", "PrivilegeId": read, "BusinessUnitId": ROOT_BUSINESS_UNIT}]


def test_the_publisher_prefix_must_be_one_dataverse_accepts() -> None:
    assert check_prefix("wa") == "wa"
    for bad in ("", "x", "WA", "mscrmx", "toolongprefix", "1a"):
        with pytest.raises(ValueError, match="publisher prefix"):
            TableNames(bad)
