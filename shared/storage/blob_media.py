"""Media files in Blob Storage, handed out as short-lived read-only SAS URLs."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    ContentSettings,
    UserDelegationKey,
    generate_blob_sas,
)

from shared.conversations.ports import StoredMedia, StoreUnavailable

_CLOCK_SKEW = timedelta(minutes=5)
_DELEGATION_KEY_LIFETIME = timedelta(hours=6)
CHUNK = 4 * 1024 * 1024


class BlobMediaStore:
    def __init__(self, service: BlobServiceClient, container: str):
        self.service = service
        self.container = service.get_container_client(container)
        self._delegation: UserDelegationKey | None = None
        self._delegation_expires = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def put(
        self, blob_name: str, data: bytes | Iterable[bytes], content_type: str, metadata: dict[str, str]
    ) -> None:
        try:
            self.container.get_blob_client(blob_name).upload_blob(
                data,  # an iterable is staged in blocks: memory stays bounded for large files
                overwrite=True,
                content_settings=ContentSettings(content_type=content_type),
                metadata=metadata,
                max_concurrency=1,
            )
        except AzureError as error:
            raise StoreUnavailable(f"Blob Storage upload failed: {error.__class__.__name__}") from error

    def delete(self, blob_name: str) -> None:
        try:
            self.container.get_blob_client(blob_name).delete_blob()
        except ResourceNotFoundError:
            pass
        except AzureError as error:
            raise StoreUnavailable(f"Blob Storage delete failed: {error.__class__.__name__}") from error

    def ping(self) -> None:
        try:
            self.container.get_container_properties()
        except AzureError as error:
            raise StoreUnavailable(f"Blob Storage unavailable: {error.__class__.__name__}") from error

    def open(self, blob_name: str) -> StoredMedia:
        blob = self.container.get_blob_client(blob_name)
        try:
            props = blob.get_blob_properties()
        except ResourceNotFoundError as error:
            raise KeyError(blob_name) from error
        except AzureError as error:
            raise StoreUnavailable(f"Blob Storage read failed: {error.__class__.__name__}") from error

        def chunks() -> Iterator[bytes]:  # downloaded only when read
            try:
                yield from blob.download_blob(max_concurrency=1).chunks()
            except AzureError as error:
                raise StoreUnavailable(f"Blob Storage read failed: {error.__class__.__name__}") from error

        return StoredMedia(
            content_type=props.content_settings.content_type or "application/octet-stream",
            size=int(props.size),
            metadata=dict(props.metadata or {}),
            chunks=chunks(),
        )

    def read_url(self, blob_name: str, minutes: int) -> str:
        now = datetime.now(UTC)
        blob = self.container.get_blob_client(blob_name)
        common: dict[str, Any] = {
            "account_name": self.service.account_name,
            "container_name": self.container.container_name,
            "blob_name": blob_name,
            "permission": BlobSasPermissions(read=True),
            "start": now - _CLOCK_SKEW,
            "expiry": now + timedelta(minutes=minutes),
        }
        account_key = getattr(self.service.credential, "account_key", None)
        if account_key:  # a connection string with a key (Azurite): an account-key SAS
            token = generate_blob_sas(account_key=account_key, **common)
        else:  # managed identity, no shared keys: a user delegation SAS
            token = generate_blob_sas(user_delegation_key=self._delegation_key(now), **common)
        return f"{blob.url}?{token}"

    def _delegation_key(self, now: datetime) -> UserDelegationKey:
        with self._lock:
            if self._delegation is None or self._delegation_expires - now < timedelta(hours=1):
                expires = now + _DELEGATION_KEY_LIFETIME
                try:
                    self._delegation = self.service.get_user_delegation_key(now - _CLOCK_SKEW, expires)
                except AzureError as error:
                    raise StoreUnavailable("could not get a user delegation key for media URLs") from error
                self._delegation_expires = expires
            return self._delegation

    def blob_name_of(self, url: str) -> str | None:
        prefix = urlsplit(self.container.url)
        target = urlsplit(url)
        if (target.scheme, target.netloc) != (prefix.scheme, prefix.netloc):
            return None
        container_path = prefix.path.rstrip("/") + "/"
        if not target.path.startswith(container_path):
            return None
        name = unquote(target.path[len(container_path) :])
        return name or None
