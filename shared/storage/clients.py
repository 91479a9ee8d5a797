"""Builds the Azure SDK clients from settings: keys where given, managed identity otherwise."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from azure.cosmos import ContainerProxy, CosmosClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import ExponentialRetry, QueueServiceClient

from shared.config import Settings


@lru_cache(maxsize=1)
def _default_credential() -> Any:
    # Imported lazily: azure-identity is only needed where no key is configured, and it costs cold start.
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def cosmos_client(settings: Settings, **options: Any) -> CosmosClient:
    """`options` go to the SDK client as they are (benchmarks pass a counting transport)."""
    credential: Any = settings.COSMOS_KEY.get_secret_value() if settings.COSMOS_KEY else _default_credential()
    local = settings.cosmos_is_local_emulator
    if local:
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
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


def _storage_options() -> dict[str, Any]:
    # The SDK's default waits 15 s and more between retries; the webhook would outlive Meta's patience.
    # Two quick retries, then a 5xx, and Meta redelivers later.
    return {
        "retry_policy": ExponentialRetry(
            initial_backoff=1, increment_base=2, retry_total=2, random_jitter_range=1
        ),
        "connection_timeout": 5,
    }


def queue_service(settings: Settings, **options: Any) -> QueueServiceClient:
    options = {**_storage_options(), **options}
    if settings.AZURE_WEBJOBS_STORAGE:
        return QueueServiceClient.from_connection_string(settings.AZURE_WEBJOBS_STORAGE, **options)
    account = settings.AZURE_WEBJOBS_STORAGE_ACCOUNT_NAME
    return QueueServiceClient(f"https://{account}.queue.core.windows.net", _default_credential(), **options)


def blob_service(settings: Settings, **options: Any) -> BlobServiceClient:
    options = {**_storage_options(), **options}
    if settings.AZURE_WEBJOBS_STORAGE:
        return BlobServiceClient.from_connection_string(settings.AZURE_WEBJOBS_STORAGE, **options)
    account = settings.AZURE_WEBJOBS_STORAGE_ACCOUNT_NAME
    return BlobServiceClient(f"https://{account}.blob.core.windows.net", _default_credential(), **options)
