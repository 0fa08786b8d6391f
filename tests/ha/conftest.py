"""Fixtures of the Home Assistant tests."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Generator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, PropertyMock, patch

import pytest
from homeassistant.const import MAJOR_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from custom_components.totem.const import (
    CONF_AUTO_ADD,
    CONF_AWAY_TIMEOUT,
    CONF_DEVICE_CAP,
    CONF_LEARN_DAYS,
    CONF_LOOP,
    CONF_PATH,
    CONF_SOURCE_TYPE,
    CONF_SPEED,
    CONF_STALE_DAYS,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_REPLAY,
)

FAKE_PROBE = Path(__file__).with_name("fake_probe.py")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/totem."""


class VersionedSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot format, one folder per Home Assistant major version.

    Registry entries gain fields between the versions TOTEM supports (2025.4 and
    2026.x), so each version is checked against what it recorded itself, in full,
    rather than both against a subset: snapshots/ha2025/, snapshots/ha2026/.
    """

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(Path(super().dirname(test_location=test_location)) / f"ha{MAJOR_VERSION}")


def options_form(**changes: Any) -> dict[str, Any]:
    """What a user submits on the options form's general fields, with ``changes``."""
    form: dict[str, Any] = {
        CONF_UPDATE_INTERVAL: 30.0,
        CONF_LEARN_DAYS: 2.5,
        CONF_DEVICE_CAP: 64.0,
        CONF_AUTO_ADD: True,
        CONF_AWAY_TIMEOUT: 600.0,
        CONF_STALE_DAYS: 7,
    }
    form.update(changes)
    return form


@pytest.fixture
def no_setup() -> Generator[MagicMock]:
    """The options flow alone: setting the entry up is other tests' job."""
    with (
        patch("custom_components.totem.async_setup_entry", return_value=True) as mock,
        patch("custom_components.totem.async_unload_entry", return_value=True),
    ):
        yield mock


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(VersionedSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Every entity enabled, the ones disabled by default too (as core's fixture does)."""
    with (
        patch(
            "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
            new_callable=PropertyMock,
            return_value=True,
        ),
        # The trackers choose by device type (ScannerEntity overrides the property).
        patch(
            "custom_components.totem.device_tracker.TotemTracker.entity_registry_enabled_default",
            new_callable=PropertyMock,
            return_value=True,
        ),
    ):
        yield


@pytest.fixture(autouse=True)
def config_dir_in_tmp(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The real probe writes its state file under the config dir: keep it in tmp_path,
    not in the harness's testing_config inside the virtualenv."""
    if "hass" not in request.fixturenames:
        return
    hass: HomeAssistant = request.getfixturevalue("hass")
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    hass.config.config_dir = str(config)


async def wait_for(
    hass: HomeAssistant, condition: Callable[[], bool], timeout: float = 60.0, what: str = ""
) -> None:
    """Poll a condition with a deadline: the probe is a real process."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()


def replay_entry(
    path: Path, *, speed: float = 1000.0, loop: bool = False, **options: Any
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"TOTEM replay {path.name}",
        unique_id=f"{SOURCE_REPLAY}:{path}",
        data={
            CONF_SOURCE_TYPE: SOURCE_REPLAY,
            CONF_PATH: str(path),
            CONF_SPEED: speed,
            CONF_LOOP: loop,
        },
        options={**DEFAULT_OPTIONS, **options},
    )


def write_script(path: Path, messages: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return path


def scripted_entry(
    tmp_path: Path, name: str, fake_probe: Any, messages: list[dict[str, Any]]
) -> MockConfigEntry:
    """A replay entry titled NAME whose probe is the scripted fake playing MESSAGES
    (several of them side by side: one probe per entry, as the mesh tests need)."""
    fake_probe(write_script(tmp_path / f"{name}.ndjson", messages))
    base = replay_entry(tmp_path / f"{name}.pcap")
    return MockConfigEntry(
        domain=DOMAIN, title=name, unique_id=base.unique_id, data=base.data, options=base.options
    )


@pytest.fixture
def fake_probe() -> Generator[Callable[[Path], None]]:
    """Replace the probe's command line with the scripted fake (process boundary)."""
    scripts: list[Path] = []

    def argv(args: list[str]) -> list[str]:
        return [sys.executable, str(FAKE_PROBE), str(scripts[-1]), *args]

    with patch("custom_components.totem.probe_process.probe_argv", side_effect=argv):
        yield scripts.append


def find_device(
    hass: HomeAssistant, *, mac: str | None = None, identifier: str | None = None
) -> dr.DeviceEntry | None:
    """A device by MAC connection or TOTEM identifier, on every Home Assistant leg
    (newer ones deprecate device_registry.async_get_device)."""
    registry = dr.async_get(hass)
    devices = (
        device
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
    )
    for device in devices:
        if mac is not None and (dr.CONNECTION_NETWORK_MAC, mac) in device.connections:
            return device
        if identifier is not None and (DOMAIN, identifier) in device.identifiers:
            return device
    return None


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def restart_home_assistant(
    hass: HomeAssistant, entry: MockConfigEntry, stack: AsyncExitStack
) -> tuple[HomeAssistant, MockConfigEntry]:
    """A full restart: HASS stops (every store written, its probe stopped), a new Home
    Assistant starts on the same config dir and storage (the test's ``hass_storage``),
    reads its registries and last states, and sets ENTRY up again. The new instance
    stays open until STACK closes. Tests using it carry
    ``@pytest.mark.parametrize("expected_lingering_timers", [True])``: the stopped
    instances' registries leave their clean-up timers behind."""
    from homeassistant import bootstrap, loader
    from homeassistant.helpers import area_registry as ar
    from homeassistant.helpers import category_registry as cr
    from homeassistant.helpers import entity_registry as er
    from homeassistant.helpers import floor_registry as fr
    from homeassistant.helpers import issue_registry as ir
    from homeassistant.helpers import label_registry as lr
    from homeassistant.helpers import restore_state as rs
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    # Home Assistant dumps the entities' last states when it stops; the harness turns
    # the dump off, so it is done here (restored entities, the Anomaly events, read it).
    await rs.async_get(hass).async_dump_states()
    config_dir = hass.config.config_dir
    await hass.async_stop()
    hass2 = await stack.enter_async_context(
        async_test_home_assistant(config_dir=config_dir, load_registries=False)
    )
    # The harness would start the registries empty; a restart reads what was written.
    if hasattr(dr, "async_setup"):  # newer Home Assistant sets the device registry up first
        dr.async_setup(hass2)
    for registry in (ar, cr, dr, er, fr, ir, lr):
        await registry.async_load(hass2)
    await rs.async_load(hass2)
    hass2.data[bootstrap.DATA_REGISTRIES_LOADED] = None
    hass2.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
    again = MockConfigEntry(
        domain=DOMAIN,
        entry_id=entry.entry_id,
        unique_id=entry.unique_id,
        title=entry.title,
        data=dict(entry.data),
        options=dict(entry.options),
    )
    return hass2, again


Runner = Callable[[], Awaitable[None]]
