"""Other DHCP servers as an option: the options flow refuses what is neither a MAC
nor an IP address, and a listed server reaches the probe and is never flagged,
while the same offers from a server not listed raise rogue_dhcp."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.totem.alerts import EVENT_ANOMALY
from custom_components.totem.const import (
    CONF_DHCP_SERVERS,
    CONF_LEARN_DAYS,
    CONF_UPDATE_INTERVAL,
)
from custom_components.totem.engine.messages import Hello
from custom_components.totem.engine.protocol import AllowDhcpServers
from custom_components.totem.engine.sources import Packet
from custom_components.totem.options import TotemConfig
from tests.traffic.synth import dhcp_ack, eth, ipv4, udp

from .captures import ROUTER, ROUTER_IP, chat, mac_bytes, write
from .conftest import options_form, replay_entry, setup_entry, wait_for

OPTIONS = options_form(**{CONF_UPDATE_INTERVAL: 1.0, CONF_LEARN_DAYS: 0})
MESH = "f0:b4:29:00:00:aa"  # a mesh node that hands out addresses on its own segment
MESH_IP = bytes([192, 168, 1, 3])
LAPTOP = "a4:c3:f0:00:00:01"
START = 1000.0


async def _submit(hass: HomeAssistant, entry: Any, servers: list[str]) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_DHCP_SERVERS: servers}
    )


async def test_dhcp_servers_are_validated_and_reach_the_probe_command_line(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    for bad in (["f0:b4:29:00:00"], ["pihole"], [MESH, "300.1.1.1"], ["ff:ff:ff:ff:ff:ff"]):
        result = await _submit(hass, entry, bad)
        assert result["type"] is FlowResultType.FORM, bad
        assert result["errors"] == {CONF_DHCP_SERVERS: "invalid_dhcp_server"}, bad
    assert CONF_DHCP_SERVERS not in entry.options

    result = await _submit(hass, entry, ["F0-B4-29-00-00-AA", " 192.168.1.2 "])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_DHCP_SERVERS] == ["192.168.1.2", MESH]
    args = TotemConfig.from_config_entry(entry).probe_args()
    given = [args[i + 1] for i, arg in enumerate(args) if arg == "--dhcp-server"]
    assert given == ["192.168.1.2", MESH]
    # The form shows the list in use; emptied, the option is gone.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = {str(k): k.description for k in result["data_schema"].schema}
    assert shown[CONF_DHCP_SERVERS] == {"suggested_value": ["192.168.1.2", MESH]}
    result = await _submit(hass, entry, [])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_DHCP_SERVERS not in entry.options
    assert "--dhcp-server" not in TotemConfig.from_config_entry(entry).probe_args()


def _two_servers(path: Path) -> Path:
    """The router answers a laptop's DHCP, then the mesh node answers it too."""
    laptop, laptop_ip = mac_bytes(LAPTOP), bytes([192, 168, 1, 30])
    packets: list[Packet] = chat(LAPTOP, 30, START, 20)

    def ack(ts: float, mac: bytes, ip: bytes) -> None:
        payload = dhcp_ack(7, laptop, laptop_ip, ip)
        frame = eth(laptop, mac, 0x0800, ipv4(ip, laptop_ip, 17, udp(67, 68, payload)))
        packets.append((ts, len(frame), frame, 1))

    ack(START + 1, ROUTER, ROUTER_IP)
    for i in range(3):
        ack(START + 5 + i, mac_bytes(MESH), MESH_IP)
    return write(path, sorted(packets, key=lambda p: p[0]))


async def _rogue_alerts(hass: HomeAssistant, path: Path, **options: Any) -> list[str]:
    seen: list[dict[str, Any]] = []

    def keep(event: Event) -> None:
        seen.append(dict(event.data))

    unsub = hass.bus.async_listen(EVENT_ANOMALY, keep)
    entry = replay_entry(_two_servers(path), speed=20.0, **{**OPTIONS, **options})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    unsub()
    return [a["mac"] for a in seen if a["kind"] == "rogue_dhcp"]


async def test_a_listed_mesh_node_is_not_rogue_and_an_unlisted_one_is(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    assert await _rogue_alerts(hass, tmp_path / "unlisted.pcap") == [MESH]
    assert await _rogue_alerts(hass, tmp_path / "listed.pcap", **{CONF_DHCP_SERVERS: [MESH]}) == []
    # By address: the mesh node sends its offers from the listed address.
    assert (
        await _rogue_alerts(hass, tmp_path / "by_ip.pcap", **{CONF_DHCP_SERVERS: ["192.168.1.3"]})
        == []
    )


async def test_every_probe_start_hears_the_list_also_a_remote_one(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """A remote probe does not take Home Assistant's command line: the list goes to
    each probe that says hello, as a command."""
    entry = replay_entry(
        _two_servers(tmp_path / "c.pcap"), speed=20.0, **{**OPTIONS, CONF_DHCP_SERVERS: [MESH]}
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.hello is not None, what="hello")
    with patch.object(coordinator.probe, "send") as send:
        coordinator._on_message(Hello(source="mqtt:garden", pid=1))
    sent = [c.args[0] for c in send.call_args_list]
    assert AllowDhcpServers(servers=(MESH,)) in sent
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")
    assert await hass.config_entries.async_unload(entry.entry_id)
