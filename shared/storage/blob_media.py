"""Media files in Blob Storage, handed out as short-lived read-only SAS URLs."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
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

from shared.conversations.ports import StoredMedia, StoreUnavailable, UnsafeBlobName
from shared.media.names import attachment, is_outbound_blob_name, served_type, served_type_of_name

_CLOCK_SKEW = timedelta(minutes=5)
# A delegation key is reused for this long beyond the longest URL signed with it.
_DELEGATION_KEY_REUSE = timedelta(hours=6)
# Azure refuses a key that expires more than 7 days from now; keep clear of that edge.
_DELEGATION_KEY_MAX = timedelta(days=7) - _CLOCK_SKEW
# An encoded slash or backslash would be decoded by Blob Storage into another path.
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)
CHUNK = 4 * 1024 * 1024


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BlobMediaStore:
    def __init__(self, service: BlobServiceClient, container: str, clock: Callable[[], datetime] = _utc_now):
        self.service = service
        self.container = service.get_container_client(container)
        self.clock = clock
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
                # Served as a download, typed only if WhatsApp accepts the type: a customer's
                # text/html must never render as a page on the storage account's origin.
                content_settings=ContentSettings(
                    content_type=served_type(content_type), content_disposition=attachment(blob_name)
                ),
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
        now = self.clock()
        expiry = now + timedelta(minutes=minutes)
        blob = self.container.get_blob_client(blob_name)
        common: dict[str, Any] = {
            "account_name": self.service.account_name,
            "container_name": self.container.container_name,
            "blob_name": blob_name,
            "permission": BlobSasPermissions(read=True),
            "start": now - _CLOCK_SKEW,
            # rscd/rsct: the answer is a download of a safe type whatever the blob was stored with
            # (blobs written before this rule included).
            "content_disposition": attachment(blob_name),
            "content_type": served_type_of_name(blob_name),
        }
        account_key = getattr(self.service.credential, "account_key", None)
        if account_key:  # a connection string with a key (Azurite): an account-key SAS
            token = generate_blob_sas(account_key=account_key, expiry=expiry, **common)
        else:  # managed identity, no shared keys: a user delegation SAS, which dies with its key
            key, key_expires = self._delegation_key(now, expiry)
            token = generate_blob_sas(user_delegation_key=key, expiry=min(expiry, key_expires), **common)
        return f"{blob.url}?{token}"

    def _delegation_key(self, now: datetime, sas_expiry: datetime) -> tuple[UserDelegationKey, datetime]:
        """A key that outlives the SAS about to be signed (Azure allows 7 days), reused while it does."""
        longest = now + _DELEGATION_KEY_MAX
        with self._lock:
            if self._delegation is None or self._delegation_expires < min(sas_expiry, longest):
                expires = min(max(sas_expiry, now) + _DELEGATION_KEY_REUSE, longest)
                try:
                    self._delegation = self.service.get_user_delegation_key(now - _CLOCK_SKEW, expires)
                except AzureError as error:
                    raise StoreUnavailable("could not get a user delegation key for media URLs") from error
                self._delegation_expires = expires
            return self._delegation, self._delegation_expires

    def blob_name_of(self, url: str) -> str | None:
        """The upload a URL names; None for a URL outside our container. A name that is not a plain
        `outbound/...` path raises UnsafeBlobName: `..%2F` would otherwise reach any blob."""
        prefix = urlsplit(self.container.url)
        target = urlsplit(url)
        if (target.scheme, target.netloc) != (prefix.scheme, prefix.netloc):
            return None
        container_path = prefix.path.rstrip("/") + "/"
        if not target.path.startswith(container_path):
            return None
        raw = target.path[len(container_path) :]
        name = unquote(raw)  # bytes that are not UTF-8 become U+FFFD, which no upload's name holds
        if _ENCODED_SEPARATOR.search(raw) or not is_outbound_blob_name(name):
            raise UnsafeBlobName("mediaUrl points into the media container but not at an upload")
        return name
