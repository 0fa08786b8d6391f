"""NetFlow v5/v9, IPFIX and sFlow: real exports, synthetic edge cases, fuzzing, the CLI.

Expected values of the real captures were read independently with
``tshark -r FILE -V -d udp.port==2057,cflow``.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.totem.engine.cli_collect import FlowCollector, replay, udp_payloads
from custom_components.totem.engine.netflow import DecoderConfig, FlowDecoder
from custom_components.totem.engine.sources import write_pcap
from tests.conftest import ROOT, VENDORED_PCAPS
from tests.engine import netflow_synth as syn

V9 = str(VENDORED_PCAPS / "flow_netflow_v9_export.pcap")
FRITZ = str(VENDORED_PCAPS / "flow_netflow_fritzbox_export.pcap")
SFLOW = str(VENDORED_PCAPS / "flow_sflow_v5_export.pcap")
EXPORTER = "192.168.1.1"


def _collect(path: str) -> FlowCollector:
    col = FlowCollector()
    replay(col, path)
    return col


def test_v9_router_export_without_templates_is_counted_not_guessed() -> None:
    # tshark: 10 datagrams, source id 1, sequences 376415880..889, 23 data flowsets
    # (ids 258, 259, 260, 262, 263) and no template flowset: "no template found".
    col = _collect(V9)
    stats = col.decoder.stats
    assert stats.datagrams == 10
    assert stats.no_template == 23
    assert stats.records == 0
    assert stats.malformed == 0
    assert stats.sequence_gaps == 0
    assert col.document()["devices"] == []


def test_fritzbox_ipfix_templates_with_enterprise_and_variable_fields() -> None:
    # tshark: IPFIX, domain 262400, data template 461 (22 fields, 4 with Gigamon's PEN,
    # three of them variable length) and options templates 466, 467; no data set.
    col = _collect(FRITZ)
    stats = col.decoder.stats
    assert stats.templates_learned == 3
    assert col.decoder.templates == 3
    assert stats.enterprise_fields == 4
    assert stats.malformed == 0
    assert stats.records == 0


def test_sflow_flow_sample_scaled_by_sampling_rate() -> None:
    # tshark: 9 datagrams, 8 counter samples, 1 flow sample: 1 out of 2048, Ethernet
    # header 00:19:b9:dd:b2:64 -> 00:1c:23:9f:15:0b, ICMP 172.21.32.254 -> 172.21.32.241,
    # frame length 82.
    col = _collect(SFLOW)
    assert col.decoder.stats.sflow_counter_samples == 8
    doc = col.document()
    assert doc["packets"] == 2048
    assert doc["bytes"] == 82 * 2048
    devs = {d["mac"]: d for d in doc["devices"]}
    assert devs["00:19:b9:dd:b2:64"]["tx_packets"] == 2048
    assert devs["00:19:b9:dd:b2:64"]["ips"] == ["172.21.32.254"]
    assert devs["00:1c:23:9f:15:0b"]["rx_bytes"] == 82 * 2048
    assert doc["collector"]["max_sampling"] == 2048


def _v9_pair(seq: int = 1) -> bytes:
    return syn.v9(
        [
            syn.template_set(9, 300, syn.FLOW_FIELDS),
            syn.data_set(300, [
                syn.flow_values("192.168.1.20", "93.184.216.34", 50000, 443, 6, 10, 5000),
                syn.flow_values("93.184.216.34", "192.168.1.20", 443, 50000, 6, 8, 9000,
                                src_mac="02:00:00:00:00:02", dst_mac="02:00:00:00:00:01"),
            ], pad=2),
        ],
        seq,
    )  # fmt: skip


def test_synthetic_v9_agrees_with_tshark(tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    payload = _v9_pair()
    pcap = tmp_path / "v9.pcap"
    frame = syn.udp_frame(EXPORTER, "192.168.1.2", payload)
    write_pcap(pcap, [(1_700_000_000.0, len(frame), frame, 1)])
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-d", "udp.port==2055,cflow", "-T", "fields",
         "-e", "cflow.srcaddr", "-e", "cflow.packets", "-e", "cflow.octets"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()  # fmt: skip
    assert out == ["192.168.1.20,93.184.216.34", "10,8", "5000,9000"]
    recs = FlowDecoder().decode(payload, EXPORTER, 0.0)
    assert [(r.packets, r.octets, r.dport) for r in recs] == [(10, 5000, 443), (8, 9000, 50000)]
    # sysUpTime 10 s at 1_700_000_000: boot at ...-10 s, FIRST_SWITCHED 1000 ms.
    assert recs[0].first == pytest.approx(1_700_000_000 - 9.0)
    assert recs[0].src_mac == syn.mac("02:00:00:00:00:01")


def test_devices_keyed_by_mac_tx_rx_and_remote_hosts() -> None:
    col = FlowCollector()
    col.feed(_v9_pair(), EXPORTER, 0.0)
    doc = col.document()
    devs = {d["mac"]: d for d in doc["devices"]}
    home = devs["02:00:00:00:00:01"]
    assert (home["tx_packets"], home["tx_bytes"], home["rx_packets"], home["rx_bytes"]) == (
        10, 5000, 8, 9000,
    )  # fmt: skip
    assert home["ips"] == ["192.168.1.20"]
    assert home["remote_hosts"] == 1
    assert home["protocols"] == {"TLS": 14000}
    assert home["type"] == "unknown"
    assert home["type_reason"] == ""
    assert "no DHCP, mDNS" in doc["collector"]["identification"]


def test_devices_without_mac_are_keyed_by_lan_address() -> None:
    fields = syn.FLOW_FIELDS[:10]  # no MAC fields
    rec = syn.flow_values("10.0.0.5", "8.8.8.8", 5353, 53, 17, 2, 140)[:-12]
    col = FlowCollector()
    col.feed(
        syn.ipfix([syn.template_set(10, 256, fields), syn.data_set(256, [rec])], 0), EXPORTER, 0.0
    )
    (dev,) = col.document()["devices"]  # 8.8.8.8 is a remote host, not a device
    assert dev["mac"] is None
    assert dev["ips"] == ["10.0.0.5"]
    assert dev["tx_packets"] == 2
    assert dev["remote_hosts"] == 1


def test_ipfix_variable_length_enterprise_fields_and_sequence_gaps() -> None:
    tmpl = (
        struct.pack(">HH", 400, 5)
        + struct.pack(">HH", 8, 4) + struct.pack(">HH", 12, 4)
        + struct.pack(">HHI", 0x8000 | 12, 0xFFFF, 29305)  # enterprise, variable length
        + struct.pack(">HH", 2, 4) + struct.pack(">HH", 1, 8)
    )  # fmt: skip
    tset = struct.pack(">HH", 2, 4 + len(tmpl)) + tmpl
    rec = syn.ip4("192.168.0.9") + syn.ip4("1.1.1.1") + b"\x03abc" + struct.pack(">IQ", 3, 300)
    long_rec = (syn.ip4("192.168.0.9") + syn.ip4("1.1.1.1") + b"\xff\x01\x00" + b"x" * 256
                + struct.pack(">IQ", 1, 60))  # fmt: skip
    dec = FlowDecoder()
    recs = dec.decode(syn.ipfix([tset, syn.data_set(400, [rec, long_rec])], 100), EXPORTER, 0.0)
    assert [(r.packets, r.octets) for r in recs] == [(3, 300), (1, 60)]
    assert dec.stats.enterprise_fields == 1
    # Next expected sequence is 102; 105 means three records were lost.
    dec.decode(syn.ipfix([syn.data_set(400, [rec])], 105), EXPORTER, 1.0)
    assert (dec.stats.sequence_gaps, dec.stats.lost_records) == (1, 3)
    # Another observation domain of the same exporter has its own templates.
    dec.decode(syn.ipfix([syn.data_set(400, [rec])], 0, domain=2), EXPORTER, 1.0)
    assert dec.stats.no_template == 1


def test_v9_sequence_counts_lost_datagrams() -> None:
    dec = FlowDecoder()
    dec.decode(_v9_pair(10), EXPORTER, 0.0)
    dec.decode(_v9_pair(11), EXPORTER, 0.0)
    dec.decode(_v9_pair(15), EXPORTER, 0.0)
    assert (dec.stats.sequence_gaps, dec.stats.lost_datagrams) == (1, 3)


def test_template_expiry_and_withdrawal() -> None:
    dec = FlowDecoder(DecoderConfig(template_ttl=60.0))
    dec.decode(_v9_pair(), EXPORTER, 0.0)
    data_only = syn.v9(
        [syn.data_set(300, [syn.flow_values("10.0.0.1", "10.0.0.2", 1, 2, 17, 1, 1)])], 2
    )
    assert len(dec.decode(data_only, EXPORTER, 59.0)) == 1
    assert dec.decode(data_only, EXPORTER, 200.0) == []
    assert dec.stats.templates_expired == 1
    ipf = FlowDecoder()
    ipf.decode(syn.ipfix([syn.template_set(10, 256, syn.FLOW_FIELDS)], 0), EXPORTER, 0.0)
    ipf.decode(syn.ipfix([struct.pack(">HHHH", 2, 8, 256, 0)], 0), EXPORTER, 0.0)
    assert (ipf.templates, ipf.stats.templates_withdrawn) == (0, 1)


def test_template_table_is_bounded() -> None:
    dec = FlowDecoder(DecoderConfig(max_templates=8))
    for tid in range(256, 300):
        dec.decode(syn.v9([syn.template_set(9, tid, syn.FLOW_FIELDS)], tid), EXPORTER, 0.0)
    assert dec.templates == 8
    assert dec.stats.templates_evicted == 36


def test_sampling_from_v5_header_and_v9_options() -> None:
    dec = FlowDecoder()
    (rec,) = dec.decode(
        syn.v5([("192.168.1.2", "1.2.3.4", 1, 2, 17, 3, 300)], 0, sampling=0x4000 | 100),
        EXPORTER,
        0.0,
    )
    assert (rec.packets, rec.octets, rec.sampling) == (300, 30000, 100)
    # v9 options template: scope system (1, 4 bytes), option SAMPLING_INTERVAL (34, 4).
    opts = struct.pack(">HHHHH", 1, 4 + 14, 500, 4, 4) + struct.pack(">HHHH", 1, 4, 34, 4)
    opt_data = syn.data_set(500, [struct.pack(">II", 0, 64)])
    v9dec = FlowDecoder()
    v9dec.decode(syn.v9([opts, opt_data], 0), EXPORTER, 0.0)
    recs = v9dec.decode(_v9_pair(1), EXPORTER, 0.0)
    assert v9dec.stats.options_records == 1
    assert [(r.packets, r.sampling) for r in recs] == [(640, 64), (512, 64)]


def test_allow_list_ignores_and_counts_other_exporters() -> None:
    col = FlowCollector(allow=["10.9.9.9"])
    col.feed(_v9_pair(), EXPORTER, 0.0)
    col.feed(_v9_pair(), "::ffff:10.9.9.9", 0.0)
    doc = col.document()
    assert doc["collector"]["not_allowed"] == 1
    assert doc["collector"]["ignored_exporters"] == [EXPORTER]
    assert doc["collector"]["records"] == 2


def _real_datagrams() -> list[bytes]:
    out = [p for path in (V9, FRITZ, SFLOW) for _t, _s, p in udp_payloads(path)]
    return [*out, _v9_pair(), syn.ipfix([syn.template_set(10, 256, syn.FLOW_FIELDS)], 0)]


SEEDS = _real_datagrams()


@settings(max_examples=400, deadline=None)
@given(
    idx=st.integers(0, len(SEEDS) - 1),
    flips=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 2000),
)
def test_fuzz_mutated_real_datagrams_never_raise(
    idx: int, flips: list[tuple[int, int]], cut: int
) -> None:
    dec = FlowDecoder()
    # Learn templates first, so mutations reach the data-record parsers too.
    dec.decode(_v9_pair(), EXPORTER, 0.0)
    dec.decode(SEEDS[-1], EXPORTER, 0.0)
    data = bytearray(SEEDS[idx])
    for pos, value in flips:
        if data:
            data[pos % len(data)] = value
    before = dec.stats.malformed
    recs = dec.decode(bytes(data[: max(cut, 4)] if cut < len(data) else data), EXPORTER, 1.0)
    assert dec.stats.malformed >= before
    assert all(r.packets >= 0 and r.octets >= 0 for r in recs)


def test_truncated_datagrams_are_counted_malformed() -> None:
    dec = FlowDecoder()
    payload = _v9_pair()
    for cut in range(21, len(payload) - 1, 7):
        dec.decode(payload[:cut], EXPORTER, 0.0)
    assert dec.stats.malformed > 0
    rng = random.Random(17)
    for _ in range(2000):
        dec.decode(bytes(rng.randrange(256) for _ in range(rng.randrange(64))), EXPORTER, 0.0)


def _engine(*args: str) -> list[str]:
    return [sys.executable, "-m", "custom_components.totem.engine", *args]


def test_collect_subprocess_over_loopback_udp(socket_enabled: None) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    proc = subprocess.Popen(
        _engine("collect", "--netflow", str(port), "--bind", "127.0.0.1", "--duration", "30",
                "--json"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        assert "collecting on" in proc.stderr.readline()
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _t, _src, payload in udp_payloads(SFLOW):
            sender.sendto(payload, ("127.0.0.1", port))
        sender.sendto(_v9_pair(), ("127.0.0.1", port))
        sender.close()
        time.sleep(0.5)
        proc.terminate()
        out, _err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    doc = json.loads(out)
    assert doc["collector"]["datagrams"] == 10
    macs = {d["mac"]: d for d in doc["devices"]}
    assert macs["00:19:b9:dd:b2:64"]["tx_packets"] == 2048
    assert macs["02:00:00:00:00:01"]["tx_bytes"] == 5000


def test_collect_bad_input_exits_2_with_one_line(socket_enabled: None) -> None:
    for args in (["--netflow", "70000"], ["--netflow", "2055", "--bind", "not-an-ip"]):
        res = subprocess.run(
            _engine("collect", *args), cwd=ROOT, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert res.returncode == 2
        assert len(res.stderr.strip().splitlines()) == 1
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        port = busy.getsockname()[1]
        res = subprocess.run(
            _engine("collect", "--netflow", str(port), "--bind", "127.0.0.1", "--duration", "1"),
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        busy.close()
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert "cannot listen" in res.stderr
