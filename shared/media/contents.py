"""What is inside an agent's file, where WhatsApp looks too (WHATSAPP-NOTES.md §6, [MEDIA]).

WhatsApp checks codecs and sticker sizes only after the send, and the message then fails with 131053
("could not upload the media"): checked here at upload, from the file's own structure, so the agent
hears why at once. Only what can be read cheaply and honestly (`containers` reads a bounded amount):

- OGG audio must be Opus: each logical stream's identification header (RFC 7845 §5.1).
- MP4 and 3GPP video must be H.264 with AAC audio: each track's first sample entry, whose
  four-character code names the codec (ISO/IEC 14496-12 §8.5.2), and for `mp4a` the esds's
  objectTypeIndication (ISO/IEC 14496-1 §7.2.6.6). A file whose boxes cannot be read is left to
  WhatsApp.
- Stickers must be 512x512 WebP: `imagesize` (MIT) reads the WebP header (a few dozen bytes).

WhatsApp's other advice (mono Opus, H.264 Main or Baseline profile, no B-frames) is not enforced.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import BinaryIO

import imagesize  # type: ignore[import-untyped]  # annotated, but ships no py.typed

from shared.media.containers import Unreadable, read_mp4, read_ogg
from shared.media.rules import MediaRejected

log = logging.getLogger(__name__)

STICKER_SIDE = 512
H264 = frozenset({b"avc1", b"avc2", b"avc3", b"avc4"})
VIDEO_CODECS = {
    b"hvc1": "HEVC (H.265)",
    b"hev1": "HEVC (H.265)",
    b"av01": "AV1",
    b"vp08": "VP8",
    b"vp09": "VP9",
    b"mp4v": "MPEG-4 Part 2",
    b"s263": "H.263",
    b"h263": "H.263",
}
AUDIO_CODECS = {
    b"samr": "AMR",
    b"sawb": "AMR-WB",
    b"ac-3": "AC-3",
    b"ec-3": "E-AC-3",
    b"alac": "Apple Lossless",
    b"Opus": "Opus",
    b"fLaC": "FLAC",
}
# objectTypeIndication (ISO/IEC 14496-1 §7.2.6.6.2, MP4RA): 0x40 MPEG-4 Audio (AAC LC, HE-AAC ...),
# 0x66-0x68 MPEG-2 AAC Main, LC, SSR; 0x69 and 0x6B are MPEG-2 and MPEG-1 Audio, i.e. MP3.
AAC_OBJECT_TYPES = frozenset({0x40, 0x66, 0x67, 0x68})
MP4A_OBJECT_TYPES = {0x69: "MP3", 0x6B: "MP3"}


def check_contents(content: BinaryIO, mime_type: str) -> None:
    """Raises MediaRejected (415) when WhatsApp would refuse what is inside the file; leaves the file
    at its start."""
    check = _CHECKS.get(mime_type)
    if check is None:
        return
    content.seek(0)
    try:
        problem = check(content)
    finally:
        content.seek(0)
    if problem:
        raise MediaRejected(415, problem)


def _ogg(content: BinaryIO) -> str | None:
    streams = read_ogg(content)
    if isinstance(streams, Unreadable):
        log.info("an uploaded OGG file is not readable (%s)", streams.reason)
        what = "not readable OGG audio"
    else:
        media = [codec for codec in streams.codecs if codec != "Skeleton"]
        if media and all(codec == "Opus" for codec in media):
            return None
        other = next((codec for codec in media if codec != "Opus"), None)
        what = f"OGG {other}" if other else "OGG in an unrecognised codec"
    return (
        f"WhatsApp plays OGG audio only when it is Opus-encoded; this file is {what}. "
        "Export it as OGG Opus, or send it as MP3 or AAC."
    )


def _audio_codec(code: bytes, object_type: int | None) -> str | None:
    """The name of a sound track's codec when it is not AAC; None for AAC, and for an `mp4a` without
    an esds, whose codec cannot be told: left to WhatsApp."""
    if code == b"mp4a":
        if object_type is None or object_type in AAC_OBJECT_TYPES:
            return None
        return MP4A_OBJECT_TYPES.get(object_type, f"mp4a.{object_type:X}")
    return AUDIO_CODECS.get(code, code.decode("latin-1", "replace") or "an unrecognised codec")


def _mp4_video(content: BinaryIO) -> str | None:
    movie = read_mp4(content)
    if isinstance(movie, Unreadable):
        log.info("could not read the tracks of an uploaded video (%s); left to WhatsApp", movie.reason)
        return None
    for track in movie.tracks:
        if track.handler == b"vide" and track.code not in H264:
            name = VIDEO_CODECS.get(track.code, track.code.decode("latin-1", "replace"))
            return (
                f"WhatsApp plays only H.264 video; this file's video is {name}. "
                "Export it as H.264 with AAC audio (MP4)."
            )
    for track in movie.tracks:
        if track.handler != b"soun":
            continue
        if isinstance(track.object_type, Unreadable):
            log.info(
                "could not read the audio of an uploaded video (%s); left to WhatsApp",
                track.object_type.reason,
            )
            continue
        sound = _audio_codec(track.code, track.object_type)
        if sound is not None:
            return (
                f"WhatsApp plays video only with AAC audio; this file's sound is {sound}. "
                "Export it as H.264 with AAC audio (MP4)."
            )
    return None


def _sticker(content: BinaryIO) -> str | None:
    width, height = imagesize.get(io.BytesIO(content.read(64)))
    if (width, height) == (STICKER_SIDE, STICKER_SIDE):
        return None
    size = f"{width}×{height} pixels" if width > 0 and height > 0 else "of a size that cannot be read"
    return (
        f"WhatsApp stickers must be exactly {STICKER_SIDE}×{STICKER_SIDE} pixels; this WebP is {size}. "
        "Resize it (or send a picture as a JPEG or PNG image instead)."
    )


_CHECKS: dict[str, Callable[[BinaryIO], str | None]] = {
    "audio/ogg": _ogg,
    "video/mp4": _mp4_video,
    "video/3gpp": _mp4_video,
    "image/webp": _sticker,
}
