"""The shipped blueprint, loaded by Home Assistant's blueprint integration and
run as an automation against fired totem_anomaly events."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.totem.alerts import EVENT_ANOMALY, EVENT_TYPES
from custom_components.totem.compat import ONE_DEVICE_PER_ENTRY
from custom_components.totem.const import (
    CONF_BLOCK_BACKEND,
    CONF_LEARN_DAYS,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
)

from .conftest import find_device, replay_entry, setup_entry, wait_for
from .test_switch import blocked, fake_kernel, switch_id

BLUEPRINT = (
    Path(__file__).parents[2] / "blueprints" / "automation" / "totem" / "notify_anomaly.yaml"
)
MAC = "cc:50:e3:68:66:4a"
PCAPS = Path(__file__).parents[1] / "pcaps"
SCANNER = "00:25:b3:bf:91:ee"  # nmap -sS in attack_nmap_syn_portscan.pcap


@pytest.fixture
async def home(hass: HomeAssistant) -> dict[str, Any]:
    """A TOTEM network device (shared with the Kasa integration where the registry lets
    devices be shared) and the TOTEM hub."""
    entry = MockConfigEntry(domain=DOMAIN, title="TOTEM")
    entry.add_to_hass(hass)
    other = MockConfigEntry(domain="kasa", title="Kasa")
    other.add_to_hass(hass)
    devices = dr.async_get(hass)
    plug = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, MAC)},
        name="Sonoff S26",
    )
    if not ONE_DEVICE_PER_ENTRY:  # 2025.x shares a device between integrations
        devices.async_update_device(plug.id, add_config_entry_id=other.entry_id)
    hub = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, entry.entry_id)}, name="TOTEM"
    )
    return {"plug": plug, "hub": hub}


def _install(hass: HomeAssistant) -> None:
    """Where a user's blueprints live: <config>/blueprints/automation/<author>/."""
    target = Path(hass.config.path("blueprints", "automation", "totem", BLUEPRINT.name))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target)


async def _automation(hass: HomeAssistant, **inputs: Any) -> None:
    _install(hass)
    config = {
        "automation": {
            "id": "totem_notify",
            "alias": "TOTEM notify",
            "use_blueprint": {
                "path": f"totem/{BLUEPRINT.name}",
                "input": {"notify_service": "notify.phone", **inputs},
            },
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    # An invalid blueprint leaves the automation unavailable instead.
    assert hass.states.get("automation.totem_notify").state == STATE_ON


def _anomaly(device_id: str, kind: str, severity: str, message: str) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "mac": MAC,
        "kind": kind,
        "severity": severity,
        "message": message,
        "count": 1,
        "time": 1000.0,
    }


async def test_blueprint_is_valid_and_lists_every_kind(hass: HomeAssistant) -> None:
    _install(hass)
    blueprint = await async_get_blueprints(hass).async_get_blueprint(f"totem/{BLUEPRINT.name}")
    assert blueprint.domain == "automation"
    assert set(blueprint.inputs) == {"min_severity", "kinds", "notify_service", "block"}
    kinds = blueprint.inputs["kinds"]["selector"]["select"]["options"]
    assert kinds == EVENT_TYPES


async def test_real_port_scan_is_notified_and_the_scanner_blocked(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole chain: capture -> probe -> totem_anomaly -> blueprint -> Network
    access switch -> nftables (faked at the nft process, as in test_switch)."""
    notify = async_mock_service(hass, "notify", "phone")
    await _automation(hass, min_severity="warning", block=True)
    with fake_kernel(tmp_path, monkeypatch) as kernel:
        entry = replay_entry(
            PCAPS / "attack_nmap_syn_portscan.pcap",
            speed=0,
            **{
                CONF_UPDATE_INTERVAL: 0.2,
                CONF_LEARN_DAYS: 0,
                CONF_BLOCK_BACKEND: "nftables-bridge",
            },
        )
        await setup_entry(hass, entry)
        await wait_for(hass, lambda: blocked(kernel) == {SCANNER}, what="the scanner's block")

        assert len(notify) == 1
        scanner = find_device(hass, mac=SCANNER)
        assert notify[0].data["message"].startswith(f"{scanner.name}: ")
        assert notify[0].data["title"] == "TOTEM: port scan (warning)"
        assert hass.states.get(switch_id(hass, SCANNER)).state == STATE_OFF
        # The scanned host is left alone.
        others = [m for m in entry.runtime_data.coordinator.data.devices if m != SCANNER]
        assert others
        for mac in others:
            assert mac not in blocked(kernel)
        # The scanned side is reached through the router (it answered on tcp 53, so
        # TOTEM takes it for a DNS server): never blocked, it has no switch at all.
        assert entry.runtime_data.blocking.refusal(others[0]) is not None
        await hass.config_entries.async_unload(entry.entry_id)


async def test_below_minimum_severity_is_silent(hass: HomeAssistant, home: dict[str, Any]) -> None:
    notify = async_mock_service(hass, "notify", "phone")
    turn_off = async_mock_service(hass, "switch", "turn_off")
    await _automation(hass, min_severity="critical")

    hass.bus.async_fire(EVENT_ANOMALY, _anomaly(home["plug"].id, "port_scan", "warning", "m"))
    await hass.async_block_till_done()
    assert notify == []
    assert turn_off == []

    hass.bus.async_fire(EVENT_ANOMALY, _anomaly(home["plug"].id, "syn_flood", "critical", "m"))
    await hass.async_block_till_done()
    assert len(notify) == 1
    assert turn_off == []  # blocking was not chosen


async def test_chosen_kinds_only(hass: HomeAssistant, home: dict[str, Any]) -> None:
    notify = async_mock_service(hass, "notify", "phone")
    turn_off = async_mock_service(hass, "switch", "turn_off")
    await _automation(hass, min_severity="info", kinds=["dns_tunnel"])

    hass.bus.async_fire(EVENT_ANOMALY, _anomaly(home["plug"].id, "port_scan", "critical", "m"))
    await hass.async_block_till_done()
    assert notify == []

    hass.bus.async_fire(EVENT_ANOMALY, _anomaly(home["plug"].id, "dns_tunnel", "info", "tunnel"))
    await hass.async_block_till_done()
    assert [c.data["message"] for c in notify] == ["Sonoff S26: tunnel"]
    assert turn_off == []


async def test_hub_alert_notifies_without_blocking(
    hass: HomeAssistant, home: dict[str, Any]
) -> None:
    notify = async_mock_service(hass, "notify", "phone")
    turn_off = async_mock_service(hass, "switch", "turn_off")
    await _automation(hass, min_severity="info", block=True)

    hass.bus.async_fire(EVENT_ANOMALY, _anomaly(home["hub"].id, "mac_flood", "critical", "flood"))
    await hass.async_block_till_done()
    assert [c.data["message"] for c in notify] == ["TOTEM: flood"]
    assert turn_off == []


@pytest.mark.parametrize(
    ("field", "value"), [("attribution", "doubtful"), ("direction", "inbound")]
)
async def test_a_doubtful_or_victim_alert_is_notified_but_never_blocks(
    hass: HomeAssistant, home: dict[str, Any], field: str, value: str
) -> None:
    """A scan under a forged MAC, or a device under attack from the Internet: the
    person is told, the device keeps its network access (the blueprint does not
    even look for its switch)."""
    notify = async_mock_service(hass, "notify", "phone")
    turn_off = async_mock_service(hass, "switch", "turn_off")
    await _automation(hass, min_severity="info", block=True)

    anomaly = {**_anomaly(home["plug"].id, "port_scan", "warning", "scan"), field: value}
    hass.bus.async_fire(EVENT_ANOMALY, anomaly)
    await hass.async_block_till_done()
    assert len(notify) == 1
    assert turn_off == []
    trace = hass.states.get("automation.totem_notify")
    assert trace is not None
