"""The ``analyze`` command as a user and a script see it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.totem.engine.model import CONTRACT_DEVICE_KEYS
from custom_components.totem.engine.report import human_bits, human_bytes
from custom_components.totem.engine.sources import write_pcap
from tests.conftest import VENDORED_PCAPS, any_pcap
from tests.engine.helpers import cli_json, run_cli

MQTT = VENDORED_PCAPS / "proto_mqtt_paho_pubsub.pcap"


def test_json_document_follows_the_contract() -> None:
    doc = cli_json(str(MQTT))
    assert set(doc) == {"packets", "bytes", "first_time", "last_time", "devices", "alerts"}
    assert doc["packets"] == 19
    assert doc["first_time"] <= doc["last_time"]
    for dev in doc["devices"]:
        assert tuple(dev) == CONTRACT_DEVICE_KEYS
        assert dev["mac"] == dev["mac"].lower()
    assert sum(d["tx_bytes"] for d in doc["devices"]) == doc["bytes"]


def test_table_is_sorted_by_traffic_with_human_units() -> None:
    done = run_cli("analyze", str(any_pcap("iot_philips_hue_bridge_setup.pcap")))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["MAC", "Manufacturer", "Type"]
    rows = [line for line in lines[2:] if line[:2] in {"00", "38"}]
    assert rows[0].startswith("00:17:88:24:76:ff")  # the Hue bridge moves the most bytes
    assert "KB" in rows[0]
    assert "bit/s" in rows[0]
    assert "3 devices, 1330 packets" in done.stdout


def test_several_files_at_once() -> None:
    one = cli_json(str(MQTT))
    both = cli_json(str(MQTT), str(VENDORED_PCAPS / "proto_ntp_client_server.pcap"))
    assert both["packets"] == one["packets"] + 32


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.pcap", b"", "empty file"),
        ("garbage.pcap", b"GARBAGE" * 100, "not a pcap or pcapng"),
        (
            "header_only.pcap",
            bytes.fromhex("d4c3b2a102000400") + b"\0" * 8 + b"\xff\xff\0\0\x01\0\0\0",
            "no packets",
        ),
    ],
)
def test_bad_files_exit_2_with_one_line(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    done = run_cli("analyze", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_and_unsupported_link_type(tmp_path: Path) -> None:
    done = run_cli("analyze", str(tmp_path / "missing.pcap"))
    assert (done.returncode, done.stderr.strip()) == (
        2,
        f"error: {tmp_path / 'missing.pcap'}: no such file",
    )
    radiotap = tmp_path / "wifi.pcap"
    write_pcap(radiotap, [(1.0, 60, b"\0" * 60, 127)], linktype=127)
    done = run_cli("analyze", str(radiotap))
    assert done.returncode == 2
    assert "unsupported link type 127" in done.stderr


def test_truncated_capture_is_analysed_up_to_the_cut(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(MQTT.read_bytes()[:-30])
    done = run_cli("analyze", "--json", str(cut))
    assert done.returncode == 0
    assert done.stderr.startswith("warning:")
    assert done.stderr.count("\n") == 1
    assert json.loads(done.stdout)["packets"] == 18


def test_wrong_options_exit_2_with_one_line() -> None:
    for args in (["analyze", "--learn", "soon", str(MQTT)], ["analyze"], ["frobnicate"]):
        done = run_cli(*args)
        assert done.returncode == 2, args
        assert done.stderr.count("\n") == 1, done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("value", "text"), [(512, "512 B"), (8_520_000, "8.52 MB"), (1_500, "1.50 KB")]
)
def test_human_bytes(value: int, text: str) -> None:
    assert human_bytes(value) == text


def test_human_bits() -> None:
    assert human_bits(432.345) == "432.35 bit/s"
    assert human_bits(1_200_000) == "1.20 Mbit/s"
