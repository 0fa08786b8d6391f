"""A remote probe's own enforcement: block commands applied with its backend (fake nft)."""

from __future__ import annotations

import json

import pytest

from custom_components.totem.engine.enforce import BACKEND_BRIDGE, make_backend
from custom_components.totem.engine.messages import Ack, parse_message
from custom_components.totem.engine.protocol import ProtocolError, decode_line, parse_command_line
from custom_components.totem.engine.remote_enforce import (
    BlockDevice,
    ListBlocks,
    RemoteEnforcer,
    parse_blocks,
    parse_quarantined,
)
from tests.engine.test_enforce import CAPTURE_MAC, DEVICE, GATEWAY_MAC, HOST_MAC, FakeNft, host


def _enforcer(fake: FakeNft) -> RemoteEnforcer:
    backend = make_backend(BACKEND_BRIDGE, runner=fake, host=host, capture_mac=CAPTURE_MAC)
    return RemoteEnforcer(backend)


def _ack(enforcer: RemoteEnforcer, line: str) -> Ack:
    cmd = parse_command_line(line)
    reply = enforcer.command(cmd)
    assert reply is not None
    # What goes over the broker, read back as Home Assistant reads it.
    return parse_message(decode_line(Ack.of(cmd.name, cmd.id, reply).to_line()))  # type: ignore[return-value]


def test_block_list_and_unblock_go_through_the_probes_backend() -> None:
    fake = FakeNft()
    enforcer = _enforcer(fake)
    ack = _ack(enforcer, json.dumps({"cmd": "block", "id": 7, "mac": DEVICE.upper(),
                                     "seconds": 600}))  # fmt: skip
    assert ack.ok
    assert ack.id == 7
    (block,) = parse_blocks(ack.data, "remote")
    assert (block.mac, block.timeout) == (DEVICE, 600)
    listed = _ack(enforcer, '{"cmd":"blocks","id":8}')
    assert [b.mac for b in parse_blocks(listed.data, "remote")] == [DEVICE]
    assert fake.elements("bridge", "blocked_macs").keys() == {DEVICE}
    assert _ack(enforcer, json.dumps({"cmd": "unblock", "mac": DEVICE})).ok
    assert parse_blocks(_ack(enforcer, '{"cmd":"blocks"}').data, "remote") == []


@pytest.mark.parametrize(
    ("mac", "reason"), [(GATEWAY_MAC, "gateway"), (HOST_MAC, "own_host"),
                        (CAPTURE_MAC, "capture_interface")],
)  # fmt: skip
def test_the_probes_host_refusals_apply(mac: str, reason: str) -> None:
    fake = FakeNft()
    ack = _ack(_enforcer(fake), json.dumps({"cmd": "block", "id": 1, "mac": mac}))
    assert not ack.ok
    assert ack.error == reason
    assert fake.transactions == []  # nothing reached the kernel


def test_a_probe_without_enforce_refuses_and_other_commands_pass_by() -> None:
    enforcer = RemoteEnforcer(None)
    reply = enforcer.command(BlockDevice(mac=DEVICE))
    assert reply is not None
    assert reply.error == "blocking_disabled"
    assert RemoteEnforcer(None).command(parse_command_line('{"cmd":"snapshot"}')) is None
    assert isinstance(parse_command_line('{"cmd":"blocks"}'), ListBlocks)


@pytest.mark.parametrize(
    "line",
    [
        '{"cmd":"block"}',
        '{"cmd":"block","mac":"ff:ff:ff:ff:ff:ff"}',
        '{"cmd":"block","mac":"cc:50:e3:68:66:4a","seconds":0}',
        '{"cmd":"block","mac":"cc:50:e3:68:66:4a","ips":["not an ip"]}',
        '{"cmd":"block","mac":"cc:50:e3:68:66:4a","ips":"10.0.0.1"}',
        '{"cmd":"quarantine"}',
    ],
)
def test_malformed_enforcement_commands_are_refused_before_the_backend(line: str) -> None:
    with pytest.raises(ProtocolError):
        parse_command_line(line)


def test_blocks_from_an_untrusted_probe_are_checked_one_by_one() -> None:
    data = {
        "blocks": [
            {"mac": DEVICE, "timeout": 60, "expires_in": 30, "ips": ["10.0.0.5"]},
            {"mac": "not a mac"},
            {"mac": "b8:27:eb:00:00:02", "timeout": -5},
            {"mac": "b8:27:eb:00:00:03", "ips": ["bad"]},
            "junk",
        ]
    }
    (block,) = parse_blocks(data, "remote")
    assert (block.mac, block.timeout, block.expires_in, block.ips) == (
        DEVICE, 60.0, 30.0, ("10.0.0.5",))  # fmt: skip
    with pytest.raises(ProtocolError):
        parse_blocks({"blocks": "all"}, "remote")
    with pytest.raises(ProtocolError):
        parse_blocks(None, "remote")


def test_quarantine_and_release_use_the_backends_own() -> None:
    fake = FakeNft()
    enforcer = _enforcer(fake)
    assert _ack(enforcer, json.dumps({"cmd": "quarantine", "mac": DEVICE})).ok
    assert DEVICE in fake.elements("bridge", "quarantined_macs")
    assert _ack(enforcer, json.dumps({"cmd": "release", "mac": DEVICE})).ok
    assert DEVICE not in fake.elements("bridge", "quarantined_macs")


def test_the_blocks_read_back_lists_the_quarantines_from_one_table_read() -> None:
    fake = FakeNft()
    enforcer = _enforcer(fake)
    before = _ack(enforcer, '{"cmd":"blocks"}')
    assert parse_quarantined(before.data) == frozenset()  # no table yet: none held
    assert _ack(enforcer, json.dumps({"cmd": "quarantine", "mac": DEVICE})).ok
    assert _ack(enforcer, json.dumps({"cmd": "block", "mac": "b8:27:eb:00:00:05"})).ok
    reads = len(fake.calls)
    listed = _ack(enforcer, '{"cmd":"blocks"}')
    assert [b.mac for b in parse_blocks(listed.data, "remote")] == ["b8:27:eb:00:00:05"]
    assert parse_quarantined(listed.data) == {DEVICE}
    assert len(fake.calls) - reads == 1  # one nft call per read-back, not two
    fake.elements("bridge", "quarantined_macs").clear()  # the probe forgot it
    assert parse_quarantined(_ack(enforcer, '{"cmd":"blocks"}').data) == frozenset()


def test_quarantines_from_an_untrusted_probe_are_checked_and_an_older_probe_says_none() -> None:
    data = {"blocks": [], "quarantined": [DEVICE.upper(), "not a mac", 7, "ff:ff:ff:ff:ff:ff"]}
    assert parse_quarantined(data) == {DEVICE}
    assert parse_quarantined({"blocks": []}) is None  # older probe: nothing to compare
    assert parse_quarantined({"blocks": [], "quarantined": "all"}) is None
    assert parse_quarantined(None) is None
