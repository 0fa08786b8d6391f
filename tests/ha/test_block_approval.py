"""New devices wait for approval: quarantined in the (fake) kernel, announced, approved.

The kernel is faked at the nft boundary (see test_switch.py); the kernel-level
behaviour of the quarantine (DHCP and DNS pass, the rest does not) is
tests/netns/test_block_quarantine.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.totem.approval import approval_issue_id
from custom_components.totem.const import DOMAIN, EVENT_NEW_DEVICE
from tests.engine.test_enforce import FakeNft

from .conftest import find_device, replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot
from .test_switch import BRIDGE, CAMERA, PLUG, blocked, fake_kernel

LAN: dict[str, Any] = {"tx_bytes": 900, "tx_packets": 6, "rx_packets": 3}


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    with fake_kernel(tmp_path, monkeypatch) as fake:
        yield fake


def quarantined(fake: FakeNft) -> set[str]:
    if (BRIDGE, "totem") not in fake.tables:
        return set()
    return set(fake.elements(BRIDGE, "quarantined_macs"))


async def test_a_device_that_joins_later_waits_until_approved(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    joins = tmp_path / "joins"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(PLUG, last_seen=1010.0, **LAN)]),
                {"fake": "wait_file", "path": str(joins)},
                snapshot(
                    2,
                    1020.0,
                    [row(PLUG, last_seen=1020.0, **LAN), row(CAMERA, last_seen=1020.0, **LAN)],
                ),
                hang(),
            ],
        )
    )
    events: list[tuple[float, Event]] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, lambda e: events.append((time.monotonic(), e)))
    entry = replay_entry(
        tmp_path / "x.pcap", block_backend="nftables-bridge", new_devices_wait=True
    )
    # The first inventory ends with the first snapshot (an hour in real life).
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(
            hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        # Nothing of the first inventory is held back.
        assert quarantined(kernel) == set()
        assert events == []

        joined = time.monotonic()
        joins.touch()
        await wait_for(hass, lambda: bool(events), what="the totem_new_device event")
        await hass.async_block_till_done(wait_background_tasks=True)
    told, event = events[0]
    print(f"join (probe reports it) to notification: {told - joined:.2f} s")
    assert event.data["mac"] == CAMERA
    assert event.data["device_id"] is not None
    assert event.data["decisions"] == ["approve", "keep_blocked", "forget"]
    assert event.data["held"] is True
    assert event.data["not_held_reason"] is None
    assert quarantined(kernel) == {CAMERA}
    assert blocked(kernel) == set()  # waiting is not blocked
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, approval_issue_id(entry.entry_id, CAMERA))

    # The plug was never waiting: nothing to approve.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "approve_device", {"mac": PLUG}, blocking=True)

    await hass.services.async_call(
        DOMAIN, "approve_device", {"device_id": event.data["device_id"]}, blocking=True
    )
    assert quarantined(kernel) == set()
    assert issues.async_get_issue(DOMAIN, approval_issue_id(entry.entry_id, CAMERA)) is None
    assert CAMERA in entry.runtime_data.blocking.store.known
    await hass.config_entries.async_unload(entry.entry_id)


async def test_keep_blocked_turns_the_wait_into_a_block(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    joins = tmp_path / "joins"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(PLUG, last_seen=1010.0, **LAN)]),
                {"fake": "wait_file", "path": str(joins)},
                snapshot(2, 1020.0, [row(CAMERA, last_seen=1020.0, **LAN)]),
                hang(),
            ],
        )
    )
    events: list[Event] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, events.append)
    entry = replay_entry(
        tmp_path / "x.pcap", block_backend="nftables-bridge", new_devices_wait=True
    )
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(
            hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices
        )
        joins.touch()
        await wait_for(hass, lambda: bool(events), what="the totem_new_device event")
        await hass.async_block_till_done(wait_background_tasks=True)
    await hass.services.async_call(
        DOMAIN, "approve_device", {"mac": CAMERA, "decision": "keep_blocked"}, blocking=True
    )
    assert quarantined(kernel) == set()
    assert blocked(kernel) == {CAMERA}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_approval_blueprint_loads(hass: HomeAssistant) -> None:
    """Home Assistant's blueprint loader reads it: inputs and the automation schema."""
    import shutil

    from homeassistant.components.automation.helpers import async_get_blueprints
    from homeassistant.setup import async_setup_component

    from tests.conftest import ROOT

    source = ROOT / "blueprints" / "automation" / "totem" / "approve_new_device.yaml"
    target = Path(hass.config.path("blueprints", "automation", "totem", source.name))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    assert await async_setup_component(hass, "automation", {})
    blueprint = await async_get_blueprints(hass).async_get_blueprint(f"totem/{source.name}")
    assert set(blueprint.inputs) == {"notify_device", "answer_within"}


async def test_through_the_real_probe_a_device_that_speaks_later_waits(
    hass: HomeAssistant, tmp_path: Path, kernel: FakeNft
) -> None:
    """The demo capture through the real probe, 50 times real time: the devices of the
    first snapshot are the inventory; the ones that first speak later are held back."""
    from custom_components.totem.options import DEMO_CAPTURE

    events: list[tuple[float, Event]] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, lambda e: events.append((time.monotonic(), e)))
    entry = replay_entry(
        DEMO_CAPTURE,
        speed=50.0,
        block_backend="nftables-bridge",
        new_devices_wait=True,
        update_interval=0.2,
    )
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(hass, lambda: coordinator.data is not None, timeout=60)
        first = set(coordinator.data.devices)
        await wait_for(hass, lambda: bool(events), timeout=120, what="a device joining")
        await hass.async_block_till_done(wait_background_tasks=True)
    mac = events[0][1].data["mac"]
    assert mac not in first
    assert mac in quarantined(kernel)
    assert not first & quarantined(kernel)
    await hass.services.async_call(DOMAIN, "approve_device", {"mac": mac}, blocking=True)
    assert mac not in quarantined(kernel)
    print(f"first inventory {len(first)} devices; held back {[e.data['mac'] for _, e in events]}")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_forget_lets_the_device_go_and_it_waits_again_when_it_returns(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    caplog: pytest.LogCaptureFixture,
) -> None:
    joins, returns = tmp_path / "joins", tmp_path / "returns"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(PLUG, last_seen=1010.0, **LAN)]),
                {"fake": "wait_file", "path": str(joins)},
                snapshot(2, 1020.0, [row(CAMERA, last_seen=1020.0, **LAN)]),
                {"fake": "wait_file", "path": str(returns)},
                snapshot(3, 1030.0, [row(CAMERA, last_seen=1030.0, **LAN)]),
                hang(),
            ],
        )
    )
    events: list[Event] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, events.append)
    entry = replay_entry(
        tmp_path / "x.pcap", block_backend="nftables-bridge", new_devices_wait=True
    )
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(
            hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices
        )
        joins.touch()
        await wait_for(hass, lambda: len(events) == 1, what="the totem_new_device event")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert find_device(hass, mac=CAMERA) is not None
        await hass.services.async_call(
            DOMAIN, "approve_device", {"mac": CAMERA, "decision": "forget"}, blocking=True
        )
        await hass.async_block_till_done()
        assert quarantined(kernel) == set()
        assert find_device(hass, mac=CAMERA) is None, "forgotten: no longer in Home Assistant"
        assert CAMERA not in coordinator.data.devices

        returns.touch()
        await wait_for(hass, lambda: len(events) == 2, what="the device announced again")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert quarantined(kernel) == {CAMERA}
    assert find_device(hass, mac=CAMERA) is not None
    online = [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id == f"{entry.entry_id}-{CAMERA}-online"
    ]
    assert len(online) == 1
    assert hass.states.get(online[0].entity_id) is not None
    assert "does not generate unique IDs" not in caplog.text
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("joining", "host", "reason"),
    [
        # A second router or a Pi-hole added later: cutting it would cut the home.
        (row(CAMERA, roles=["dhcp_server"], type="server", **LAN), "bridges", "dhcp_server"),
        (row(CAMERA, roles=["dns_server"], type="server", **LAN), "bridges", "dns_server"),
        (row(CAMERA, type="router", **LAN), "bridges", "router"),
        # The bridge family on a host without a bridge: the rules would cut nothing.
        (row(CAMERA, **LAN), "no_bridge", "cannot_cut"),
    ],
    ids=["dhcp_server", "dns_server", "router", "cannot_cut"],
)
async def test_a_new_device_that_cannot_be_held_back_is_announced_as_not_held(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    monkeypatch: pytest.MonkeyPatch,
    joining: Any,
    host: str,
    reason: str,
) -> None:
    """Never a waiting device that looks cut off when it is not: the event says held
    false and why, and the repair issue says it was not cut off."""
    if host == "no_bridge":
        from custom_components.totem.engine import hostinfo

        monkeypatch.setattr(hostinfo, "read_bridges", lambda *_args: ())
    joins = tmp_path / "joins"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(PLUG, last_seen=1010.0, **LAN)]),
                {"fake": "wait_file", "path": str(joins)},
                snapshot(2, 1020.0, [row(PLUG, last_seen=1020.0, **LAN), joining]),
                hang(),
            ],
        )
    )
    events: list[Event] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, events.append)
    entry = replay_entry(
        tmp_path / "x.pcap", block_backend="nftables-bridge", new_devices_wait=True
    )
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(
            hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices
        )
        joins.touch()
        await wait_for(hass, lambda: bool(events), what="the totem_new_device event")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert quarantined(kernel) == set()
    assert events[0].data["held"] is False
    assert events[0].data["not_held_reason"] == reason
    issue = ir.async_get(hass).async_get_issue(DOMAIN, approval_issue_id(entry.entry_id, CAMERA))
    assert issue is not None
    assert issue.translation_key == "new_device_not_held"
    assert issue.translation_placeholders["reason"]
    # Keep blocked is refused with the same reason, and it still waits.
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            DOMAIN, "approve_device", {"mac": CAMERA, "decision": "keep_blocked"}, blocking=True
        )
    assert refused.value.translation_key == reason
    assert blocked(kernel) == set()
    assert CAMERA in entry.runtime_data.blocking.store.waiting
    # It still waits for the user's word: approving it makes it known.
    await hass.services.async_call(DOMAIN, "approve_device", {"mac": CAMERA}, blocking=True)
    assert CAMERA in entry.runtime_data.blocking.store.known
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_rotated_private_mac_of_a_known_device_does_not_wait(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    """A phone that rotates its private MAC after the first inventory (the engine links
    the new MAC to it by its DHCP client id or host name) is no new device."""
    phone, rotated = "3c:22:fb:00:00:01", "da:a1:19:00:00:02"
    rotates = tmp_path / "rotates"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(phone, type="phone", last_seen=1010.0, **LAN)]),
                {"fake": "wait_file", "path": str(rotates)},
                # The old MAC is silent now; only the rotated one speaks.
                snapshot(2, 1020.0, [row(rotated, same_device_as=phone, last_seen=1020.0, **LAN)]),
                hang(),
            ],
        )
    )
    events: list[Event] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, events.append)
    entry = replay_entry(
        tmp_path / "x.pcap", block_backend="nftables-bridge", new_devices_wait=True
    )
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(
            hass, lambda: coordinator.data is not None and phone in coordinator.data.devices
        )
        rotates.touch()
        await wait_for(hass, lambda: coordinator.data.time == 1020.0, what="the rotation")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert rotated in coordinator.data.devices[phone].macs, "the rotation was seen"
    assert events == []
    assert quarantined(kernel) == set()
    assert entry.runtime_data.blocking.store.waiting == {}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_waiting_devices_are_held_again_at_start_and_let_go_when_the_option_goes_off(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_storage: dict[str, Any],
) -> None:
    """A reboot empties the kernel's sets: a device that was waiting is held again when
    TOTEM starts. Turning the option off lets it go (nothing could approve it any
    more) and the next time it is on, the first inventory starts again."""
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello(), snapshot(1, 1010.0, [row(PLUG, last_seen=1010.0, **LAN)]), hang()],
        )
    )
    events: list[Event] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, events.append)
    entry = replay_entry(
        tmp_path / "x.pcap", block_backend="nftables-bridge", new_devices_wait=True
    )
    key = f"{DOMAIN}.{entry.entry_id}.blocks"
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {
            "backend": "nftables-bridge",
            "blocks": [],
            "known": [PLUG],
            "inventory_until": time.time() - 60,
            "waiting": {CAMERA: time.time() - 30},
        },
    }
    assert quarantined(kernel) == set()  # the host rebooted
    await setup_entry(hass, entry)
    assert quarantined(kernel) == {CAMERA}
    issue_id = approval_issue_id(entry.entry_id, CAMERA)
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, issue_id).translation_key == "new_device_waiting"
    assert events == []  # the user was told when it joined

    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "new_devices_wait": False}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert quarantined(kernel) == set()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    store = entry.runtime_data.blocking.store
    assert store.waiting == {}
    assert store.known is None
    assert store.inventory_until is None
    await hass.config_entries.async_unload(entry.entry_id)
