"""Capture files in, raw packets out: pcap and pcapng read with ``struct``.

A packet is ``(timestamp, wire_length, captured_bytes, linktype)``. Files are
read in chunks with ordinary reads (a mapping would turn a file truncated
under the reader into SIGBUS) in batches so the engine's loop sees plain lists, and
several files are merged in packet-time order. A file cut off mid-packet (a
capture that was killed) yields everything up to the cut and reports a
warning instead of failing.

:func:`read_files` feeds files to a :class:`RecordSink` (the engine). One
classic Ethernet pcap skips the batches: its records already are the
engine's input format, so the engine's loop walks each chunk read in place.
"""

from __future__ import annotations

import heapq
import os
import stat
import struct
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from .decode import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2

Packet = tuple[float, int, bytes, int]
WarnFn = Callable[[str], None]

# The link types the decoder turns into Ethernet frames (:mod:`.decode`).
SUPPORTED_LINKTYPES = {
    LINKTYPE_ETHERNET: "Ethernet",
    LINKTYPE_LINUX_SLL: "Linux cooked (SLL)",
    LINKTYPE_LINUX_SLL2: "Linux cooked v2 (SLL2)",
}
_LINKTYPE_NAMES = {
    0: "BSD loopback",
    101: "raw IP",
    105: "IEEE 802.11",
    127: "IEEE 802.11 radiotap",
    228: "raw IPv4",
    229: "raw IPv6",
}

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
# A record longer than this is corruption, not a frame (jumbo frames are 9 KB,
# pcap's own maximum snaplen is 256 KB).
MAX_RECORD = 262144 * 4
BATCH = 4096
# Read this much of a file at a time: big enough that the per-chunk cost vanishes, small
# enough that a replay on a Pi holds little of the file.
CHUNK = 1024 * 1024
# One file analysed in place reads less at a time: the loop walks a chunk just after the
# read copied it, and 256 KB still sits in the core's cache then (512 KB L2 per core
# here, 1 MB shared by four on a Pi 4); in-process runs of the 365 MB benchmark capture
# were fastest at 128-256 KB and slowest at 4 MB.
FILE_CHUNK = 256 * 1024


class CaptureFileError(Exception):
    """A capture that cannot be read at all; the message is one line for the user."""


@dataclass(slots=True)
class _Cursor:
    """The capture being read: its path, where warnings go, packets read so far."""

    path: Path
    warn: WarnFn
    packets: int = 0
    # Where the walk hands records to a sink, the sink counts them (asked only for a warning).
    sink: RecordSink | None = None

    @property
    def count(self) -> int:
        """Packets read so far, for a warning."""
        return self.packets if self.sink is None else self.sink.packets


def sniff_format(head: bytes) -> str | None:
    """'pcap', 'pcapng' or None from a file's first four bytes."""
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    return None


def _linktype_name(linktype: int) -> str:
    return _LINKTYPE_NAMES.get(linktype, f"link type {linktype}")


def _check_linktype(path: Path, linktype: int) -> None:
    if linktype not in SUPPORTED_LINKTYPES:
        raise CaptureFileError(
            f"{path}: unsupported link type {linktype} ({_linktype_name(linktype)}); "
            "TOTEM reads Ethernet, 802.1Q and Linux cooked (SLL/SLL2) captures"
        )


def _open_file(path: Path, *, unbuffered: bool = False) -> IO[bytes]:
    """The capture opened for reading; ``unbuffered`` for a reader that only reads big
    chunks (a buffered read of 256 KB costs a third more than the one system call)."""
    try:
        # The batches' generator owns and closes it.
        fh = open(path, "rb", buffering=0 if unbuffered else -1)  # noqa: SIM115
    except FileNotFoundError:
        raise CaptureFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CaptureFileError(f"{path}: is a directory, not a capture file") from None
    except PermissionError:
        raise CaptureFileError(f"{path}: permission denied") from None
    except OSError as err:
        raise CaptureFileError(f"{path}: cannot open ({err.strerror})") from None
    try:
        info = os.fstat(fh.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise CaptureFileError(f"{path}: is a directory, not a capture file")
        if info.st_size == 0:
            raise CaptureFileError(f"{path}: empty file")
    except BaseException:
        fh.close()
        raise
    return fh


class _Window:
    """A capture file read in chunks with ordinary reads, never mapped: a file
    truncated or rewritten under a replay (``tcpdump -w`` restarting) ends the read
    with a warning; a mapping of it would kill the process with SIGBUS."""

    def __init__(self, fh: IO[bytes], cur: _Cursor, offset: int, size: int = 0) -> None:
        self.fh = fh
        self.cur = cur
        self.offset = offset
        self.size = size  # 0: CHUNK (read when the chunk is, so tests can change it)

    def read(self) -> bytes:
        """The next chunk; b"" at the end, or when the file shrank below what was read."""
        try:
            if os.fstat(self.fh.fileno()).st_size < self.offset:
                self.cur.warn(
                    f"{self.cur.path}: the file shrank under the reader (truncated or "
                    f"rewritten) after {self.cur.count} packets; stopped there"
                )
                return b""
            chunk = self.fh.read(self.size or CHUNK)
        except OSError as err:
            self.cur.warn(
                f"{self.cur.path}: read error after {self.cur.count} packets "
                f"({err.strerror or err}); stopped there"
            )
            return b""
        self.offset += len(chunk)
        return chunk


def _read_pcap_header(path: Path, fh: IO[bytes]) -> tuple[str, float, int]:
    """A classic pcap's byte order, timestamp unit and link type, checked."""
    head = fh.read(24)
    if len(head) < 24:
        raise CaptureFileError(f"{path}: truncated pcap header ({len(head)} bytes)")
    endian, tick = PCAP_MAGICS[head[:4]]
    linktype = struct.unpack_from(endian + "I", head, 20)[0] & 0x0FFFFFFF
    _check_linktype(path, linktype)
    return endian, tick, linktype


def _pcap_batches(path: Path, fh: IO[bytes], cur: _Cursor) -> Generator[list[Packet]]:
    endian, tick, linktype = _read_pcap_header(path, fh)
    rec = struct.Struct(endian + "IIII")
    unpack_rec = rec.unpack_from
    window = _Window(fh, cur, 24)
    buf = b""
    pos = 0
    batch: list[Packet] = []
    append = batch.append
    done = False
    while not done:
        chunk = window.read()
        done = not chunk
        buf = buf[pos:] + chunk
        pos = 0
        size = len(buf)
        while pos + 16 <= size:
            sec, frac, incl, orig = unpack_rec(buf, pos)
            end = pos + 16 + incl
            if incl > MAX_RECORD:
                cur.warn(
                    f"{path}: corrupt record after {cur.packets} packets "
                    f"(claims {incl} bytes); analysed up to there"
                )
                done = True
                break
            if end > size:
                if done:
                    cur.warn(
                        f"{path}: file cut off mid-packet after {cur.packets} packets; "
                        "analysed up to the cut"
                    )
                break
            append(
                (sec + frac * tick, orig if orig >= incl else incl, buf[pos + 16 : end], linktype)
            )
            cur.packets += 1
            pos = end
            if len(batch) >= BATCH:
                yield batch
                batch = []
                append = batch.append
        else:
            if done and pos < size:
                cur.warn(
                    f"{path}: file cut off mid-packet after {cur.packets} packets "
                    f"({size - pos} trailing bytes); analysed up to the cut"
                )
    if batch:
        yield batch


@dataclass(slots=True)
class _Iface:
    """A pcapng interface: link type, timestamp unit (seconds) and snap length."""

    linktype: int
    tick: float
    snaplen: int


def _if_tsresol(opts: bytes, endian: str) -> float:
    """The interface's timestamp unit from its if_tsresol option (default microseconds)."""
    pos = 0
    while pos + 4 <= len(opts):
        code, length = struct.unpack_from(endian + "HH", opts, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = opts[pos + 4]
            if value & 0x80:
                return float(2.0 ** -(value & 0x7F))
            return float(10.0 ** -(value & 0x7F))
        pos += 4 + ((length + 3) & ~3)
    return 1e-6


def _pcapng_batches(path: Path, fh: IO[bytes], cur: _Cursor) -> Generator[list[Packet]]:
    window = _Window(fh, cur, 0)
    endian = "<"
    ifaces: list[_Iface] = []
    batch: list[Packet] = []
    buf = b""
    pos = 0
    done = False
    stopped = False
    while not done and not stopped:
        chunk = window.read()
        done = not chunk
        buf = buf[pos:] + chunk
        pos = 0
        size = len(buf)
        short = False  # the window ends inside a block: read on, or cut at the end
        while pos < size:
            if pos + 12 > size:
                short = True
                break
            btype = buf[pos : pos + 4]
            if btype == PCAPNG_MAGIC:
                bom = buf[pos + 8 : pos + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    raise CaptureFileError(f"{path}: corrupt pcapng section header")
                ifaces = []
            block_type, block_len = struct.unpack_from(endian + "II", buf, pos)
            if block_len < 12 or block_len % 4 or block_len > MAX_RECORD + 64:
                if done and block_len > size - pos:
                    short = True
                else:
                    cur.warn(
                        f"{path}: corrupt block after {cur.packets} packets; analysed up to there"
                    )
                    stopped = True
                break
            if pos + block_len > size:
                short = True
                break
            body = pos + 8
            if block_type == 1:  # interface description
                linktype, _res, snaplen = struct.unpack_from(endian + "HHI", buf, body)
                opts = buf[body + 8 : pos + block_len - 4]
                ifaces.append(_Iface(linktype, _if_tsresol(opts, endian), snaplen))
            elif block_type in (6, 2):  # enhanced packet / obsolete packet block
                if block_type == 6:
                    ifid, ts_hi, ts_lo, incl, orig = struct.unpack_from(endian + "IIIII", buf, body)
                else:
                    ifid, _drops, ts_hi, ts_lo, incl, orig = struct.unpack_from(
                        endian + "HHIIII", buf, body
                    )
                data_at = body + 20
                if ifid >= len(ifaces) or data_at + incl > pos + block_len:
                    cur.warn(
                        f"{path}: corrupt packet block after {cur.packets} packets; "
                        "analysed up to there"
                    )
                    stopped = True
                    break
                iface = ifaces[ifid]
                _check_linktype(path, iface.linktype)
                batch.append(
                    (
                        ((ts_hi << 32) | ts_lo) * iface.tick,
                        orig if orig >= incl else incl,
                        buf[data_at : data_at + incl],
                        iface.linktype,
                    )
                )
                cur.packets += 1
            elif block_type == 3:  # simple packet block: no timestamp, interface 0
                if not ifaces:
                    raise CaptureFileError(f"{path}: packet before any interface description")
                (orig,) = struct.unpack_from(endian + "I", buf, body)
                incl = min(orig, ifaces[0].snaplen or orig, block_len - 16)
                _check_linktype(path, ifaces[0].linktype)
                batch.append((0.0, orig, buf[body + 4 : body + 4 + incl], ifaces[0].linktype))
                cur.packets += 1
            pos += block_len
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if done and short and not stopped:
            cur.warn(
                f"{path}: file cut off mid-packet after {cur.packets} packets; "
                "analysed up to the cut"
            )
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class PcapHeader:
    """What the hot loop needs to read a classic pcap's records in place."""

    endian: str
    tick: float
    linktype: int


def pcap_header(path: str | os.PathLike[str]) -> PcapHeader | None:
    """A classic pcap's header, or None for anything else (pcapng, garbage, errors).

    Errors are left to ``open_capture``, which reports them in one line.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:4] not in PCAP_MAGICS:
        return None
    endian, tick = PCAP_MAGICS[head[:4]]
    linktype = struct.unpack_from(endian + "I", head, 20)[0] & 0x0FFFFFFF
    return PcapHeader(endian, tick, linktype)


def open_capture(
    path: str | os.PathLike[str], warn: WarnFn | None = None
) -> Generator[list[Packet]]:
    """Batches of packets from one capture file, in file order.

    Raises ``CaptureFileError`` before yielding anything when the file cannot
    be opened or is not a capture TOTEM reads.
    """
    p = Path(path)
    fh = _open_file(p)
    try:
        fmt = sniff_format(fh.read(4))
        fh.seek(0)
    except OSError as err:
        fh.close()
        raise CaptureFileError(f"{p}: cannot read ({err.strerror or err})") from None
    cur = _Cursor(p, warn or (lambda _msg: None))
    if fmt == "pcap":
        gen = _pcap_batches(p, fh, cur)
    elif fmt == "pcapng":
        gen = _pcapng_batches(p, fh, cur)
    else:
        fh.close()
        raise CaptureFileError(f"{p}: not a pcap or pcapng capture file")
    # Validate the header eagerly so errors surface at open time.
    try:
        first = next(gen, None)
    except BaseException:
        fh.close()
        raise

    def chained() -> Generator[list[Packet]]:
        try:
            if first is not None:
                yield first
            yield from gen
        finally:
            gen.close()
            fh.close()

    return chained()


def check_capture(path: str | os.PathLike[str]) -> None:
    """Raise ``CaptureFileError`` as ``open_capture`` would, reading as little as it can.

    A classic pcap fails only in its header (a bad record later is a warning), so its
    header is all that is read; a pcapng's first blocks are parsed as ``open_capture``
    parses them, since a corrupt section or a packet before any interface fails there.
    """
    p = Path(path)
    fh = _open_file(p)
    with fh:
        try:
            fmt = sniff_format(fh.read(4))
            fh.seek(0)
        except OSError as err:
            raise CaptureFileError(f"{p}: cannot read ({err.strerror or err})") from None
        if fmt == "pcap":
            _read_pcap_header(p, fh)
            return
    open_capture(path).close()


def read_captures(
    paths: Iterable[str | os.PathLike[str]], warn: WarnFn | None = None
) -> Iterator[list[Packet]]:
    """Batches from one or several files, merged in packet-time order."""
    streams = [open_capture(path, warn) for path in paths]
    if len(streams) == 1:
        yield from streams[0]
        return

    def flat(stream: Iterator[list[Packet]]) -> Iterator[Packet]:
        for batch in stream:
            yield from batch

    batch: list[Packet] = []
    for pkt in heapq.merge(*(flat(s) for s in streams), key=lambda p: p[0]):
        batch.append(pkt)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def write_pcap(path: str | os.PathLike[str], packets: Iterable[Packet], linktype: int = 1) -> int:
    """Write packets to a classic microsecond pcap; returns how many were written."""
    count = 0
    rec = struct.Struct("<IIII")
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for ts, wirelen, data, _lt in packets:
            sec = int(ts)
            usec = round((ts - sec) * 1e6)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            out.write(rec.pack(sec, usec, len(data), max(wirelen, len(data))))
            out.write(data)
            count += 1
    return count


class RecordSink(Protocol):
    """What :func:`read_files` feeds: the engine's two entry points."""

    @property
    def packets(self) -> int: ...

    def process(self, packets: Iterable[Packet]) -> None: ...

    def process_records(self, buf: bytes, endian: str, tick: float, start: int = 0) -> int: ...


def read_files(sink: RecordSink, paths: Sequence[str | os.PathLike[str]], warn: WarnFn) -> None:
    """Feed capture files to ``sink``; warnings (a cut-off file) go to ``warn``."""
    if len(paths) == 1:
        info = pcap_header(paths[0])
        if info is not None and info.linktype == LINKTYPE_ETHERNET:
            _stream_pcap(sink, Path(paths[0]), info, warn)
            return
    for batch in read_captures(paths, warn):
        sink.process(batch)


def _stream_pcap(sink: RecordSink, path: Path, info: PcapHeader, warn: WarnFn) -> None:
    """Walk the records in place, chunk by chunk: memory stays at about two chunks
    whatever the file's size (a mapping kept every page it touched resident, and a file
    shrinking under it meant SIGBUS). The loop returns where the first incomplete
    record starts; that record is completed from the next chunk on its own (a small
    buffer), so the chunk itself is walked in place, never copied again."""
    # Unbuffered: the window reads 256 KB at a time, and a read may return less (the
    # seam logic below takes chunks of any size).
    fh = _open_file(path, unbuffered=True)
    with fh:
        fh.seek(24)
        cur = _Cursor(path, warn, sink=sink)
        window = _Window(fh, cur, 24, FILE_CHUNK)
        endian, tick = info.endian, info.tick
        header = struct.Struct(endian + "IIII").unpack_from
        process = sink.process_records
        tail = b""
        used = 0
        while True:
            chunk = window.read()
            if not chunk:
                break
            start = 0
            if tail:
                # The record cut at the seam: its header (perhaps cut too) says how much
                # of the new chunk completes it.
                head = tail if len(tail) >= 16 else tail + chunk[: 16 - len(tail)]
                caplen = header(head)[2] if len(head) >= 16 else MAX_RECORD + 1
                need = 16 + caplen - len(tail)
                if need > len(chunk) or caplen > MAX_RECORD:
                    # Longer than a chunk, or corrupt: join and let the loop decide.
                    buf, start = tail + chunk, 0
                else:
                    seam = tail + chunk[:need]
                    used = process(seam, endian, tick)
                    if used < 0:
                        break
                    buf, start = chunk, need
            else:
                buf = chunk
            used = process(buf, endian, tick, start)
            if used < 0:
                break
            tail = buf[used:]
        if used < 0:
            warn(f"{path}: corrupt record after {sink.packets} packets; analysed up to there")
        elif tail:
            warn(
                f"{path}: file cut off mid-packet after {sink.packets} packets "
                f"({len(tail)} trailing bytes); analysed up to the cut"
            )
