"""Synthetic NetFlow v5/v9 and IPFIX datagrams, built field by field (tests and bench)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence

# (ie, length) of the flow template the tests and the benchmark use.
FLOW_FIELDS: tuple[tuple[int, int], ...] = (
    (8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 4), (1, 4),
    (22, 4), (21, 4), (56, 6), (80, 6),
)  # fmt: skip


def ip4(text: str) -> bytes:
    return socket.inet_aton(text)


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def flow_values(
    src: str, dst: str, sport: int, dport: int, proto: int, packets: int, octets: int,
    first_ms: int = 1000, last_ms: int = 2000, src_mac: str = "02:00:00:00:00:01",
    dst_mac: str = "02:00:00:00:00:02", flags: int = 0x18,
) -> bytes:  # fmt: skip
    return (
        ip4(src) + ip4(dst)
        + struct.pack(">HHBBIIII", sport, dport, proto, flags, packets, octets, first_ms, last_ms)
        + mac(src_mac) + mac(dst_mac)
    )  # fmt: skip


def template_set(version: int, tid: int, fields: Sequence[tuple[int, int]]) -> bytes:
    body = struct.pack(">HH", tid, len(fields)) + b"".join(
        struct.pack(">HH", ie, ln) for ie, ln in fields
    )
    return struct.pack(">HH", 0 if version == 9 else 2, 4 + len(body)) + body


def data_set(tid: int, records: Sequence[bytes], pad: int = 0) -> bytes:
    body = b"".join(records) + b"\x00" * pad
    return struct.pack(">HH", tid, 4 + len(body)) + body


def v9(sets: Sequence[bytes], seq: int, source_id: int = 1, uptime_ms: int = 10_000,
       secs: int = 1_700_000_000) -> bytes:  # fmt: skip
    return struct.pack(">HHIIII", 9, len(sets), uptime_ms, secs, seq, source_id) + b"".join(sets)


def ipfix(sets: Sequence[bytes], seq: int, domain: int = 1, secs: int = 1_700_000_000) -> bytes:
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), secs, seq, domain) + body


def v5(records: Sequence[tuple[str, str, int, int, int, int, int]], seq: int,
       sampling: int = 0, uptime_ms: int = 10_000, secs: int = 1_700_000_000) -> bytes:  # fmt: skip
    head = struct.pack(">HHIIIIBBH", 5, len(records), uptime_ms, secs, 0, seq, 0, 0, sampling)
    body = b"".join(
        struct.pack(
            ">4s4s4sHHIIIIHHxBBBHHBBxx",
            ip4(s),
            ip4(d),
            b"\0" * 4,
            0,
            0,
            p,
            o,
            1000,
            2000,
            sp,
            dp,
            0x18,
            pr,
            0,
            0,
            0,
            0,
            0,
        )  # fmt: skip
        for s, d, sp, dp, pr, p, o in records
    )
    return head + body


def udp_frame(src: str, dst: str, payload: bytes, sport: int = 40000, dport: int = 2055) -> bytes:
    """Ethernet/IPv4/UDP around ``payload`` (checksums zero: tshark does not verify them)."""
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, ip4(src), ip4(dst))
    return b"\x02\x00\x00\x00\x00\x0a" + b"\x02\x00\x00\x00\x00\x0b" + b"\x08\x00" + iph + udp
