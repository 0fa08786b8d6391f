"""Diagnostics keep addresses and names out."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.core import HomeAssistant

from custom_components.totem.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)

from .conftest import find_device, replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"
SECRETS = (PLUG, "192.168.1.20", "Lucas-Plug", "devs.tplinkcloud.com")


async def test_diagnostics_redact_macs_ips_and_names(
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
                            name="Lucas-Plug",
                            ips=["192.168.1.20"],
                            domains=["devs.tplinkcloud.com"],
                            tx_bytes=1234,
                        )
                    ],
                ),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices)

    diag = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diag)
    for secret in SECRETS:
        assert secret not in text
    assert str(tmp_path) not in text  # the capture path names the user's folders
    device_diag = diag["devices"]["device_0"]
    assert device_diag["view"]["tx_bytes"] == 1234
    assert device_diag["view"]["mac"] == "**REDACTED**"
    assert diag["coordinator"]["source_available"] is True

    plug = find_device(hass, mac=PLUG)
    one = await async_get_device_diagnostics(hass, entry, plug)
    text = json.dumps(one)
    for secret in SECRETS:
        assert secret not in text
    assert one["record"]["type"] == "unknown"

    hub = find_device(hass, identifier=entry.entry_id)
    hub_diag = await async_get_device_diagnostics(hass, entry, hub)
    assert hub_diag["coordinator"]["packets"] == 0
    await hass.config_entries.async_unload(entry.entry_id)
