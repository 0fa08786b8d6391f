"""Every entity of each platform, registry entry and state, against a recorded snapshot.

A scripted probe (the process boundary) reports a small home twice, ten seconds
of packet time apart, at fixed wall times, so every figure, rate and timestamp
is the same on every run. One platform is loaded at a time (snapshot_platform
wants it so) and every entity is enabled, the noisy ones disabled by default
included. The snapshots live in tests/ha/snapshots/, one folder per Home
Assistant major version (see conftest.py's ``snapshot``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.totem.const import (
    CONF_BLOCK_BACKEND,
    CONF_LOOP,
    CONF_PATH,
    CONF_SOURCE_TYPE,
    CONF_SPEED,
    DEFAULT_OPTIONS,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    SOURCE_REPLAY,
)
from custom_components.totem.engine.model import EngineStats

from .conftest import wait_for, write_script
from .messages import hang, hello, row, snapshot
from .test_switch import fake_kernel

ENTRY_ID = "01JTOTEMSNAPSHOTENTRY00000"
WALL = 1_767_225_600.0  # 2026-01-01T00:00:00Z: the probe's clock, fixed
PLUG = "50:c7:bf:00:00:01"
CAMERA = "b0:c5:54:00:00:02"
PHONE = "3c:22:fb:00:00:03"
ROTATED = "da:a1:19:00:00:04"  # a randomised MAC the engine merged into the phone


def _home(step: int) -> list[Any]:
    t = 1000.0 + step * 10
    return [
        row(
            PLUG,
            name="HS100(EU)",
            manufacturer="TP-Link",
            type="smart_plug",
            ips=["192.168.1.20"],
            tx_bytes=5_000 + step * 1_250,
            rx_bytes=7_000 + step * 2_500,
            tx_packets=10 + step,
            rx_packets=12 + step,
            remote_hosts=2,
            active_flows=3,
            last_seen=t - 1,
        ),
        row(
            CAMERA,
            name="DCS-935L",
            manufacturer="D-Link",
            type="camera",
            ips=["192.168.1.21"],
            tx_bytes=250_000 * (step + 1),
            rx_bytes=5_000 * (step + 1),
            tx_packets=200 * (step + 1),
            remote_hosts=1,
            active_flows=1,
            last_seen=t - 0.5,
        ),
        row(
            PHONE,
            name="Lucas-iPhone",
            manufacturer="Apple",
            type="phone",
            ips=["192.168.1.22"],
            tx_bytes=1_000,
            rx_bytes=4_000,
            tx_packets=5,
            last_seen=600.0,  # away for longer than the away timeout
        ),
        row(ROTATED, same_device_as=PHONE, tx_bytes=500, rx_bytes=2_000, last_seen=600.0),
    ]


@pytest.fixture
def home_probe(tmp_path: Path, fake_probe: Any) -> None:
    stats = EngineStats(kernel_dropped=3, flows_evicted=1, unicast_between_others=400)
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1000.0, _home(0), packets=3_000, stats=stats, wall_time=WALL),
                # The entities of the first snapshot exist before the second one comes.
                {"fake": "wait_file", "path": str(tmp_path / "second")},
                snapshot(2, 1010.0, _home(1), packets=4_500, stats=stats, wall_time=WALL + 10),
                hang(),
            ],
        )
    )


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The switch platform exists only where blocking can be enforced.
    with fake_kernel(tmp_path, monkeypatch):
        yield


@pytest.mark.usefixtures("home_probe", "kernel", "entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform",
    [
        Platform.BINARY_SENSOR,
        Platform.DEVICE_TRACKER,
        Platform.EVENT,
        Platform.SENSOR,
        Platform.SWITCH,
    ],
)
async def test_platform_entities(
    hass: HomeAssistant,
    tmp_path: Path,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="TOTEM home",
        unique_id=f"{SOURCE_REPLAY}:home.pcap",
        minor_version=ENTRY_MINOR_VERSION,
        data={
            CONF_SOURCE_TYPE: SOURCE_REPLAY,
            CONF_PATH: str(tmp_path / "home.pcap"),
            CONF_SPEED: 1.0,
            CONF_LOOP: False,
        },
        options={**DEFAULT_OPTIONS, CONF_BLOCK_BACKEND: "nftables-bridge"},
    )
    entry.add_to_hass(hass)
    with patch("custom_components.totem.setup.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        coordinator = entry.runtime_data.coordinator
        await wait_for(
            hass,
            lambda: coordinator.data is not None and coordinator.data.time == 1000.0,
            what="the first snapshot",
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        (tmp_path / "second").touch()
        await wait_for(hass, lambda: coordinator.data.time == 1010.0, what="the second snapshot")
        await hass.async_block_till_done(wait_background_tasks=True)
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
        assert await hass.config_entries.async_unload(entry.entry_id)
