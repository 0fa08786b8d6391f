"""The ring read as pcap records gives the engine what the ring read as packets gives it."""

from __future__ import annotations

import struct

from custom_components.totem.engine import capture
from custom_components.totem.engine.capture import RECORD_ENDIAN, _RxRing
from custom_components.totem.engine.engine import Engine, EngineConfig
from tests.traffic.synth import eth, ipv4, tcp, udp

BLOCK = 4096
MAC_MARK = 82  # where the kernel puts an Ethernet frame in a TPACKET_V3 slot (netoff - 14)


def frames() -> list[tuple[int, int, bytes, int, int]]:
    """(sec, nsec, frame, wire length, VLAN tci or -1): a small conversation, one tagged."""
    a, b = bytes.fromhex("02000000000a"), bytes.fromhex("02000000000b")
    ip_a, ip_b = bytes([192, 168, 1, 10]), bytes([192, 168, 1, 20])
    out = []
    for i in range(9):
        sec, nsec = 1_700_000_000 + i // 3, 333_333_333 * (i % 3) + 7
        if i % 2:
            frame = eth(a, b, 0x0800, ipv4(ip_b, ip_a, 6, tcp(443, 5000, i, 1, 0x12)))
        else:
            frame = eth(b, a, 0x0800, ipv4(ip_a, ip_b, 17, udp(5000 + i, 53, b"q" * i)))
        out.append((sec, nsec, frame, len(frame) + (100 if i == 4 else 0), 7 if i == 6 else -1))
    return out


def ring(blocks: list[list[tuple[int, int, bytes, int, int]]]) -> _RxRing:
    """A ring whose blocks the 'kernel' has filled and handed over, laid out as Linux does."""
    mm = bytearray(BLOCK * len(blocks))
    for n, block in enumerate(blocks):
        base = n * BLOCK
        struct.pack_into("=III", mm, base + 8, capture.TP_STATUS_USER, len(block), 48)
        off = base + 48
        for sec, nsec, frame, wirelen, tci in block:
            step = (MAC_MARK + len(frame) + 15) & ~15
            status = capture.TP_STATUS_USER
            if tci >= 0:
                status |= capture.TP_STATUS_VLAN_VALID
                struct.pack_into("=IH", mm, off + 32, tci, 0)
            struct.pack_into(
                "=IIIIIIH", mm, off, step, sec, nsec, len(frame), wirelen, status, MAC_MARK
            )
            mm[off + MAC_MARK : off + MAC_MARK + len(frame)] = frame
            off += step
    r = _RxRing.__new__(_RxRing)
    r.map = mm  # type: ignore[assignment]
    r.block_size, r.blocks, r.block, r.left, r.offset = BLOCK, len(blocks), 0, 0, 0
    return r


def test_records_from_the_ring_count_as_the_packets_do() -> None:
    sent = frames()
    layout = [sent[:4], sent[4:]]
    by_packets, by_records = Engine(EngineConfig()), Engine(EngineConfig())
    old, new = ring(layout), ring(layout)
    got = old.read(3)  # a read that stops inside a block, then the rest
    got += old.read(100)
    by_packets.process(got)
    parts, count = new.read_records(3)
    by_records.process_records(b"".join(parts), RECORD_ENDIAN, 1e-9)
    parts, more = new.read_records(100)
    by_records.process_records(b"".join(parts), RECORD_ENDIAN, 1e-9)
    assert (count, count + more) == (3, len(sent))
    # Both blocks were handed back to the kernel, and nothing is left to read.
    assert new.read_records(100) == ([], 0)
    for base in (0, BLOCK):
        assert struct.unpack_from("=I", new.map, base + 8)[0] == capture.TP_STATUS_KERNEL
    for engine in (by_packets, by_records):
        engine.flush()
    a, b = by_packets.snapshot(), by_records.snapshot()
    assert a.packets == b.packets == len(sent)
    assert a.bytes == b.bytes == sum(f[3] for f in sent) + 4  # the tagged frame's tag
    rows = lambda s: sorted(  # noqa: E731
        (d.mac, d.tx_packets, d.tx_bytes, d.rx_packets, d.rx_bytes, d.first_seen, d.last_seen)
        for d in s.devices
    )
    assert rows(a) == rows(b)
    assert by_packets.last_time == by_records.last_time == sent[-1][0] + sent[-1][1] * 1e-9
