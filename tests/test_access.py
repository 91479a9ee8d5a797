"""Record-level authorisation: an agent sees a conversation only from a Contact or Lead that D365 lets
them read, holding the customer's number, on a business number this deployment serves.

Two agents and their records against the stand-in Dataverse (impersonation as Microsoft documents it):
allowed, another record, another business number, a record without that phone.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from werkzeug.test import Client, TestResponse

from devhost.dataverse_standin import DataverseStandIn
from shared import services as services_module
from shared.access.records import AccessPolicy, RecordRefused, record_has_number
from shared.auth import entra
from shared.conversations.documents import Regarding
from shared.dataverse.record_access import DataverseRecords
from shared.services import Services, get_services
from tests.media_files import png
from tests.test_auth import (  # the key fixtures come along with the token helpers
    AGENT_OID,
    API_CLIENT_ID,
    ROLE,
    TENANT,
    KeyEndpoint,
    claims_for,
    key_endpoint,
    sign,
    signing_key,
)
from tests.test_send import Meta, customer_writes

__all__ = ["key_endpoint", "signing_key"]  # fixtures, imported for pytest

WA = "447700900123"
OTHER_AGENT_OID = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"


class Office:
    """Two agents, each with a contact holding the customer's number that only they may read, plus a
    contact agent A may read whose phones are someone else's, and a lead with the number as a home
    phone in national spelling."""

    def __init__(self, dataverse: DataverseStandIn):
        self.dataverse = dataverse
        self.contact_a = dataverse.add_contact(mobilephone="+44 7700 900123")
        self.contact_b = dataverse.add_contact(telephone1="00447700900123")
        self.other_person = dataverse.add_contact(mobilephone="+44 7700 900999")
        self.lead_a = dataverse.add_lead(telephone2="07700 900123")
        dataverse.add_user(AGENT_OID, contacts={self.contact_a, self.other_person}, leads=None)
        dataverse.add_user(OTHER_AGENT_OID, contacts={self.contact_b})

    def record_reads(self) -> list[str]:
        """The object id each read of a record was made as, in order."""
        found = []
        for seen in self.dataverse.seen:
            caller = {k.lower(): v for k, v in seen.headers.items()}.get("callerobjectid")
            if seen.method == "GET" and caller:
                found.append(caller)
        return found


@pytest.fixture
def office(
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
    services: Services,
    key_endpoint: KeyEndpoint,
    phone_number_id: str,
) -> Office:
    dataverse = DataverseStandIn(httpserver)
    for name, value in {
        "AUTH_DISABLED": "false",
        "AUTH_TENANT_ID": TENANT,
        "AUTH_AUDIENCE": API_CLIENT_ID,
        "AUTH_REQUIRED_ROLE": ROLE,
        "AUTH_AUTHORITY": httpserver.url_for(""),
        "DATAVERSE_URL": dataverse.url,
        "WHATSAPP_PHONE_NUMBER_IDS": f"{phone_number_id},100200300400",
    }.items():
        monkeypatch.setenv(name, value)
    services_module.reset()
    entra.reset()
    built = get_services()
    assert built.access is not None, "record checks are on wherever Dataverse is configured"
    built.access = AccessPolicy(DataverseRecords(dataverse.client()), grant_seconds=300)
    return Office(dataverse)


@pytest.fixture
def agent_a(httpserver: HTTPServer, signing_key: rsa.RSAPrivateKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign(claims_for(httpserver.url_for('')), signing_key)}"}


@pytest.fixture
def agent_b(httpserver: HTTPServer, signing_key: rsa.RSAPrivateKey) -> dict[str, str]:
    token = sign(claims_for(httpserver.url_for(""), oid=OTHER_AGENT_OID, name="Bo Agent"), signing_key)
    return {"Authorization": f"Bearer {token}"}


def history(client: Client, number: str, agent: dict[str, str], regarding: str | None) -> TestResponse:
    query = {"phoneNumberId": number} | ({"regarding": regarding} if regarding else {})
    return client.get(f"/api/conversations/{WA}/messages", query_string=query, headers=agent)


def refused(response: TestResponse, reason: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json["error"]["code"] == "not_allowed"
    assert reason in response.json["error"]["message"]


def test_an_agent_reads_the_chat_of_a_contact_they_may_read(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    response = history(client, phone_number_id, agent_a, f"contact:{office.contact_a}")
    assert response.status_code == 200, response.text
    assert [m["text"] for m in response.json["messages"]] == ["Hi!"]
    assert office.record_reads() == [AGENT_OID]  # Dataverse was asked as the agent, not as the app


def test_a_lead_whose_home_phone_holds_the_number_in_national_spelling_is_enough(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str
) -> None:
    session = client.get(
        f"/api/conversations/{WA}/session",
        query_string={"phoneNumberId": phone_number_id, "regarding": f"lead:{office.lead_a}"},
        headers=agent_a,
    )
    assert session.status_code == 200, session.text


def test_another_agents_record_is_refused_with_the_reason(
    client: Client, office: Office, agent_a: dict[str, str], agent_b: dict[str, str], phone_number_id: str
) -> None:
    refused(history(client, phone_number_id, agent_a, f"contact:{office.contact_b}"), "permission")
    assert history(client, phone_number_id, agent_b, f"contact:{office.contact_b}").status_code == 200
    refused(history(client, phone_number_id, agent_b, f"contact:{office.contact_a}"), "permission")
    refused(history(client, phone_number_id, agent_b, f"lead:{office.lead_a}"), "permission")


def test_a_record_without_the_customers_number_is_refused(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str
) -> None:
    refused(
        history(client, phone_number_id, agent_a, f"contact:{office.other_person}"),
        "not one of this contact's phone numbers",
    )


def test_a_business_number_this_deployment_does_not_serve_is_refused(
    client: Client, office: Office, agent_a: dict[str, str]
) -> None:
    refused(history(client, "999888777666", agent_a, f"contact:{office.contact_a}"), "999888777666")
    assert office.record_reads() == []  # refused before Dataverse is asked


def test_a_record_that_does_not_exist_is_refused(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    refused(history(client, phone_number_id, agent_a, f"contact:{missing}"), "does not exist")


def test_an_account_dataverse_does_not_know_is_refused(
    client: Client,
    office: Office,
    httpserver: HTTPServer,
    signing_key: rsa.RSAPrivateKey,
    phone_number_id: str,
) -> None:
    stranger = sign(
        claims_for(httpserver.url_for(""), oid="11111111-2222-4333-8444-555555555555"), signing_key
    )
    response = history(
        client, phone_number_id, {"Authorization": f"Bearer {stranger}"}, f"contact:{office.contact_a}"
    )
    refused(response, "not a user of this Dynamics 365 environment")


def test_the_answer_is_remembered_per_agent_and_record(
    client: Client, office: Office, agent_a: dict[str, str], agent_b: dict[str, str], phone_number_id: str
) -> None:
    for _ in range(3):
        assert history(client, phone_number_id, agent_a, f"contact:{office.contact_a}").status_code == 200
        refused(history(client, phone_number_id, agent_b, f"contact:{office.contact_a}"), "permission")
    assert office.record_reads() == [AGENT_OID, OTHER_AGENT_OID]


def test_without_the_record_the_routes_answer_400(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str
) -> None:
    response = history(client, phone_number_id, agent_a, None)
    assert response.status_code == 400
    assert "regarding is required" in response.json["error"]["message"]


@pytest.mark.parametrize(
    "regarding",
    ["contact:not-a-guid", "account:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "contact:x)/../y", "contact"],
)
def test_a_malformed_record_is_400_before_dataverse_is_asked(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str, regarding: str
) -> None:
    response = history(client, phone_number_id, agent_a, regarding)
    assert response.status_code == 400, response.text
    assert office.record_reads() == []


def test_sending_needs_the_record_too_and_it_is_stored_on_the_message(
    client: Client,
    office: Office,
    agent_a: dict[str, str],
    services: Services,
    httpserver: HTTPServer,
    phone_number_id: str,
) -> None:
    meta = Meta(httpserver, get_services())
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)

    def send(record: str, **extra: Any) -> TestResponse:
        return client.post(
            f"/api/conversations/{WA}/messages",
            query_string={"phoneNumberId": phone_number_id, "regarding": record},
            data=json.dumps({"type": "text", "text": "hello", **extra}),
            headers={**agent_a, "Content-Type": "application/json"},
        )

    refused(send(f"contact:{office.other_person}"), "phone numbers")
    differing = send(f"contact:{office.contact_a}", regarding={"entity": "lead", "id": office.lead_a})
    assert differing.status_code == 400
    sent = send(f"contact:{office.contact_a}")
    assert sent.status_code == 202, sent.text
    assert sent.json["regarding"] == {"entity": "contact", "id": office.contact_a}


def test_uploading_needs_a_record_the_agent_may_read(
    client: Client, office: Office, agent_a: dict[str, str], agent_b: dict[str, str]
) -> None:
    def upload(agent: dict[str, str], regarding: str) -> TestResponse:
        return client.post(
            "/api/media",
            query_string={"regarding": regarding},
            data={"file": (io.BytesIO(png()), "photo.png")},
            headers=agent,
        )

    refused(upload(agent_b, f"contact:{office.contact_a}"), "permission")
    assert upload(agent_a, f"contact:{office.contact_a}").status_code == 201


def test_an_application_user_without_the_delegate_role_is_an_operators_problem(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str
) -> None:
    office.dataverse.app_may_impersonate = False
    response = history(client, phone_number_id, agent_a, f"contact:{office.contact_a}")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "not_configured"
    assert "prvActOnBehalfOfAnotherUser" in response.json["error"]["message"]


def test_dataverse_down_is_a_503_to_retry_not_a_refusal(
    client: Client, office: Office, agent_a: dict[str, str], phone_number_id: str
) -> None:
    office.dataverse.fail(times=10, status=503)
    response = history(client, phone_number_id, agent_a, f"contact:{office.contact_a}")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "access_check_unavailable"
    assert response.headers["Retry-After"]


# --- the matching and remembering, without HTTP ------------------------------------------------------


@pytest.mark.parametrize(
    ("phones", "customer_ids", "matches"),
    [
        (["+44 7700 900123"], [WA], True),
        (["07700 900123"], [WA], True),  # national spelling, as the mirror looks it up
        (["0044-7700-900123"], [WA], True),
        (["+44 7700 900124"], [WA], False),
        (["", "not a phone"], [WA], False),
        (["+55 11 98765-4321"], ["5511987654321", "551187654321"], True),  # Brazil's ninth digit
        (["+55 11 8765-4321"], ["5511987654321", "551187654321"], True),
        (["+44 7700 900123"], ["US.13491208655302741918"], False),  # a username-only customer
    ],
)
def test_a_records_phone_matches_the_customer_in_any_usual_spelling(
    phones: list[str], customer_ids: list[str], matches: bool
) -> None:
    assert record_has_number(phones, customer_ids) is matches


class CountingDirectory:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.refuse = False

    def phones_visible_to(self, agent_object_id: str, record: Regarding) -> tuple[str, ...]:
        self.asked.append((agent_object_id, record.id))
        if self.refuse:
            raise RecordRefused("no")
        return ("+44 7700 900123",)


def test_grants_are_remembered_for_the_configured_time_and_refusals_for_less() -> None:
    now = [0.0]
    directory = CountingDirectory()
    policy = AccessPolicy(directory, grant_seconds=300, refusal_seconds=60, clock=lambda: now[0])
    record = Regarding(entity="contact", id=AGENT_OID)
    policy.check("a", record, [WA])
    now[0] = 299
    policy.check("a", record, [WA])
    assert len(directory.asked) == 1
    now[0] = 301
    directory.refuse = True
    with pytest.raises(RecordRefused):
        policy.check("a", record, [WA])
    now[0] = 350
    with pytest.raises(RecordRefused):
        policy.check("a", record, [WA])
    assert len(directory.asked) == 2  # the refusal was remembered
    directory.refuse = False
    now[0] = 362
    policy.check("a", record, [WA])  # granted since: seen within a minute
    assert len(directory.asked) == 3
