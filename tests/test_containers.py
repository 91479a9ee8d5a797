"""The Ogg and ISO base media readers behind the upload's codec checks (shared/media/containers.py):
what they name, how they bound their reads, and that garbage never raises."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.media.containers import (
    MAX_BOXES,
    MAX_ESDS_BYTES,
    MAX_MP4_BYTES,
    MAX_OGG_BYTES,
    MAX_OGG_STREAMS,
    MovieTracks,
    OggStreams,
    Track,
    Unreadable,
    ogg_crc,
    read_mp4,
    read_ogg,
)
from shared.media.contents import check_contents
from shared.media.rules import MediaRejected
from tests.media_samples import (
    audio_entry,
    box,
    full_box,
    mp4,
    ogg_opus,
    ogg_page,
    ogg_vorbis,
    track,
    video_entry,
)

OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 312, 48000, 0, 0)
# ogg_opus() as mutagen 1.48's OggPage wrote it: an independent writer's framing and checksums.
OGG_OPUS_BY_MUTAGEN = bytes.fromhex(
    "4f67675300020000000000000000ed5e00000000000001ea76d001134f707573486561640101380180bb0000000000"
    "4f676753000480bb000000000000ed5e000001000000449c173501144f70757354616773040000007465737400000000"
)


class Counted(io.BytesIO):
    """Counts the bytes actually read, to hold the readers to their bounds."""

    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


class CountedFile(io.FileIO):
    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data or b"")
        return data or b""


def ogg(*pages: bytes) -> Counted:
    return Counted(b"".join(pages))


def bos(packet: bytes, serial: int = 1) -> bytes:
    return ogg_page(packet, flags=0x02, serial=serial)


# --- Ogg ------------------------------------------------------------------------------------------


def test_the_ogg_checksum_is_rfc_3533s_crc() -> None:
    # CRC-32/CKSUM's check value 0x765E7680, without its final XOR (RFC 3533 §6: none).
    assert ogg_crc(b"123456789") == 0x765E7680 ^ 0xFFFFFFFF
    assert ogg_opus() == OGG_OPUS_BY_MUTAGEN
    assert read_ogg(io.BytesIO(OGG_OPUS_BY_MUTAGEN)) == OggStreams(("Opus",))


@pytest.mark.parametrize(
    ("packet", "codec"),
    [
        (OPUS_HEAD, "Opus"),
        (b"\x01vorbis" + b"\x00" * 22, "Vorbis"),
        (b"\x7fFLAC\x01\x00\x00\x01fLaC" + b"\x00" * 38, "FLAC"),
        (b"Speex   1.2" + b"\x00" * 69, "Speex"),
        (b"\x80theora\x03\x02\x01" + b"\x00" * 32, "Theora"),
        (b"fishead\x00\x00\x03" + b"\x00" * 54, "Skeleton"),
        (b"\x01video\x00\x00\x00", None),
    ],
    ids=["opus", "vorbis", "flac", "speex", "theora", "skeleton", "unknown"],
)
def test_an_ogg_streams_codec_comes_from_its_first_packet(packet: bytes, codec: str | None) -> None:
    assert read_ogg(ogg(bos(packet), ogg_page(b"next", sequence=1, serial=1))) == OggStreams((codec,))


def test_every_stream_of_a_multiplexed_ogg_is_named_from_the_pages_that_begin_them() -> None:
    file = ogg(
        bos(b"\x80theora\x03\x02\x01", serial=1),
        bos(OPUS_HEAD, serial=2),
        ogg_page(b"data", sequence=1, serial=1),
        ogg_page(b"\x01vorbis", flags=0x02, serial=3),  # too late: streams begin before any data
    )
    assert read_ogg(file) == OggStreams(("Theora", "Opus"))
    assert read_ogg(ogg(*(bos(OPUS_HEAD, serial) for serial in range(40)))) == OggStreams(
        ("Opus",) * MAX_OGG_STREAMS
    )


@pytest.mark.parametrize(
    "file",
    [
        b"",
        b"OggS" + b"\x00" * 200,
        bos(OPUS_HEAD)[:-1],  # cut short
        bos(OPUS_HEAD)[:22] + b"\x00\x00\x00\x00" + bos(OPUS_HEAD)[26:],  # checksum
        b"x" + bos(OPUS_HEAD),  # not at the start
        ogg_page(OPUS_HEAD),  # no beginning-of-stream flag
        ogg_page(OPUS_HEAD, flags=0x03),  # a first page continuing a packet
        bos(OPUS_HEAD) + bos(OPUS_HEAD),  # the same stream begun twice
        bos(OPUS_HEAD[:18]),  # OpusHead is 19 bytes at least
        bos(OPUS_HEAD[:8] + b"\x10" + OPUS_HEAD[9:]),  # version 16: a major version unknown
        bos(OPUS_HEAD[:9] + b"\x00" + OPUS_HEAD[10:]),  # no channels
        bos(OPUS_HEAD) + b"OggS\x01" + b"\x00" * 40,  # stream structure version 1
    ],
    ids=[
        "empty",
        "zeros",
        "truncated",
        "bad-crc",
        "offset",
        "no-bos",
        "continued-bos",
        "bos-twice",
        "short-opushead",
        "opus-version-16",
        "opus-no-channels",
        "page-version-1",
    ],
)
def test_a_broken_ogg_file_is_unreadable(file: bytes) -> None:
    assert isinstance(read_ogg(io.BytesIO(file)), Unreadable)


def test_the_ogg_reader_stops_at_its_bound() -> None:
    big = [bos(b"\x01vorbis" + b"\x00" * 65_000, serial) for serial in range(8)]  # each page ~65 KB
    file = ogg(*big)
    assert read_ogg(file) == Unreadable("read limit reached")
    assert file.bytes_read <= MAX_OGG_BYTES


# --- ISO base media -------------------------------------------------------------------------------


def movie(*tracks: bytes) -> bytes:
    return box(b"moov", full_box(b"mvhd", b"\x00" * 96), *tracks)


def read(content: bytes) -> MovieTracks | Unreadable:
    return read_mp4(io.BytesIO(content))


def test_each_tracks_handler_and_sample_entry_are_read() -> None:
    assert read(mp4()) == MovieTracks((Track(b"vide", b"avc1"), Track(b"soun", b"mp4a", 0x40)))
    assert read(mp4(video=b"hvc1", audio="mp3")) == MovieTracks(
        (Track(b"vide", b"hvc1"), Track(b"soun", b"mp4a", 0x6B))
    )
    assert read(mp4(video=b"s263", audio="amr", brand=b"3gp4")) == MovieTracks(
        (Track(b"vide", b"s263"), Track(b"soun", b"samr"))
    )


def test_largesize_to_the_end_and_uuid_boxes_are_followed() -> None:
    tracks = movie(track(b"vide", video_entry(b"av01")))
    moov_payload = tracks[8:]
    large_moov = struct.pack(">I4sQ", 1, b"moov", len(moov_payload) + 16) + moov_payload
    uuid = struct.pack(">I4s", 8 + 16 + 4, b"uuid") + b"\x11" * 16 + b"data"
    to_the_end = struct.pack(">I4s", 0, b"mdat") + b"\x00" * 100
    expected = MovieTracks((Track(b"vide", b"av01"),))
    assert read(box(b"ftyp", b"isom") + uuid + large_moov + to_the_end) == expected
    assert read(box(b"ftyp", b"isom") + struct.pack(">I4s", 0, b"moov") + moov_payload) == expected


def test_the_movie_after_a_100_mb_mdat_is_found_by_seeking_not_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    mdat = 100 * 1024 * 1024
    with path.open("wb") as out:
        out.write(box(b"ftyp", b"isom") + struct.pack(">I4sQ", 1, b"mdat", mdat))
        out.seek(mdat - 16, io.SEEK_CUR)  # sparse
        out.write(movie(track(b"vide", video_entry(b"hvc1"))))
    with CountedFile(path) as file:
        assert read_mp4(file) == MovieTracks((Track(b"vide", b"hvc1"),))
        assert file.bytes_read < 1024


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x00\x00\x08ftyp",  # no moov
        box(b"ftyp", b"isom") + struct.pack(">I4s", 4, b"moov"),  # size smaller than its header
        box(b"ftyp", b"isom") + struct.pack(">I4s", 400, b"moov") + b"\x00" * 16,  # past the end
        movie(box(b"trak", box(b"mdia"))),  # a track without hdlr
        movie(box(b"trak", box(b"tkhd", b"\x00" * 8))),  # a track without mdia
        mp4()[:-80],  # the end of moov cut off with the mdat after it
    ],
    ids=["empty", "no-moov", "undersized", "overrun", "no-hdlr", "no-mdia", "truncated"],
)
def test_a_broken_mp4_is_unreadable(content: bytes) -> None:
    assert isinstance(read(content), Unreadable)


def test_the_box_reader_stops_at_its_bounds() -> None:
    many = Counted(box(b"ftyp", b"isom") + box(b"free") * 1_000_000 + movie())
    assert read_mp4(many) == Unreadable("box limit reached")
    assert many.bytes_read <= MAX_BOXES * 16
    huge_esds = audio_entry(b"mp4a", full_box(b"esds", b"\x00" * MAX_ESDS_BYTES))
    assert read(movie(track(b"soun", huge_esds))) == MovieTracks(
        (Track(b"soun", b"mp4a", Unreadable("esds too large")),)
    )
    wide = Counted(movie(*[track(b"soun", audio_entry(b"mp4a", full_box(b"esds", b"\x03" * 60_000)))] * 20))
    assert read_mp4(wide) == Unreadable("read limit reached")
    assert wide.bytes_read <= MAX_MP4_BYTES


def es_descriptor(body: bytes, *, size_bytes: int = 1) -> bytes:
    """An ES_Descriptor (tag 0x03) whose size is written in `size_bytes` bytes of the expandable
    encoding (ISO/IEC 14496-1 §8.3.3)."""
    size = [(len(body) >> (7 * shift)) & 0x7F for shift in reversed(range(size_bytes))]
    encoded = bytes([byte | 0x80 for byte in size[:-1]] + size[-1:])
    return b"\x03" + encoded + body


def sound(*extension: bytes, version: int = 0) -> MovieTracks | Unreadable:
    entry = audio_entry(b"mp4a", *extension)
    if version:
        fields = entry[8:16] + struct.pack(">H", version) + entry[18:36] + b"\x00" * {1: 16, 2: 36}[version]
        entry = box(b"mp4a", fields + entry[36:])
    return read(movie(track(b"soun", entry)))


DECODER_CONFIG = b"\x04\x0d\x6b\x15" + b"\x00" * 11  # objectTypeIndication 0x6B (MP3)


@pytest.mark.parametrize(
    ("esds_payload", "version", "object_type"),
    [
        (es_descriptor(b"\x00\x01\x00" + DECODER_CONFIG), 0, 0x6B),
        (es_descriptor(b"\x00\x01\x00" + DECODER_CONFIG, size_bytes=4), 0, 0x6B),
        (es_descriptor(b"\x00\x01\x80\x00\x02" + DECODER_CONFIG), 0, 0x6B),  # depends on ES 2
        (es_descriptor(b"\x00\x01\x40\x03abc" + DECODER_CONFIG), 0, 0x6B),  # a URL
        (es_descriptor(b"\x00\x01\x20\x00\x03" + DECODER_CONFIG), 0, 0x6B),  # an OCR stream
        (es_descriptor(b"\x00\x01\x00\x05\x02\x12\x08" + DECODER_CONFIG), 0, 0x6B),  # another first
        (es_descriptor(b"\x00\x01\x00" + DECODER_CONFIG), 1, 0x6B),  # QuickTime version 1
        (es_descriptor(b"\x00\x01\x00" + DECODER_CONFIG), 2, 0x6B),  # QuickTime version 2
        (es_descriptor(b"\x00\x01\x00"), 0, Unreadable("ES_Descriptor holds no DecoderConfigDescriptor")),
        (b"\x04\x01\x40", 0, Unreadable("esds holds no ES_Descriptor")),
        (b"\x03\x80\x80\x80\x80\x01", 0, Unreadable("descriptor size longer than four bytes")),
        (b"\x03\x7f\x00", 0, Unreadable("descriptor overruns its container")),
        (es_descriptor(b"\x00\x01\x00\x04\x00"), 0, Unreadable("DecoderConfigDescriptor is empty")),
        (b"", 0, Unreadable("descriptor cut short")),
        (b"\x03", 0, Unreadable("descriptor cut short")),
        (b"\x03\x81", 0, Unreadable("descriptor cut short")),
    ],
    ids=[
        "plain",
        "four-byte-size",
        "dependency",
        "url",
        "ocr",
        "other-descriptor-first",
        "quicktime-v1",
        "quicktime-v2",
        "no-decoder-config",
        "no-es-descriptor",
        "size-too-long",
        "overrun",
        "empty-decoder-config",
        "empty",
        "tag-only",
        "size-cut",
    ],
)
def test_the_object_type_is_read_through_the_es_descriptor(
    esds_payload: bytes, version: int, object_type: int | Unreadable
) -> None:
    assert sound(full_box(b"esds", esds_payload), version=version) == MovieTracks(
        (Track(b"soun", b"mp4a", object_type),)
    )


def test_an_esds_in_a_quicktime_wave_box_or_none_at_all() -> None:
    esds = full_box(b"esds", es_descriptor(b"\x00\x01\x00" + DECODER_CONFIG))
    wave = box(b"wave", box(b"frma", b"mp4a"), esds)
    assert sound(wave, version=1) == MovieTracks((Track(b"soun", b"mp4a", 0x6B),))
    assert sound(box(b"btrt", b"\x00" * 12)) == MovieTracks((Track(b"soun", b"mp4a", None),))


# --- what the upload's checks make of them --------------------------------------------------------


def refusal(content: bytes, mime_type: str) -> str | None:
    try:
        check_contents(io.BytesIO(content), mime_type)
    except MediaRejected as refused:
        return str(refused)
    return None


def test_ogg_opus_beside_a_skeleton_passes_but_beside_video_does_not() -> None:
    skeleton = bos(b"fishead\x00\x00\x03" + b"\x00" * 54, serial=1)
    assert refusal(skeleton + bos(OPUS_HEAD, serial=2), "audio/ogg") is None
    refused = refusal(bos(b"\x80theora\x03\x02\x01", serial=1) + bos(OPUS_HEAD, serial=2), "audio/ogg")
    assert refused is not None
    assert "this file is OGG Theora" in refused
    refused = refusal(bos(b"\x01video\x00\x00\x00"), "audio/ogg")
    assert refused is not None
    assert "OGG in an unrecognised codec" in refused
    assert refusal(ogg_vorbis(), "audio/ogg") is not None


def test_an_unreadable_esds_is_left_to_whatsapp_but_the_video_is_still_checked() -> None:
    broken = audio_entry(b"mp4a", full_box(b"esds", b"\x03\x7f\x00"))
    assert refusal(movie(track(b"vide", video_entry(b"avc1")), track(b"soun", broken)), "video/mp4") is None
    refused = refusal(movie(track(b"vide", video_entry(b"hvc1")), track(b"soun", broken)), "video/mp4")
    assert refused is not None
    assert "HEVC (H.265)" in refused
    other = audio_entry(b"mp4a", full_box(b"esds", es_descriptor(b"\x00\x01\x00\x04\x01\xa5")))
    refused = refusal(movie(track(b"vide", video_entry(b"avc1")), track(b"soun", other)), "video/mp4")
    assert refused is not None
    assert "sound is mp4a.A5" in refused


# --- garbage never raises -------------------------------------------------------------------------

SAMPLES = [ogg_opus(), ogg_vorbis(), mp4(), mp4(audio="mp3"), mp4(video=b"s263", audio="amr")]
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def readers_answer(content: bytes) -> None:
    assert isinstance(read_ogg(io.BytesIO(content)), OggStreams | Unreadable)
    assert isinstance(read_mp4(io.BytesIO(content)), MovieTracks | Unreadable)
    for mime_type in ("audio/ogg", "video/mp4", "image/webp"):
        refusal(content, mime_type)  # a 415 at most


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(content: bytes) -> None:
    readers_answer(content)
    readers_answer(b"OggS" + content)


@FUZZ
@given(
    sample=st.sampled_from(SAMPLES),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    cut=st.integers(min_value=0),
)
def test_damaged_real_files_never_raise(sample: bytes, edits: list[tuple[int, int]], cut: int) -> None:
    content = bytearray(sample)
    for position, value in edits:
        content[position % len(content)] = value
    readers_answer(bytes(content))
    readers_answer(bytes(content[: cut % (len(content) + 1)]))


def boxes_strategy() -> Any:
    kinds = st.sampled_from(
        [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"hdlr", b"mp4a", b"esds", b"wave", b"uuid"]
    )
    leaf = st.builds(lambda kind, body: box(kind, body), kinds, st.binary(max_size=40))
    return st.recursive(
        leaf,
        lambda children: st.builds(
            lambda kind, prefix, inner: box(kind, prefix + b"".join(inner)),
            kinds,
            st.binary(max_size=36),
            st.lists(children, max_size=4),
        ),
        max_leaves=30,
    )


@FUZZ
@given(st.lists(boxes_strategy(), min_size=1, max_size=4))
def test_box_shaped_garbage_never_raises(boxes: list[bytes]) -> None:
    readers_answer(b"".join(boxes))


@FUZZ
@given(
    esds=st.binary(max_size=48),
    es_body=st.binary(max_size=48),
    entry=st.binary(max_size=80),
    version=st.sampled_from([0, 1, 2]),
)
def test_garbage_where_the_deep_parsers_read_never_raises(
    esds: bytes, es_body: bytes, entry: bytes, version: int
) -> None:
    """Random bytes rarely reach an esds six boxes down: these put them there, well framed around."""
    for extension in (full_box(b"esds", esds), full_box(b"esds", es_descriptor(es_body)), entry):
        result = sound(extension, version=version)
        assert isinstance(result, MovieTracks)
        assert isinstance(result.tracks[0].object_type, int | Unreadable | None)
    readers_answer(movie(track(b"soun", entry)))
    readers_answer(movie(box(b"trak", box(b"mdia", box(b"hdlr", entry), box(b"minf", entry)))))


@FUZZ
@given(packet=st.binary(max_size=40), magic=st.sampled_from([b"", b"OpusHead", b"\x01vorbis"]))
def test_garbage_in_a_well_framed_ogg_page_never_raises(packet: bytes, magic: bytes) -> None:
    content = bos(magic + packet) + ogg_page(packet, sequence=1, serial=1)
    assert isinstance(read_ogg(io.BytesIO(content)), OggStreams | Unreadable)
    readers_answer(content)
