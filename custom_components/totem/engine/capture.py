"""Live capture from a Linux interface through an AF_PACKET socket.

Why a plain ``socket.socket(AF_PACKET, SOCK_RAW)`` and not scapy's L2Socket
(read in scapy/arch/linux/__init__.py and supersocket.py, scapy 2.6.1):

- L2Socket drops PACKET_OUTGOING frames, so the host's own traffic would be
  missing from its counters (L2ListenSocket keeps them but shares the rest);
- its recv keeps only the captured bytes and ignores PACKET_AUXDATA's tp_len,
  so a frame cut to the snap length reports the wrong wire length;
- its filters need tcpdump or libpcap at run time; without them (Home
  Assistant's image) it logs a warning and captures everything
  (home-assistant/core#46003); ours are shipped compiled (bpf.py);
- it opens the socket with ETH_P_ALL before binding, so it briefly receives
  every interface's frames and must flush them, and it builds a scapy object
  per frame; its import also takes about a second and reads routes.

So this module does what libpcap's Linux back end does: socket with protocol
0 (receives nothing), filter, options, then bind to one interface with
ETH_P_ALL. Frames arrive through a TPACKET_V3 ring mapped into our memory (as
libpcap does by default): no syscall per frame, the kernel's timestamp,
original length and stripped VLAN tag in each frame's header. Measured on a
veth pair here: ~1.5 us per frame to read, against ~4-8 us for one recvmsg
with ancillary data per frame, and a ring holds several times more frames than
a socket buffer of the same size. Where the ring cannot be set up (Linux < 3.2,
or TOTEM_CAPTURE_RING=0) the same socket is read with recvmsg: SO_TIMESTAMPNS
timestamp and PACKET_AUXDATA (original length, VLAN tag). Either way the socket
is non-blocking: ``read_batch`` returns what is queued and the caller polls
``fileno()``. scapy is not imported here at all.

Each frame is seen once: the socket is bound to one ifindex (capturing a bridge
and one of its ports at once would count bridged frames twice, so TOTEM binds
to exactly one); outgoing frames are kept except on loopback, where every
frame also comes back as incoming (libpcap drops them the same way); multicast
looped back to the sender (PACKET_LOOPBACK) is dropped by the kernel itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import mmap
import os
import socket
import struct
import sys
from collections.abc import Iterator
from typing import Self

from .bpf import BpfError, BpfProgram, attach_filter, resolve_filter
from .sources import Packet, RecordSink  # Packet: (timestamp, wire length, bytes, linktype)

# An Ethernet frame (1514) plus one 802.1Q tag fits whole. Measured on the ring,
# reading 1518 instead of 128 or 512 bytes costs nothing visible (1.4-1.8 us per
# frame either way: the Python work dominates, not the copy), and identification
# needs late bytes: DHCP options run to ~600 bytes, mDNS announcements carry TXT
# records (model, name) up to ~1400, a TLS ClientHello's SNI can follow a long
# cipher list. Only GRO/TSO super-frames (up to 64 KiB) are cut; their wire
# length stays right.
DEFAULT_SNAPLEN = 1518
LINKTYPE_ETHERNET = 1

ETH_P_ALL = 0x0003
ETH_P_8021Q = 0x8100
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
PACKET_AUXDATA = 8
PACKET_IGNORE_OUTGOING = 23
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35  # == SCM_TIMESTAMPNS
SIOCGIFFLAGS = 0x8913
SIOCETHTOOL = 0x8946
ETHTOOL_GTSO = 0x1E
ETHTOOL_GFLAGS = 0x25
ETHTOOL_GGRO = 0x2B
ETH_FLAG_LRO = 1 << 15
IFF_UP = 0x1
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
IFNAMSIZ = 16

ERROR_CODES = (
    "interface_not_found",
    "permission_denied",
    "interface_down",
    "bad_filter",
    "internal",
)

_AUXDATA = struct.Struct("=IIIHHHH")  # struct tpacket_auxdata
_TIMESPEC64 = struct.Struct("=qq")  # struct __kernel_timespec / 64-bit timespec
_TIMESPEC32 = struct.Struct("=ii")  # 32-bit userland (armhf Raspberry Pi OS)
_STATS = struct.Struct("=II")  # struct tpacket_stats (tpacket_stats_v3 starts the same)
_STATS_V3_SIZE = 12
# struct tpacket3_hdr up to tp_mac: next_offset, sec, nsec, snaplen, len, status, mac
_V3_HDR = struct.Struct("=IIIIIIH")
_V3_VLAN = struct.Struct("=IH")  # hv1.tp_vlan_tci, hv1.tp_vlan_tpid at offset 32
_U32 = struct.Struct("=I")
_REC_NATIVE = struct.Struct("=IIII")  # a pcap record header: sec, nsec, caplen, wirelen
RECORD_ENDIAN = "<" if sys.byteorder == "little" else ">"
_U32X2 = struct.Struct("=II")
_REQ3 = struct.Struct("=7I")  # struct tpacket_req3
RING_BLOCK_SIZE = 1 << 20
RING_FRAME_SIZE = 2048  # only validated by the kernel in TPACKET_V3
# A block goes to user space when full or this many ms after its first frame:
# the bound on how long a frame waits on a quiet link, and the floor for wakeups.
RING_RETIRE_MS = 20
_ANCBUFSIZE = socket.CMSG_SPACE(_AUXDATA.size) + socket.CMSG_SPACE(_TIMESPEC64.size)

# scapy is not used here, but the engine's dissectors import it; its runtime
# logger warns per packet on odd input and would flood Home Assistant's log.
for _name in ("scapy", "scapy.runtime", "scapy.loading"):
    logging.getLogger(_name).setLevel(logging.ERROR)


class CaptureError(Exception):
    """Capture cannot start or go on; ``code`` is one of ERROR_CODES, message one line."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def permission_fix() -> str:
    """The exact command that lets this Python open packet sockets."""
    python = os.path.realpath(sys.executable)
    return (
        "packet capture needs CAP_NET_RAW (and CAP_NET_ADMIN for the large buffer): run as root"
        f" or grant it with: sudo setcap cap_net_raw,cap_net_admin=eip {python}"
    )


def _interface_names() -> list[str]:
    try:
        return sorted(name for _index, name in socket.if_nameindex())
    except OSError:
        return []


def _not_found(iface: str) -> CaptureError:
    names = ", ".join(_interface_names()) or "none"
    return CaptureError(
        "interface_not_found", f"no network interface named {iface!r} (available: {names})"
    )


def _interface_flags(sock: socket.socket, iface: str) -> int:
    request = struct.pack("16sH14x", iface.encode(), 0)
    try:
        reply = fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, request)
    except OSError as err:
        if err.errno in (errno.ENODEV, errno.ENXIO):
            raise _not_found(iface) from None
        raise CaptureError("internal", f"cannot read {iface}'s flags: {err.strerror}") from None
    flags: int = struct.unpack_from("H", reply, IFNAMSIZ)[0]
    return flags


def _check_name(iface: str) -> None:
    if not iface or len(iface.encode()) >= IFNAMSIZ or "/" in iface or iface != iface.strip():
        raise CaptureError("interface_not_found", f"{iface!r} is not a valid interface name")


def _set_rcvbuf(sock: socket.socket, size: int) -> int:
    # SO_RCVBUFFORCE (CAP_NET_ADMIN) ignores net.core.rmem_max, which is only
    # 208 KiB on Debian and Raspberry Pi OS: a few ms of a busy link.
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


class _RxRing:
    """A TPACKET_V3 receive ring: the kernel writes frames into blocks we map.

    No syscall per frame: the kernel fills a block, hands it over (status
    TP_STATUS_USER) when it is full or RING_RETIRE_MS after its first frame,
    and we give it back (TP_STATUS_KERNEL) once read. Frames are stored at
    their captured size, so a ring holds several times more frames than a
    socket buffer of the same size (which pays a whole skb per frame).
    """

    def __init__(self, sock: socket.socket, size: int) -> None:
        self.block_size = RING_BLOCK_SIZE
        self.blocks = max(2, size // RING_BLOCK_SIZE)
        frames = self.block_size // RING_FRAME_SIZE * self.blocks
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        req = _REQ3.pack(
            self.block_size, self.blocks, RING_FRAME_SIZE, frames, RING_RETIRE_MS, 0, 0
        )
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        try:
            self.map = mmap.mmap(
                sock.fileno(),
                self.block_size * self.blocks,
                mmap.MAP_SHARED,
                mmap.PROT_READ | mmap.PROT_WRITE,
            )
        except (OSError, ValueError):
            # An unmapped ring would swallow every frame: remove it so recvmsg works.
            sock.setsockopt(SOL_PACKET, PACKET_RX_RING, _REQ3.pack(0, 0, 0, 0, 0, 0, 0))
            raise
        self.block = 0  # the next block to read
        self.left = 0  # frames of it not read yet
        self.offset = 0  # where its next frame starts

    def _spans(self, max_packets: int) -> Iterator[tuple[int, int]]:
        """The ring walk both readers share: (offset, count) of the next frames the
        kernel handed over, at most ``max_packets`` in all, block by block.

        The caller reads the ``count`` frames from the offset and stores where it
        stopped in ``self.offset`` before asking for the next span; a block is given
        back to the kernel once all its frames were taken.
        """
        mm = self.map
        taken = 0
        while taken < max_packets:
            base = self.block * self.block_size
            if self.left == 0:
                # The kernel writes the frames, then the status (smp_wmb). CPython
                # has no acquire load, but thousands of instructions separate
                # this read from the frame reads: beyond any CPU's reorder window.
                if not _U32.unpack_from(mm, base + 8)[0] & TP_STATUS_USER:
                    return
                self.left, first = _U32X2.unpack_from(mm, base + 12)
                self.offset = base + first
            take = min(self.left, max_packets - taken)
            yield self.offset, take
            taken += take
            self.left -= take
            if self.left == 0:
                _U32.pack_into(mm, base + 8, TP_STATUS_KERNEL)  # give the block back
                self.block = (self.block + 1) % self.blocks

    def read(self, max_packets: int) -> list[Packet]:
        mm = self.map
        batch: list[Packet] = []
        append = batch.append
        unpack_hdr = _V3_HDR.unpack_from
        for span, take in self._spans(max_packets):
            off = span
            for _ in range(take):
                step, sec, nsec, snap, wirelen, status, mac = unpack_hdr(mm, off)
                start = off + mac
                data = mm[start : start + snap]
                if status & TP_STATUS_VLAN_VALID:
                    tci, tpid = _V3_VLAN.unpack_from(mm, off + 32)
                    data, wirelen = _with_vlan_tag(data, wirelen, status, tci, tpid)
                append((sec + nsec * 1e-9, wirelen, data, LINKTYPE_ETHERNET))
                off += step
            self.offset = off
        return batch

    def read_records(self, max_packets: int) -> tuple[list[bytes], int]:
        """The same frames as :meth:`read`, as the parts of a chunk of pcap records.

        A tpacket3_hdr's sec, nsec, snaplen and len fields (bytes 4-20) already are a
        pcap record header (native byte order, nanoseconds), so each frame costs two
        slices of the ring and no tuple, float or re-packing: the engine's loop reads
        the joined parts in place (``Engine.process`` would re-frame ``read``'s tuples
        into the same records, a second pass over every frame in Python).
        """
        mm = self.map
        parts: list[bytes] = []
        append = parts.append
        unpack_hdr = _V3_HDR.unpack_from
        count = 0
        for span, take in self._spans(max_packets):
            off = span
            for _ in range(take):
                step, sec, nsec, snap, wirelen, status, mac = unpack_hdr(mm, off)
                start = off + mac
                if status & TP_STATUS_VLAN_VALID:
                    tci, tpid = _V3_VLAN.unpack_from(mm, off + 32)
                    data, wirelen = _with_vlan_tag(
                        mm[start : start + snap], wirelen, status, tci, tpid
                    )
                    append(_REC_NATIVE.pack(sec, nsec, len(data), wirelen))
                    append(data)
                else:
                    append(mm[off + 4 : off + 20])
                    append(mm[start : start + snap])
                off += step
            count += take
            self.offset = off
        return parts, count

    def close(self) -> None:
        self.map.close()


def _with_vlan_tag(
    data: bytes, wirelen: int, status: int, tci: int, tpid: int
) -> tuple[bytes, int]:
    """Put back the 802.1Q tag the NIC or the receive path moved out of the frame.

    The kernel's receive path untags every frame before taps see it; libpcap
    and tshark report the frame with its tag, so must we (length included).
    """
    if not status & TP_STATUS_VLAN_TPID_VALID:
        tpid = ETH_P_8021Q
    return data[:12] + struct.pack("!HH", tpid, tci) + data[12:], wirelen + 4


class LiveCapture:
    """An open capture on one interface. Not thread-safe; one reader."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        iface: str,
        ifindex: int,
        own_mac: bytes,
        snaplen: int,
        program: BpfProgram,
        rcvbuf: int,
        promisc: bool,
        ring: _RxRing | None = None,
    ) -> None:
        self._sock = sock
        self._ring = ring
        self.iface = iface
        self.ifindex = ifindex
        self.own_mac = own_mac
        self.snaplen = snaplen
        self.program = program
        self.rcvbuf = rcvbuf
        self.promisc = promisc
        self._received = 0
        self._dropped = 0
        self._pending: OSError | None = None
        # How long a frame can sit in a half-filled ring block before it can be read:
        # wait this long before the last read when stopping.
        self.drain_delay = 2 * RING_RETIRE_MS / 1000 if ring is not None else 0.0

    @property
    def method(self) -> str:
        return "TPACKET_V3 ring" if self._ring is not None else "recvmsg"

    def fileno(self) -> int:
        return self._sock.fileno()

    def merging_offloads(self) -> list[str]:
        """Offloads that make the kernel hand taps one frame for many on the wire.

        With GRO/LRO, received TCP segments are merged before capture; with TSO
        the host's own sends are seen before the NIC splits them. Counts then run
        low (libpcap and tcpdump see the same); ``ethtool -K IFACE gro off`` etc.
        """
        found = []
        for name, cmd, mask in (
            ("gro", ETHTOOL_GGRO, 1),
            ("lro", ETHTOOL_GFLAGS, ETH_FLAG_LRO),
            ("tso", ETHTOOL_GTSO, 1),
        ):
            value = ctypes.c_uint32 * 2
            buf = value(cmd, 0)
            ifreq = struct.pack("16sP8x", self.iface.encode(), ctypes.addressof(buf))
            try:
                fcntl.ioctl(self._sock.fileno(), SIOCETHTOOL, ifreq)
            except OSError:
                continue  # no ethtool support (lo, some virtual devices): no offload
            if buf[1] & mask:
                found.append(name)
        return found

    def read_batch(self, max_packets: int = 1024) -> list[Packet]:
        """Frames queued in the kernel now, oldest first, at most ``max_packets``."""
        if self._pending is not None:
            err, self._pending = self._pending, None
            raise self._error_for(err)
        if self._ring is not None:
            batch = self._ring.read(max_packets)
            if not batch:
                # Nothing to read may mean the interface went away: the ring never
                # reports it, the socket's pending error does.
                code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    raise self._error_for(OSError(code, os.strerror(code)))
            return batch
        return self._read_socket(max_packets)

    def feed(self, engine: RecordSink, max_packets: int = 1024) -> int:
        """Hand the frames queued now to ``engine`` (at most ``max_packets``); how many.

        What ``engine.process(read_batch())`` does, without the per-frame tuples on
        the ring: the frames go to the engine's loop as pcap records straight away.
        Errors as :meth:`read_batch`.
        """
        if self._ring is None or self._pending is not None:
            batch = self.read_batch(max_packets)
            if batch:
                engine.process(batch)
            return len(batch)
        parts, count = self._ring.read_records(max_packets)
        if count:
            engine.process_records(b"".join(parts), RECORD_ENDIAN, 1e-9)
            return count
        code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise self._error_for(OSError(code, os.strerror(code)))
        return 0

    def _read_socket(self, max_packets: int) -> list[Packet]:
        batch: list[Packet] = []
        append = batch.append
        recvmsg = self._sock.recvmsg
        snaplen = self.snaplen
        unpack_aux = _AUXDATA.unpack
        try:
            for _ in range(max_packets):
                data, ancdata, _flags, _addr = recvmsg(snaplen, _ANCBUFSIZE)
                ts = 0.0
                wirelen = len(data)
                for level, kind, payload in ancdata:
                    if kind == PACKET_AUXDATA and level == SOL_PACKET:
                        status, wirelen, _snap, _mac, _net, tci, tpid = unpack_aux(payload)
                        if tci or status & TP_STATUS_VLAN_VALID:
                            data, wirelen = _with_vlan_tag(data, wirelen, status, tci, tpid)
                    elif kind == SO_TIMESTAMPNS and level == socket.SOL_SOCKET:
                        ts = _timespec(payload)
                append((ts, wirelen, data, LINKTYPE_ETHERNET))
        except BlockingIOError:
            pass
        except InterruptedError:
            pass
        except OSError as err:
            if not batch:
                raise self._error_for(err) from None
            self._pending = err  # hand out what arrived first, fail on the next call
        return batch

    def kernel_stats(self) -> tuple[int, int]:
        """(received, dropped) since open; received includes dropped, as in libpcap."""
        try:
            size = _STATS_V3_SIZE if self._ring is not None else _STATS.size
            raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, size)
        except OSError:
            return self._received, self._dropped
        packets, drops = _STATS.unpack_from(raw)
        # The kernel zeroes both counters on every read: accumulate.
        self._received += packets
        self._dropped += drops
        return self._received, self._dropped

    def close(self) -> None:
        # Closing the socket also drops its promiscuous membership and the ring.
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _error_for(self, err: OSError) -> CaptureError:
        if err.errno == errno.ENETDOWN:
            # Raised once when the interface goes down or is deleted. A socket
            # bound to a deleted ifindex never resumes, even if an interface of
            # the same name comes back, so tell the two apart.
            try:
                index = socket.if_nametoindex(self.iface)
            except OSError:
                index = 0
            if index != self.ifindex:
                return CaptureError("interface_not_found", f"interface {self.iface} disappeared")
            return CaptureError("interface_down", f"interface {self.iface} went down")
        return CaptureError("internal", f"reading from {self.iface} failed: {err.strerror}")


def _timespec(payload: bytes) -> float:
    if len(payload) == _TIMESPEC64.size:
        sec, nsec = _TIMESPEC64.unpack(payload)
    else:
        sec, nsec = _TIMESPEC32.unpack_from(payload)
    return float(sec + nsec * 1e-9)


def open_live(
    iface: str,
    *,
    bpf: str | None = None,
    promisc: bool = False,
    snaplen: int = DEFAULT_SNAPLEN,
    rcvbuf: int = 8 << 20,
) -> LiveCapture:
    """Start capturing on ``iface``; CaptureError with a one-line message if impossible."""
    _check_name(iface)
    if not 64 <= snaplen <= 262144:
        raise CaptureError("internal", f"snap length {snaplen} is outside 64..262144")
    try:
        program = resolve_filter(bpf).with_snaplen(snaplen)
    except BpfError as err:
        raise CaptureError("bad_filter", str(err)) from None
    try:
        # Protocol 0: the socket receives nothing until bind() names the interface.
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except PermissionError:
        raise CaptureError("permission_denied", permission_fix()) from None
    except OSError as err:
        raise CaptureError("internal", f"cannot open a packet socket: {err.strerror}") from None
    try:
        return _setup(sock, iface, program, promisc=promisc, snaplen=snaplen, rcvbuf=rcvbuf)
    except BaseException:
        sock.close()
        raise


def _setup(
    sock: socket.socket,
    iface: str,
    program: BpfProgram,
    *,
    promisc: bool,
    snaplen: int,
    rcvbuf: int,
) -> LiveCapture:
    try:
        ifindex = socket.if_nametoindex(iface)
    except OSError:
        raise _not_found(iface) from None
    if not _interface_flags(sock, iface) & IFF_UP:
        raise CaptureError(
            "interface_down", f"interface {iface} is down (bring it up: ip link set {iface} up)"
        )
    try:
        attach_filter(sock, program)
    except BpfError as err:
        raise CaptureError("bad_filter", str(err)) from None
    ring: _RxRing | None = None
    if os.environ.get("TOTEM_CAPTURE_RING", "1") != "0":
        try:
            # Twice rcvbuf: the memory the kernel grants a socket buffer for
            # SO_RCVBUF=rcvbuf (it doubles the value), so both paths cost the same.
            ring = _RxRing(sock, 2 * rcvbuf)
        except (OSError, ValueError):
            ring = None  # no TPACKET_V3 (Linux < 3.2) or no memory: per-frame recvmsg
    try:
        return _bind(
            sock, iface, ifindex, program, ring, promisc=promisc, snaplen=snaplen, rcvbuf=rcvbuf
        )
    except BaseException:
        if ring is not None:
            ring.close()
        raise


def _bind(
    sock: socket.socket,
    iface: str,
    ifindex: int,
    program: BpfProgram,
    ring: _RxRing | None,
    *,
    promisc: bool,
    snaplen: int,
    rcvbuf: int,
) -> LiveCapture:
    try:
        if ring is None:
            effective_rcvbuf = _set_rcvbuf(sock, rcvbuf)
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        else:
            effective_rcvbuf = ring.block_size * ring.blocks
        if promisc:
            mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        sock.bind((iface, ETH_P_ALL))
        _name, _proto, _pkttype, hatype, hwaddr = sock.getsockname()
    except PermissionError:
        raise CaptureError("permission_denied", permission_fix()) from None
    except OSError as err:
        if err.errno in (errno.ENODEV, errno.ENXIO):
            raise _not_found(iface) from None
        if err.errno == errno.ENETDOWN:
            raise CaptureError("interface_down", f"interface {iface} is down") from None
        raise CaptureError("internal", f"cannot capture on {iface}: {err.strerror}") from None
    if hatype not in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
        # Spec'd codes only: for the user this interface "is not one TOTEM can use".
        raise CaptureError(
            "interface_not_found",
            f"interface {iface} carries no Ethernet frames (hardware type {hatype});"
            " pick an Ethernet, Wi-Fi or bridge interface",
        )
    if hatype == ARPHRD_LOOPBACK:
        # Every frame sent on lo is received again: keep one copy.
        # (Linux >= 4.20; older kernels count loopback frames twice.)
        with contextlib.suppress(OSError):
            sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    sock.setblocking(False)
    return LiveCapture(
        sock,
        iface=iface,
        ifindex=ifindex,
        own_mac=bytes(hwaddr[:6]),
        snaplen=snaplen,
        program=program,
        rcvbuf=effective_rcvbuf,
        promisc=promisc,
        ring=ring,
    )
