"""Kernel packet filters (classic BPF) for live capture.

Home Assistant's container ships neither tcpdump nor libpcap, and scapy then
cannot compile a filter: it logs a warning and captures everything
(home-assistant/core#46003). TOTEM therefore ships its own filters already
compiled, as data, and only needs libpcap for a filter the user types.

The built-in programs below were generated once with tcpdump 4.99.3 /
libpcap 1.10.3::

    tcpdump -y EN10MB -s 262144 -ddd EXPRESSION

and are committed next to the expression they came from; a test recompiles
each expression with tcpdump and libpcap (when installed) and compares. Their
"accept" returns carry 262144 and are lowered to the capture's snap length
when attached, so the kernel truncates frames before they are queued.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import struct
from dataclasses import dataclass
from functools import cache

Instruction = tuple[int, int, int, int]  # (code, jt, jf, k), as in struct sock_filter

LINKTYPE_ETHERNET = 1
SO_ATTACH_FILTER = 26
BPF_RET_K = 0x06  # BPF_RET | BPF_K: "accept k bytes" (0 = drop)
BPF_MAXINSNS = 4096
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
GENERATED_SNAPLEN = 262144


class BpfError(ValueError):
    """A filter that cannot be compiled or attached; the message is one line."""


@dataclass(frozen=True, slots=True)
class BpfProgram:
    """A classic BPF program and the expression it implements."""

    expression: str
    instructions: tuple[Instruction, ...]
    name: str | None = None  # set for TOTEM's built-in filters

    def with_snaplen(self, snaplen: int) -> BpfProgram:
        """The same program, keeping at most ``snaplen`` bytes of accepted frames."""
        insns = tuple(
            (code, jt, jf, min(k, snaplen)) if code == BPF_RET_K and k else (code, jt, jf, k)
            for code, jt, jf, k in self.instructions
        )
        return BpfProgram(self.expression, insns, self.name)


_DISCOVERY = "arp or (udp and port (53 or 67 or 68 or 123 or 137 or 1900 or 5353 or 5355))"

# Why these three: "all" is what the probe runs (every frame is counted, the
# kernel only truncates); "ip" drops layer-2 chatter (STP, LLDP, EAPOL) on busy
# mirror ports; "discovery" keeps only what names and identifies devices (ARP,
# DNS, DHCP, NTP, NetBIOS, SSDP, mDNS, LLMNR) for hosts too slow to count
# everything. Each also matches frames whose 802.1Q tag was not stripped by the
# NIC (a stripped tag leaves the inner EtherType at offset 12).
# fmt: off
BUILTIN_FILTERS: dict[str, BpfProgram] = {
    "all": BpfProgram(
        expression="",
        name="all",
        instructions=((6, 0, 0, 262144),),
    ),
    "ip": BpfProgram(
        expression="arp or ip or ip6 or (vlan and (arp or ip or ip6))",
        name="ip",
        instructions=(
            (40, 0, 0, 12), (21, 9, 0, 2054), (21, 8, 0, 2048), (21, 7, 0, 34525),
            (21, 2, 0, 33024), (21, 1, 0, 34984), (21, 0, 5, 37120), (40, 0, 0, 16),
            (21, 2, 0, 2054), (21, 1, 0, 2048), (21, 0, 1, 34525), (6, 0, 0, 262144),
            (6, 0, 0, 0),
        ),
    ),
    "discovery": BpfProgram(
        expression=f"{_DISCOVERY} or (vlan and ({_DISCOVERY}))",
        name="discovery",
        instructions=(
            (40, 0, 0, 12), (21, 74, 0, 2054), (21, 0, 16, 2048), (48, 0, 0, 23),
            (21, 0, 72, 17), (40, 0, 0, 20), (69, 70, 0, 8191), (177, 0, 0, 14),
            (72, 0, 0, 14), (21, 66, 0, 53), (21, 65, 0, 67), (21, 64, 0, 68),
            (21, 63, 0, 123), (21, 62, 0, 137), (21, 61, 0, 1900), (21, 60, 0, 5353),
            (21, 59, 0, 5355), (72, 0, 0, 16), (21, 57, 50, 53), (21, 0, 13, 34525),
            (48, 0, 0, 20), (21, 0, 55, 17), (40, 0, 0, 54), (21, 52, 0, 53),
            (21, 51, 0, 67), (21, 50, 0, 68), (21, 49, 0, 123), (21, 48, 0, 137),
            (21, 47, 0, 1900), (21, 46, 0, 5353), (21, 45, 0, 5355), (40, 0, 0, 56),
            (21, 43, 36, 53), (21, 2, 0, 33024), (21, 1, 0, 34984), (21, 0, 41, 37120),
            (40, 0, 0, 16), (21, 38, 0, 2054), (21, 0, 16, 2048), (48, 0, 0, 27),
            (21, 0, 36, 17), (40, 0, 0, 24), (69, 34, 0, 8191), (177, 0, 0, 18),
            (72, 0, 0, 18), (21, 30, 0, 53), (21, 29, 0, 67), (21, 28, 0, 68),
            (21, 27, 0, 123), (21, 26, 0, 137), (21, 25, 0, 1900), (21, 24, 0, 5353),
            (21, 23, 0, 5355), (72, 0, 0, 20), (21, 21, 14, 53), (21, 0, 21, 34525),
            (48, 0, 0, 24), (21, 0, 19, 17), (40, 0, 0, 58), (21, 16, 0, 53),
            (21, 15, 0, 67), (21, 14, 0, 68), (21, 13, 0, 123), (21, 12, 0, 137),
            (21, 11, 0, 1900), (21, 10, 0, 5353), (21, 9, 0, 5355), (40, 0, 0, 60),
            (21, 7, 0, 53), (21, 6, 0, 67), (21, 5, 0, 68), (21, 4, 0, 123),
            (21, 3, 0, 137), (21, 2, 0, 1900), (21, 1, 0, 5353), (21, 0, 1, 5355),
            (6, 0, 0, 262144), (6, 0, 0, 0),
        ),
    ),
}
# fmt: on

DEFAULT_FILTER = "all"


def builtin_filter(text: str) -> BpfProgram | None:
    """The built-in program named ``text`` or compiled from exactly ``text``."""
    wanted = " ".join(text.split())
    for program in BUILTIN_FILTERS.values():
        if wanted in (program.name, program.expression):
            return program
    return None


class _BpfInsn(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    )


class _BpfProgramStruct(ctypes.Structure):
    _fields_ = (("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(_BpfInsn)))


@cache
def _load_libpcap_cached() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("pcap")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = (ctypes.c_int, ctypes.c_int)
    lib.pcap_compile.restype = ctypes.c_int
    lib.pcap_compile.argtypes = (
        ctypes.c_void_p,
        ctypes.POINTER(_BpfProgramStruct),
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_uint32,
    )
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = (ctypes.c_void_p,)
    lib.pcap_freecode.restype = None
    lib.pcap_freecode.argtypes = (ctypes.POINTER(_BpfProgramStruct),)
    lib.pcap_close.restype = None
    lib.pcap_close.argtypes = (ctypes.c_void_p,)
    return lib


def load_libpcap() -> ctypes.CDLL | None:
    """libpcap if installed; ``TOTEM_NO_LIBPCAP=1`` pretends it is not (tests, HA's image)."""
    if os.environ.get("TOTEM_NO_LIBPCAP") == "1":
        return None
    return _load_libpcap_cached()


def compile_with_libpcap(
    expression: str, *, snaplen: int = GENERATED_SNAPLEN, linktype: int = LINKTYPE_ETHERNET
) -> BpfProgram:
    """Compile a tcpdump filter expression; BpfError if libpcap is absent or it is invalid."""
    lib = load_libpcap()
    if lib is None:
        names = ", ".join(BUILTIN_FILTERS)
        raise BpfError(
            f"libpcap is not installed, only the built-in filters ({names}) are available;"
            " install libpcap (Debian: apt install libpcap0.8) to use other expressions"
        )
    handle = lib.pcap_open_dead(linktype, snaplen)
    if not handle:
        raise BpfError("libpcap could not create a compiler handle")
    prog = _BpfProgramStruct()
    try:
        status = lib.pcap_compile(
            handle, ctypes.byref(prog), expression.encode(), 1, PCAP_NETMASK_UNKNOWN
        )
        if status != 0:
            reason = (lib.pcap_geterr(handle) or b"syntax error").decode(errors="replace")
            raise BpfError(f"invalid filter {expression!r}: {' '.join(reason.split())}")
        insns = tuple(
            (prog.bf_insns[i].code, prog.bf_insns[i].jt, prog.bf_insns[i].jf, prog.bf_insns[i].k)
            for i in range(prog.bf_len)
        )
        lib.pcap_freecode(ctypes.byref(prog))
    finally:
        lib.pcap_close(handle)
    return BpfProgram(expression=expression, instructions=insns)


def resolve_filter(expression: str | None) -> BpfProgram:
    """The program for a user's filter: a built-in one when it matches, else libpcap's."""
    if expression is None or not expression.strip():
        return BUILTIN_FILTERS[DEFAULT_FILTER]
    return builtin_filter(expression) or compile_with_libpcap(expression)


def attach_filter(sock: socket.socket, program: BpfProgram) -> None:
    """Attach ``program`` to a packet socket (SO_ATTACH_FILTER)."""
    count = len(program.instructions)
    if not 0 < count <= BPF_MAXINSNS:
        raise BpfError(f"filter has {count} instructions; the kernel accepts 1..{BPF_MAXINSNS}")
    insns = (_BpfInsn * count)(*(_BpfInsn(*insn) for insn in program.instructions))
    # struct sock_fprog {unsigned short len; struct sock_filter *filter;}; "P" keeps the
    # native pointer size and alignment (8 bytes on aarch64/x86_64, 4 on armhf).
    fprog = struct.pack("HP", count, ctypes.addressof(insns))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as err:
        raise BpfError(f"the kernel rejected the filter: {err.strerror}") from None
