"""An agent's file, checked against WhatsApp's rules and kept in Blob Storage; the answer's URL goes
into the control's "media URL" box."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from shared.conversations.ports import MediaStore
from shared.media.contents import check_contents
from shared.media.names import outbound_blob_name, safe_filename
from shared.media.rules import classify

SNIFF_BYTES = 8192
CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class UploadedFile:
    media_url: str
    blob_name: str
    mime_type: str
    kind: str
    size: int
    sha256: str
    filename: str

    def to_json(self) -> dict[str, object]:
        return {
            "mediaUrl": self.media_url,
            "blobName": self.blob_name,
            "mimeType": self.mime_type,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "filename": self.filename,
        }


def _chunks(content: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    content.seek(0)
    while chunk := content.read(size):
        yield chunk


def upload(
    store: MediaStore, content: BinaryIO, filename: str, url_minutes: int, now: datetime
) -> UploadedFile:
    """Raises MediaRejected for a file WhatsApp would refuse; nothing is stored then.

    The type and size come from the first bytes; then what is inside (codecs, a sticker's size) is
    checked where WhatsApp would refuse it only after the send. `content` is read in chunks (to hash,
    then to store), so a large file on disk stays there.
    """
    head = content.read(SNIFF_BYTES)
    size = content.seek(0, io.SEEK_END)
    media_type = classify(head, size, filename)
    check_contents(content, media_type.mime_type)
    digest = hashlib.sha256()
    for chunk in _chunks(content):
        digest.update(chunk)
    name = safe_filename(filename, media_type.mime_type)
    blob_name = outbound_blob_name(name, now)
    metadata = {"sha256": digest.hexdigest(), "filename": name, "kind": media_type.kind}
    store.put(blob_name, _chunks(content), media_type.mime_type, metadata)
    return UploadedFile(
        media_url=store.read_url(blob_name, url_minutes),
        blob_name=blob_name,
        mime_type=media_type.mime_type,
        kind=media_type.kind,
        size=size,
        sha256=digest.hexdigest(),
        filename=name,
    )
