"""Setup, unload and reload of a config entry, with a scripted probe."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.totem.const import DOMAIN

from .conftest import find_device, replay_entry, setup_entry, wait_for, write_script
from .messages import NOW, hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"
SPOOF = "02:00:00:00:00:99"


async def test_setup_creates_devices_and_unload_stops_probe(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(
                    1,
                    1010.0,
                    [
                        row(
                            PLUG,
                            name="HS100(EU)",
                            manufacturer="TP-Link",
                            type="smart_plug",
                            tx_bytes=5000,
                            rx_bytes=7000,
                            tx_packets=10,
                            ips=["192.168.1.20"],
                            last_seen=1009.0,
                        ),
                        row(SPOOF, sent_ip=False, tx_bytes=60, tx_packets=1),
                    ],
                ),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None, what="first snapshot")

    plug = find_device(hass, mac=PLUG)
    assert plug is not None
    assert plug.name == "HS100(EU)"
    assert plug.manufacturer == "TP-Link"
    assert plug.model == "Smart plug"
    hub = find_device(hass, identifier=entry.entry_id)
    assert plug.via_device_id == hub.id
    assert find_device(hass, mac=SPOOF) is None

    entities = er.async_get(hass)
    sent = entities.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}-{PLUG}-data_sent")
    assert hass.states.get(sent).state == "5.0"  # 5000 bytes shown in kB
    online = entities.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}-{PLUG}-online"
    )
    assert hass.states.get(online).state == "on"
    # Seen 1 s of capture time before the snapshot: shown as 1 s before the snapshot's
    # wall time, floored to the minute.
    # The Last seen sensor is a diagnostic, off by default (presence is the tracker's).
    last_seen = entities.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}-{PLUG}-last_seen")
    assert entities.async_get(last_seen).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    view = coordinator.data.devices[PLUG]
    assert view.last_seen is not None
    expected = datetime.fromtimestamp((NOW + 9) // 60 * 60, UTC)
    assert datetime.fromtimestamp(view.last_seen // 60 * 60, UTC) == expected
    upload = entities.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}-{PLUG}-upload_rate")
    assert entities.async_get(upload).disabled_by is er.RegistryEntryDisabler.INTEGRATION

    pid = coordinator.probe.pid
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not Path(f"/proc/{pid}").exists()
