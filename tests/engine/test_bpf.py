"""The shipped classic-BPF filters: what they came from, what they accept, how they attach."""

from __future__ import annotations

import socket
import subprocess

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether

from custom_components.totem.engine import bpf
from custom_components.totem.engine.bpf import (
    BUILTIN_FILTERS,
    BpfError,
    BpfProgram,
    attach_filter,
    compile_with_libpcap,
    resolve_filter,
)
from tests.conftest import require_tool

# -- a small classic-BPF interpreter (the subset libpcap emits for these filters) --


def run_bpf(program: BpfProgram, frame: bytes) -> int:
    """Bytes the kernel would keep of ``frame`` (0 = dropped)."""
    a = x = 0
    pc = 0
    insns = program.instructions
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        cls = code & 0x07
        if cls == 0x06:  # RET
            return min(a if code & 0x18 == 0x10 else k, len(frame))
        if cls in (0x00, 0x01):  # LD / LDX
            mode, size = code & 0xE0, code & 0x18
            if cls == 0x01 and mode == 0xA0:  # ldxb 4*([k]&0xf)
                if k >= len(frame):
                    return 0
                x = (frame[k] & 0x0F) * 4
                continue
            if mode == 0x00:  # #k
                value = k
            else:
                offset = k + (x if mode == 0x40 else 0)
                width = {0x00: 4, 0x08: 2, 0x10: 1}[size]
                if offset + width > len(frame):
                    return 0  # out of bounds: the kernel drops the frame
                value = int.from_bytes(frame[offset : offset + width], "big")
            if cls == 0x00:
                a = value
            else:
                x = value
            continue
        if cls == 0x05:  # JMP
            op, src = code & 0xF0, (x if code & 0x08 else k)
            if op == 0x00:  # ja
                pc += k
                continue
            taken = {
                0x10: a == src,
                0x20: a > src,
                0x30: a >= src,
                0x40: bool(a & src),
            }[op]
            pc += jt if taken else jf
            continue
        if cls == 0x04:  # ALU
            op, src = code & 0xF0, (x if code & 0x08 else k)
            a = {
                0x00: a + src,
                0x10: a - src,
                0x50: a & src,
                0x40: a | src,
                0x60: a << src,
                0x70: a >> src,
            }[op] & 0xFFFFFFFF
            continue
        if code == 0x07:  # tax
            x = a
            continue
        if code == 0x87:  # txa
            a = x
            continue
        raise AssertionError(f"instruction {code:#x} not in the test interpreter")


MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


def eth() -> Ether:
    return Ether(src=MAC_A, dst=MAC_B)


FRAMES = {
    "arp": bytes(eth() / ARP(psrc="192.168.1.10", pdst="192.168.1.1")),
    "dhcp": bytes(eth() / IP() / UDP(sport=68, dport=67) / (b"\x01" * 240)),
    "mdns6": bytes(eth() / IPv6() / UDP(sport=5353, dport=5353) / (b"\x00" * 12)),
    "ssdp": bytes(eth() / IP() / UDP(sport=40000, dport=1900) / b"M-SEARCH * HTTP/1.1\r\n"),
    "dns_vlan": bytes(eth() / Dot1Q(vlan=20) / IP() / UDP(sport=5000, dport=53) / (b"\x00" * 12)),
    "tls": bytes(eth() / IP() / TCP(sport=50000, dport=443) / b"\x16\x03\x01"),
    "udp_other": bytes(eth() / IP() / UDP(sport=6667, dport=6667) / b"tuya"),
    "udp_fragment": bytes(eth() / IP(frag=100, proto=17) / (b"\x00\x35" * 20)),
    "tcp6_vlan": bytes(eth() / Dot1Q(vlan=7) / IPv6() / TCP(dport=8883)),
    "lldp": bytes(Ether(src=MAC_A, dst="01:80:c2:00:00:0e", type=0x88CC) / (b"\x02" * 20)),
    "eapol": bytes(Ether(src=MAC_A, dst=MAC_B, type=0x888E) / (b"\x01" * 20)),
}

ACCEPTS = {
    "all": set(FRAMES),
    "ip": set(FRAMES) - {"lldp", "eapol"},
    "discovery": {"arp", "dhcp", "mdns6", "ssdp", "dns_vlan"},
}


@pytest.mark.parametrize("name", sorted(BUILTIN_FILTERS))
@pytest.mark.parametrize("frame", sorted(FRAMES))
def test_builtin_filter_accepts_exactly_its_traffic(name: str, frame: str) -> None:
    kept = run_bpf(BUILTIN_FILTERS[name].with_snaplen(1518), FRAMES[frame])
    if frame in ACCEPTS[name]:
        assert kept == len(FRAMES[frame])
    else:
        assert kept == 0


def test_snaplen_is_applied_by_the_kernel_program() -> None:
    program = BUILTIN_FILTERS["ip"].with_snaplen(64)
    assert run_bpf(program, FRAMES["dhcp"]) == 64
    assert run_bpf(program, FRAMES["lldp"]) == 0  # a drop stays a drop
    assert all(k in (0, 64) for code, _jt, _jf, k in program.instructions if code == 0x06)


@pytest.mark.parametrize("name", sorted(BUILTIN_FILTERS))
def test_builtin_program_is_what_tcpdump_compiles(name: str) -> None:
    tcpdump = require_tool("tcpdump")
    program = BUILTIN_FILTERS[name]
    out = subprocess.run(
        [tcpdump, "-y", "EN10MB", "-s", str(bpf.GENERATED_SNAPLEN), "-ddd", program.expression],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    count, numbers = int(out[0]), [int(n) for n in out[1:]]
    compiled = tuple(tuple(numbers[i : i + 4]) for i in range(0, 4 * count, 4))
    assert compiled == program.instructions


@pytest.mark.parametrize("name", sorted(BUILTIN_FILTERS))
def test_builtin_program_is_what_libpcap_compiles(name: str) -> None:
    if bpf.load_libpcap() is None:
        pytest.skip("libpcap is not installed here")
    program = BUILTIN_FILTERS[name]
    assert compile_with_libpcap(program.expression).instructions == program.instructions


def test_builtin_filters_need_no_libpcap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOTEM_NO_LIBPCAP", "1")
    assert bpf.load_libpcap() is None
    assert resolve_filter(None).name == "all"
    assert resolve_filter("discovery").name == "discovery"
    # The expression itself, however it is spaced, selects the shipped program too.
    spaced = "  arp or ip   or ip6 or (vlan and (arp or ip or ip6)) "
    assert resolve_filter(spaced).name == "ip"


def test_other_expressions_without_libpcap_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOTEM_NO_LIBPCAP", "1")
    with pytest.raises(BpfError) as caught:
        resolve_filter("tcp port 22")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("libpcap is not installed")
    assert "(all, ip, discovery)" in message


def test_libpcap_compiles_a_user_expression_that_filters() -> None:
    if bpf.load_libpcap() is None:
        pytest.skip("libpcap is not installed here")
    program = resolve_filter("tcp port 443")
    assert program.name is None
    assert run_bpf(program, FRAMES["tls"]) > 0
    assert run_bpf(program, FRAMES["dhcp"]) == 0


def test_invalid_expression_is_one_line() -> None:
    if bpf.load_libpcap() is None:
        pytest.skip("libpcap is not installed here")
    with pytest.raises(BpfError) as caught:
        compile_with_libpcap("port nosuchservice and (")
    assert "\n" not in str(caught.value)
    assert "port nosuchservice" in str(caught.value)


def _udp_pair() -> tuple[socket.socket, socket.socket]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(30)  # a hang guard, never reached when the filter works
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return receiver, sender


def test_attach_filter_is_enforced_by_the_kernel(socket_enabled: None) -> None:
    """The packed sock_fprog reaches the kernel intact: it drops what the program rejects."""
    # On a UDP socket the program sees the UDP header first: keep datagrams whose
    # first payload byte (offset 8) is "A".
    only_a = BpfProgram(
        expression="udp[8] == 0x41",
        instructions=((0x30, 0, 0, 8), (0x15, 0, 1, 0x41), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)),
    )
    receiver, sender = _udp_pair()
    with receiver, sender:
        attach_filter(receiver, only_a)
        sender.sendto(b"B dropped by the filter", receiver.getsockname())
        sender.sendto(b"A kept", receiver.getsockname())
        assert receiver.recv(100) == b"A kept"


def test_kernel_rejects_a_broken_program(socket_enabled: None) -> None:
    jumps_past_end = BpfProgram(expression="", instructions=((0x15, 5, 5, 0), (0x06, 0, 0, 0)))
    receiver, sender = _udp_pair()
    with receiver, sender, pytest.raises(BpfError, match="kernel rejected"):
        attach_filter(receiver, jumps_past_end)
