"""Small real audio, video and sticker files, built in code, for the upload's content checks.

- WebP stickers are encoded by Pillow (libwebp): lossy, lossless and animated, of any size.
- OGG files are real Ogg pages (RFC 3533 §6: header, lacing values, CRC), one packet a page, carrying the
  codec identification headers the specifications define: `OpusHead`/`OpusTags` (RFC 7845 §5) or
  Vorbis's identification and comment headers (Vorbis I spec §4.2). There are no audio packets: the
  check reads only which codec the stream declares, as a player does before decoding. The checksum is
  the reader's own `ogg_crc`, which tests/test_containers.py checks against the CRC's check value and
  against pages an independent writer (mutagen's, once) produced: no GPL code is needed to test.
- MP4 and 3GPP files are ISO base media boxes (ISO/IEC 14496-12): `ftyp`, then `moov` with one `trak`
  per stream (`tkhd`, `mdhd`, `hdlr`, and the `stsd` sample entry that names the codec: `avc1` H.264,
  `hvc1` HEVC, `s263` H.263; `mp4a` with an `esds` for AAC or MP3, `samr` AMR), then an empty `mdat`.
  No frames: the check reads the sample entries, as a player does before decoding.
"""

from __future__ import annotations

import io
import struct

from PIL import Image

from shared.media.containers import ogg_crc


def webp(width: int = 512, height: int = 512, *, lossless: bool = False, animated: bool = False) -> bytes:
    frames = [Image.new("RGBA", (width, height), colour) for colour in ((255, 0, 0, 255), (0, 0, 255, 128))]
    out = io.BytesIO()
    if animated:
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    else:
        frames[0].save(out, "WEBP", lossless=lossless)
    return out.getvalue()


def ogg_page(
    packet: bytes, *, sequence: int = 0, flags: int = 0, serial: int = 0x5EED, granule: int = 0
) -> bytes:
    """One Ogg page holding one whole packet (RFC 3533 §6); flags 0x02 begins a stream, 0x04 ends it."""
    lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    if len(lacing) > 255:
        raise ValueError("one packet a page, of at most 65,024 bytes")
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = header + lacing + packet
    return page[:22] + struct.pack("<I", ogg_crc(page)) + page[26:]


def _ogg(*headers: bytes) -> bytes:
    last = len(headers) - 1
    return b"".join(
        ogg_page(
            packet,
            sequence=sequence,
            flags=(0x02 if sequence == 0 else 0) | (0x04 if sequence == last else 0),
            granule=48000 if sequence == last else 0,
        )
        for sequence, packet in enumerate(headers)
    )


def ogg_opus(channels: int = 1) -> bytes:
    # OpusHead: version 1, channels, pre-skip 312, 48 kHz input, gain 0, mapping family 0.
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, channels, 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    return _ogg(head, tags)


def ogg_vorbis() -> bytes:
    # Identification header: version 0, 1 channel, 44.1 kHz, 128 kbit/s nominal, block sizes, framing.
    identification = b"\x01vorbis" + struct.pack("<IBIiiiBB", 0, 1, 44100, 0, 128000, 0, 0xB8, 1)
    comment = b"\x03vorbis" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0) + b"\x01"
    return _ogg(identification, comment)


def box(name: bytes, *parts: bytes) -> bytes:
    data = b"".join(parts)
    return struct.pack(">I4s", len(data) + 8, name) + data


def full_box(name: bytes, *parts: bytes) -> bytes:
    return box(name, b"\x00\x00\x00\x00", *parts)  # version 0, no flags


def track(handler: bytes, sample_entry: bytes) -> bytes:
    return box(
        b"trak",
        full_box(b"tkhd", b"\x00" * 80),
        box(
            b"mdia",
            full_box(b"mdhd", struct.pack(">IIIIHH", 0, 0, 1000, 1000, 0x55C4, 0)),
            full_box(b"hdlr", struct.pack(">I4s", 0, handler), b"\x00" * 12, b"test\x00"),
            box(b"minf", box(b"stbl", full_box(b"stsd", struct.pack(">I", 1), sample_entry))),
        ),
    )


def video_entry(code: bytes) -> bytes:
    # VisualSampleEntry: reserved, data reference 1, pre-defined, 512x512, resolution, frame count ...
    return box(
        code, b"\x00" * 6, struct.pack(">H", 1), b"\x00" * 16, struct.pack(">HH", 512, 512), b"\x00" * 50
    )


def _esds(object_type: int) -> bytes:
    """An ES descriptor (ISO/IEC 14496-1 §7.2.6.5); AAC (0x40) carries an AudioSpecificConfig for
    AAC LC at 44.1 kHz, mono."""
    specific = b""
    if object_type == 0x40:
        config = bytes([(2 << 3) | (4 >> 1), ((4 & 1) << 7) | (1 << 3)])
        specific = b"\x05" + bytes([len(config)]) + config
    decoder = bytes([object_type, 0x15]) + b"\x00\x00\x00" + struct.pack(">II", 128000, 128000) + specific
    stream = struct.pack(">HB", 1, 0) + b"\x04" + bytes([len(decoder)]) + decoder + b"\x06\x01\x02"
    return full_box(b"esds", b"\x03" + bytes([len(stream)]) + stream)


def audio_entry(code: bytes, extension: bytes) -> bytes:
    # AudioSampleEntry: reserved, data reference 1, reserved, 1 channel, 16 bits, 44.1 kHz.
    fields = (
        b"\x00" * 6 + struct.pack(">H", 1) + b"\x00" * 8 + struct.pack(">HHHHI", 1, 16, 0, 0, 44100 << 16)
    )
    return box(code, fields, extension)


AUDIO_ENTRIES = {
    "aac": lambda: audio_entry(b"mp4a", _esds(0x40)),
    "mp3": lambda: audio_entry(b"mp4a", _esds(0x6B)),
    "amr": lambda: audio_entry(b"samr", box(b"damr", b"test\x00\x81\xff\x00\x01")),
}


def mp4(video: bytes | None = b"avc1", audio: str | None = "aac", brand: bytes = b"isom") -> bytes:
    """An MP4 (or, with brand `3gp4`, a 3GPP file) with the given video sample entry and audio codec."""
    tracks = []
    if video is not None:
        tracks.append(track(b"vide", video_entry(video)))
    if audio is not None:
        tracks.append(track(b"soun", AUDIO_ENTRIES[audio]()))
    movie = box(b"moov", full_box(b"mvhd", b"\x00" * 96), *tracks)
    return box(b"ftyp", brand, b"\x00\x00\x00\x00", brand, b"mp41") + movie + box(b"mdat", b"\x00" * 64)
