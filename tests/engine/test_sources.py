"""Capture files: formats, link types, order, and what happens with bad ones."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO

import pytest

from custom_components.totem.engine.sources import (
    CaptureFileError,
    check_capture,
    open_capture,
    read_captures,
    write_pcap,
)
from tests.conftest import any_pcap
from tests.traffic.synth import eth, ipv4, udp

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def frame(sport: int = 1000) -> bytes:
    return eth(
        MAC_B, MAC_A, 0x0800, ipv4(b"\x0a\0\0\x01", b"\x0a\0\0\x02", 17, udp(sport, 53, b"x"))
    )


def packets(path: Path) -> list[tuple[float, int, bytes, int]]:
    return [p for batch in read_captures([path]) for p in batch]


def write_pcapng(path: Path, frames: list[tuple[float, bytes]], tsresol: int | None = None) -> None:
    """A minimal pcapng: section header, one Ethernet interface, enhanced packet blocks."""

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        length = 12 + len(body)
        return struct.pack("<II", btype, length) + body + struct.pack("<I", length)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = b""
    unit = 1e-6
    if tsresol is not None:
        opts = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
        unit = 10.0**-tsresol
    out += block(1, struct.pack("<HHI", 1, 0, 65535) + opts)
    for ts, data in frames:
        ticks = round(ts / unit)
        out += block(
            6,
            struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data,
        )
    path.write_bytes(out)


def test_pcap_round_trip_keeps_time_length_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    data = frame()
    write_pcap(path, [(1.5, 100, data, 1), (2.25, len(data), data, 1)])
    got = packets(path)
    assert [(p[0], p[1], p[2], p[3]) for p in got] == [
        (1.5, 100, data, 1),
        (2.25, len(data), data, 1),
    ]


@pytest.mark.parametrize("tsresol", [None, 9])
def test_pcapng_enhanced_packets_with_timestamp_resolution(
    tmp_path: Path, tsresol: int | None
) -> None:
    path = tmp_path / "a.pcapng"
    write_pcapng(path, [(10.000001, frame(1)), (11.5, frame(2))], tsresol)
    got = packets(path)
    assert len(got) == 2
    assert got[0][0] == pytest.approx(10.000001, abs=1e-7)
    assert got[1][0] == pytest.approx(11.5)
    assert got[1][2] == frame(2)


def test_real_pcapng_capture_is_read() -> None:
    got = packets(any_pcap("iot_sonos_speaker.pcapng"))
    assert len(got) == 61
    assert all(p[3] == 1 for p in got)


def test_several_files_are_merged_in_packet_time_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    write_pcap(a, [(1.0, 60, frame(1), 1), (3.0, 60, frame(3), 1)])
    write_pcap(b, [(2.0, 60, frame(2), 1), (4.0, 60, frame(4), 1)])
    times = [p[0] for batch in read_captures([b, a]) for p in batch]
    assert times == [1.0, 2.0, 3.0, 4.0]


def test_truncated_file_yields_packets_before_the_cut_and_warns(tmp_path: Path) -> None:
    full = tmp_path / "full.pcap"
    write_pcap(full, [(float(i), 60, frame(i), 1) for i in range(10)])
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(full.read_bytes()[:-7])
    warnings: list[str] = []
    got = [p for batch in read_captures([cut], warnings.append) for p in batch]
    assert len(got) == 9
    assert len(warnings) == 1
    assert "cut off mid-packet after 9 packets" in warnings[0]


def test_truncated_pcapng_yields_packets_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "a.pcapng"
    write_pcapng(path, [(float(i), frame(i)) for i in range(5)])
    path.write_bytes(path.read_bytes()[:-10])
    warnings: list[str] = []
    got = [p for batch in read_captures([path], warnings.append) for p in batch]
    assert len(got) == 4
    assert len(warnings) == 1
    assert "cut off" in warnings[0]


def test_corrupt_record_length_stops_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    write_pcap(path, [(1.0, 60, frame(1), 1), (2.0, 60, frame(2), 1)])
    raw = bytearray(path.read_bytes())
    second = 24 + 16 + len(frame(1))
    raw[second + 8 : second + 12] = struct.pack("<I", 0x7FFFFFFF)
    path.write_bytes(bytes(raw))
    warnings: list[str] = []
    got = [p for batch in read_captures([path], warnings.append) for p in batch]
    assert len(got) == 1
    assert "corrupt record" in warnings[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"this is not a capture at all", "not a pcap or pcapng"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "truncated pcap header"),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureFileError, match=message) as err:
        open_capture(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"abc",
        b"this is not a capture at all",
        b"\xd4\xc3\xb2\xa1\x02\x00",
        # classic pcap, link type 127 (radiotap), one record
        struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 127) + bytes(16),
        # pcapng section header with a byte-order mark that is neither order
        b"\x0a\x0d\x0d\x0a" + struct.pack("<I", 28) + b"\x00\x00\x00\x00" + bytes(16),
        # pcapng simple packet block before any interface description
        b"\x0a\x0d\x0d\x0a"
        + struct.pack("<I", 28)
        + b"\x4d\x3c\x2b\x1a"
        + bytes(12)
        + struct.pack("<I", 28)
        + struct.pack("<III", 3, 16, 4)
        + struct.pack("<I", 16),
    ],
)
def test_check_capture_fails_as_open_capture_does(tmp_path: Path, content: bytes) -> None:
    """The analyze CLI's up-front check (a header for a pcap) refuses what opening would."""
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureFileError) as opened:
        open_capture(path)
    with pytest.raises(CaptureFileError) as checked:
        check_capture(path)
    assert str(checked.value) == str(opened.value)


def test_check_capture_accepts_what_open_capture_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.pcap"
    write_pcap(path, [(1.0, 60, frame(), 1)])
    check_capture(path)
    check_capture(any_pcap("iot_sonos_speaker.pcapng"))
    open_capture(path).close()


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureFileError, match="no such file"):
        open_capture(tmp_path / "nope.pcap")
    with pytest.raises(CaptureFileError, match="is a directory"):
        open_capture(tmp_path)


def test_unsupported_link_type_is_named(tmp_path: Path) -> None:
    path = tmp_path / "wifi.pcap"
    write_pcap(path, [(1.0, 60, frame(), 127)], linktype=127)
    with pytest.raises(
        CaptureFileError, match=r"unsupported link type 127 \(IEEE 802.11 radiotap\)"
    ):
        open_capture(path)


def test_short_reads_of_the_unbuffered_stream_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one-pcap stream reads unbuffered, where a read may return less than asked (a
    pipe, a signal): reads cut at random lengths give the counters of the batch path."""
    import io
    import random

    from custom_components.totem.engine import sources
    from custom_components.totem.engine.engine import Engine, EngineConfig
    from tests.engine.helpers import analyze_packets, counters

    rng = random.Random(5)
    reads: list[int] = []

    class ShortReads(io.FileIO):
        def read(self, size: int = -1) -> bytes:
            if size is not None and size > 0:
                size = min(size, rng.randint(1, 3000))
            data = super().read(size)
            reads.append(len(data or b""))
            return data or b""

    opened = sources._open_file

    def short_open(path: Path, *, unbuffered: bool = False) -> IO[bytes]:
        if not unbuffered:  # the batch path below: an ordinary file
            return opened(path)
        opened(path, unbuffered=True).close()  # the same checks first
        return ShortReads(path, "rb")

    monkeypatch.setattr(sources, "_open_file", short_open)
    path = any_pcap("attack_mirai_like_telnet_scan_home_lan.pcap")
    engine = Engine(EngineConfig())
    warnings: list[str] = []
    sources.read_files(engine, [path], warnings.append)
    engine.flush()
    assert warnings == []
    assert len(reads) > 200  # the stream read through ShortReads: hundreds of short reads
    batch = analyze_packets([path])
    snap = engine.snapshot()
    assert snap.packets == batch.packets > 0
    assert counters(snap) == counters(batch)


# 4,096 and 4,099: seams inside records and inside record headers; 700: chunks shorter
# than some frames, which are joined across chunks.
@pytest.mark.parametrize("chunk", [4096, 4099, 700])
def test_one_big_pcap_is_analysed_in_bounded_chunks_with_the_same_results(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """``analyze`` of one classic pcap hands the hot loop buffers of about one chunk, not the
    whole file (a mapping of a 365 MB capture kept 385 MB resident), and the chunk seams
    change nothing: the same counters as the batch path."""
    from custom_components.totem.engine import sources
    from custom_components.totem.engine.engine import Engine, EngineConfig
    from tests.engine.helpers import analyze_packets, counters

    path = any_pcap("attack_mirai_like_telnet_scan_home_lan.pcap")
    # Far below the file's 340 KB: hundreds of seams.
    monkeypatch.setattr(sources, "FILE_CHUNK", chunk)
    engine = Engine(EngineConfig())
    sizes: list[int] = []
    loop = engine.process_records

    def spy(buf: bytes, endian: str, tick: float, start: int = 0) -> int:
        sizes.append(len(buf))
        return loop(buf, endian, tick, start)

    monkeypatch.setattr(engine, "process_records", spy)
    warnings: list[str] = []
    sources.read_files(engine, [path], warnings.append)
    engine.flush()
    assert warnings == []
    assert len(sizes) > 80
    # A chunk plus what is left of one record cut at the seam (frames here are < 1,600 bytes).
    assert max(sizes) <= chunk + 1600
    batch = analyze_packets([path])
    snap = engine.snapshot()
    assert snap.packets == batch.packets > 0
    assert counters(snap) == counters(batch)


def test_analyze_of_one_pcap_cut_mid_record_warns_and_keeps_what_came_before(
    tmp_path: Path,
) -> None:
    from custom_components.totem.engine.engine import Engine, EngineConfig
    from custom_components.totem.engine.sources import read_files

    path = tmp_path / "cut.pcap"
    write_pcap(path, [(1.0 + i, len(frame(i)), frame(1000 + i), 1) for i in range(10)])
    path.write_bytes(path.read_bytes()[:-5])
    engine = Engine(EngineConfig())
    warnings: list[str] = []
    read_files(engine, [path], warnings.append)
    assert engine.packets == 9
    assert len(warnings) == 1
    assert "cut off mid-packet after 9 packets" in warnings[0]


def test_a_corrupt_record_far_into_a_file_stops_the_walk_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk ends at a corrupt record hundreds of chunks before the file's end, and
    says how many packets came before it."""
    from custom_components.totem.engine import sources
    from custom_components.totem.engine.engine import Engine, EngineConfig

    monkeypatch.setattr(sources, "FILE_CHUNK", 4096)  # many chunks, the cut in the fourth
    path = tmp_path / "corrupt.pcap"
    write_pcap(path, [(1.0 + i, 60, frame(1000 + i % 500), 1) for i in range(3000)])
    data = bytearray(path.read_bytes())
    record = 16 + len(frame())
    at = 24 + 100 * record  # the 101st record's header: caplen past any real frame
    data[at + 8 : at + 12] = struct.pack("<I", 0x7FFFFFFF)
    path.write_bytes(bytes(data))
    engine = Engine(EngineConfig())
    warnings: list[str] = []
    sources.read_files(engine, [path], warnings.append)
    assert engine.packets == 100
    assert warnings == [f"{path}: corrupt record after 100 packets; analysed up to there"]


def test_a_read_error_mid_file_is_told_with_the_packets_analysed_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error mid-file ends the walk with a warning counting the packets analysed
    (every record the chunks before it held), which the engine adds up when asked."""
    from custom_components.totem.engine import sources
    from custom_components.totem.engine.engine import Engine, EngineConfig

    chunk = 16 * 1024
    monkeypatch.setattr(sources, "FILE_CHUNK", chunk)
    path = tmp_path / "disk.pcap"
    write_pcap(path, [(1.0 + i, 60, frame(1000 + i % 500), 1) for i in range(2000)])
    opened = sources._open_file
    reads: list[int] = []

    class FailingDisk:
        """The capture's file, whose third read fails as a dying disk's does."""

        def __init__(self, fh: IO[bytes]) -> None:
            self.fh = fh

        def __enter__(self) -> FailingDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def __getattr__(self, name: str) -> object:
            return getattr(self.fh, name)

        def read(self, size: int = -1) -> bytes:
            reads.append(size)
            if len(reads) == 3:
                raise OSError(5, "Input/output error")
            return self.fh.read(size)

    def open_failing(path: Path, *, unbuffered: bool = False) -> FailingDisk:
        return FailingDisk(opened(path, unbuffered=unbuffered))

    monkeypatch.setattr(sources, "_open_file", open_failing)
    engine = Engine(EngineConfig())
    warnings: list[str] = []
    sources.read_files(engine, [path], warnings.append)
    record = 16 + len(frame())
    whole = (2 * chunk) // record  # two chunks were read: the records they hold in full
    assert engine.packets == whole
    assert warnings[0] == (
        f"{path}: read error after {whole} packets (Input/output error); stopped there"
    )
