"""The D365-facing routes ask for the agent's Entra ID token; Meta's webhook and health stay anonymous."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from shared import services as services_module
from shared.auth import entra
from shared.services import Services, get_services
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

WA = "447700900123"


@pytest.fixture
def secured(
    monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer, services: Services, key_endpoint: KeyEndpoint
) -> Services:
    for name, value in {
        "AUTH_DISABLED": "false",
        "AUTH_TENANT_ID": TENANT,
        "AUTH_AUDIENCE": API_CLIENT_ID,
        "AUTH_REQUIRED_ROLE": ROLE,
        "AUTH_AUTHORITY": httpserver.url_for(""),
    }.items():
        monkeypatch.setenv(name, value)
    services_module.reset()
    entra.reset()
    return get_services()


@pytest.fixture
def token(httpserver: HTTPServer, signing_key: rsa.RSAPrivateKey) -> str:
    return sign(claims_for(httpserver.url_for("")), signing_key)


ROUTES = [
    ("GET", f"/api/conversations/{WA}/session"),
    ("GET", f"/api/conversations/{WA}/messages"),
    ("POST", f"/api/conversations/{WA}/messages"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_the_control_routes_refuse_a_request_without_a_token(
    client: Client, secured: Services, method: str, path: str
) -> None:
    response = client.open(path, method=method, data=json.dumps({"type": "text", "text": "hi"}))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ROUTES[:2])
def test_the_control_routes_answer_an_agent_with_a_valid_token(
    client: Client, secured: Services, token: str, method: str, path: str
) -> None:
    response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_an_agent_without_the_app_role_is_forbidden(
    client: Client, secured: Services, httpserver: HTTPServer, signing_key: rsa.RSAPrivateKey
) -> None:
    roleless = sign(claims_for(httpserver.url_for(""), roles=[]), signing_key)
    response = client.get(f"/api/conversations/{WA}/session", headers={"Authorization": f"Bearer {roleless}"})
    assert response.status_code == 403
    assert ROLE in response.json["error"]["message"]


def test_the_agents_object_id_becomes_sent_by(
    client: Client, secured: Services, httpserver: HTTPServer, token: str, phone_number_id: str
) -> None:
    meta = Meta(httpserver, secured)
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    response = client.post(
        f"/api/conversations/{WA}/messages",
        query_string={"phoneNumberId": phone_number_id},
        data=json.dumps({"type": "text", "text": "hello from D365"}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    assert response.json["sentBy"] == AGENT_OID
    history: Any = client.get(
        f"/api/conversations/{WA}/messages",
        query_string={"phoneNumberId": phone_number_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert history.status_code == 200
    assert [m["sentBy"] for m in history.json["messages"] if m["direction"] == "outbound"] == [AGENT_OID]


def test_without_auth_settings_the_routes_refuse_to_serve(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_DISABLED", "false")
    monkeypatch.setenv("AUTH_TENANT_ID", "")
    services_module.reset()
    response = client.get(f"/api/conversations/{WA}/session")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "auth_not_configured"


def test_meta_and_probes_need_no_token(client: Client, secured: Services) -> None:
    assert client.get("/api/health").status_code == 200
    verify = client.get(
        "/api/whatsapp/webhook",
        query_string={"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "7"},
    )
    assert verify.status_code == 200
