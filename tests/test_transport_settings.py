"""Every outbound client of the app ignores proxy (and `.netrc`) settings from the environment: with
them on, `requests` looks them up again on every call, a sixth of the SDKs' CPU per request
(issue 16; docs/deploy.md, "Proxies"). Each test here fails if a client is built without it.

The behavioural tests point HTTP(S)_PROXY at a closed port: a client that still reads the environment
sends its request there and fails; one that does not reaches the local server directly."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from shared.config import Settings
from shared.dataverse import client as dataverse_client
from shared.dataverse.tokens import token_provider_for
from shared.services import Services
from shared.storage import clients
from shared.whatsapp.graph_client import GraphClient

AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;"
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every proxy variable `requests` reads, pointing at a port nothing listens on."""
    proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return proxy


def trusts_environment(transport: Any) -> bool:
    """What an azure-core RequestsTransport sets on the session it opens."""
    transport.open()
    try:
        return bool(transport.session.trust_env)
    finally:
        transport.close()


def test_the_graph_and_dataverse_sessions_do_not_read_the_environment() -> None:
    assert GraphClient("https://graph.facebook.com", "v23.0", "token").session.trust_env is False
    assert dataverse_client.pooled_session().trust_env is False


def test_the_storage_clients_get_a_transport_that_does_not_read_the_environment() -> None:
    settings = Settings(AzureWebJobsStorage=AZURITE)
    for service in (clients.queue_service(settings), clients.blob_service(settings)):
        transport: Any = service._pipeline._transport
        assert not trusts_environment(transport)
        # The timeouts the SDK would have given its own transport (ours replaces it).
        assert transport.connection_config.timeout == clients.STORAGE_CONNECTION_TIMEOUT
        assert transport.connection_config.read_timeout == clients.STORAGE_READ_TIMEOUT


def test_the_cosmos_client_gets_a_transport_that_does_not_read_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: dict[str, Any] = {}

    class Recorded:
        def __init__(self, *args: Any, **kwargs: Any):
            built.update(kwargs)

    monkeypatch.setattr(clients, "CosmosClient", Recorded)  # the real one reads the account at once
    clients.cosmos_client(Settings(COSMOS_ENDPOINT="https://contoso.documents.azure.com/", COSMOS_KEY="k"))
    assert not trusts_environment(built["transport"])


def test_the_managed_identity_and_dataverse_credentials_do_not_read_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import azure.identity

    made: list[dict[str, Any]] = []

    def recorded(*args: Any, **kwargs: Any) -> object:
        made.append(kwargs)
        return object()

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", recorded)
    monkeypatch.setattr(azure.identity, "ClientSecretCredential", recorded)
    clients._default_credential.cache_clear()
    try:
        clients._default_credential()
    finally:
        clients._default_credential.cache_clear()
    url = "https://contoso.crm.dynamics.com"
    with_secret = Settings(
        DATAVERSE_URL=url, DATAVERSE_TENANT_ID="t", DATAVERSE_CLIENT_ID="c", DATAVERSE_CLIENT_SECRET="s"
    )
    token_provider_for(with_secret)._factory()
    token_provider_for(Settings(DATAVERSE_URL=url))._factory()
    assert len(made) == 3
    assert [trusts_environment(kwargs["transport"]) for kwargs in made] == [False, False, False]


def test_a_proxy_in_the_environment_does_not_reroute_graph_or_dataverse_calls(
    httpserver: HTTPServer, dead_proxy: str
) -> None:
    httpserver.expect_request("/v23.0/m-1").respond_with_json({"url": "https://lookaside.fbsbx.com/x"})
    graph = GraphClient(httpserver.url_for("/").rstrip("/"), "v23.0", "token", max_attempts=1)
    assert graph.media_location("m-1").url == "https://lookaside.fbsbx.com/x"
    httpserver.expect_request("/ping").respond_with_data("ok")
    assert dataverse_client.pooled_session().get(httpserver.url_for("/ping"), timeout=5).text == "ok"


def test_a_proxy_in_the_environment_does_not_reroute_cosmos_or_storage_calls(
    services: Services, dead_proxy: str
) -> None:
    settings = services.settings
    clients.queue_service(settings).get_service_properties()
    clients.blob_service(settings).get_service_properties()
    clients.cosmos_container(settings).read()
