"""Blob names for media: readable, unique, and safe in a URL and on the customer's phone."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import uuid
from datetime import datetime
from pathlib import PurePosixPath

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100
_PREFERRED_EXTENSION = {
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "image/jpeg": ".jpg",
    "text/plain": ".txt",
    "video/mp4": ".mp4",
}


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
    return f"outbound/{now:%Y}/{now:%m}/{uuid.uuid4()}/{filename}"


def inbound_blob_name(conversation_id: str, message_id: str, mime_type: str, at: datetime) -> str:
    """Deterministic per message, so a retried copy overwrites its own blob instead of adding one."""
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
    folder = _UNSAFE.sub("-", conversation_id)
    return f"inbound/{at:%Y}/{at:%m}/{folder}/{digest}{extension_for(mime_type)}"
