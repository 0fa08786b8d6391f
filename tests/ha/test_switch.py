"""The "Network access" switch: on = allowed, state read back from the kernel.

The kernel is faked only at the nft boundary: ``FakeNft`` (the engine tests'
model of nft and the kernel's ruleset) stands in for the ``nft`` process, and
a fake ``ip`` executable on PATH gives the host a known default gateway.
Everything between the switch and the nft command line is TOTEM's real code.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.blocking import blocking_issue_id
from custom_components.totem.const import BLOCK_BACKEND_AUTO, CONF_BLOCK_BACKEND, DOMAIN
from custom_components.totem.engine import hostinfo
from custom_components.totem.engine.enforce import NftRunner
from tests.conftest import require_root, require_tool
from tests.engine.test_enforce import FakeNft

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"
CAMERA = "a4:cf:12:00:00:02"
GATEWAY_IP = "192.0.2.1"
GATEWAY_MAC = "00:1a:2b:00:00:01"
BRIDGE = "bridge"  # nft family of the nftables-bridge backend
MAC_SET = "blocked_macs"

# `ip -j ...` as the host would answer: one default route via GATEWAY_IP.
_FAKE_IP = f"""#!/bin/sh
case "$*" in
  *"-4 route"*) echo '[{{"dst":"default","gateway":"{GATEWAY_IP}","dev":"br0"}}]' ;;
  *"-6 route"*) echo '[]' ;;
  *neigh*) echo '[{{"dst":"{GATEWAY_IP}","dev":"br0","lladdr":"{GATEWAY_MAC}"}}]' ;;
  *) exit 1 ;;
esac
"""


def host_that_cuts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that bridges and routes, so either family cuts traffic (see
    test_block_safety.py for hosts where they cannot)."""
    monkeypatch.setattr(hostinfo, "read_bridges", lambda *_args: ("br0",))
    forwarding = tmp_path / "ip_forward"
    forwarding.write_text("1\n")
    monkeypatch.setattr(hostinfo, "PROC_IP_FORWARD", forwarding)


@contextmanager
def fake_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    """The fake nft in place of the real one, and a host with a known gateway."""
    tools = tmp_path / "bin"
    tools.mkdir()
    ip = tools / "ip"
    ip.write_text(_FAKE_IP)
    ip.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    host_that_cuts(tmp_path, monkeypatch)
    fake = FakeNft()
    with patch("custom_components.totem.blocking.NftRunner", lambda: fake):
        yield fake


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    with fake_kernel(tmp_path, monkeypatch) as fake:
        yield fake


def blocked(fake: FakeNft, family: str = BRIDGE) -> set[str]:
    """The MACs in TOTEM's set, straight from the fake kernel."""
    if (family, "totem") not in fake.tables:
        return set()
    return set(fake.elements(family, MAC_SET))


def probe_script(tmp_path: Path, macs: tuple[str, ...]) -> Path:
    """A probe that reports MACS, and reports them again once the test creates 'again'."""
    rows = [row(m, tx_bytes=600, tx_packets=4, last_seen=1010.0) for m in macs]
    return write_script(
        tmp_path / "probe.ndjson",
        [
            hello(),
            snapshot(1, 1010.0, rows),
            {"fake": "wait_file", "path": str(tmp_path / "again")},
            snapshot(2, 1020.0, rows),
            hang(),
        ],
    )


async def start(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    *,
    backend: str = "nftables-bridge",
    macs: tuple[str, ...] = (PLUG, CAMERA),
    entry: MockConfigEntry | None = None,
) -> MockConfigEntry:
    """TOTEM set up with the scripted probe, once its devices are in."""
    fake_probe(probe_script(tmp_path, macs))
    if entry is None:
        entry = replay_entry(tmp_path / "x.pcap", **{CONF_BLOCK_BACKEND: backend})
        await setup_entry(hass, entry)
    else:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        # The probe's own snapshot, not devices restored from the store.
        lambda: coordinator.data is not None
        and coordinator.data.time == 1010.0
        and set(macs) <= set(coordinator.data.devices),
        what="the devices",
    )
    return entry


def switch_id(hass: HomeAssistant, mac: str) -> str:
    registry = er.async_get(hass)
    entity_id = next(
        (
            found
            for entry in hass.config_entries.async_entries(DOMAIN)
            if (
                found := registry.async_get_entity_id(
                    "switch", DOMAIN, f"{entry.entry_id}-{mac}-network_access"
                )
            )
        ),
        None,
    )
    assert entity_id is not None, f"no Network access switch for {mac}"
    return entity_id


def state(hass: HomeAssistant, mac: str) -> str:
    return hass.states.get(switch_id(hass, mac)).state


async def switch(hass: HomeAssistant, mac: str, on: bool) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": switch_id(hass, mac)},
        blocking=True,
    )


async def another_snapshot(hass: HomeAssistant, tmp_path: Path) -> None:
    """Let the probe send its next snapshot and wait for the switches to read the kernel."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    coordinator = entry.runtime_data.coordinator
    (tmp_path / "again").touch()
    await wait_for(hass, lambda: coordinator.data.time == 1020.0, what="the second snapshot")
    # The kernel is read in a background task the snapshot started.
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_switch_off_blocks_and_on_unblocks(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    registry = er.async_get(hass)
    entity = registry.async_get(switch_id(hass, PLUG))
    assert entity.entity_category is EntityCategory.CONFIG
    assert entity.translation_key == "network_access"
    assert hass.states.get(entity.entity_id).name.endswith("Network access")
    assert state(hass, PLUG) == "on"  # on = allowed

    await switch(hass, PLUG, on=False)
    assert blocked(kernel) == {PLUG}
    assert state(hass, PLUG) == "off"
    assert state(hass, CAMERA) == "on"
    # A permanent block: no expiry in the kernel, none shown.
    assert kernel.elements(BRIDGE, MAC_SET)[PLUG].timeout is None
    assert "blocked_until" not in hass.states.get(switch_id(hass, PLUG)).attributes

    await switch(hass, PLUG, on=True)
    assert blocked(kernel) == set()
    assert state(hass, PLUG) == "on"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_state_follows_the_kernel_when_a_rule_is_removed_by_hand(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    await switch(hass, PLUG, on=False)
    await switch(hass, CAMERA, on=False)
    assert state(hass, PLUG) == "off"

    # An administrator deletes the element with nft, behind Home Assistant's back.
    del kernel.elements(BRIDGE, MAC_SET)[PLUG]
    assert state(hass, PLUG) == "off"  # nothing read yet
    await another_snapshot(hass, tmp_path)
    assert state(hass, PLUG) == "on"
    assert state(hass, CAMERA) == "off"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_blocks_come_back_after_a_restart(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    await switch(hass, PLUG, on=False)
    await hass.services.async_call(
        DOMAIN, "block_device", {"mac": CAMERA, "duration": {"hours": 1}}, blocking=True
    )
    assert blocked(kernel) == {PLUG, CAMERA}

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    kernel.tables.clear()  # a reboot empties the kernel's ruleset
    kernel.transactions.clear()

    await start(hass, tmp_path, fake_probe, entry=entry)
    # Put back before the switches were created, in the kernel, not from memory.
    assert kernel.transactions, "nothing was sent to nft on start"
    assert blocked(kernel) == {PLUG, CAMERA}
    assert kernel.elements(BRIDGE, MAC_SET)[PLUG].timeout is None
    left = kernel.elements(BRIDGE, MAC_SET)[CAMERA].timeout
    assert left is not None
    assert 3500 < left <= 3600
    assert state(hass, PLUG) == "off"
    assert state(hass, CAMERA) == "off"
    assert "blocked_until" in hass.states.get(switch_id(hass, CAMERA)).attributes
    await hass.config_entries.async_unload(entry.entry_id)


async def test_stored_blocks_get_their_remaining_time_and_expired_or_unsafe_ones_are_dropped(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_storage: dict[str, Any],
) -> None:
    import time

    entry = replay_entry(tmp_path / "x.pcap", **{CONF_BLOCK_BACKEND: "nftables-bridge"})
    now = time.time()
    hass_storage[f"{DOMAIN}.{entry.entry_id}.blocks"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.blocks",
        "data": {
            "backend": "nftables-bridge",
            "blocks": [
                {"mac": PLUG, "until": now + 3000, "ips": []},
                {"mac": CAMERA, "until": now - 10, "ips": []},  # ran out while HA was down
                # Since blocked, this MAC became the default gateway: safety wins.
                {"mac": GATEWAY_MAC, "until": None, "ips": []},
            ],
        },
    }
    entry.add_to_hass(hass)
    await start(hass, tmp_path, fake_probe, entry=entry)

    assert blocked(kernel) == {PLUG}
    left = kernel.elements(BRIDGE, MAC_SET)[PLUG].timeout
    assert left is not None
    assert 2900 < left <= 3000
    assert state(hass, CAMERA) == "on"
    assert [
        b["mac"] for b in hass_storage[f"{DOMAIN}.{entry.entry_id}.blocks"]["data"]["blocks"]
    ] == [PLUG]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_removing_the_entry_drops_totems_table(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_storage: dict[str, Any],
) -> None:
    entry = await start(hass, tmp_path, fake_probe)
    await switch(hass, PLUG, on=False)
    assert (BRIDGE, "totem") in kernel.tables
    assert f"{DOMAIN}.{entry.entry_id}.blocks" in hass_storage

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert (BRIDGE, "totem") not in kernel.tables
    assert f"{DOMAIN}.{entry.entry_id}.blocks" not in hass_storage


async def test_missing_nft_raises_a_repair_issue_and_clears_when_fixed(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    kernel.missing = True
    entry = await start(hass, tmp_path, fake_probe)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, blocking_issue_id("nft_missing", entry.entry_id)
    )
    assert issue is not None
    assert issue.translation_key == "blocking_nft_missing"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert "nft is not installed" in issue.translation_placeholders["message"]
    # A switch that cannot work says so instead of pretending.
    assert state(hass, PLUG) == "unavailable"

    kernel.missing = False  # the user installed nftables
    await another_snapshot(hass, tmp_path)
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, blocking_issue_id("nft_missing", entry.entry_id))
        is None
    )
    assert state(hass, PLUG) == "on"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_automatic_choice_without_nft_stays_quiet_until_asked(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    # Home Assistant OS has no nft: a user who never blocks gets no repair issue.
    kernel.missing = True
    entry = await start(hass, tmp_path, fake_probe, backend=BLOCK_BACKEND_AUTO)
    issue_id = blocking_issue_id("nft_missing", entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    # Asking for a block is when the fix matters.
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "block_device", {"mac": PLUG}, blocking=True)
    assert err.value.translation_key == "nft_missing"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_switch_drives_the_real_nft_in_a_throwaway_namespace(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path with the real nft and kernel, inside a network namespace of its own."""
    require_root("the real nft in a throwaway network namespace")
    host_that_cuts(tmp_path, monkeypatch)
    nft = require_tool("nft")
    ip = require_tool("ip")
    ns = f"totem-ha-{uuid.uuid4().hex[:8]}"
    subprocess.run([ip, "netns", "add", ns], check=True)
    in_ns = (ip, "netns", "exec", ns)

    def listed() -> str:
        done = subprocess.run(
            [*in_ns, nft, "-j", "list", "ruleset"], capture_output=True, text=True, check=True
        )
        return done.stdout

    try:
        with patch("custom_components.totem.blocking.NftRunner", lambda: NftRunner(prefix=in_ns)):
            entry = await start(hass, tmp_path, fake_probe)
            await switch(hass, PLUG, on=False)
            assert PLUG in listed()
            assert state(hass, PLUG) == "off"

            # Deleted by hand with nft: the switch follows the kernel.
            element = ["delete", "element", "bridge", "totem", "blocked_macs", "{", PLUG, "}"]
            subprocess.run([*in_ns, nft, *element], check=True)
            await another_snapshot(hass, tmp_path)
            assert state(hass, PLUG) == "on"

            await switch(hass, CAMERA, on=False)
            assert CAMERA in listed()
            await hass.config_entries.async_remove(entry.entry_id)
            await hass.async_block_till_done()
            tables = [i["table"] for i in json.loads(listed())["nftables"] if "table" in i]
            assert [t for t in tables if t["name"] == "totem"] == []
    finally:
        subprocess.run([ip, "netns", "del", ns], check=False)


async def test_blocks_wait_for_nft_and_go_in_once_it_works(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_storage: dict[str, Any],
) -> None:
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_BLOCK_BACKEND: "nftables-bridge"})
    key = f"{DOMAIN}.{entry.entry_id}.blocks"
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {"backend": "nftables-bridge", "blocks": [{"mac": PLUG, "until": None}]},
    }
    entry.add_to_hass(hass)
    kernel.missing = True  # e.g. nftables not installed yet after a fresh install
    await start(hass, tmp_path, fake_probe, entry=entry)
    issue_id = blocking_issue_id("nft_missing", entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    # The block is not forgotten while it cannot be enforced.
    assert [b["mac"] for b in hass_storage[key]["data"]["blocks"]] == [PLUG]

    kernel.missing = False
    await another_snapshot(hass, tmp_path)
    assert blocked(kernel) == {PLUG}
    assert state(hass, PLUG) == "off"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_removing_one_of_two_entries_lifts_only_its_own_blocks(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    # Two probes on one host share TOTEM's table: each entry owns what it blocked.
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    first = await start(hass, first_dir, fake_probe, macs=(PLUG,))
    second = await start(hass, second_dir, fake_probe, macs=(CAMERA,))
    await switch(hass, PLUG, on=False)
    await switch(hass, CAMERA, on=False)
    assert blocked(kernel) == {PLUG, CAMERA}

    await hass.config_entries.async_remove(first.entry_id)
    await hass.async_block_till_done()
    assert blocked(kernel) == {CAMERA}

    await hass.config_entries.async_remove(second.entry_id)
    await hass.async_block_till_done()
    assert (BRIDGE, "totem") not in kernel.tables
