"""Builds the mirror once per process, on first use, from settings and the app's conversation store."""

from __future__ import annotations

from functools import lru_cache

from shared.config import get_settings
from shared.dataverse import announce_mirror_state
from shared.dataverse.client import DataverseClient
from shared.dataverse.mirror import DataverseMirror
from shared.dataverse.notifications import UnreadNotifier
from shared.dataverse.regarding import PhoneDirectory, RegardingResolver
from shared.dataverse.schema import TableNames
from shared.dataverse.tokens import token_provider_for


@lru_cache(maxsize=1)
def get_mirror() -> DataverseMirror | None:
    """None when the mirror is off (`DATAVERSE_URL` unset)."""
    from shared.services import get_services

    settings = get_settings()
    if not announce_mirror_state(settings):
        return None
    store = get_services().store
    client = DataverseClient(settings.DATAVERSE_URL, token_provider_for(settings))
    directory = PhoneDirectory(client, create_leads=settings.DATAVERSE_CREATE_LEADS)
    return DataverseMirror(
        store, client, TableNames(settings.DATAVERSE_TABLE_PREFIX), RegardingResolver(store, directory)
    )


@lru_cache(maxsize=1)
def get_notifier() -> UnreadNotifier | None:
    """None when the mirror or notifications are off (`DATAVERSE_NOTIFY_AFTER_SECONDS` 0)."""
    settings = get_settings()
    mirror = get_mirror()
    if mirror is None or settings.DATAVERSE_NOTIFY_AFTER_SECONDS <= 0:
        return None
    return UnreadNotifier(mirror.store, mirror.client)


def reset() -> None:
    """Forget the mirror (tests change the environment between cases)."""
    get_mirror.cache_clear()
    get_notifier.cache_clear()
