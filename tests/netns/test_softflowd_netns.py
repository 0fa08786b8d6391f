"""softflowd end to end: a real exporter's NetFlow v9 and IPFIX into ``collect``.

Two namespaces joined by a veth pair; softflowd watches the capture end and exports
to the collector on that namespace's loopback; tcpreplay plays a real capture into
the other end. Per LAN address, the collector's packets must match what the engine's
own ``analyze`` counts for the device with that address. Nothing leaves the
namespaces the test creates.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from custom_components.totem.engine.sources import write_pcap
from tests.conftest import ROOT, any_pcap, require_root, require_tool
from tests.netns.test_capture_netns import HANG_GUARD, VethPair, veth  # noqa: F401

pytestmark = pytest.mark.netns

CAPTURE = "iot_google_nest_logsink.pcap"
PORT = 9995
HOME = "192.168.242.15"  # the Nest
GATEWAY = "192.168.242.1"
GATEWAY_OWN_PACKETS = 15  # tshark -z endpoints,ip: packets to or from the gateway's address


def _engine(*args: str) -> list[str]:
    return [sys.executable, "-m", "custom_components.totem.engine", *args]


def _analyze(pcap: Path) -> dict[str, Any]:
    res = subprocess.run(
        _engine("analyze", str(pcap), "--json"), cwd=ROOT, capture_output=True, text=True,
        timeout=HANG_GUARD, check=True,
    )  # fmt: skip
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def _export(
    pair: VethPair, pcap: Path, version: str, tmp: Path, tracking: str = "full"
) -> dict[str, Any]:
    softflowd = require_tool("softflowd")
    softflowctl = require_tool("softflowctl")
    tcpreplay = require_tool("tcpreplay")
    subprocess.run(["ip", "-n", pair.capture_ns, "link", "set", "lo", "up"], check=True)
    ns = ["ip", "netns", "exec", pair.capture_ns]
    collector = subprocess.Popen(
        [*ns, *_engine("collect", "--netflow", str(PORT), "--bind", "127.0.0.1", "--json")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ctl = tmp / f"softflowd-{version}.ctl"
    exporter = None
    try:
        assert collector.stderr is not None
        assert "collecting on" in collector.stderr.readline()
        exporter = subprocess.Popen(
            [*ns, softflowd, "-d", "-i", pair.capture, "-n", f"127.0.0.1:{PORT}", "-v", version,
             "-T", tracking,
             "-c", str(ctl), "-p", str(tmp / f"softflowd-{version}.pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for _ in range(100):  # the control socket appears once pcap is open
            if ctl.exists():
                break
            time.sleep(0.1)
        assert ctl.exists(), "softflowd did not start"
        done = pair.run(pair.sender_ns, tcpreplay, "-i", pair.sender, "--pps=2000", str(pcap))
        assert done.returncode == 0, done.stderr
        # libpcap hands softflowd its frames a ring block at a time and Debian's build
        # sets no immediate mode, so the tail of the capture would sit in a half-full
        # block: non-IP filler (which softflowd ignores and counts) pushes it through.
        filler = pair.run(pair.sender_ns, tcpreplay, "-i", pair.sender, "--topspeed",
                          str(_filler(tmp)))  # fmt: skip
        assert filler.returncode == 0, filler.stderr
        time.sleep(1.0)
        # "shutdown" exports every active flow before softflowd exits.
        pair.run(pair.capture_ns, softflowctl, "-c", str(ctl), "shutdown")
        exporter.wait(timeout=HANG_GUARD)
        time.sleep(0.5)
        collector.terminate()
        out, err = collector.communicate(timeout=HANG_GUARD)
        assert collector.returncode == 0, err
    finally:
        for proc in (exporter, collector):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    doc: dict[str, Any] = json.loads(out)
    return doc


def _filler(tmp: Path) -> Path:
    frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x99" + b"\x88\xb5" + b"\x00" * 1486
    path = tmp / "filler.pcap"
    write_pcap(path, [(1.0 + i / 1000, len(frame), frame, 1) for i in range(3000)])
    return path


def _engine_by_ip(doc: dict[str, Any]) -> dict[str, int]:
    """IP packets per LAN address from ``analyze``: a device's frames less its ARP."""
    out: dict[str, int] = {}
    for dev in doc["devices"]:
        if len(dev["ips"]) == 1:
            out[dev["ips"][0]] = dev["tx_packets"] + dev["rx_packets"] - dev["arp_packets"]
    return out


@pytest.mark.parametrize("version", ["9", "10"])
def test_softflowd_export_matches_engine(veth: VethPair, version: str, tmp_path: Path) -> None:  # noqa: F811
    require_root("softflowd in a network namespace")
    pcap = any_pcap(CAPTURE)
    engine = _engine_by_ip(_analyze(pcap))
    started = time.time()
    doc = _export(veth, pcap, version, tmp_path)
    stats = doc["collector"]
    assert stats["malformed"] == 0
    assert stats["no_template"] == 0
    assert stats["lost_datagrams"] == stats["lost_records"] == 0
    # Flow times come from the records (v9: uptime-relative, IPFIX: absolute), so
    # they fall inside this run, not at the epoch or the collector's clock alone.
    assert started - 5 <= doc["first_time"] <= doc["last_time"] <= time.time() + 5
    flows = {d["ips"][0]: d for d in doc["devices"] if d["mac"] is None}
    assert flows, doc
    rows = []
    for ip, dev in sorted(flows.items()):
        got = dev["tx_packets"] + dev["rx_packets"]
        want = engine.get(ip)
        rows.append(f"{ip:<16} collector {got:>6}  engine {want}")
    table = "\n".join(rows)
    print(f"\nsoftflowd -v {version}\n{table}")
    # The Nest: every IP packet it sent or received is in one of softflowd's flows,
    # and "shutdown" exports them all, so no timeout cuts any: 1 % slack only for a
    # frame lost on the veth.
    got = flows[HOME]["tx_packets"] + flows[HOME]["rx_packets"]
    assert abs(got - engine[HOME]) <= engine[HOME] // 100, table
    # The gateway's MAC carries the Nest's Internet traffic too (the engine counts
    # frames per MAC); by address it only has its own DNS answers (tshark: 15 packets).
    got = flows[GATEWAY]["tx_packets"] + flows[GATEWAY]["rx_packets"]
    assert got == GATEWAY_OWN_PACKETS, table
    assert got < engine[GATEWAY]


def test_softflowd_ether_tracking_keys_devices_by_mac(veth: VethPair, tmp_path: Path) -> None:  # noqa: F811
    """``-T ether`` puts MACs in the IPFIX records: devices are then keyed as analyze keys them.

    Each MAC's IP frames (the engine's frames less ARP) must all be in the flows.
    """
    require_root("softflowd in a network namespace")
    pcap = any_pcap(CAPTURE)
    engine = {
        d["mac"]: d["tx_packets"] + d["rx_packets"] - d["arp_packets"]
        for d in _analyze(pcap)["devices"]
    }
    doc = _export(veth, pcap, "10", tmp_path, tracking="ether")
    got = {d["mac"]: d["tx_packets"] + d["rx_packets"] for d in doc["devices"]}
    print(f"\nsoftflowd -v 10 -T ether\ncollector {got}\nengine    {engine}")
    assert set(got) == set(engine)
    for mac, want in engine.items():
        assert abs(got[mac] - want) <= want // 100, (got, engine)
