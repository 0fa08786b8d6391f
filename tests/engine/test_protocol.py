"""The probe protocol: every command and message round-trips; bad input is refused with a code."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from custom_components.totem.engine import messages as m
from custom_components.totem.engine import protocol as p
from custom_components.totem.engine import remote_enforce as enforce_cmds
from custom_components.totem.engine.model import Alert, DeviceRow, EngineStats, Snapshot
from tests.conftest import any_pcap
from tests.engine.helpers import ROOT

MAC = "cc:50:e3:68:66:4a"

COMMANDS: list[p.Command] = [
    p.RequestSnapshot(id=1),
    p.ResetBaseline(id=2, mac=MAC),
    p.ResetBaseline(),
    p.Snooze(id=3, mac=MAC, kind="host_scan", seconds=3600.0),
    p.Snooze(mac=MAC, until=1_700_000_000.0),
    p.Unsnooze(mac=MAC, kind="port_scan"),
    p.SetThresholds(mac=MAC, values={"host_scan_hosts": 40.0}),
    p.SetThresholds(mac=MAC, values=None),
    p.SetThresholds(values={"cooldown": 60.0}),
    p.SetPolicy(type="camera", allow=("SSH",), deny=("Telnet",)),
    p.LoadBlocklist(path="/config/blocklist.txt"),
    p.LoadBlocklist(),
    p.Discovery(ip="192.168.1.10", service_type="_hap._tcp.local.", model="Hue"),
    p.SetDeviceType(mac="aa:bb:cc:dd:ee:ff", type="camera"),
    p.SetDeviceType(mac="aa:bb:cc:dd:ee:ff"),
    enforce_cmds.BlockDevice(id=9, mac=MAC, seconds=600.0, ips=("192.168.1.5",)),
    enforce_cmds.BlockDevice(mac=MAC),
    enforce_cmds.UnblockDevice(mac=MAC),
    enforce_cmds.ListBlocks(id=10),
    enforce_cmds.QuarantineDevice(mac=MAC),
    enforce_cmds.ReleaseDevice(mac=MAC),
    p.AllowDhcpServers(servers=("192.168.1.2", MAC)),
    p.AllowDhcpServers(),
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: f"{c.name}-{c.id}")
def test_every_command_round_trips_through_json(cmd: p.Command) -> None:
    assert p.parse_command_line(cmd.to_line()) == cmd


def test_every_registered_command_has_a_round_trip_case() -> None:
    assert {c.name for c in COMMANDS} == set(p.COMMANDS)


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        ({"cmd": "frobnicate"}, "unknown_command"),
        ({"nocmd": 1}, "malformed_command"),
        ([1, 2], "malformed_command"),
        ({"cmd": "snooze", "mac": MAC}, "malformed_command"),  # neither seconds nor until
        ({"cmd": "snooze", "mac": MAC, "seconds": 10, "until": 5}, "malformed_command"),
        ({"cmd": "snooze", "mac": "not a mac", "seconds": 10}, "invalid_mac"),
        ({"cmd": "snooze", "mac": "ff:ff:ff:ff:ff:ff", "seconds": 10}, "invalid_mac"),
        ({"cmd": "snooze", "mac": "00:00:00:00:00:00", "seconds": 10}, "invalid_mac"),
        ({"cmd": "snooze", "mac": MAC, "seconds": -1}, "malformed_command"),
        ({"cmd": "snooze", "mac": MAC, "seconds": 1e30}, "malformed_command"),
        ({"cmd": "snooze", "mac": MAC, "seconds": True}, "malformed_command"),
        ({"cmd": "snooze", "mac": MAC, "kind": "no_such_kind", "seconds": 5}, "malformed_command"),
        ({"cmd": "thresholds", "values": {"cooldown": "x"}}, "malformed_command"),
        ({"cmd": "thresholds", "values": {"cooldown": -1}}, "malformed_command"),
        ({"cmd": "thresholds", "values": None}, "malformed_command"),
        ({"cmd": "thresholds", "values": [1]}, "malformed_command"),
        ({"cmd": "policy", "type": "toaster"}, "malformed_command"),
        ({"cmd": "policy", "type": "camera", "allow": "SSH"}, "malformed_command"),
        ({"cmd": "blocklist", "path": "x" * 5000}, "malformed_command"),
        ({"cmd": "discovery"}, "malformed_command"),
        ({"cmd": "reset_baseline", "mac": 42}, "malformed_command"),
        ({"cmd": "dhcp_servers", "servers": "aa:bb:cc:dd:ee:ff"}, "malformed_command"),
        ({"cmd": "dhcp_servers", "servers": [MAC] * 65}, "malformed_command"),
        ({"cmd": "dhcp_servers", "servers": [42]}, "malformed_command"),
        ({"cmd": "dhcp_servers", "servers": ["pi-hole"]}, "invalid_value"),
        ({"cmd": "dhcp_servers", "servers": ["ff:ff:ff:ff:ff:ff"]}, "invalid_value"),
    ],
)
def test_malformed_commands_are_refused_with_a_code(obj: object, code: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse_command(obj)
    assert err.value.code == code
    assert "\n" not in err.value.message


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_never_pass(value: float) -> None:
    # json.dumps writes Infinity/NaN, which json.loads reads back: the protocol refuses them.
    line = json.dumps({"cmd": "thresholds", "values": {"cooldown": value}})
    with pytest.raises(p.ProtocolError, match="finite"):
        p.parse_command_line(line)


def test_lines_too_long_or_too_deep_are_refused() -> None:
    with pytest.raises(p.ProtocolError, match="longer than"):
        p.decode_line("{" + " " * p.MAX_COMMAND_LINE + "}")
    with pytest.raises(p.ProtocolError, match="nested too deeply"):
        p.decode_line("[" * 30_000 + "]" * 30_000)
    with pytest.raises(p.ProtocolError, match="not JSON"):
        p.decode_line("{nope")
    # A big snapshot line is fine with its reader's own bound.
    assert p.decode_line("[" + "1," * 50_000 + "1]", limit=1 << 20)[0] == 1
    brackets = "[" * 40  # inside a string they are text, not nesting
    assert p.decode_line(json.dumps({"cmd": brackets})) == {"cmd": brackets}
    assert p.decode_line("[" * 17 + "]" * 17, max_depth=None)[0][0][0][0] == [
        [[[[[[[[[[[[]]]]]]]]]]]]
    ]


def test_the_id_is_echoed_only_when_usable() -> None:
    assert p.command_id({"cmd": "snapshot", "id": 7}) == 7
    assert p.command_id({"cmd": "snapshot", "id": True}) is None
    assert p.command_id({"cmd": "snapshot", "id": -1}) is None
    assert p.command_id({"cmd": "snapshot", "id": "7"}) is None


SNAP = Snapshot(10, 1000, 1.0, 2.0, [DeviceRow(mac=MAC, tx_packets=10)], [])
ALERT = Alert(2.0, MAC, "port_scan", "warning", "scan", 3, {"ports": 20})
MESSAGES: list[m.Message] = [
    m.Hello(source="replay:x.pcap", pid=42),
    m.Status(state="running", wall_time=5.0, learn_end=100.0),
    m.SnapshotMessage(seq=1, wall_time=5.0, snapshot=SNAP),
    m.SnapshotMessage(seq=2, wall_time=6.0, snapshot=SNAP, final=True),
    m.AlertMessage(alert=ALERT),
    m.AlertMessage(alert=ALERT, update=True),
    m.Heartbeat(wall_time=5.0, stats=EngineStats(kernel_dropped=3)),
    m.Ack(cmd="snooze", id=3, ok=False, error="invalid_mac", message="bad"),
    m.Ack(cmd="snapshot", id=None),
    m.WarningMessage(code="state_not_saved", message="disk full"),
    m.ErrorMessage(code="bad_file", message="x.pcap: not a capture"),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda msg: msg.type)
def test_every_message_round_trips_through_json(msg: m.Message) -> None:
    assert m.parse_message(json.loads(msg.to_line())) == msg


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "hello", "version": "2"},
        {"type": "status", "state": "sleepy"},
        {"type": "alert", "alert": "port_scan"},
        {"type": "heartbeat", "wall_time": 1.0, "stats": ["x"]},
        {"type": "mystery"},
        {"no": "type"},
    ],
)
def test_malformed_messages_are_refused(obj: object) -> None:
    with pytest.raises(p.ProtocolError):
        m.parse_message(obj)


def test_another_protocol_version_is_refused() -> None:
    m.check_version(m.Hello())
    with pytest.raises(p.ProtocolError) as err:
        m.check_version(m.Hello(version=p.PROTOCOL_VERSION + 1))
    assert err.value.code == "version_mismatch"


def test_the_probe_answers_every_line_and_survives_hostile_ones() -> None:
    """Unknown, malformed, deep, huge and valid commands on stdin: one ack each, in order."""
    lines = [
        json.dumps({"cmd": "frobnicate", "id": 1}),
        "this is not JSON",
        "[" * 30_000,  # deeper than the parser allows, shorter than the line limit
        json.dumps({"cmd": "thresholds", "id": 2, "values": {"cooldown": math.inf}}),
        "x" * (p.MAX_COMMAND_LINE + 10),
        json.dumps({"cmd": "thresholds", "id": 3, "values": {"no_such_threshold": 1}}),
        json.dumps({"cmd": "thresholds", "id": 4, "values": {"cooldown": 60}}),
        json.dumps({"cmd": "snapshot", "id": 5}),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "custom_components.totem.engine", "probe", "--replay",
         str(any_pcap("attack_syn_flood_synthetic.pcap")), "--speed", "1", "--loop",
         "--interval", "3600"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write("\n".join(lines) + "\n")
    proc.stdin.flush()
    acks: list[dict] = []
    try:
        while len(acks) < len(lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            msg = json.loads(line)
            if msg["type"] == "ack":
                acks.append(msg)
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert [(a.get("id"), a["ok"], a.get("error")) for a in acks] == [
        (1, False, "unknown_command"),
        (None, False, "malformed_command"),
        (None, False, "malformed_command"),
        (2, False, "malformed_command"),
        (None, False, "malformed_command"),
        (3, False, "invalid_value"),
        (4, True, None),
        (5, True, None),
    ]
    assert proc.returncode == 0


def test_dhcp_servers_are_normalised_and_an_address_is_never_read_as_a_mac() -> None:
    assert p.dhcp_server_entry(" CC-50-E3-68-66-4A ") == MAC
    # Twelve digits once the dots go: still an address, not a MAC.
    assert p.dhcp_server_entry("192.168.100.200") == "192.168.100.200"
    assert p.dhcp_server_entry("fd00::0:53") == "fd00::53"
    with pytest.raises(ValueError, match="neither a MAC address nor an IP address"):
        p.dhcp_server_entry("192.168.1")
