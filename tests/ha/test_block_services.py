"""totem.block_device / totem.unblock_device: targets, durations, refusals, admin only.

The kernel is faked only at the nft boundary (see test_switch.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockUser, async_fire_time_changed

from custom_components.totem.blocking import blocking_issue_id
from custom_components.totem.const import DOMAIN
from custom_components.totem.engine.enforce import NftResult
from tests.engine.test_enforce import FakeNft

from .conftest import find_device
from .test_switch import (
    BRIDGE,
    CAMERA,
    GATEWAY_MAC,
    MAC_SET,
    PLUG,
    blocked,
    fake_kernel,
    start,
    state,
    switch_id,
)


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    with fake_kernel(tmp_path, monkeypatch) as fake:
        yield fake


async def block(hass: HomeAssistant, data: dict[str, Any], **kwargs: Any) -> None:
    await hass.services.async_call(DOMAIN, "block_device", data, blocking=True, **kwargs)


async def unblock(hass: HomeAssistant, data: dict[str, Any], **kwargs: Any) -> None:
    await hass.services.async_call(DOMAIN, "unblock_device", data, blocking=True, **kwargs)


async def test_block_and_unblock_a_device_by_device_id(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    device = find_device(hass, mac=PLUG)
    await block(hass, {"device_id": device.id})
    assert blocked(kernel) == {PLUG}
    assert state(hass, PLUG) == "off"
    await unblock(hass, {"device_id": device.id})
    assert blocked(kernel) == set()
    assert state(hass, PLUG) == "on"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_block_by_mac_in_any_spelling(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    await block(hass, {"mac": CAMERA.upper().replace(":", "-")})
    assert blocked(kernel) == {CAMERA}
    assert state(hass, CAMERA) == "off"
    await unblock(hass, {"mac": CAMERA})
    assert blocked(kernel) == set()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_temporary_block_expires_by_itself(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    device = find_device(hass, mac=PLUG)
    await block(hass, {"device_id": device.id, "duration": {"minutes": 1}})
    # The kernel holds the timeout, so the block ends even if Home Assistant is down.
    assert kernel.elements(BRIDGE, MAC_SET)[PLUG].timeout == 60
    assert state(hass, PLUG) == "off"
    until = hass.states.get(switch_id(hass, PLUG)).attributes["blocked_until"]
    assert 0 < (dt_util.parse_datetime(until) - dt_util.utcnow()).total_seconds() <= 60

    kernel.expire_after(61)  # the kernel's clock runs out...
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=62))  # ...and ours
    await hass.async_block_till_done(wait_background_tasks=True)
    assert blocked(kernel) == set()
    assert state(hass, PLUG) == "on"
    assert "blocked_until" not in hass.states.get(switch_id(hass, PLUG)).attributes
    await hass.config_entries.async_unload(entry.entry_id)


async def test_gateway_is_refused_with_a_translated_error(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    with pytest.raises(ServiceValidationError) as err:
        await block(hass, {"mac": GATEWAY_MAC})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "gateway"
    # The message comes from translations/en.json, not from the key.
    assert str(err.value) == (
        f"Refusing to block {GATEWAY_MAC}: it is the default gateway, "
        "and the whole network would lose its way out"
    )
    assert blocked(kernel) == set()
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"mac": "not-a-mac"}, "invalid_mac"),
        ({"mac": "ff:ff:ff:ff:ff:ff"}, "invalid_mac"),
        ({"mac": PLUG, "duration": {"seconds": 0}}, "invalid_duration"),
        ({"mac": PLUG, "duration": {"days": 400}}, "invalid_duration"),
    ],
)
async def test_bad_requests_are_refused_with_their_reason(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    data: dict[str, Any],
    reason: str,
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    with pytest.raises(ServiceValidationError) as err:
        await block(hass, data)
    assert err.value.translation_key == reason
    assert "{" not in str(err.value)  # every placeholder filled
    assert blocked(kernel) == set()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unknown_device_and_device_without_mac_are_refused(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    with pytest.raises(ServiceValidationError) as err:
        await block(hass, {"device_id": "no-such-device"})
    assert err.value.translation_key == "device_not_found"
    hub = find_device(hass, identifier=entry.entry_id)  # the probe itself has no MAC
    with pytest.raises(ServiceValidationError) as err:
        await block(hass, {"device_id": hub.id})
    assert err.value.translation_key == "device_without_mac"
    assert blocked(kernel) == set()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_non_admin_user_is_refused(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_read_only_user: MockUser,
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    context = Context(user_id=hass_read_only_user.id)
    with pytest.raises(Unauthorized):
        await block(hass, {"mac": PLUG}, context=context)
    assert blocked(kernel) == set()

    await block(hass, {"mac": PLUG})
    with pytest.raises(Unauthorized):
        await unblock(hass, {"mac": PLUG}, context=context)
    assert blocked(kernel) == {PLUG}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_permission_denied_raises_an_error_and_a_repair_issue(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    kernel.answer = NftResult(1, "", "Error: Could not process rule: Operation not permitted\n")
    with pytest.raises(HomeAssistantError) as err:
        await block(hass, {"mac": PLUG})
    assert not isinstance(err.value, ServiceValidationError)  # not the user's input
    assert err.value.translation_key == "permission_denied"
    assert "CAP_NET_ADMIN" in str(err.value)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, blocking_issue_id("permission_denied", entry.entry_id)
    )
    assert issue is not None
    assert issue.translation_key == "blocking_permission_denied"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_device_of_another_integration_with_the_same_mac_can_be_blocked(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe, macs=(PLUG,))
    # A MAC TOTEM has not admitted yet, on a device another integration made.
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    other = MockConfigEntry(domain="kasa")
    other.add_to_hass(hass)
    lamp = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, "b0:be:76:00:00:07")},
        name="Kasa lamp",
    )
    await block(hass, {"device_id": lamp.id})
    assert blocked(kernel) == {"b0:be:76:00:00:07"}
    await hass.config_entries.async_unload(entry.entry_id)
