"""The live source on loopback: what a frame looks like, errors, the ``capture`` CLI."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time

import pytest

from custom_components.totem.engine.capture import (
    ERROR_CODES,
    CaptureError,
    LiveCapture,
    open_live,
    permission_fix,
)
from custom_components.totem.engine.sources import Packet
from tests.conftest import ROOT, require_root, require_tool
from tests.engine.helpers import run_cli

HANG_GUARD = 30.0  # seconds; stops a broken test from hanging, never asserted on


def _frames_with(cap: LiveCapture, marker: bytes, want: int = 1) -> list[Packet]:
    """Read until ``want`` frames carrying ``marker`` arrived, then drain the queue."""
    found: list[Packet] = []
    give_up = time.monotonic() + HANG_GUARD
    while len(found) < want and time.monotonic() < give_up:
        select.select([cap.fileno()], [], [], 1.0)
        found += [p for p in cap.read_batch() if marker in p[2]]
    found += [p for p in cap.read_batch() if marker in p[2]]  # any duplicate is queued by now
    return found


def _send_udp(payload: bytes) -> int:
    """One datagram over lo to a bound socket (no ICMP error quoting it); its frame length."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        receiver.bind(("127.0.0.1", 0))
        sender.sendto(payload, receiver.getsockname())
    return 14 + 20 + 8 + len(payload)


@pytest.fixture
def loopback(socket_enabled: None) -> LiveCapture:
    require_root("capturing on lo (CAP_NET_RAW)")
    return open_live("lo")


def test_loopback_frame_is_seen_once_with_its_wire_length(loopback: LiveCapture) -> None:
    marker = os.urandom(16).hex().encode()
    with loopback:
        wirelen = _send_udp(b"x" * 64 + marker)
        frames = _frames_with(loopback, marker)
    assert len(frames) == 1  # lo hands every frame out twice; one is dropped
    ts, length, data, linktype = frames[0]
    assert (length, len(data), linktype) == (wirelen, wirelen, 1)
    assert abs(ts - time.time()) < 3600  # a kernel timestamp in seconds, not ns or zero


def test_snap_length_cuts_data_but_not_wire_length(socket_enabled: None) -> None:
    require_root("capturing on lo (CAP_NET_RAW)")
    marker = os.urandom(8).hex().encode()
    # The marker must sit inside the 64 captured bytes to be recognised.
    payload = marker + b"y" * 1000
    with open_live("lo", snaplen=64) as cap:
        wirelen = _send_udp(payload)
        # Frames are cut before the marker check can see them: match the prefix.
        found: list[Packet] = []
        give_up = time.monotonic() + HANG_GUARD
        while not found and time.monotonic() < give_up:
            select.select([cap.fileno()], [], [], 1.0)
            found = [p for p in cap.read_batch() if marker in p[2]]
    assert len(found) == 1
    _ts, length, data, _lt = found[0]
    assert len(data) == 64
    assert length == wirelen == 1058


def test_kernel_stats_accumulate(loopback: LiveCapture) -> None:
    with loopback:
        marker = os.urandom(8).hex().encode()
        for _ in range(3):
            _send_udp(marker)
        got = _frames_with(loopback, marker, want=3)
        received, dropped = loopback.kernel_stats()
        again_received, again_dropped = loopback.kernel_stats()
    assert len(got) == 3
    assert received >= 3
    # The kernel zeroes its counters on each read; ours must not go backwards.
    assert again_received >= received
    assert again_dropped >= dropped


def test_own_mac_and_nonblocking_read(loopback: LiveCapture) -> None:
    with loopback:
        assert loopback.own_mac == b"\x00" * 6  # lo's hardware address
        # Non-blocking: returns at once, with whatever lo carried meanwhile.
        assert isinstance(loopback.read_batch(1), list)
        assert len(loopback.read_batch(1)) <= 1


def test_unknown_interface(socket_enabled: None) -> None:
    require_root("opening a packet socket")
    with pytest.raises(CaptureError) as caught:
        open_live("totem-nope0")
    assert caught.value.code == "interface_not_found"
    assert "'totem-nope0'" in caught.value.message
    assert "lo" in caught.value.message  # lists what exists
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["", "a" * 16, "eth0/1", " eth0"])
def test_invalid_interface_names(name: str) -> None:
    with pytest.raises(CaptureError) as caught:
        open_live(name)
    assert caught.value.code == "interface_not_found"


def test_bad_filter_without_libpcap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOTEM_NO_LIBPCAP", "1")
    with pytest.raises(CaptureError) as caught:
        open_live("lo", bpf="tcp port 1883")
    assert caught.value.code == "bad_filter"
    assert "only the built-in filters (all, ip, discovery)" in caught.value.message


def test_builtin_filter_without_libpcap_opens(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> None:
    require_root("capturing on lo (CAP_NET_RAW)")
    monkeypatch.setenv("TOTEM_NO_LIBPCAP", "1")
    with open_live("lo", bpf="ip") as cap:
        assert cap.program.name == "ip"


def test_error_codes_are_the_documented_ones() -> None:
    assert set(ERROR_CODES) == {
        "interface_not_found",
        "permission_denied",
        "interface_down",
        "bad_filter",
        "internal",
    }
    err = CaptureError("interface_down", "interface br0 went down")
    assert str(err) == "interface_down: interface br0 went down"


def test_missing_cap_net_raw_says_the_fix() -> None:
    require_root("dropping capabilities")
    setpriv = require_tool("setpriv")
    code = (
        "from custom_components.totem.engine.capture import CaptureError, open_live\n"
        "try:\n    open_live('lo')\n"
        "except CaptureError as e:\n    print(e.code)\n    print(e.message)\n"
    )
    done = subprocess.run(
        # Still uid 0 (the venv stays readable) but with no capability at all.
        [setpriv, "--inh-caps=-all", "--bounding-set=-all", sys.executable, "-c", code],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[:1] == ["permission_denied"], done.stderr
    assert "setcap cap_net_raw,cap_net_admin=eip" in lines[1]
    assert permission_fix().split()[-1] == os.path.realpath(sys.executable)


# -- the CLI -------------------------------------------------------------------------


def test_cli_unknown_interface_is_one_line_exit_2() -> None:
    done = run_cli("capture", "--iface", "totem-nope0", "--duration", "1")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: interface_not_found:")
    assert done.stdout == ""


@pytest.mark.parametrize("duration", ["0", "-1", "soon", "nan"])
def test_cli_bad_duration_exit_2(duration: str) -> None:
    done = run_cli("capture", "--iface", "lo", "--duration", duration)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_cli_capture_on_loopback_prints_the_analyze_document(socket_enabled: None) -> None:
    require_root("capturing on lo (CAP_NET_RAW)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "custom_components.totem.engine", "capture", "--iface", "lo",
         "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    ready = proc.stderr.readline()
    assert ready.startswith("capturing on lo (filter all, snaplen 1518")
    marker = os.urandom(8).hex().encode()
    for _ in range(5):
        _send_udp(marker)
    proc.terminate()  # SIGTERM ends the capture cleanly, with the document
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert set(doc) == {"packets", "bytes", "first_time", "last_time", "devices", "alerts"}
    assert doc["packets"] >= 5
    assert doc["bytes"] >= 5 * (14 + 20 + 8 + len(marker))
    # lo frames carry 00:00:00:00:00:00 both ways: counted (as tshark counts them), but
    # that row names no station (its "station" flag, in the probe's full rows, says so).
    null = [d for d in doc["devices"] if d["mac"] == "00:00:00:00:00:00"]
    assert len(null) == 1
    assert null[0]["tx_packets"] == null[0]["rx_packets"] >= 5
    assert null[0]["manufacturer"] is None
    assert null[0]["type"] == "unknown"
    assert "dropped" in err


@pytest.mark.parametrize("ring", ["1", "0"], ids=["ring", "recvmsg"])
def test_small_batches_return_every_frame_in_order(
    ring: str, monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> None:
    """``max_packets`` splits a ring block across calls without losing or reordering."""
    require_root("capturing on lo (CAP_NET_RAW)")
    monkeypatch.setenv("TOTEM_CAPTURE_RING", ring)
    marker = os.urandom(8).hex().encode()
    with open_live("lo") as cap:
        assert cap.method == ("TPACKET_V3 ring" if ring == "1" else "recvmsg")
        for i in range(6):
            _send_udp(marker + b"#%d" % i)
        seen: list[bytes] = []
        give_up = time.monotonic() + HANG_GUARD
        while len(seen) < 6 and time.monotonic() < give_up:
            select.select([cap.fileno()], [], [], 1.0)
            batch = cap.read_batch(1)
            assert len(batch) <= 1
            seen += [p[2][p[2].index(marker) :] for p in batch if marker in p[2]]
    assert seen == [marker + b"#%d" % i for i in range(6)]


def test_capture_path_imports_neither_scapy_nor_home_assistant() -> None:
    """scapy's import is slow with side effects; the probe must stay plain Python."""
    code = (
        "import logging, sys\n"
        "import custom_components.totem.engine.cli_capture\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scapy', 'homeassistant'}))\n"
        "print(logging.getLogger('scapy.runtime').getEffectiveLevel())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    imported, level = done.stdout.splitlines()
    assert imported == "[]", done.stderr
    # Whoever imports scapy later (the dissectors) inherits a quiet logger.
    assert int(level) >= 40
