"""The router's DHCP leases: parser (dnsmasq, ISC dhcpd, odhcpd) and the flow collector's use."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from custom_components.totem.engine import leases
from custom_components.totem.engine.cli_collect import FlowCollector, open_leases
from custom_components.totem.engine.flow_events import FlowEngine
from custom_components.totem.engine.sources import write_pcap
from tests.conftest import ROOT
from tests.engine import netflow_synth as syn

EXPORTER = "192.168.1.1"

DNSMASQ = (
    b"1733150000 a4:cf:12:3b:4c:5d 192.168.1.23 living-room-plug 01:a4:cf:12:3b:4c:5d\n"
    b"1733150100 B8:27:EB:00:11:22 192.168.1.40 * *\n"
    b"duid 00:01:00:01:2c:5f:aa:bb:08:00:27:00:00:01\n"
    b"1733150200 5b3c10e2 fd00::1a3 phone 00:01:00:01:2c:5f:aa:bb:cc:dd:ee:ff\n"
)

HOSTILE = (
    b"not a lease at all\n"
    b"1733150000 zz:zz:zz:zz:zz:zz 192.168.1.50 bad-mac *\n"
    b"1733150000 a4:cf:12:3b:4c:5e 999.1.1.1 bad-ip *\n"
    b"1733150000 01:00:5e:00:00:01 192.168.1.51 multicast-mac *\n"
    b"1733150000 a4:cf:12:3b:4c:5f 192.168.1.52 \x1b[31mred\x1b[0m\x07\xe2\x80\xae *\n"
    b"1733150000 a4:cf:12:3b:4c:60 192.168.1.53 " + b"x" * 5000 + b" *\n"
    b"\xff\xfe\x00garbage\x00\n"
)

DHCPD = b"""# The format of this file is documented in the dhcpd.leases(5) manual page.
authoring-byte-order little-endian;
server-duid "\\000\\001\\000\\001";

lease 10.0.0.7 {
  starts 3 2026/12/02 10:00:00;
  ends 3 2026/12/02 22:00:00;
  binding state active;
  hardware ethernet 3c:71:bf:aa:bb:cc;
  client-hostname "thermostat";
}
lease 10.0.0.8 {
  binding state free;
  hardware ethernet 3c:71:bf:aa:bb:dd;
}
lease 10.0.0.9 {
  binding state active;
  hardware ethernet 3c:71:bf:aa:bb:ee;
  client-hostname "old-name";
}
lease 10.0.0.9 {
  binding state active;
  hardware ethernet 3c:71:bf:aa:bb:ee;
  client-hostname "new-name";
}
lease 10.0.0.10 {
  binding state active;
"""

ODHCPD = (
    b"# br-lan 000100012c5faabbccddeeff 5b3c10e2 laptop 1733150000 2 128 "
    b"fd00::55/128 fd00::56/128\n"
    b"# br-lan short line\n"
)


def test_dnsmasq_leases_mac_ip_name() -> None:
    table = leases.parse(DNSMASQ)
    assert table.format == "dnsmasq"
    assert table.bad_lines == 0
    assert table.leases["192.168.1.23"] == leases.Lease(
        "192.168.1.23", "a4:cf:12:3b:4c:5d", "living-room-plug"
    )
    assert table.leases["192.168.1.40"] == leases.Lease("192.168.1.40", "b8:27:eb:00:11:22", None)
    # DHCPv6 lease: an IAID, no MAC; the name is still the address's.
    assert table.leases["fd00::1a3"] == leases.Lease("fd00::1a3", None, "phone")


def test_hostile_lines_are_counted_and_skipped_names_sanitised() -> None:
    table = leases.parse(DNSMASQ + HOSTILE)
    # bad text, bad MAC, bad address, multicast MAC, the over-long line, binary garbage
    assert table.bad_lines == 6
    assert set(table.leases) == {"192.168.1.23", "192.168.1.40", "fd00::1a3", "192.168.1.52"}
    name = table.leases["192.168.1.52"].name
    assert name is not None
    assert name.isprintable()
    assert "\x1b" not in name
    assert "\u202e" not in name
    assert "red" in name


def test_parse_is_bounded() -> None:
    many = b"".join(
        b"1733150000 02:00:00:%02x:%02x:01 10.1.%d.%d h%d *\n"
        % (i >> 8, i & 255, i >> 8, i & 255, i)
        for i in range(leases.MAX_LEASES + 10)
    )
    table = leases.parse(many)
    assert len(table.leases) == leases.MAX_LEASES
    assert table.dropped == 10
    huge = leases.parse(b"1733150000 02:00:00:00:00:01 10.0.0.1 a *\n" * 200_000)
    assert len(huge.leases) == 1  # 8 MB in, only MAX_FILE_BYTES decoded


def test_isc_dhcpd_blocks_last_wins_free_dropped_cut_block_counted() -> None:
    table = leases.parse(DHCPD)
    assert table.format == "dhcpd"
    assert table.leases["10.0.0.7"] == leases.Lease("10.0.0.7", "3c:71:bf:aa:bb:cc", "thermostat")
    assert "10.0.0.8" not in table.leases  # binding state free: nobody holds it
    assert table.leases["10.0.0.9"].name == "new-name"  # dhcpd appends: the last block wins
    assert "10.0.0.10" not in table.leases
    assert table.bad_lines == 1  # the block cut off mid-write


def test_odhcpd_names_v6_addresses_without_mac() -> None:
    table = leases.parse(ODHCPD)
    assert table.format == "odhcpd"
    assert table.leases["fd00::55"] == leases.Lease("fd00::55", None, "laptop")
    assert table.leases["fd00::56"].name == "laptop"
    assert table.bad_lines == 1


def test_lease_file_rereads_on_change_and_warns_once_when_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "dhcp.leases"
    path.write_bytes(DNSMASQ)
    warnings: list[str] = []
    lf = leases.LeaseFile(str(path), warn=warnings.append, check_seconds=10.0)
    assert lf.refresh(now=0.0)
    assert lf.get("192.168.1.23") is not None
    assert not lf.refresh(now=1.0)  # inside the check interval: not even a stat
    assert not lf.refresh(now=20.0)  # checked: unchanged
    path.write_bytes(b"1733150000 a4:cf:12:3b:4c:99 192.168.1.99 new *\n")
    os.utime(path, ns=(1, 10**18))
    assert lf.refresh(now=40.0)
    assert lf.get("192.168.1.23") is None
    assert lf.get("192.168.1.99") is not None
    path.unlink()
    assert not lf.refresh(now=60.0)
    assert not lf.refresh(now=80.0)
    assert len(warnings) == 1
    assert "cannot read DHCP leases" in warnings[0]
    assert "\n" not in warnings[0]
    assert lf.get("192.168.1.99") is not None  # the last good leases are kept
    assert lf.errors == 2


def _address_only_record(src: str, packets: int = 2) -> bytes:
    fields = syn.FLOW_FIELDS[:10]  # no MAC fields: the router names only addresses
    rec = syn.flow_values(src, "8.8.8.8", 5353, 53, 17, packets, 140)[:-12]
    return syn.ipfix([syn.template_set(10, 256, fields), syn.data_set(256, [rec])], 0)


def test_flow_device_without_mac_gets_mac_and_name_from_leases(tmp_path: Path) -> None:
    path = tmp_path / "dhcp.leases"
    col = FlowCollector()
    col.leases = open_leases(str(path))  # missing for now: one warning, collection goes on
    col.feed(_address_only_record("192.168.1.23"), EXPORTER, 0.0)
    (dev,) = col.document()["devices"]
    assert dev["mac"] is None
    path.write_bytes(DNSMASQ)
    col.refresh_leases(force=True)
    (dev,) = col.document()["devices"]  # the address device became the lease's MAC
    assert dev["mac"] == "a4:cf:12:3b:4c:5d"
    assert dev["name"] == "living-room-plug"
    assert dev["ips"] == ["192.168.1.23"]
    assert dev["tx_packets"] == 2
    col.feed(_address_only_record("192.168.1.23", packets=3), EXPORTER, 1.0)
    doc = col.document()
    (dev,) = doc["devices"]
    assert (dev["mac"], dev["tx_packets"]) == ("a4:cf:12:3b:4c:5d", 5)
    assert doc["collector"]["devices_from_leases"] == 1
    assert doc["collector"]["leases"] == 3
    assert doc["collector"]["lease_read_errors"] == 1


def test_flow_engine_keys_detectors_and_snapshot_by_lease_mac(tmp_path: Path) -> None:
    path = tmp_path / "dhcp.leases"
    path.write_bytes(DNSMASQ)
    engine = FlowEngine()
    engine.collector.leases = open_leases(str(path))
    engine.feed(_address_only_record("192.168.1.23"), EXPORTER, 0.0)
    row = next(r for r in engine.snapshot().devices if r.ips == ["192.168.1.23"])
    assert row.mac == "a4:cf:12:3b:4c:5d"
    assert not row.randomized
    assert row.name == "living-room-plug"
    # The lease hostname is DHCP evidence, the lease MAC names the vendor: identified
    # as a DHCP request on the wire would identify it (Espressif OUI, "plug" token).
    assert row.name_sources["dhcp_lease"] == "living-room-plug"
    assert row.name_sources["dhcp"] == "living-room-plug"
    assert row.manufacturer == "Espressif"
    assert row.type == "smart_plug"
    assert "DHCP lease" in row.type_reason
    assert "no mDNS" in row.type_reason
    assert bytes.fromhex("a4cf123b4c5d") in engine.device_table.records


def test_flow_engine_without_lease_name_does_not_guess(tmp_path: Path) -> None:
    path = tmp_path / "dhcp.leases"
    path.write_bytes(b"1733150100 b8:27:eb:00:11:22 192.168.1.40 * *\n")  # no hostname
    engine = FlowEngine()
    engine.collector.leases = open_leases(str(path))
    engine.feed(_address_only_record("192.168.1.40"), EXPORTER, 0.0)
    row = next(r for r in engine.snapshot().devices if r.ips == ["192.168.1.40"])
    assert row.mac == "b8:27:eb:00:11:22"  # the lease's MAC all the same
    assert row.type == "unknown"
    assert row.type_reason.startswith("from flows: no DHCP/mDNS evidence")


def test_collect_cli_leases_option(tmp_path: Path) -> None:
    pcap = tmp_path / "export.pcap"
    frame = syn.udp_frame(EXPORTER, "192.168.1.2", _address_only_record("192.168.1.23"))
    write_pcap(str(pcap), [(1.0, len(frame), frame, 1)])
    path = tmp_path / "dhcp.leases"
    path.write_bytes(DNSMASQ + HOSTILE)
    res = subprocess.run(
        [sys.executable, "-m", "custom_components.totem.engine", "collect", "--replay", str(pcap),
         "--leases", str(path), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    (dev,) = doc["devices"]
    assert (dev["mac"], dev["name"]) == ("a4:cf:12:3b:4c:5d", "living-room-plug")
    assert doc["collector"]["lease_bad_lines"] == 6
    missing = subprocess.run(
        [sys.executable, "-m", "custom_components.totem.engine", "collect", "--replay", str(pcap),
         "--leases", str(tmp_path / "nope"), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert missing.returncode == 0
    assert missing.stderr.strip().splitlines() == [missing.stderr.strip()]
    assert "cannot read DHCP leases" in missing.stderr
    assert json.loads(missing.stdout)["devices"][0]["mac"] is None


def test_probe_netflow_with_leases_publishes_the_lease_mac(
    tmp_path: Path, socket_enabled: None
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    path = tmp_path / "dhcp.leases"
    path.write_bytes(DNSMASQ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "custom_components.totem.engine", "probe", "--netflow", str(port),
         "--bind", "127.0.0.1", "--interval", "0.5", "--leases", str(path)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        assert json.loads(proc.stdout.readline())["type"] == "hello"
        rows: dict[str, dict[str, object]] = {}
        deadline = time.monotonic() + 20
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            while time.monotonic() < deadline and "a4:cf:12:3b:4c:5d" not in rows:
                tx.sendto(_address_only_record("192.168.1.23"), ("127.0.0.1", port))
                msg = json.loads(proc.stdout.readline())
                if msg["type"] == "snapshot":
                    rows = {d["mac"]: d for d in msg["snapshot"]["devices"]}
        row = rows["a4:cf:12:3b:4c:5d"]
        assert row["name"] == "living-room-plug"
        assert row["ips"] == ["192.168.1.23"]
    finally:
        proc.terminate()
        proc.wait(10)
