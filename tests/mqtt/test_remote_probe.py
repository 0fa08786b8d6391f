"""Remote probes through a real Mosquitto: publishing, commands, credentials, restarts."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from custom_components.totem.engine.mqtt_link import sign
from tests.conftest import shared_pcap

from .conftest import Broker, probe, watcher

SECRET = "7f" * 32


def _secret(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.secret"
    path.write_text(SECRET + "\n")
    return path


def _snapshots(w, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(p) for p in w.messages(f"totem/{name}/snapshot")]


def _stop(proc) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    proc.terminate()
    _out, err = proc.communicate(timeout=20)
    return proc.returncode, err


def test_probe_publishes_a_replay_and_a_second_probe_beside_it(
    broker: Broker, tmp_path: Path
) -> None:
    scan = shared_pcap("attack_nmap_syn_portscan.pcap")
    plug = shared_pcap("iot_tplink_hs100_plug_setup.pcap")
    ha = watcher(broker, "ha")
    garden = probe(broker, "garden", _secret(tmp_path, "garden"),
                   "--replay", str(scan), "--speed", "0", "--interval", "0.5")  # fmt: skip
    attic = probe(broker, "attic", _secret(tmp_path, "attic"),
                  "--replay", str(plug), "--speed", "0", "--loop", "--interval", "0.5")  # fmt: skip
    try:
        ha.wait("both online", lambda: b"online" in ha.messages("totem/garden/status")
                and b"online" in ha.messages("totem/attic/status"))  # fmt: skip
        alert = ha.wait("the scan alert", lambda: ha.messages("totem/garden/alert"))
        first = json.loads(alert[0])
        assert first["alert"]["kind"] == "port_scan"
        assert first["alert"]["mac"] == "00:25:b3:bf:91:ee"
        ha.wait("garden's devices", lambda: any(
            len(s["snapshot"]["devices"]) == 2 for s in _snapshots(ha, "garden")))  # fmt: skip
        ha.wait("attic's devices", lambda: _snapshots(ha, "attic"))
        hello = json.loads(ha.messages("totem/attic/hello")[0])
        assert hello["type"] == "hello"
    finally:
        # A replay without --loop ends by itself (status offline, exit 0).
        _out, garden_err = garden.communicate(timeout=30)
        garden_code = garden.returncode
        attic_code, attic_err = _stop(attic)
    assert (garden_code, attic_code) == (0, 0), garden_err + attic_err
    # Each alert once: the replay ended, the final snapshot sent nothing twice.
    kinds = [json.loads(p)["alert"]["kind"] for p in ha.messages("totem/garden/alert")]
    assert kinds.count("port_scan") == 1
    ha.wait("offline", lambda: ha.messages("totem/attic/status")[-1:] == [b"offline"])
    # A newcomer finds the probes from their retained status.
    late = watcher(broker, "ha", "totem/+/status")
    late.wait("retained status", lambda: len(late.got) == 2)
    assert {(t, p, r) for t, p, r in late.got} == {
        ("totem/garden/status", b"offline", True),
        ("totem/attic/status", b"offline", True),
    }


def test_commands_are_signed_and_forgeries_refused(broker: Broker, tmp_path: Path) -> None:
    plug = shared_pcap("iot_tplink_hs100_plug_setup.pcap")
    ha = watcher(broker, "ha")
    garden = probe(broker, "garden", _secret(tmp_path, "garden"),
                   "--replay", str(plug), "--speed", "1", "--loop", "--interval", "5")  # fmt: skip
    try:
        ha.wait("online", lambda: b"online" in ha.messages("totem/garden/status"))
        acks = lambda: [json.loads(p) for p in ha.messages("totem/garden/ack")]  # noqa: E731
        # Another account of the broker: the ACL drops its publish, the probe never hears it.
        neighbour = watcher(broker, "neighbour", "plug/#")
        neighbour.publish("totem/garden/command", sign(SECRET.encode(), "garden",
                                                       {"cmd": "snapshot", "id": 1}))  # fmt: skip
        # An account allowed to publish there, without the secret.
        sloppy = watcher(broker, "sloppy", "plug/#")
        sloppy.publish("totem/garden/command", json.dumps({"cmd": {"cmd": "snapshot", "id": 2}}))
        sloppy.publish("totem/garden/command", sign(b"guessed" * 8, "garden",
                                                    {"cmd": "snapshot", "id": 3}))  # fmt: skip
        signed_for_attic = sign(SECRET.encode(), "attic", {"cmd": "snapshot", "id": 4})
        sloppy.publish("totem/garden/command", signed_for_attic)
        stale = sign(SECRET.encode(), "garden", {"cmd": "snapshot", "id": 5}, time.time() - 3600)
        sloppy.publish("totem/garden/command", stale)
        # Home Assistant's signed command: accepted once; the same bytes again are a replay.
        good = sign(SECRET.encode(), "garden", {"cmd": "snapshot", "id": 6})
        ha.publish("totem/garden/command", good)
        ha.publish("totem/garden/command", good)
        got = ha.wait("six acks", lambda: len(acks()) >= 6 and acks())
        by_id = {a.get("id"): a for a in got}
        assert 1 not in by_id
        assert by_id[2]["error"] == "unsigned"
        assert by_id[3]["error"] == "bad_signature"
        assert by_id[4]["error"] == "bad_signature"
        assert by_id[5]["error"] == "replayed"
        sixes = [a for a in got if a.get("id") == 6]
        assert sorted(a["ok"] for a in sixes) == [False, True]
        assert next(a for a in sixes if not a["ok"])["error"] == "replayed"
    finally:
        code, _ = _stop(garden)
    assert code == 0


def test_wrong_credentials_exit_2_with_one_line(broker: Broker, tmp_path: Path) -> None:
    plug = shared_pcap("iot_tplink_hs100_plug_setup.pcap")
    proc = probe(broker, "garden", _secret(tmp_path, "garden"), "--replay", str(plug),
                 password="wrong")  # fmt: skip
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: MQTT broker 127.0.0.1:")
    assert "refused the login" in lines[0]


def test_broker_restart_mid_run_loses_nothing(broker: Broker, tmp_path: Path) -> None:
    plug = shared_pcap("iot_tplink_hs100_plug_setup.pcap")
    ha = watcher(broker, "ha")
    args = ("--replay", str(plug), "--speed", "20", "--loop", "--interval", "0.5")
    garden = probe(broker, "garden", _secret(tmp_path, "garden"), *args)
    try:
        ha.wait("snapshots", lambda: len(_snapshots(ha, "garden")) >= 2)
        before = _snapshots(ha, "garden")[-1]["snapshot"]["packets"]
        broker.stop()
        time.sleep(3)  # the probe goes on capturing while the broker is away
        broker.start()
        ha2 = watcher(broker, "ha")
        ha2.wait("online again", lambda: b"online" in ha2.messages("totem/garden/status"),
                 timeout=60)  # fmt: skip
        after = ha2.wait("a snapshot after the restart", lambda: _snapshots(ha2, "garden"))
        # Counters kept growing through the outage: nothing restarted from zero.
        assert after[-1]["snapshot"]["packets"] > before
        beats = ha2.wait("a heartbeat", lambda: ha2.messages("totem/garden/heartbeat"))
        link = json.loads(beats[-1])["link"]
        assert link["connects"] >= 2
        assert link["disconnects"] >= 1
        assert garden.poll() is None
    finally:
        code, _ = _stop(garden)
    assert code == 0


def test_a_remote_flow_collector_publishes_a_scan_seen_in_flow_records(
    broker: Broker, tmp_path: Path
) -> None:
    # The router's flow export reaches a probe on another machine, which tells HA.
    from tests.engine.test_netflow_detectors import SCANNER_MAC, _scan_datagrams

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ha = watcher(broker, "ha")
    garden = probe(broker, "garden", _secret(tmp_path, "garden"), "--netflow", str(port),
                   "--bind", "127.0.0.1", "--interval", "0.5")  # fmt: skip
    try:
        ha.wait("online", lambda: b"online" in ha.messages("totem/garden/status"))
        # "online" is the link's; the hello is the engine's and may come a moment later.
        hello = json.loads(ha.wait("hello", lambda: ha.messages("totem/garden/hello"))[0])
        assert hello["source"] == f"netflow:{port}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for payload in _scan_datagrams(range(1, 41)):
                tx.sendto(payload, ("127.0.0.1", port))
        alerts = ha.wait("the scan alert", lambda: ha.messages("totem/garden/alert"))
        alert = json.loads(alerts[0])["alert"]
        assert alert["kind"] == "port_scan"
        assert alert["mac"] == SCANNER_MAC
    finally:
        code, _ = _stop(garden)
    assert code == 0
