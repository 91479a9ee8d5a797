"""Creates what the app expects to exist, if missing: in Azure `infra/` does this, locally this module."""

from __future__ import annotations

from contextlib import suppress

from azure.core.exceptions import ResourceExistsError
from azure.cosmos import PartitionKey

from shared.config import Settings
from shared.storage.clients import blob_service, cosmos_client, queue_service
from shared.storage.indexing import INDEXING_POLICY
from shared.storage.names import ALL_QUEUES

_POLICY_PARTS = ("compositeIndexes", "includedPaths", "excludedPaths")


def provision(settings: Settings) -> None:
    database = cosmos_client(settings).create_database_if_not_exists(settings.COSMOS_DATABASE)
    # default_ttl=-1: TTL on, items live forever unless they set `ttl` (the session document does).
    key = PartitionKey(path="/conversationId")
    container = database.create_container_if_not_exists(
        settings.COSMOS_CONTAINER, partition_key=key, default_ttl=-1, indexing_policy=INDEXING_POLICY
    )
    # A container made by an older version keeps its policy: bring it up to this one (the inbox's
    # ORDER BY needs its composite index; the paths it leaves out save write RU).
    current = container.read().get("indexingPolicy", {})
    if any(current.get(part) != INDEXING_POLICY[part] for part in _POLICY_PARTS):
        database.replace_container(
            container, partition_key=key, default_ttl=-1, indexing_policy=INDEXING_POLICY
        )
    queues = queue_service(settings)
    for name in ALL_QUEUES:
        with suppress(ResourceExistsError):
            queues.create_queue(name)
    with suppress(ResourceExistsError):
        blob_service(settings).create_container(settings.MEDIA_CONTAINER)
