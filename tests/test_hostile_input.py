"""What a careless deployment or a hostile caller tries: unresolved Key Vault references as keys, sign-in
switched off in Azure, a clientMessageId reused for another body, odd but well-formed parameters,
record ids that would land in an OData path. Each is refused with a 4xx or 503, never a 500."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from shared import services as services_module
from shared.config import Settings
from shared.conversations.documents import conversation_id
from shared.services import Services, get_services
from shared.startup_checks import security_warnings
from tests.api import deliver
from tests.media_files import png
from tests.payloads import inbound, message
from tests.test_send import WA, Meta, customer_writes, send

UNRESOLVED = "@Microsoft.KeyVault(SecretUri=https://kv-abc123.vault.azure.net/secrets/whatsapp-app-secret/)"
SECRET_SETTINGS = (
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "DATAVERSE_CLIENT_SECRET",
)
AGENT_ROUTES = [
    ("GET", f"/api/conversations/{WA}/session"),
    ("GET", f"/api/conversations/{WA}/messages"),
    ("POST", f"/api/conversations/{WA}/messages"),
    ("POST", f"/api/conversations/{WA}/read"),
    ("POST", f"/api/conversations/{WA}/typing"),
    ("POST", "/api/media"),
    ("GET", "/api/conversations"),
]  # GET /api/templates answers 503 until a WhatsApp Business Account is set: fuzzed in test_templates.py


def reconfigure(monkeypatch: pytest.MonkeyPatch, **values: str) -> Services:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    services_module.reset()
    return get_services()


# --- 1. an unresolved Key Vault reference is no key -------------------------------------------------


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_an_unresolved_key_vault_reference_counts_as_unset(name: str) -> None:
    found = Settings(**{name: UNRESOLVED})  # type: ignore[arg-type]
    value = getattr(found, name)
    assert value is None or value.get_secret_value() == ""
    assert found.unresolved_secrets == (name,)
    (level, line), *_ = security_warnings(found)
    assert level == logging.ERROR
    assert name in line
    assert "Key Vault" in line
    assert "kv-abc123" not in line  # the log names the setting, not the vault


def test_a_webhook_signed_with_the_references_text_is_refused_and_nothing_is_stored(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch, phone_number_id: str
) -> None:
    live = reconfigure(monkeypatch, WHATSAPP_APP_SECRET=UNRESOLVED)
    body = json.dumps(inbound(phone_number_id, WA, message("text", {"body": "forged"}, wa_id=WA))).encode()
    forged = "sha256=" + hmac.new(UNRESOLVED.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(
        "/api/whatsapp/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": forged},
    )
    assert response.status_code == 503  # Meta retries once the secret resolves
    assert live.store.read(conversation_id(phone_number_id, WA), "session") is None


def test_the_handshake_does_not_echo_for_the_references_text(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, WHATSAPP_VERIFY_TOKEN=UNRESOLVED)
    response = client.get(
        "/api/whatsapp/webhook",
        query_string={"hub.mode": "subscribe", "hub.verify_token": UNRESOLVED, "hub.challenge": "42"},
    )
    assert response.status_code != 200
    assert "42" not in response.text


@pytest.mark.parametrize(("method", "path"), AGENT_ROUTES)
def test_agent_routes_answer_503_not_configured_while_a_secret_is_unresolved(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch, method: str, path: str
) -> None:
    reconfigure(monkeypatch, WHATSAPP_ACCESS_TOKEN=UNRESOLVED)
    response = client.open(path, method=method, data=b"{}")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "not_configured"
    assert "WHATSAPP_ACCESS_TOKEN" in response.json["error"]["message"]


# --- 2. sign-in cannot be switched off in Azure -----------------------------------------------------


@pytest.mark.parametrize("marker", ["WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID"])
@pytest.mark.parametrize(("method", "path"), AGENT_ROUTES)
def test_auth_disabled_is_refused_where_the_app_runs_in_azure(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch, marker: str, method: str, path: str
) -> None:
    live = reconfigure(monkeypatch, AUTH_DISABLED="true", **{marker: "func-abc123"})
    response = client.open(path, method=method, data=b"{}")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "auth_not_configured"
    assert any(
        level == logging.ERROR and "AUTH_DISABLED" in line for level, line in security_warnings(live.settings)
    )


def test_locally_auth_disabled_still_serves_and_says_every_conversation_is_open(services: Services) -> None:
    lines = [line for _, line in security_warnings(services.settings)]
    assert any("can read every conversation" in line for line in lines)
    assert any("WHATSAPP_PHONE_NUMBER_IDS" in line for line in lines)


# --- 7. one clientMessageId, one message -------------------------------------------------------------


def test_a_reused_client_message_id_with_another_body_is_409_and_never_reaches_meta(
    client: Client, services: Services, httpserver: HTTPServer, phone_number_id: str
) -> None:
    meta = Meta(httpserver, services)
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, 130429, times=4)  # throttled: nothing went out, the same id may retry
    first = send(client, phone_number_id, type="text", text="Your refund is 10 EUR", clientMessageId="r-7")
    assert first.status_code == 429
    calls = len(meta.received)
    meta.accepts(phone_number_id)
    second = send(client, phone_number_id, type="text", text="Your refund is 1000 EUR", clientMessageId="r-7")
    assert second.status_code == 409, second.text
    assert second.json["error"]["code"] == "client_message_id_reused"
    assert len(meta.received) == calls  # nothing left the process
    retry = send(client, phone_number_id, type="text", text="Your refund is 10 EUR", clientMessageId="r-7")
    assert retry.status_code == 202, retry.text
    assert retry.json["text"] == "Your refund is 10 EUR"


def test_a_client_message_id_named_like_a_document_cannot_touch_it(
    client: Client, services: Services, httpserver: HTTPServer, phone_number_id: str
) -> None:
    meta = Meta(httpserver, services)
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    for reserved in ("session", "conversation", "receipt:wamid.X"):
        response = send(client, phone_number_id, type="text", text="hi", clientMessageId=reserved)
        assert response.status_code == 202, response.text
        assert response.json["id"] == f"out:{reserved}"
    conv = conversation_id(phone_number_id, WA)
    for document in ("session", "conversation"):
        found = services.store.read(conv, document)
        assert found is not None
        assert found["type"] == document


# --- 8. odd but well-formed parameters are 400 --------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "²"},
        {"limit": "١٠"},  # Arabic-Indic digits: str.isdigit() says yes, int() would too, the API says no
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "9" * 5000},
        {"changedSince": "²"},
        {"changedSince": "9" * 5000},
        {"changedSince": "-1"},
        {"before": "²"},
        {"before": "MTIzNDU2Nzg5MDEtMTIzNDU2Nzg5MDEyMzQ1Njc4OTA" + "A" * 5000},
        {"before": "wrzCssKy"},  # base64 of non-ASCII digits
        {"phoneNumberId": "²"},
        {"phoneNumberId": "1" * 21},
        {"regarding": "contact:²"},
    ],
)
def test_odd_parameters_are_400(client: Client, services: Services, params: dict[str, str]) -> None:
    response = client.get(f"/api/conversations/{WA}/messages", query_string=params)
    assert response.status_code == 400, (params, response.text)
    assert response.json["error"]["code"] == "invalid_request"


# --- 9. a record id must be a GUID ---------------------------------------------------------------


@pytest.mark.parametrize(
    "record_id",
    ["x", "00000000-0000-0000-0000-00000000000g", "{00000000-0000-0000-0000-000000000000}", "a)/contacts(b"],
)
def test_a_regarding_id_that_is_not_a_guid_is_400(
    client: Client, services: Services, phone_number_id: str, record_id: str
) -> None:
    customer_writes(client, phone_number_id)
    response = send(
        client, phone_number_id, type="text", text="hi", regarding={"entity": "contact", "id": record_id}
    )
    assert response.status_code == 400, response.text
    assert "regarding" in response.json["error"]["message"]


# --- never a 5xx -------------------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
_param_values = st.one_of(
    _text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "²", "0", "200", "201", "contact:", "lead:" + "0" * 36, "9" * 400]),
)
_params = st.dictionaries(
    st.sampled_from(["limit", "before", "changedSince", "phoneNumberId", "regarding", "other"]),
    _param_values,
    max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=_params,
    route=st.sampled_from(AGENT_ROUTES),
    customer=st.sampled_from([WA, "+44 7700 900123", "x"]),
)
def test_no_query_parameters_make_an_agent_route_answer_5xx(
    client: Client, services: Services, params: dict[str, str], route: tuple[str, str], customer: str
) -> None:
    method, path = route
    path = path.replace(WA, customer)
    body: Any = (
        {"file": (io.BytesIO(png()), "a.png")}
        if path.endswith("/media")
        else json.dumps({"type": "text", "text": "hi"})
    )
    response = client.open(path, method=method, query_string=params, data=body)
    assert response.status_code < 500, (method, path, params, response.text)


def test_deliver_still_works_after_the_hostile_cases(
    client: Client, services: Services, phone_number_id: str
) -> None:
    """The shared helpers are unaffected (a sanity check that the module's fixtures restore settings)."""
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "still fine"}, wa_id=WA)))
