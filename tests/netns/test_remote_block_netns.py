"""A remote probe blocks on its own machine: real probe, real Mosquitto, real nftables.

The bridged home of ``test_block_netns`` (device --- br0 in the middle --- router); the
middle namespace is the remote machine: Mosquitto on its loopback, the probe there with
``--mqtt ... --enforce``, and Home Assistant's side (a signed command, then its ack) from
``tests/netns/mqtt_signer.py`` inside it too. Nothing leaves the namespaces.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, shared_pcap
from tests.mqtt.conftest import ACCOUNTS, ACL, MOSQUITTO, PASSWD
from tests.netns.test_block_netns import (  # noqa: F401 (fixtures)
    IP,
    Home,
    bridged_home,
    namespaces,
    pings,
    pings_soon,
)

pytestmark = pytest.mark.netns

PORT = 18830  # the middle namespace's own loopback: no clash with the host's
SECRET = "4c" * 32


@pytest.fixture
def remote_machine(bridged_home: Home, tmp_path: Path) -> Iterator[Home]:  # noqa: F811
    if MOSQUITTO is None or PASSWD is None:
        pytest.skip("mosquitto is not installed (scripts/setup installs it)")
    home = bridged_home
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user, password in ACCOUNTS.items():
        subprocess.run([PASSWD, "-b", str(passwd), user, password], check=True)
    (tmp_path / "acl").write_text(ACL)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {PORT} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
        f"acl_file {tmp_path / 'acl'}\npersistence false\nuser root\n"
    )
    (tmp_path / "garden.secret").write_text(SECRET + "\n")
    in_ns = [IP, "netns", "exec", home.middle]
    broker = subprocess.Popen([*in_ns, MOSQUITTO, "-c", str(conf)], stderr=subprocess.PIPE)
    time.sleep(0.5)
    capture = shared_pcap("iot_tplink_hs100_plug_setup.pcap")
    probe = subprocess.Popen(
        [*in_ns, sys.executable, "-m", "custom_components.totem.engine", "probe",
         "--replay", str(capture), "--loop", "--interval", "2",
         "--mqtt", f"mqtt://garden:{ACCOUNTS['garden']}@127.0.0.1:{PORT}", "--name", "garden",
         "--secret-file", str(tmp_path / "garden.secret"), "--enforce"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield home
    finally:
        for proc in (probe, broker):
            proc.terminate()
            proc.wait(20)


def signed(home: Home, tmp_path: Path, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [IP, "netns", "exec", home.middle, sys.executable, "-m", "tests.netns.mqtt_signer",
         str(PORT), "garden", str(tmp_path / "garden.secret"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    ack: dict[str, object] = json.loads(done.stdout)
    return ack


def test_a_signed_block_cuts_the_device_off_on_the_probes_machine(
    remote_machine: Home, tmp_path: Path
) -> None:
    home = remote_machine
    assert pings_soon(home.device, home.target)
    saved = str(tmp_path / "block.json")
    block = json.dumps({"cmd": "block", "id": 1, "mac": home.device_mac})
    ack = signed(home, tmp_path, "--cmd", block, "--save", saved)
    assert ack["ok"] is True, ack
    assert not pings(home.device, home.target)
    listed = signed(home, tmp_path, "--cmd", '{"cmd": "blocks", "id": 2}')
    assert [b["mac"] for b in listed["data"]["blocks"]] == [home.device_mac]  # type: ignore[index]
    assert listed["data"]["blocks"][0]["backend"] == "nftables-bridge"  # type: ignore[index]

    # The router is the probe's machine's gateway: refused there.
    assert pings_soon(home.middle, home.target)
    refused = signed(home, tmp_path, "--cmd", json.dumps({"cmd": "block", "id": 3,
                                                          "mac": home.router_mac}))  # fmt: skip
    assert (refused["ok"], refused["error"]) == (False, "gateway")

    ack = signed(home, tmp_path, "--cmd", json.dumps({"cmd": "unblock", "id": 4,
                                                      "mac": home.device_mac}))  # fmt: skip
    assert ack["ok"] is True, ack
    assert pings_soon(home.device, home.target)

    # The first block's signed bytes again: a replay, refused; the device stays reachable.
    replayed = signed(home, tmp_path, "--replay", saved)
    assert (replayed["ok"], replayed["error"]) == (False, "replayed")
    assert pings(home.device, home.target)
    nothing = {"blocks": [], "quarantined": []}
    assert signed(home, tmp_path, "--cmd", '{"cmd": "blocks", "id": 5}')["data"] == nothing

    # The read-back lists the quarantines from the real table too (Home Assistant puts
    # a forgotten one back at the next snapshot).
    held = signed(home, tmp_path, "--cmd", json.dumps({"cmd": "quarantine", "id": 6,
                                                       "mac": home.device_mac}))  # fmt: skip
    assert held["ok"] is True, held
    listed = signed(home, tmp_path, "--cmd", '{"cmd": "blocks", "id": 7}')
    assert listed["data"] == {"blocks": [], "quarantined": [home.device_mac]}
    released = signed(home, tmp_path, "--cmd", json.dumps({"cmd": "release", "id": 8,
                                                           "mac": home.device_mac}))  # fmt: skip
    assert released["ok"] is True, released
    assert signed(home, tmp_path, "--cmd", '{"cmd": "blocks", "id": 9}')["data"] == nothing
