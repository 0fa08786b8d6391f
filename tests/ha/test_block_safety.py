"""Blocking that cannot hurt the home: what TOTEM refuses, and switches that say so.

Each refusal is checked twice: the device has no "Network access" switch,
and totem.block_device refuses it with the translated reason, leaving the
kernel untouched. The kernel is faked at the nft boundary (see test_switch.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.totem.blocking import ISSUE_CANNOT_CUT, blocking_issue_id
from custom_components.totem.const import DOMAIN
from custom_components.totem.engine import hostinfo
from custom_components.totem.engine.model import DeviceRow
from tests.engine.test_enforce import FakeNft

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot
from .test_switch import GATEWAY_IP, GATEWAY_MAC, PLUG, blocked, fake_kernel, switch_id

ROUTER = "00:b5:6d:06:08:ba"  # a router whose MAC the host's routes never name
SERVER = "b8:27:eb:00:00:53"  # a Raspberry Pi running Pi-hole (DNS) and DHCP
AP = "74:83:c2:00:00:0a"

# `ip -j ...` after a neighbour-cache flush: the route is there, the gateway's MAC is not.
_FLUSHED_IP = f"""#!/bin/sh
case "$*" in
  *"-4 route"*) echo '[{{"dst":"default","gateway":"{GATEWAY_IP}","dev":"br0"}}]' ;;
  *"-6 route"*) echo '[]' ;;
  *neigh*) echo '[]' ;;
  *) exit 1 ;;
esac
"""


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    with fake_kernel(tmp_path, monkeypatch) as fake:
        yield fake


def flush_neighbours(tmp_path: Path) -> None:
    (tmp_path / "bin" / "ip").write_text(_FLUSHED_IP)


async def start_with(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, rows: list[DeviceRow], **options: Any
) -> Any:
    fake_probe(
        write_script(tmp_path / "probe.ndjson", [hello(), snapshot(1, 1010.0, rows), hang()])
    )
    entry = replay_entry(tmp_path / "x.pcap", **{"block_backend": "nftables-bridge", **options})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    macs = {r.mac for r in rows}
    await wait_for(
        hass,
        lambda: coordinator.data is not None and macs <= set(coordinator.data.devices),
        what="the devices",
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


def has_switch(hass: HomeAssistant, entry_id: str, mac: str) -> bool:
    unique_id = f"{entry_id}-{mac}-network_access"
    return er.async_get(hass).async_get_entity_id("switch", DOMAIN, unique_id) is not None


async def refused(hass: HomeAssistant, mac: str) -> str:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "block_device", {"mac": mac}, blocking=True)
    assert err.value.translation_domain == DOMAIN
    # The translated text names the device (no placeholder left unfilled).
    assert mac in str(err.value)
    return str(err.value.translation_key)


LAN: dict[str, Any] = {"tx_bytes": 900, "tx_packets": 6, "rx_packets": 3, "last_seen": 1010.0}


@pytest.mark.parametrize(
    ("observed", "reason"),
    [
        (row(ROUTER, type="router", ips=["192.168.1.1"], **LAN), "router"),
        (row(AP, type="access_point", **LAN), "router"),
        (row(SERVER, roles=["dhcp_server"], type="server", **LAN), "dhcp_server"),
        (row(SERVER, roles=["dns_server"], type="server", **LAN), "dns_server"),
        (row(ROUTER, roles=["gateway"], type="unknown", **LAN), "gateway"),
        # The host's neighbour cache lost the gateway, the snapshot still shows who has its IP.
        (row(GATEWAY_MAC, ips=[GATEWAY_IP], **LAN), "gateway"),
    ],
    ids=["router", "access_point", "dhcp_server", "dns_server", "routes_for_many", "arp_owner"],
)
async def test_observed_infrastructure_gets_no_switch_and_is_refused(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    observed: DeviceRow,
    reason: str,
) -> None:
    flush_neighbours(tmp_path)
    entry = await start_with(hass, tmp_path, fake_probe, [observed, row(PLUG, **LAN)])
    assert not has_switch(hass, entry.entry_id, observed.mac)
    assert has_switch(hass, entry.entry_id, PLUG)
    assert await refused(hass, observed.mac) == reason
    assert blocked(kernel) == set()
    # An ordinary device is still blocked as asked.
    await hass.services.async_call(DOMAIN, "block_device", {"mac": PLUG}, blocking=True)
    assert blocked(kernel) == {PLUG}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_protection_survives_a_restart_and_a_flushed_cache(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    """Once seen serving DHCP, a device stays protected when it is quiet after a restart
    (not in the snapshot) and the host's cache says nothing; the gateway the cache once
    resolved stays protected too."""
    entry = await start_with(
        hass, tmp_path, fake_probe, [row(SERVER, roles=["dhcp_server"], **LAN), row(PLUG, **LAN)]
    )
    await hass.config_entries.async_unload(entry.entry_id)
    flush_neighbours(tmp_path)
    fake_probe(
        write_script(
            tmp_path / "quiet.ndjson", [hello(), snapshot(1, 1010.0, [row(PLUG, **LAN)]), hang()]
        )
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await refused(hass, SERVER) == "dhcp_server"
    assert await refused(hass, GATEWAY_MAC) == "gateway"
    assert blocked(kernel) == set()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_host_itself_has_no_switch(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    own = next(mac for mac in hostinfo.read_interfaces().values() if mac != "00:00:00:00:00:00")
    entry = await start_with(hass, tmp_path, fake_probe, [row(own, **LAN), row(PLUG, **LAN)])
    assert not has_switch(hass, entry.entry_id, own)
    assert await refused(hass, own) == "own_host"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_capture_interface_has_no_switch(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    capture = "dc:a6:32:00:00:0a"
    with patch("custom_components.totem.blocking.capture_mac_of", return_value=capture):
        entry = await start_with(
            hass, tmp_path, fake_probe, [row(capture, **LAN), row(PLUG, **LAN)]
        )
    assert not has_switch(hass, entry.entry_id, capture)
    assert await refused(hass, capture) == "capture_interface"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_device_that_turns_out_to_be_a_router_loses_its_switch(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, kernel: FakeNft
) -> None:
    again = tmp_path / "again"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(ROUTER, **LAN)]),
                {"fake": "wait_file", "path": str(again)},
                snapshot(2, 1020.0, [row(ROUTER, roles=["dhcp_server"], **LAN)]),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap", block_backend="nftables-bridge")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass, lambda: coordinator.data is not None and ROUTER in coordinator.data.devices
    )
    assert has_switch(hass, entry.entry_id, ROUTER)
    again.touch()
    await wait_for(hass, lambda: coordinator.data.time == 1020.0, what="the second snapshot")
    await hass.async_block_till_done()
    assert not has_switch(hass, entry.entry_id, ROUTER)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_only_an_administrator_may_turn_the_switch(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_admin_user: MockUser,
) -> None:
    """Home Assistant's default policy lets every user (system-users) turn switches."""
    user = await hass.auth.async_create_user("Kid", group_ids=["system-users"])
    assert not user.is_admin
    entry = await start_with(hass, tmp_path, fake_probe, [row(PLUG, **LAN)])
    entity_id = switch_id(hass, PLUG)
    with pytest.raises(Unauthorized) as err:
        await hass.services.async_call(
            "switch",
            "turn_off",
            {"entity_id": entity_id},
            blocking=True,
            context=Context(user_id=user.id),
        )
    assert err.value.translation_key == "admin_only"
    assert blocked(kernel) == set()
    assert hass.states.get(entity_id).state == "on"
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": entity_id},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert blocked(kernel) == {PLUG}
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("backend", "host", "says"),
    [
        ("nftables-bridge", "no_bridge", "no Linux bridge"),
        ("nftables-inet", "no_routing", "does not route"),
    ],
)
async def test_a_backend_that_cannot_cut_traffic_makes_switches_unavailable(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    host: str,
    says: str,
) -> None:
    if host == "no_bridge":
        monkeypatch.setattr(hostinfo, "read_bridges", lambda *_args: ())
    else:
        (tmp_path / "ip_forward").write_text("0\n")
    entry = await start_with(hass, tmp_path, fake_probe, [row(PLUG, **LAN)], block_backend=backend)
    assert hass.states.get(switch_id(hass, PLUG)).state == "unavailable"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, blocking_issue_id(ISSUE_CANNOT_CUT, entry.entry_id)
    )
    assert issue is not None
    assert issue.translation_key == "blocking_cannot_cut"
    assert says in issue.translation_placeholders["message"]
    assert await refused(hass, PLUG) == "cannot_cut"
    assert blocked(kernel, "bridge") == set()
    assert blocked(kernel, "inet") == set()
    await hass.config_entries.async_unload(entry.entry_id)
