"""The blocking method option: offered in the options flow, applied on reload.

The kernel is faked only at the nft boundary (see test_switch.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er

from custom_components.totem.const import (
    BLOCK_BACKEND_AUTO,
    BLOCK_BACKENDS,
    CONF_BLOCK_BACKEND,
    DEFAULT_OPTIONS,
    DOMAIN,
)
from tests.engine.test_enforce import FakeNft

from .conftest import wait_for
from .test_switch import (
    BRIDGE,
    PLUG,
    blocked,
    fake_kernel,
    probe_script,
    start,
    state,
    switch,
    switch_id,
)


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    with fake_kernel(tmp_path, monkeypatch) as fake:
        yield fake


async def choose_backend(hass: HomeAssistant, entry_id: str, backend: str) -> None:
    """Pick BACKEND in the options flow, other options unchanged; the entry reloads."""
    entry = hass.config_entries.async_get_entry(entry_id)
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.FORM
    selector = result["data_schema"].schema[CONF_BLOCK_BACKEND]
    assert selector.config["options"] == list(BLOCK_BACKENDS)
    assert selector.config["translation_key"] == CONF_BLOCK_BACKEND
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**entry.options, CONF_BLOCK_BACKEND: backend}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_BLOCK_BACKEND] == backend
    # The reloaded entry's probe has spoken (not just the devices restored from the store).
    await wait_for(
        hass,
        lambda: entry.runtime_data.coordinator.data is not None
        and entry.runtime_data.coordinator.data.time == 1010.0,
        what="the reloaded probe",
    )


def test_automatic_choice_is_the_default() -> None:
    assert DEFAULT_OPTIONS[CONF_BLOCK_BACKEND] == BLOCK_BACKEND_AUTO


async def test_switching_backend_moves_blocks_to_the_new_family(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    await switch(hass, PLUG, on=False)
    assert blocked(kernel, BRIDGE) == {PLUG}

    fake_probe(probe_script(tmp_path, (PLUG,)))
    await choose_backend(hass, entry.entry_id, "nftables-inet")
    # The bridge table is gone and the block lives on in the inet family.
    assert (BRIDGE, "totem") not in kernel.tables
    assert blocked(kernel, "inet") == {PLUG}
    assert entry.runtime_data.blocking.backend.name == "nftables-inet"
    assert state(hass, PLUG) == "off"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_alert_only_has_no_switches_and_refuses_blocks(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    await switch(hass, PLUG, on=False)
    switch_entity = switch_id(hass, PLUG)

    fake_probe(probe_script(tmp_path, (PLUG,)))
    await choose_backend(hass, entry.entry_id, "none")
    # Blocks made before are lifted: "none" means TOTEM enforces nothing.
    assert blocked(kernel, BRIDGE) == set()
    assert er.async_get(hass).async_get(switch_entity) is None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "block_device", {"mac": PLUG}, blocking=True)
    assert err.value.translation_key == "blocking_disabled"
    await hass.config_entries.async_unload(entry.entry_id)
