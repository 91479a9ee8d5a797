"""The file an agent's message carries (a media message, a template's media header): one of our uploads,
sent to Meta by media id, or any other https URL, sent by link.

Our own uploads go by Meta media id: the storage account stays private, and the history keeps the blob,
not a URL that expires. An upload must be a plain `outbound/...` name of the kind it is sent as.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.conversations.documents import MediaInfo
from shared.conversations.ports import MediaStore, StoredMedia, UnsafeBlobName


class InvalidMedia(ValueError):
    """The media URL cannot be sent: not https, or one of our uploads that is missing or of another kind
    (`found`: the kind it is)."""

    def __init__(self, message: str, found: str | None = None):
        super().__init__(message)
        self.found = found


@dataclass(frozen=True)
class OutboundMedia:
    """What a message sends: an external link, or one of our blobs (uploaded to Meta first)."""

    info: MediaInfo
    blob_name: str | None = None
    stored: StoredMedia | None = None  # our blob, as read when checked; its bytes are read when uploaded


def resolve_media(store: MediaStore, url: str, kind: str, filename: str | None = None) -> OutboundMedia:
    """`url` as a file of `kind` (image, video, document, ...); raises InvalidMedia saying why not."""
    try:
        blob_name = store.blob_name_of(url)
    except UnsafeBlobName as error:
        raise InvalidMedia("mediaUrl does not name one of our uploads") from error
    if blob_name is None:
        if not url.startswith("https://"):
            raise InvalidMedia("mediaUrl must be an https:// URL that Meta can fetch, or one of our uploads")
        return OutboundMedia(MediaInfo(url=url, filename=filename))
    try:
        stored = store.open(blob_name)
    except KeyError as error:
        raise InvalidMedia("the uploaded file no longer exists; upload it again") from error
    found = stored.metadata.get("kind")
    if found != kind:
        raise InvalidMedia(
            f"the uploaded file is {'a ' + found if found else 'not media'}: send it as type {found}",
            found or "not media",
        )
    info = MediaInfo(
        blob_name=blob_name,
        mime_type=stored.content_type,
        size=stored.size,
        sha256=stored.metadata.get("sha256"),
        filename=filename or (stored.metadata.get("filename") if kind == "document" else None),
    )
    return OutboundMedia(info, blob_name, stored)
