"""Live capture end to end: two network namespaces joined by a veth pair.

``capture`` runs on one end (inside its namespace), ``tcpreplay`` plays a real
capture into the other end, and the per-MAC counters must equal what tshark
reports for the replayed file. Nothing leaves the namespaces the test creates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, any_pcap, require_root, require_tool
from tests.engine.tshark_endpoints import tshark_endpoints

pytestmark = pytest.mark.netns

READY_MARK = "capturing on"
HANG_GUARD = 120.0  # seconds; only stops a hung subprocess, never part of an assertion


@dataclass
class VethPair:
    sender_ns: str
    sender: str
    capture_ns: str
    capture: str

    def run(self, ns: str, *cmd: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", ns, *cmd],
            capture_output=True,
            text=True,
            timeout=HANG_GUARD,
            check=False,
            **kwargs,
        )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def veth() -> Iterator[VethPair]:
    require_root("live capture on a veth pair")
    require_tool("ip")
    tag = f"{os.getpid() % 100000}"
    pair = VethPair(f"totem-tx-{tag}", f"ttx{tag}", f"totem-cap-{tag}", f"tcap{tag}")
    try:
        for ns in (pair.sender_ns, pair.capture_ns):
            _ip("netns", "add", ns)
            # No IPv6 autoconfiguration: the namespaces themselves must stay silent,
            # so every frame on the wire comes from the replayed file.
            for key in ("all", "default"):
                subprocess.run(
                    ["ip", "netns", "exec", ns, "sysctl", "-qw",
                     f"net.ipv6.conf.{key}.disable_ipv6=1"],
                    check=True, capture_output=True, timeout=30,
                )  # fmt: skip
        _ip("link", "add", pair.sender, "type", "veth", "peer", "name", pair.capture)
        _ip("link", "set", pair.sender, "netns", pair.sender_ns)
        _ip("link", "set", pair.capture, "netns", pair.capture_ns)
        for ns, dev in ((pair.sender_ns, pair.sender), (pair.capture_ns, pair.capture)):
            # Room for the TSO-sized frames some captures hold (printer_ipp_print_job).
            _ip("-n", ns, "link", "set", dev, "mtu", "9000", "up")
        yield pair
    finally:
        for ns in (pair.sender_ns, pair.capture_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


class CaptureRun:
    """``capture --json`` running in the capture namespace until stopped."""

    def __init__(self, pair: VethPair, *args: str, env: dict[str, str] | None = None) -> None:
        cmd = [
            "ip", "netns", "exec", pair.capture_ns,
            sys.executable, "-m", "custom_components.totem.engine",
            "capture", "--iface", pair.capture, "--json", *args,
        ]  # fmt: skip
        # Unbuffered bytes: reading the ready line must not swallow the lines after
        # it (communicate() reads the pipe itself, past any reader's buffer).
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        assert self.proc.stderr is not None
        first = b""
        while not first.endswith(b"\n"):  # blocks until the socket is bound
            byte = self.proc.stderr.read(1)
            if not byte:
                break
            first += byte
        self.ready = first.decode()
        if READY_MARK not in self.ready:
            self.proc.kill()
            _out, err = self.communicate()
            pytest.fail(f"capture did not start: {self.ready}{err}")

    def communicate(self) -> tuple[str, str]:
        out, err = self.proc.communicate(timeout=HANG_GUARD)
        return out.decode(), err.decode()

    def stop(self) -> tuple[dict[str, Any], str]:
        # Frames tcpreplay sent are queued on the socket by the time it exits; the
        # pause only lets the kernel's receive softirq finish the last ones.
        time.sleep(1.0)
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.communicate()
        assert self.proc.returncode == 0, err
        doc: dict[str, Any] = json.loads(out)
        return doc, err


def replay(pair: VethPair, pcap: Path, pps: int = 2000) -> int:
    """Play ``pcap`` out of the sender end; the number of frames tcpreplay sent."""
    tcpreplay = require_tool("tcpreplay")
    done = pair.run(pair.sender_ns, tcpreplay, "-i", pair.sender, f"--pps={pps}", str(pcap))
    assert done.returncode == 0, done.stderr
    stats = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and value.strip().isdigit():
            stats[key] = int(value)
    assert stats.get("Failed packets") == 0, done.stdout
    return stats["Successful packets"]


def device_counters(doc: dict[str, Any]) -> dict[str, list[int]]:
    return {
        d["mac"]: [d["tx_packets"], d["tx_bytes"], d["rx_packets"], d["rx_bytes"]]
        for d in doc["devices"]
    }


def frame_count(tshark: str, pcap: Path) -> int:
    out = subprocess.run(
        [tshark, "-n", "-r", str(pcap), "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, check=True, timeout=HANG_GUARD,
    ).stdout  # fmt: skip
    return len(out.split())


@pytest.mark.parametrize(
    ("name", "snaplen"),
    [
        ("home_iphone_dhcp_mdns_tls.pcap", None),  # DHCP, mDNS, TLS, EAPOL, ARP
        ("proto_mqtt_iot_device_ota.pcap", None),  # 802.1Q tag: stripped and put back
        ("iot_sonos_speaker.pcapng", None),  # pcapng input
        ("attack_nmap_arp_discovery_version_scan.pcap", None),  # 500 ARPs, tiny frames
        ("printer_ipp_print_job.pcap", None),  # 2962-byte frames cut to the snap length
        ("home_android_dhcp_opt60_tls.pcap", "96"),  # every frame truncated
        ("iot_philips_hue_bridge_setup.pcap", None),  # not vendored: ../shared/pcaps
    ],
)
def test_live_counters_equal_tshark_on_replayed_file(
    veth: VethPair, name: str, snaplen: str | None
) -> None:
    tshark = require_tool("tshark")
    pcap = any_pcap(name)
    run = CaptureRun(veth, *(["--snaplen", snaplen] if snaplen else []))
    assert "TPACKET_V3 ring" in run.ready
    sent = replay(veth, pcap)
    doc, err = run.stop()

    assert sent == frame_count(tshark, pcap)
    assert doc["packets"] == sent, err
    assert device_counters(doc) == tshark_endpoints(tshark, pcap)
    assert f"kernel: {sent} frames received, 0 dropped" in err


@pytest.mark.parametrize(
    ("name", "snaplen"),
    [
        ("proto_mqtt_iot_device_ota.pcap", None),
        ("printer_ipp_print_job.pcap", None),
        ("home_android_dhcp_opt60_tls.pcap", "96"),
    ],
)
def test_socket_fallback_counters_equal_tshark(
    veth: VethPair, name: str, snaplen: str | None
) -> None:
    """Without the TPACKET_V3 ring (old kernels), per-frame recvmsg gives the same counts."""
    tshark = require_tool("tshark")
    pcap = any_pcap(name)
    args = ["--snaplen", snaplen] if snaplen else []
    run = CaptureRun(veth, *args, env={"TOTEM_CAPTURE_RING": "0"})
    assert "recvmsg" in run.ready
    sent = replay(veth, pcap)
    doc, err = run.stop()
    assert doc["packets"] == sent, err
    assert device_counters(doc) == tshark_endpoints(tshark, pcap)


def test_builtin_filter_works_without_libpcap(veth: VethPair) -> None:
    """TOTEM_NO_LIBPCAP=1 is Home Assistant's image: the shipped program still filters."""
    tshark = require_tool("tshark")
    tcpdump = require_tool("tcpdump")
    pcap = any_pcap("home_iphone_dhcp_mdns_tls.pcap")
    run = CaptureRun(veth, "--bpf", "discovery", env={"TOTEM_NO_LIBPCAP": "1"})
    sent = replay(veth, pcap)
    doc, _err = run.stop()

    # The reference: the same expression applied to the file by libpcap (tcpdump).
    from custom_components.totem.engine.bpf import BUILTIN_FILTERS

    expected_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"totem-discovery-{os.getpid()}.pcap"
    try:
        subprocess.run(
            [tcpdump, "-r", str(pcap), "-w", str(expected_file),
             BUILTIN_FILTERS["discovery"].expression],
            check=True, capture_output=True, timeout=HANG_GUARD,
        )  # fmt: skip
        kept = frame_count(tshark, expected_file)
        assert 0 < kept < sent  # the filter must keep some frames and drop others
        assert doc["packets"] == kept
        assert device_counters(doc) == tshark_endpoints(tshark, expected_file)
    finally:
        expected_file.unlink(missing_ok=True)


def test_user_expression_needs_libpcap(veth: VethPair) -> None:
    cmd = [
        "ip", "netns", "exec", veth.capture_ns, sys.executable, "-m",
        "custom_components.totem.engine", "capture", "--iface", veth.capture,
        "--duration", "1", "--bpf", "udp port 5353",
    ]  # fmt: skip
    without = subprocess.run(
        cmd, cwd=ROOT, env={**os.environ, "TOTEM_NO_LIBPCAP": "1"},
        capture_output=True, text=True, timeout=HANG_GUARD, check=False,
    )  # fmt: skip
    assert without.returncode == 2
    assert without.stderr.count("\n") == 1
    assert "bad_filter: libpcap is not installed" in without.stderr
    assert "all, ip, discovery" in without.stderr


def test_user_expression_compiled_by_libpcap_filters(veth: VethPair) -> None:
    from custom_components.totem.engine.bpf import load_libpcap

    if load_libpcap() is None:
        pytest.skip("libpcap is not installed here (the built-in filters are tested above)")
    tshark = require_tool("tshark")
    tcpdump = require_tool("tcpdump")
    pcap = any_pcap("home_iphone_dhcp_mdns_tls.pcap")
    expression = "tcp port 443"
    run = CaptureRun(veth, "--bpf", expression)
    sent = replay(veth, pcap)
    doc, _err = run.stop()
    expected_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"totem-user-{os.getpid()}.pcap"
    try:
        subprocess.run(
            [tcpdump, "-r", str(pcap), "-w", str(expected_file), expression],
            check=True, capture_output=True, timeout=HANG_GUARD,
        )  # fmt: skip
        kept = frame_count(tshark, expected_file)
        assert 0 < kept < sent
        assert doc["packets"] == kept
        assert device_counters(doc) == tshark_endpoints(tshark, expected_file)
    finally:
        expected_file.unlink(missing_ok=True)


def test_own_traffic_counted_once(veth: VethPair) -> None:
    """Frames the capturing host sends itself (PACKET_OUTGOING) count once, as tx."""
    run = CaptureRun(veth)
    veth.run(veth.capture_ns, "ip", "addr", "add", "10.77.0.2/24", "dev", veth.capture)
    veth.run(veth.sender_ns, "ip", "addr", "add", "10.77.0.1/24", "dev", veth.sender)
    pinged = veth.run(veth.sender_ns, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.77.0.2")
    assert pinged.returncode == 0, pinged.stdout + pinged.stderr
    doc, _err = run.stop()

    def sysfs(ns: str, dev: str, name: str) -> str:
        return veth.run(ns, "cat", f"/sys/class/net/{dev}/{name}").stdout.strip()

    own_mac = sysfs(veth.capture_ns, veth.capture, "address")
    peer_mac = sysfs(veth.sender_ns, veth.sender, "address")
    # The other end's interface counters are the truth: every frame the capturing
    # host sent arrived there, every frame the other end sent was captured.
    host_sent = int(sysfs(veth.sender_ns, veth.sender, "statistics/rx_packets"))
    peer_sent = int(sysfs(veth.sender_ns, veth.sender, "statistics/tx_packets"))
    counters = device_counters(doc)
    assert host_sent >= 4  # an ARP reply and three echo replies at least
    assert counters[own_mac][0] == host_sent
    assert counters[peer_mac][0] == peer_sent
    assert doc["packets"] == host_sent + peer_sent


def _capture_script(pair: VethPair, body: str, ring: str = "1") -> subprocess.CompletedProcess[str]:
    code = "from custom_components.totem.engine.capture import CaptureError, open_live\n" + body
    env = {**os.environ, "TOTEM_CAPTURE_RING": ring}
    return pair.run(pair.capture_ns, sys.executable, "-c", code, cwd=ROOT, env=env)


def test_interface_down_at_open(veth: VethPair) -> None:
    _ip("-n", veth.capture_ns, "link", "set", veth.capture, "down")
    done = _capture_script(
        veth,
        f"try:\n    open_live({veth.capture!r})\nexcept CaptureError as e:\n    print(e.code)\n",
    )
    assert done.stdout.strip() == "interface_down", done.stderr


@pytest.mark.parametrize("ring", ["1", "0"], ids=["ring", "recvmsg"])
@pytest.mark.parametrize(
    ("action", "code"),
    [(("down",), "interface_down"), (("del",), "interface_not_found")],
    ids=["down", "deleted"],
)
def test_losing_the_interface_is_reported(
    veth: VethPair, ring: str, action: tuple[str, ...], code: str
) -> None:
    """The poll wakes up and read_batch says why, so the probe can exit and be restarted."""
    change = (
        f'["ip", "link", "set", {veth.capture!r}, "down"]'
        if action == ("down",)
        else f'["ip", "link", "del", {veth.capture!r}]'
    )
    body = f"""
import subprocess, select
cap = open_live({veth.capture!r})
print(cap.method)
subprocess.run({change}, check=True)
select.select([cap.fileno()], [], [], {HANG_GUARD})
try:
    cap.read_batch()
    print("no error")
except CaptureError as e:
    print(e.code)
"""
    done = _capture_script(veth, body, ring)
    method, result = done.stdout.split("\n")[:2]
    assert method == ("TPACKET_V3 ring" if ring == "1" else "recvmsg")
    assert result == code, done.stderr


def test_promiscuous_mode_lasts_as_long_as_the_capture(veth: VethPair) -> None:
    """A bridge (br0) passes other hosts' frames up only while it is promiscuous."""
    flags = f"/sys/class/net/{veth.capture}/flags"
    body = f"""
from pathlib import Path
flags = lambda: int(Path({flags!r}).read_text(), 16) & 0x100
before = flags()
cap = open_live({veth.capture!r}, promisc=True)
during = flags()
cap.close()
print(before, during, flags())
"""
    done = _capture_script(veth, body)
    assert done.stdout.split() == ["0", "256", "0"], done.stderr


def test_merging_offloads_are_detected(veth: VethPair) -> None:
    """GRO/TSO hand the capture merged frames; ``capture`` warns with the exact fix."""
    ethtool = require_tool("ethtool")
    for setting in (("gro", "on", "tso", "off"), ("gro", "off", "tso", "on")):
        changed = veth.run(veth.capture_ns, ethtool, "-K", veth.capture, *setting)
        assert changed.returncode == 0, changed.stderr
        done = _capture_script(
            veth, f"print(','.join(open_live({veth.capture!r}).merging_offloads()))"
        )
        expected = [name for name, state in zip(setting[::2], setting[1::2], strict=True)
                    if state == "on"]  # fmt: skip
        assert done.stdout.strip().split(",") == expected, done.stderr
    run = CaptureRun(veth)
    run.proc.send_signal(signal.SIGTERM)
    _out, err = run.communicate()
    assert f"ethtool -K {veth.capture} tso off" in err


def test_probe_on_live_interface_counts_like_tshark(veth: VethPair) -> None:
    """The long-running probe reads the same source: its final summary matches tshark."""
    tshark = require_tool("tshark")
    pcap = any_pcap("home_iphone_dhcp_mdns_tls.pcap")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", veth.capture_ns, sys.executable, "-m",
         "custom_components.totem.engine", "probe", "--iface", veth.capture,
         "--interval", "0.5"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    messages: list[dict[str, Any]] = []
    # The first snapshot comes one interval after the interface was opened.
    for line in proc.stdout:
        messages.append(json.loads(line))
        if messages[-1]["type"] in ("snapshot", "error"):
            break
    assert messages[-1]["type"] == "snapshot", messages
    sent = replay(veth, pcap)
    time.sleep(1.0)  # as CaptureRun.stop: the last frames reach the ring
    proc.send_signal(signal.SIGTERM)
    # Keep reading through the same buffered reader (communicate() would skip what
    # it already buffered); the few snapshots sent meanwhile fit in the pipe.
    messages += [json.loads(line) for line in proc.stdout]
    proc.wait(timeout=HANG_GUARD)
    assert proc.stderr is not None
    err = proc.stderr.read()
    summary = [m for m in messages if m["type"] == "summary"]
    assert summary, err
    doc = summary[-1]["snapshot"]
    assert doc["packets"] == sent
    assert device_counters(doc) == tshark_endpoints(tshark, pcap)
    heartbeats = [m for m in messages if m["type"] == "heartbeat"]
    assert heartbeats
    assert heartbeats[-1]["stats"]["kernel_dropped"] == 0
    assert heartbeats[-1]["stats"]["kernel_received"] == sent
