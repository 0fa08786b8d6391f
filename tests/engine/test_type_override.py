"""The user's device type: a typed probe command, persisted with the engine state, and
followed by the detectors (which baseline kinds apply)."""

from __future__ import annotations

import pytest

from custom_components.totem.engine import protocol
from custom_components.totem.engine.cli_analyze import build_engine
from custom_components.totem.engine.detectors.guard import Guard
from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.evidence import TrafficSummary
from custom_components.totem.engine.protocol import ProtocolError, SetDeviceType
from tests.engine.test_identify import dhcp_request, mac

PLUG = "50:c7:bf:00:00:01"


def test_command_round_trip_and_validation() -> None:
    cmd = protocol.parse_command_line(SetDeviceType(id=3, mac=PLUG, type="camera").to_line())
    assert cmd == SetDeviceType(id=3, mac=PLUG, type="camera")
    cleared = protocol.parse_command_line('{"cmd":"device_type","mac":"50:c7:bf:00:00:01"}')
    assert cleared == SetDeviceType(mac=PLUG, type=None)
    with pytest.raises(ProtocolError, match="unknown device type"):
        protocol.parse_command({"cmd": "device_type", "mac": PLUG, "type": "toaster"})
    with pytest.raises(ProtocolError):
        protocol.parse_command({"cmd": "device_type", "type": "camera"})


def test_override_wins_is_persisted_and_clears() -> None:
    engine = Engine()
    engine.identifier.inspect(*dhcp_request(PLUG, "HS100"))
    ident = engine.identifier.identity(mac(PLUG), TrafficSummary())
    assert (ident.type, ident.type_source) == ("smart_plug", "evidence")
    assert engine.command(SetDeviceType(mac=PLUG, type="light")).ok
    ident = engine.identifier.identity(mac(PLUG), TrafficSummary())
    assert (ident.type, ident.type_reason, ident.type_source) == (
        "light",
        "set by the user",
        "user",
    )
    state = engine.export_state()
    fresh = Engine()
    fresh.import_state(state)
    assert fresh.identifier.identity(mac(PLUG), TrafficSummary()).type == "light"
    # Garbage in a state file is skipped, not fatal.
    fresh.import_state({"DeviceTypes": {"zz": "light", PLUG: "toaster", "x": 3}})
    assert engine.command(SetDeviceType(mac=PLUG, type=None)).ok
    assert engine.identifier.identity(mac(PLUG), TrafficSummary()).type == "smart_plug"


def test_detectors_follow_the_users_type() -> None:
    engine = build_engine(0.0, None, max_devices=64)
    guard = next(obs for obs in engine.observers if isinstance(obs, Guard))
    engine.identifier.inspect(*dhcp_request(PLUG, "HS100"))
    # A plug is watched strictly: new destinations alert.
    assert guard.policy.watches(guard.profile(mac(PLUG), 0.0).type, "new_destination")
    assert engine.command(SetDeviceType(mac=PLUG, type="laptop")).ok
    # The cached profile is dropped at once: a laptop's busy day raises nothing.
    assert guard.profile(mac(PLUG), 1.0).type == "laptop"
    assert not guard.policy.watches(guard.profile(mac(PLUG), 1.0).type, "new_destination")
