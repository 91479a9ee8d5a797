"""What WhatsApp accepts as media (WHATSAPP-NOTES.md §6), and what a file really is, from its bytes."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath

import filetype

MB = 1024 * 1024
KB = 1024

# mime type -> (WhatsApp message type, size limit in bytes). Meta: audio and video 16 MB, images 5 MB,
# documents 100 MB, stickers (WebP only) 100 KB static / 500 KB animated.
SUPPORTED: dict[str, tuple[str, int]] = {
    "audio/aac": ("audio", 16 * MB),
    "audio/amr": ("audio", 16 * MB),
    "audio/mpeg": ("audio", 16 * MB),
    "audio/mp4": ("audio", 16 * MB),
    "audio/ogg": ("audio", 16 * MB),
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    "image/webp": ("sticker", 500 * KB),
    "video/mp4": ("video", 16 * MB),
    "video/3gpp": ("video", 16 * MB),
    "text/plain": ("document", 100 * MB),
    "application/pdf": ("document", 100 * MB),
    "application/msword": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", 100 * MB),
    "application/vnd.ms-excel": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100 * MB),
    "application/vnd.ms-powerpoint": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", 100 * MB),
}
STATIC_STICKER_LIMIT = 100 * KB
LARGEST = max(limit for _, limit in SUPPORTED.values())
# Old Office formats share one container (OLE2); the sniffer cannot tell them apart, the name can.
_OLE2_BY_EXTENSION = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
_EQUIVALENT = {
    "audio/mp4": {"video/mp4"},
    "video/mp4": {"audio/mp4"},
    "audio/ogg": {"application/ogg"},
    "video/3gpp": {"audio/3gpp", "video/mp4"},  # Python names `.3gp` audio/3gpp; the same boxes as MP4
}


class MediaRejected(ValueError):
    """The file cannot go to WhatsApp: `status` is 400 (empty), 413 (too large) or 415 (type)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class MediaType:
    mime_type: str
    kind: str  # the WhatsApp message type that carries it
    limit: int


def _sniff(head: bytes) -> str | None:
    guess = filetype.guess(head)
    if guess is None:
        return None
    mime = str(guess.mime)
    if mime == "video/mp4" and head[8:11] == b"3gp":
        # filetype's own 3GPP matcher expects `ftyp` at offset 0, so real 3GPP files (the same boxes as
        # MP4, major brand 3gp4-3gp6) come back as MP4.
        return "video/3gpp"
    return "audio/mp4" if mime == "audio/x-m4a" else mime


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sample.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return b"\x00" not in head


def _extension_type(filename: str) -> str | None:
    suffix = PurePosixPath(filename).suffix.lower()
    if not suffix:
        return None
    return _OLE2_BY_EXTENSION.get(suffix) or mimetypes.types_map.get(suffix)


def classify(head: bytes, size: int, filename: str) -> MediaType:
    """The file's real type from its first bytes (not its name), checked against WhatsApp's rules.

    `head` should be the first few KB; a name whose extension claims another type is refused, since
    the customer's phone would open the file by that name.
    """
    if size == 0:
        raise MediaRejected(400, "The file is empty.")
    sniffed = _sniff(head)
    claimed = _extension_type(filename)
    if sniffed == "application/x-ole-storage" and claimed in _OLE2_BY_EXTENSION.values():
        sniffed = claimed
    if sniffed is None and _looks_like_text(head) and claimed in (None, "text/plain"):
        sniffed = "text/plain"
    if sniffed is None or sniffed not in SUPPORTED:
        what = sniffed or "an unrecognised format"
        raise MediaRejected(
            415,
            f"WhatsApp cannot carry this file ({what}). Supported: JPEG and PNG images, MP4 and 3GPP video, "
            "AAC, AMR, MP3, MP4 and OGG (Opus) audio, PDF, Word, Excel, PowerPoint and text documents, "
            "and WebP stickers.",
        )
    if claimed and claimed != sniffed and claimed not in _EQUIVALENT.get(sniffed, set()):
        raise MediaRejected(
            415, f"The file's name says {claimed} but its content is {sniffed}; rename or re-export it."
        )
    kind, limit = SUPPORTED[sniffed]
    if kind == "sticker" and b"ANIM" not in head[:64]:
        limit = STATIC_STICKER_LIMIT
    if size > limit:
        raise MediaRejected(
            413,
            f"WhatsApp accepts {kind}s up to {limit // KB if limit < MB else limit // MB} "
            f"{'KB' if limit < MB else 'MB'}; this file is {size / MB:.1f} MB.",
        )
    return MediaType(sniffed, kind, limit)
