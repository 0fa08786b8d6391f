"""Flow records through the detectors (FlowEngine) and the probe's --netflow source."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from custom_components.totem.engine.flow_events import (
    FLOW_REASON,
    PAIR_SECONDS,
    build_flow_engine,
)

from .netflow_synth import FLOW_FIELDS, data_set, flow_values, template_set, v9

ROOT = Path(__file__).resolve().parents[2]
SCANNER_MAC = "02:11:22:33:44:55"
TARGET_MAC = "02:11:22:33:44:66"
SYN, RST_ACK, SYN_ACK, ACK, PSH = 0x02, 0x14, 0x12, 0x10, 0x08


def _scan_datagrams(ports: range, answered: bool = False) -> list[bytes]:
    """One datagram per 10 probes: SYN out, RST back (closed port), like nmap -sS."""
    out = [v9([template_set(9, 256, FLOW_FIELDS)], seq=0)]
    seq = 1
    batch: list[bytes] = []
    for i, port in enumerate(ports):
        batch.append(
            flow_values("192.168.1.50", "192.168.1.60", 40000 + i, port, 6, 1, 60,
                        src_mac=SCANNER_MAC, dst_mac=TARGET_MAC,
                        flags=SYN | ACK | PSH if answered else SYN)
        )  # fmt: skip
        batch.append(
            flow_values("192.168.1.60", "192.168.1.50", port, 40000 + i, 6, 1, 60,
                        src_mac=TARGET_MAC, dst_mac=SCANNER_MAC,
                        flags=SYN_ACK if answered else RST_ACK)
        )  # fmt: skip
        if len(batch) == 20:
            out.append(v9([data_set(256, batch)], seq=seq))
            seq += 1
            batch = []
    if batch:
        out.append(v9([data_set(256, batch)], seq=seq))
    return out


def test_a_port_scan_in_flow_records_raises_a_port_scan_alert() -> None:
    engine = build_flow_engine(0.0, None, 4096)
    now = 1_700_000_000.0
    for payload in _scan_datagrams(range(1, 41)):
        engine.feed(payload, "192.168.1.1", now)
    engine.tick(now + PAIR_SECONDS + 1)
    kinds = {(a.kind, a.mac) for a in engine.snapshot().alerts}
    assert ("port_scan", SCANNER_MAC) in kinds
    scan = next(a for a in engine.snapshot().alerts if a.kind == "port_scan")
    assert scan.details["target"] == "192.168.1.60"


def test_answered_connections_are_no_scan() -> None:
    # The same 40 connections, answered with SYN-ACK and completed (the opener's
    # record carries ACK and PSH as well): a busy client, no scan.
    engine = build_flow_engine(0.0, None, 4096)
    now = 1_700_000_000.0
    datagrams = _scan_datagrams(range(1, 41), answered=True)
    for payload in datagrams:
        engine.feed(payload, "192.168.1.1", now)
    engine.flush()
    assert not [a for a in engine.snapshot().alerts if a.kind in ("port_scan", "host_scan")]


def test_flow_devices_by_mac_and_by_address_merge_when_the_mac_is_learned() -> None:
    engine = build_flow_engine(0.0, None, 4096)
    now = 1_700_000_000.0
    fields = tuple(f for f in FLOW_FIELDS if f[0] not in (56, 80))  # no MACs
    nomac = [
        v9([template_set(9, 300, fields)], seq=0, source_id=7),
        v9([data_set(300, [flow_values("192.168.1.70", "8.8.8.8", 5000, 53, 17, 2, 140)[:30]])],
           seq=1, source_id=7),
    ]  # fmt: skip
    for payload in nomac:
        engine.feed(payload, "192.168.1.1", now)
    row = next(r for r in engine.snapshot().devices if "192.168.1.70" in r.ips)
    assert row.randomized
    assert row.name == "192.168.1.70"
    assert row.type_reason.startswith(FLOW_REASON)
    doc = engine.collector.document()
    assert [d["mac"] for d in doc["devices"] if "192.168.1.70" in d["ips"]] == [None]
    # A later record of an exporter that does carry MACs names the address's MAC.
    with_mac = [
        v9([template_set(9, 256, FLOW_FIELDS)], seq=0),
        v9([data_set(256, [flow_values("192.168.1.70", "8.8.8.8", 5001, 53, 17, 3, 210,
                                       src_mac="02:aa:bb:cc:dd:ee", dst_mac="02:00:00:00:00:fe")])],
           seq=1),
    ]  # fmt: skip
    for payload in with_mac:
        engine.feed(payload, "192.168.1.1", now + 1)
    rows = [r for r in engine.snapshot().devices if "192.168.1.70" in r.ips]
    assert [(r.mac, r.tx_packets, r.tx_bytes) for r in rows] == [("02:aa:bb:cc:dd:ee", 5, 350)]
    assert engine.collector.stats.devices_merged == 1


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_probe_netflow_publishes_devices_and_the_scan_alert(socket_enabled: None) -> None:
    port = _free_udp_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "custom_components.totem.engine", "probe", "--netflow", str(port),
         "--bind", "127.0.0.1", "--allow", "127.0.0.1", "--interval", "0.5"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        hello = json.loads(proc.stdout.readline())
        assert hello["type"] == "hello"
        assert hello["source"] == f"netflow:{port}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:  # the socket is bound right after hello
                tx.sendto(b"\x00\x09", ("127.0.0.1", port))  # malformed: counted, harmless
                time.sleep(0.05)
            for payload in _scan_datagrams(range(1, 41)):
                tx.sendto(payload, ("127.0.0.1", port))
        alerts, macs = [], set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not alerts:
            msg = json.loads(proc.stdout.readline())
            if msg["type"] == "snapshot":
                macs = {d["mac"] for d in msg["snapshot"]["devices"]}
            elif msg["type"] == "alert" and msg["alert"]["kind"] == "port_scan":
                alerts.append(msg["alert"])
        assert {SCANNER_MAC, TARGET_MAC} <= macs
        assert alerts
        assert alerts[0]["mac"] == SCANNER_MAC
    finally:
        proc.terminate()
        proc.wait(10)
