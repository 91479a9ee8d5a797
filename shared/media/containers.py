"""Just enough of the Ogg and ISO base media (MP4, 3GPP) containers to name the codecs inside.

Written here, on the standard library alone, because no library fits: `mutagen` is GPL-2.0-or-later
(and its MP4 box reader is private), `pymp4` pins `construct==2.8.8`, `tinytag` (MIT) names an Ogg
codec and an `mp4a` object type but not a video track's sample entry, and `mp4analyzer` (MIT) parses
every box of a file it opens by path. What a player reads before decoding is all that is needed:

- Ogg (RFC 3533): the beginning-of-stream pages, which all come first, and the identification header
  each one carries (RFC 7845 §5.1 for Opus).
- ISO base media (ISO/IEC 14496-12): each track's handler (`hdlr`) and first sample entry (`stsd`),
  and for `mp4a` the objectTypeIndication in its `esds` (ISO/IEC 14496-1 §7.2.6).

The upload may be a 100 MB file spooled to disk, so both readers are bounded: Ogg reads at most
`MAX_OGG_BYTES`; MP4 seeks past what it does not need (`mdat`) and reads at most `MAX_MP4_BYTES` over
at most `MAX_BOXES` box headers. Garbage never raises: the answer is then `Unreadable`, with a reason
for the log. Only the file's own I/O errors (`OSError`) propagate.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_OGG_BYTES = 256 * 1024
MAX_OGG_STREAMS = 16
MAX_MP4_BYTES = 1024 * 1024
MAX_BOXES = 2000
MAX_ESDS_BYTES = 64 * 1024

OGG_CODECS = (
    (b"OpusHead", "Opus"),  # RFC 7845 §5.1
    (b"\x01vorbis", "Vorbis"),  # Vorbis I specification §4.2.2
    (b"\x7fFLAC", "FLAC"),  # FLAC's Ogg mapping
    (b"Speex   ", "Speex"),  # Speex manual, Ogg file format
    (b"\x80theora", "Theora"),  # Theora specification §6.2
    (b"fishead\x00", "Skeleton"),  # Ogg Skeleton 4: metadata, not media
)


@dataclass(frozen=True)
class Unreadable:
    """Why a file could not be read: logged; what follows is the caller's choice."""

    reason: str


@dataclass(frozen=True)
class OggStreams:
    """The codec of each logical stream ("Opus", "Vorbis", ..., None when unrecognised), in order."""

    codecs: tuple[str | None, ...]


@dataclass(frozen=True)
class Track:
    """One `trak`: its handler (b"vide", b"soun"), its first sample entry's code (b"avc1", b"mp4a"),
    and for `mp4a` the esds's objectTypeIndication (None when there is no esds)."""

    handler: bytes
    code: bytes
    object_type: int | Unreadable | None = None


@dataclass(frozen=True)
class MovieTracks:
    tracks: tuple[Track, ...]


class _Malformed(Exception):
    """Internal: the bytes break the format; turned into `Unreadable` at the boundary."""


class _Limit(_Malformed):
    """Internal: a bound was reached; the whole read stops, not just the part being read."""


class _Source:
    """Reads `content` at given offsets, charging every byte and box header against the bounds."""

    def __init__(self, content: BinaryIO, max_bytes: int, max_boxes: int = 0):
        self.content = content
        self.size = content.seek(0, io.SEEK_END)
        self.bytes_left = max_bytes
        self.boxes_left = max_boxes

    def read(self, offset: int, count: int) -> bytes:
        if count > self.bytes_left:
            raise _Limit("read limit reached")
        self.bytes_left -= count
        self.content.seek(offset)
        data = self.content.read(count)
        if len(data) != count:
            raise _Malformed("cut short")
        return data

    def box(self) -> None:
        if self.boxes_left <= 0:
            raise _Limit("box limit reached")
        self.boxes_left -= 1


# --- Ogg (RFC 3533) ------------------------------------------------------------------------------

_OGG_PAGE = struct.Struct("<4sBBqIIIB")  # RFC 3533 §6: capture pattern ... number_page_segments


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """RFC 3533 §6's page checksum: CRC-32, polynomial 0x04C11DB7, initial 0, not reflected, no final
    XOR (zlib's CRC-32 is reflected, so it does not serve)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[(crc >> 24) ^ byte]
    return crc


def _ogg_page(source: _Source, offset: int) -> tuple[int, int, bytes, int] | None:
    """(header_type flags, serial, first packet's bytes on this page, next page's offset), or None at
    the end of the file. The checksum is verified, as a demuxer does before trusting a page."""
    if offset >= source.size:
        return None
    header = source.read(offset, _OGG_PAGE.size)
    capture, version, flags, _, serial, _, crc, segments = _OGG_PAGE.unpack(header)
    if capture != b"OggS" or version != 0:
        raise _Malformed("not an Ogg page")
    lacing = source.read(offset + _OGG_PAGE.size, segments)
    body = source.read(offset + _OGG_PAGE.size + segments, sum(lacing))
    if ogg_crc(header[:22] + b"\x00\x00\x00\x00" + header[26:] + lacing + body) != crc:
        raise _Malformed("Ogg page checksum mismatch")
    # A packet is the lacing values up to the first below 255 (RFC 3533 §5); one that runs on to the
    # next page is cut here, which is enough for a header's first bytes.
    length = 0
    for value in lacing:
        length += value
        if value < 255:
            break
    return flags, serial, body[:length], offset + _OGG_PAGE.size + segments + len(body)


def _ogg_codec(packet: bytes) -> str | None:
    for magic, codec in OGG_CODECS:
        if packet.startswith(magic):
            if codec == "Opus" and (len(packet) < 19 or packet[8] > 15 or packet[9] == 0):
                # RFC 7845 §5.1: 19 bytes at least; a version whose upper four bits are not 0 is not
                # one a decoder knows; the output channel count must not be zero.
                raise _Malformed("malformed OpusHead")
            return codec
    return None


def read_ogg(content: BinaryIO) -> OggStreams | Unreadable:
    """The codecs of an Ogg file's logical streams, from its beginning-of-stream pages, which come
    before any other page (RFC 3533 §4) and each carry only its stream's identification header."""
    try:
        source = _Source(content, MAX_OGG_BYTES)
        codecs: list[str | None] = []
        serials: set[int] = set()
        offset = 0
        while len(codecs) < MAX_OGG_STREAMS:
            page = _ogg_page(source, offset)
            if page is None:
                break
            flags, serial, packet, offset = page
            if not flags & 0x02:  # beginning of stream
                break
            if flags & 0x01 or serial in serials:  # a first page cannot continue a packet
                raise _Malformed("malformed beginning-of-stream page")
            serials.add(serial)
            codecs.append(_ogg_codec(packet))
    except _Malformed as error:
        return Unreadable(str(error))
    if not codecs:
        return Unreadable("no beginning-of-stream page")
    return OggStreams(tuple(codecs))


# --- ISO base media file format (ISO/IEC 14496-12) ------------------------------------------------


def _boxes(source: _Source, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box in [start, end) (ISO/IEC 14496-12 §4.2): a 32-bit
    size and a four-character type; size 1 means a 64-bit largesize follows, size 0 "to the end";
    `uuid` boxes carry a 16-byte extended type. A box that overruns its container is malformed."""
    offset = start
    while offset < end:
        source.box()
        if end - offset < 8:
            raise _Malformed("box header cut short")
        size, kind = struct.unpack(">I4s", source.read(offset, 8))
        header = 8
        if size == 1:
            if end - offset < 16:
                raise _Malformed("box header cut short")
            (size,) = struct.unpack(">Q", source.read(offset + 8, 8))
            header = 16
        elif size == 0:
            size = end - offset
        if kind == b"uuid":
            header += 16
        if size < header or size > end - offset:
            raise _Malformed(f"box {kind!r} overruns its container")
        yield kind, offset + header, offset + size
        offset += size


def _child(source: _Source, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """The first child box of that type, as (payload start, end); stops reading there."""
    for found, payload, box_end in _boxes(source, start, end):
        if found == kind:
            return payload, box_end
    return None


def _path(source: _Source, start: int, end: int, *kinds: bytes) -> tuple[int, int]:
    span = (start, end)
    for kind in kinds:
        found = _child(source, *span, kind)
        if found is None:
            raise _Malformed(f"no {kind.decode('latin-1')} box")
        span = found
    return span


def _descriptor(data: bytes, offset: int, end: int) -> tuple[int, int, int]:
    """(tag, body start, body end) of the descriptor at `offset` (ISO/IEC 14496-1 §8.3.3): a tag byte,
    then the size in up to four bytes of 7 bits each, the top bit saying another byte follows."""
    if offset >= end:
        raise _Malformed("descriptor cut short")
    tag, size, position = data[offset], 0, offset + 1
    for _ in range(4):
        if position >= end:
            raise _Malformed("descriptor cut short")
        byte = data[position]
        size, position = (size << 7) | (byte & 0x7F), position + 1
        if not byte & 0x80:
            break
    else:
        raise _Malformed("descriptor size longer than four bytes")
    if size > end - position:
        raise _Malformed("descriptor overruns its container")
    return tag, position, position + size


def _object_type(esds: bytes) -> int:
    """The objectTypeIndication in an `esds` payload (version and flags, then an ES_Descriptor, tag
    0x03, ISO/IEC 14496-1 §7.2.6.5), from its DecoderConfigDescriptor (tag 0x04, §7.2.6.6)."""
    tag, position, end = _descriptor(esds, 4, len(esds))
    if tag != 0x03:
        raise _Malformed("esds holds no ES_Descriptor")
    if end - position < 3:
        raise _Malformed("ES_Descriptor cut short")
    flags = esds[position + 2]  # after ES_ID
    position += 3
    if flags & 0x80:  # streamDependenceFlag: dependsOn_ES_ID
        position += 2
    if flags & 0x40:  # URL_Flag: URLlength, URLstring
        if position >= end:
            raise _Malformed("ES_Descriptor cut short")
        position += 1 + esds[position]
    if flags & 0x20:  # OCRstreamFlag: OCR_ES_Id
        position += 2
    while position < end:
        tag, body, position = _descriptor(esds, position, end)
        if tag == 0x04:
            if body == position:
                raise _Malformed("DecoderConfigDescriptor is empty")
            return esds[body]
    raise _Malformed("ES_Descriptor holds no DecoderConfigDescriptor")


def _mp4a(source: _Source, payload: int, end: int) -> int | Unreadable | None:
    """The objectTypeIndication of an `mp4a` AudioSampleEntry: its `esds` follows the 28 bytes of
    fields (ISO/IEC 14496-12 §12.2.3, ISO/IEC 14496-14 §5.6); QuickTime's sound descriptions version 1
    and 2 add 16 and 36 bytes, and may wrap the `esds` in a `wave` box."""
    try:
        if end - payload < 28:
            raise _Malformed("AudioSampleEntry cut short")
        (version,) = struct.unpack(">H", source.read(payload + 8, 2))
        extra = {0: 0, 1: 16, 2: 36}.get(version)
        if extra is None or end - payload < 28 + extra:
            raise _Malformed("unknown AudioSampleEntry version")
        esds = None
        for kind, start, box_end in _boxes(source, payload + 28 + extra, end):
            if kind == b"wave":
                esds = _child(source, start, box_end, b"esds")
            elif kind == b"esds":
                esds = (start, box_end)
            if esds is not None:
                break
        if esds is None:
            return None
        if esds[1] - esds[0] > MAX_ESDS_BYTES:
            raise _Malformed("esds too large")
        return _object_type(source.read(esds[0], esds[1] - esds[0]))
    except _Limit:
        raise
    except _Malformed as error:
        return Unreadable(str(error))


def _track(source: _Source, start: int, end: int) -> Track | None:
    """A track's handler_type (at offset 8 of the `hdlr` payload, after version, flags and
    pre_defined, §8.4.3) and its `stsd`'s first entry (after version, flags and entry_count, §8.5.2);
    None for a track whose boxes are too short to say."""
    mdia = _path(source, start, end, b"mdia")
    hdlr = _path(source, *mdia, b"hdlr")
    stsd = _path(source, *mdia, b"minf", b"stbl", b"stsd")
    if hdlr[1] - hdlr[0] < 12 or stsd[1] - stsd[0] < 16:
        return None
    handler = source.read(hdlr[0] + 8, 4)
    if source.read(stsd[0] + 4, 4) == b"\x00\x00\x00\x00":  # entry_count
        return None
    for code, payload, entry_end in _boxes(source, stsd[0] + 8, stsd[1]):
        object_type = _mp4a(source, payload, entry_end) if code == b"mp4a" else None
        return Track(handler, code, object_type)
    return None


def read_mp4(content: BinaryIO) -> MovieTracks | Unreadable:
    """Each track's handler and first sample entry, from the `moov` box (ISO/IEC 14496-12 §8.2),
    wherever it lies: the boxes before it (`ftyp`, `mdat`, ...) are seeked past, not read."""
    try:
        source = _Source(content, MAX_MP4_BYTES, MAX_BOXES)
        moov = _path(source, 0, source.size, b"moov")
        tracks = []
        for kind, start, end in _boxes(source, *moov):
            if kind == b"trak" and (track := _track(source, start, end)) is not None:
                tracks.append(track)
    except _Malformed as error:
        return Unreadable(str(error))
    return MovieTracks(tuple(tracks))
