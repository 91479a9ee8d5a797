"""Blob names for media: readable, unique, and safe in a URL and on the customer's phone."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import uuid
from datetime import datetime
from pathlib import PurePosixPath

from shared.media.rules import SUPPORTED

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100
OUTBOUND = "outbound"
# Spelled out for every type WhatsApp takes, so a blob's name says its type on any machine
# (`mimetypes` reads the host's own tables).
_PREFERRED_EXTENSION = {
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "text/plain": ".txt",
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}
# A customer's file is served with its own type only when WhatsApp itself accepts that type; anything
# else (text/html, SVG, ...) could run script on the storage account's origin.
SERVED_TYPES = frozenset(SUPPORTED)
OPAQUE = "application/octet-stream"
_TYPE_OF_EXTENSION = {extension: mime for mime, extension in _PREFERRED_EXTENSION.items()}


def extension_for(mime_type: str) -> str:
    bare = mime_type.split(";")[0].strip()
    return _PREFERRED_EXTENSION.get(bare) or mimetypes.guess_extension(bare) or ""


def safe_filename(name: str, mime_type: str) -> str:
    """Keeps letters, digits, dot, dash and underscore; ensures an extension that fits the content."""
    base = PurePosixPath(name.replace("\\", "/")).name
    path = PurePosixPath(_UNSAFE.sub("-", base).strip(".-") or "file")
    stem, suffix = path.stem.strip(".-"), path.suffix.lower()
    wanted = suffix if suffix and mimetypes.types_map.get(suffix) == mime_type else extension_for(mime_type)
    return (stem[: MAX_NAME - len(wanted)] or "file") + wanted


def outbound_blob_name(filename: str, now: datetime) -> str:
    return f"{OUTBOUND}/{now:%Y}/{now:%m}/{uuid.uuid4()}/{filename}"


def inbound_blob_name(conversation_id: str, message_id: str, mime_type: str, at: datetime) -> str:
    """Deterministic per message, so a retried copy overwrites its own blob instead of adding one."""
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
    folder = _UNSAFE.sub("-", conversation_id)
    return f"inbound/{at:%Y}/{at:%m}/{folder}/{digest}{extension_for(mime_type)}"


def served_type(mime_type: str) -> str:
    """The type a file is stored and served with: its own if on the allowlist, else opaque bytes."""
    bare = mime_type.split(";")[0].strip().lower()
    return bare if bare in SERVED_TYPES else OPAQUE


def served_type_of_name(blob_name: str) -> str:
    """The served type a blob's name implies (our names end in the extension of their type), so a
    read URL can pin it without asking Blob Storage."""
    suffix = PurePosixPath(blob_name).suffix.lower()
    return served_type(_TYPE_OF_EXTENSION.get(suffix) or mimetypes.types_map.get(suffix) or OPAQUE)


def attachment(blob_name: str) -> str:
    """Content-Disposition for a customer's or an agent's file: always a download, never a page on the
    storage account's origin (<img>, <audio> and <video> ignore it, so the chat panel still shows them)."""
    filename = _UNSAFE.sub("-", PurePosixPath(blob_name).name).strip(".-") or "file"
    return f'attachment; filename="{filename}"'


def is_outbound_blob_name(name: str) -> bool:
    """True for a normalised `outbound/...` name: printable ASCII, no backslash or percent sign, no
    empty, `.` or `..` segment. Anything else in a URL could climb to another blob of the account."""
    if not name.isascii() or not name.isprintable() or "\\" in name or "%" in name:
        return False
    segments = name.split("/")
    return (
        len(segments) >= 2
        and segments[0] == OUTBOUND
        and all(segment not in ("", ".", "..") for segment in segments)
    )
