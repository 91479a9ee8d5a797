"""Builds the Azure SDK clients from settings: keys where given, managed identity otherwise.

Every client gets a transport that ignores proxy settings from the environment (`use_env_settings=False`,
which is `requests`' `trust_env = False`): with it on, `requests` looks up `HTTP(S)_PROXY`, `NO_PROXY`
and `~/.netrc` again on every request, a sixth of the SDK's own CPU per call. The app reaches Azure
directly (a Function App has no proxy variables); docs/deploy.md says what this means behind a proxy.

The Blob Storage SDK is imported only when a blob client is built: the webhook never needs it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from azure.core.pipeline.transport import RequestsTransport
from azure.cosmos import ContainerProxy, CosmosClient
from azure.storage.queue import ExponentialRetry, QueueServiceClient

from shared.config import Settings

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient

# What the Storage SDKs give the transport they build themselves (their `_shared/constants.py`), given
# to ours instead: a transport passed in is used as it is.
STORAGE_READ_TIMEOUT = 60
STORAGE_DATA_BLOCK_SIZE = 256 * 1024
STORAGE_CONNECTION_TIMEOUT = 5  # not the SDK's 20 s: see `_storage_options`


def direct_transport(**options: Any) -> RequestsTransport:
    """An azure-core transport that does not read proxy settings (or `.netrc`) from the environment."""
    return RequestsTransport(use_env_settings=False, **options)


@lru_cache(maxsize=1)
def _default_credential() -> Any:
    # Imported lazily: azure-identity is only needed where no key is configured, and it costs cold start.
    from azure.identity import DefaultAzureCredential

    # Its token requests (the managed identity endpoint, Entra ID) skip the proxy lookups as well.
    return DefaultAzureCredential(transport=direct_transport())


def cosmos_client(settings: Settings, **options: Any) -> CosmosClient:
    """`options` go to the SDK client as they are (benchmarks pass a counting transport)."""
    credential: Any = settings.COSMOS_KEY.get_secret_value() if settings.COSMOS_KEY else _default_credential()
    local = settings.cosmos_is_local_emulator
    if local:
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    options = {"transport": direct_transport(), **options}
    return CosmosClient(
        settings.COSMOS_ENDPOINT,
        credential,
        # A webhook must answer Meta quickly; Meta retries for 7 days, so fail fast instead of the
        # SDK's default of up to 30 s of throttling retries.
        retry_total=3,
        retry_backoff_max=2,
        connection_timeout=5,
        # The local emulator serves a self-signed certificate and has no regional endpoints.
        connection_verify=not local,
        enable_endpoint_discovery=not local,
        **options,
    )


def cosmos_container(settings: Settings, **options: Any) -> ContainerProxy:
    return (
        cosmos_client(settings, **options)
        .get_database_client(settings.COSMOS_DATABASE)
        .get_container_client(settings.COSMOS_CONTAINER)
    )


_connecting: dict[tuple[str, ...], Future[ContainerProxy]] = {}
_connecting_lock = threading.Lock()


def _container_key(settings: Settings) -> tuple[str, ...]:
    key = settings.COSMOS_KEY.get_secret_value() if settings.COSMOS_KEY else ""
    return (settings.COSMOS_ENDPOINT, key, settings.COSMOS_DATABASE, settings.COSMOS_CONTAINER)


def connect_cosmos_in_background(settings: Settings) -> None:
    """Starts building the Cosmos DB client on a thread: its constructor reads the account (and, with
    the managed identity, first gets a token), network waits that then overlap the rest of the app's
    import instead of adding to the first request. `cosmos_container_when_ready` takes the result."""
    if not settings.COSMOS_ENDPOINT.strip():
        return
    future: Future[ContainerProxy] = Future()
    with _connecting_lock:
        if _connecting.setdefault(_container_key(settings), future) is not future:
            return  # already under way

    def connect() -> None:
        try:
            future.set_result(cosmos_container(settings))
        except BaseException as error:  # handed to the first request, which answers 503 for it
            future.set_exception(error)

    threading.Thread(target=connect, name="cosmos-connect", daemon=True).start()


def cosmos_container_when_ready(settings: Settings) -> ContainerProxy:
    """The client `connect_cosmos_in_background` started (waiting for it), else a new one. A failed
    background attempt raises its error once; the next call builds a client afresh."""
    with _connecting_lock:
        future = _connecting.pop(_container_key(settings), None)
    if future is None:
        return cosmos_container(settings)
    return future.result()


def _storage_options() -> dict[str, Any]:
    # The SDK's default waits 15 s and more between retries; the webhook would outlive Meta's patience.
    # Two quick retries, then a 5xx, and Meta redelivers later.
    return {
        "retry_policy": ExponentialRetry(
            initial_backoff=1, increment_base=2, retry_total=2, random_jitter_range=1
        ),
        "connection_timeout": STORAGE_CONNECTION_TIMEOUT,
        "transport": direct_transport(
            connection_timeout=STORAGE_CONNECTION_TIMEOUT,
            read_timeout=STORAGE_READ_TIMEOUT,
            connection_data_block_size=STORAGE_DATA_BLOCK_SIZE,
        ),
    }


def queue_service(settings: Settings, **options: Any) -> QueueServiceClient:
    options = {**_storage_options(), **options}
    if settings.AZURE_WEBJOBS_STORAGE:
        return QueueServiceClient.from_connection_string(settings.AZURE_WEBJOBS_STORAGE, **options)
    account = settings.AZURE_WEBJOBS_STORAGE_ACCOUNT_NAME
    return QueueServiceClient(f"https://{account}.queue.core.windows.net", _default_credential(), **options)


def blob_service(settings: Settings, **options: Any) -> BlobServiceClient:
    from azure.storage.blob import BlobServiceClient

    options = {**_storage_options(), **options}
    if settings.AZURE_WEBJOBS_STORAGE:
        return BlobServiceClient.from_connection_string(settings.AZURE_WEBJOBS_STORAGE, **options)
    account = settings.AZURE_WEBJOBS_STORAGE_ACCOUNT_NAME
    return BlobServiceClient(f"https://{account}.blob.core.windows.net", _default_credential(), **options)
