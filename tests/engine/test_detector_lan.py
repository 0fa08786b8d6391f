"""LAN detectors: MAC floods vs. a power cut, ARP spoofing vs. an address that moved,
rogue DHCP vs. a second interface of the same server."""

from __future__ import annotations

from typing import Any

from custom_components.totem.engine.detectors.guard import attach_detectors
from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.sources import Packet
from tests.traffic.synth import (
    BROADCAST,
    ROUTER_IP,
    ROUTER_MAC,
    HomeTraffic,
    arp,
    dhcp_ack,
    eth,
    ipv4,
    make_home,
    udp,
)

T0 = 1_700_000_000.0
LAPTOP = bytes.fromhex("a4c3f0000001")
LAPTOP_IP = bytes([192, 168, 1, 30])


def run(packets: list[Packet], learn: float = 0.0) -> Engine:
    engine = Engine(EngineConfig(learn_seconds=learn))
    attach_detectors(engine)
    packets = sorted(packets, key=lambda p: p[0])
    engine.process(packets)
    # Housekeeping runs on packet time: a last quiet frame a minute later lets it settle.
    last = packets[-1][0] + 60.0
    frame = eth(BROADCAST, ROUTER_MAC, 0x0806, arp(1, ROUTER_MAC, ROUTER_IP, b"\0" * 6, ROUTER_IP))
    engine.process([(last, len(frame), frame, 1)])
    engine.flush()
    return engine


def arp_frame(ts: float, src: bytes, ip: bytes, op: int = 2) -> Packet:
    frame = eth(LAPTOP, src, 0x0806, arp(op, src, ip, LAPTOP, LAPTOP_IP))
    return (ts, len(frame), frame, 1)


def test_a_flood_of_made_up_macs_is_one_mac_flood_alert():
    flood = []
    for i in range(200):
        fake = bytes([0x02, 0x10, 0, 0, i >> 8, i & 0xFF])
        frame = eth(BROADCAST, fake, 0x88B5, bytes(46))
        flood.append((T0 + i * 0.02, len(frame), frame, 1))
    engine = run(flood)
    assert [a.kind for a in engine.alerts] == ["mac_flood"]
    assert engine.alerts[0].count >= 1


def test_sixty_devices_rejoining_after_a_power_cut_are_not_a_flood():
    home = HomeTraffic(make_home(60, seed=5), 5, T0)
    joins = [p for dev in home.devices for p in home.join(dev)]
    engine = run(joins, learn=0.0)
    assert engine.alerts == []


def test_router_dhcp_offers_to_many_devices_are_not_a_scan():
    packets = []
    for i in range(80):
        mac = bytes([0x50, 0xC7, 0xBF, 0, 1, i])
        ip = bytes([192, 168, 1, 100 + i])
        ack = dhcp_ack(i, mac, ip, ROUTER_IP)
        frame = eth(mac, ROUTER_MAC, 0x0800, ipv4(ROUTER_IP, ip, 17, udp(67, 68, ack)))
        packets.append((T0 + i * 0.1, len(frame), frame, 1))
    engine = run(packets)
    assert [a.kind for a in engine.alerts if a.kind in ("host_scan", "port_scan")] == []


def test_claiming_the_gateway_address_is_arp_spoofing():
    spoofer = bytes.fromhex("50c7bf000099")
    # The router hands out addresses (so TOTEM knows it is the gateway) and answers ARP.
    packets = [rogue_offer(T0 - 1, ROUTER_MAC, ROUTER_IP), arp_frame(T0, ROUTER_MAC, ROUTER_IP)]
    packets += [arp_frame(T0 + 5 + i, spoofer, ROUTER_IP) for i in range(5)]
    engine = run(packets)
    (alert,) = engine.alerts
    assert (alert.kind, alert.mac, alert.severity) == ("arp_spoof", "50:c7:bf:00:00:99", "critical")
    assert alert.count == 5
    assert "192.168.1.1" in alert.message


def test_an_address_that_moved_long_after_its_owner_left_is_not_spoofing():
    newcomer = bytes.fromhex("50c7bf000098")
    ip = bytes([192, 168, 1, 77])
    packets = [arp_frame(T0, bytes.fromhex("50c7bf000097"), ip), arp_frame(T0 + 3600, newcomer, ip)]
    assert run(packets).alerts == []


def rogue_offer(ts: float, server_mac: bytes, server_ip: bytes) -> Packet:
    ack = dhcp_ack(7, LAPTOP, LAPTOP_IP, server_ip)
    frame = eth(LAPTOP, server_mac, 0x0800, ipv4(server_ip, LAPTOP_IP, 17, udp(67, 68, ack)))
    return (ts, len(frame), frame, 1)


def test_a_new_mac_answering_dhcp_is_rogue_whatever_option_54_says():
    rogue = bytes.fromhex("b827eb000001")
    copycat = bytes.fromhex("a6d18c1fce64")
    packets = [
        rogue_offer(T0, ROUTER_MAC, ROUTER_IP),
        rogue_offer(T0 + 10, copycat, ROUTER_IP),  # the real server's address copied
        rogue_offer(T0 + 20, rogue, bytes([192, 168, 1, 250])),
    ]
    engine = run(packets)
    assert [(a.kind, a.mac) for a in engine.alerts] == [
        ("rogue_dhcp", "a6:d1:8c:1f:ce:64"),
        ("rogue_dhcp", "b8:27:eb:00:00:01"),
    ]
    assert "What you can do" in engine.alerts[0].message


def test_a_second_interface_of_the_server_is_allowed_by_a_snooze():
    from tests.engine.helpers import send_command

    bridge = bytes.fromhex("a6d18c1fce64")
    engine = Engine(EngineConfig(learn_seconds=0.0))
    guard = attach_detectors(engine)
    assert send_command(
        guard, "snooze", {"mac": "a6:d1:8c:1f:ce:64", "kind": "rogue_dhcp", "until": T0 + 1e8}
    ).ok
    engine.process(
        [rogue_offer(T0, ROUTER_MAC, ROUTER_IP), rogue_offer(T0 + 10, bridge, ROUTER_IP)]
    )
    engine.flush()
    assert engine.alerts == []


MESH = bytes.fromhex("f0b4290000aa")  # a mesh node that hands out addresses too
MESH_IP = bytes([192, 168, 1, 3])


def _allowing(servers: list[str]) -> tuple[Engine, Any]:
    from tests.engine.helpers import send_command

    engine = Engine(EngineConfig(learn_seconds=0.0))
    guard = attach_detectors(engine)
    assert send_command(guard, "dhcp_servers", {"servers": servers}).ok
    return engine, guard


def test_a_listed_dhcp_server_is_never_rogue_and_an_unlisted_one_is():
    copycat = bytes.fromhex("b827eb000001")
    engine, _guard = _allowing(["F0-B4-29-00-00-AA"])  # as a user may type it
    engine.process(
        [
            rogue_offer(T0, ROUTER_MAC, ROUTER_IP),
            rogue_offer(T0 + 10, MESH, MESH_IP),
            rogue_offer(T0 + 20, MESH, MESH_IP),
            rogue_offer(T0 + 30, copycat, MESH_IP),  # the listed server's address copied
        ]
    )
    engine.flush()
    assert [(a.kind, a.mac) for a in engine.alerts] == [("rogue_dhcp", "b8:27:eb:00:00:01")]


def test_a_listed_address_counts_only_for_the_mac_that_owns_it():
    copycat = bytes.fromhex("b827eb000001")
    engine, _guard = _allowing(["192.168.1.3"])
    engine.process(
        [
            rogue_offer(T0, ROUTER_MAC, ROUTER_IP),
            rogue_offer(T0 + 10, MESH, MESH_IP),  # sends from the listed address: allowed
            arp_frame(T0 + 11, MESH, MESH_IP),  # and claims it by ARP
            rogue_offer(T0 + 20, copycat, MESH_IP),  # the same address, another MAC
        ]
    )
    engine.flush()
    assert [(a.kind, a.mac) for a in engine.alerts] == [("rogue_dhcp", "b8:27:eb:00:00:01")]


def test_the_list_is_replaced_by_the_next_command_and_bad_entries_are_refused():
    from tests.engine.helpers import send_command

    engine, guard = _allowing(["f0:b4:29:00:00:aa"])
    assert send_command(guard, "dhcp_servers", {"servers": []}).ok  # the list emptied
    refused = send_command(guard, "dhcp_servers", {"servers": ["not-a-mac"]})
    assert not refused.ok
    assert refused.error == "invalid_value"
    engine.process([rogue_offer(T0, ROUTER_MAC, ROUTER_IP), rogue_offer(T0 + 10, MESH, MESH_IP)])
    engine.flush()
    assert [(a.kind, a.mac) for a in engine.alerts] == [("rogue_dhcp", "f0:b4:29:00:00:aa")]


def _router_known(ts: float) -> list[Packet]:
    """The router hands out an address (so TOTEM knows it) and answers ARP once."""
    return [rogue_offer(ts, ROUTER_MAC, ROUTER_IP), arp_frame(ts + 1, ROUTER_MAC, ROUTER_IP)]


def test_a_spoofer_never_takes_over_a_quiet_routers_address():
    spoofer = bytes.fromhex("50c7bf000099")
    # The router says nothing by ARP for ten minutes, then the spoofer claims its address,
    # then the router answers again: the spoofer is blamed every time, the router never.
    packets = _router_known(T0)
    packets += [arp_frame(T0 + 600 + i, spoofer, ROUTER_IP) for i in range(3)]
    packets += [arp_frame(T0 + 610, ROUTER_MAC, ROUTER_IP)]
    packets += [arp_frame(T0 + 620 + i, spoofer, ROUTER_IP) for i in range(3)]
    engine = run(packets)
    spoofs = [a for a in engine.alerts if a.kind == "arp_spoof"]
    assert [a.mac for a in spoofs] == ["50:c7:bf:00:00:99"]
    assert spoofs[0].severity == "critical"
    assert "50:c7:bf:00:00:99" in spoofs[0].message
    assert spoofs[0].details["owner"] == "00:b5:6d:06:08:ba"


def test_a_capture_that_begins_mid_attack_blames_the_spoofer_not_the_router():
    spoofer = bytes.fromhex("50c7bf000099")
    packets = [arp_frame(T0 + i, spoofer, ROUTER_IP) for i in range(3)]  # it came first
    packets += _router_known(T0 + 5)
    engine = run(packets)
    spoofs = [a for a in engine.alerts if a.kind == "arp_spoof"]
    assert [a.mac for a in spoofs] == ["50:c7:bf:00:00:99"]


def test_a_dhcp_address_stays_its_owners_while_the_owner_is_quiet():
    spoofer = bytes.fromhex("50c7bf000099")
    plug = HomeTraffic(make_home(2, seed=5), 5, T0)
    dev = plug.devices[1]
    packets = list(plug.join(dev))
    frame = eth(LAPTOP, spoofer, 0x0806, arp(2, spoofer, dev.ip, LAPTOP, LAPTOP_IP))
    packets.append((T0 + 900, len(frame), frame, 1))
    engine = run(packets)
    spoofs = [a for a in engine.alerts if a.kind == "arp_spoof"]
    assert [a.mac for a in spoofs] == ["50:c7:bf:00:00:99"]


def _rotation(second_name: str) -> Engine:
    from tests.traffic.synth import dhcp_request

    prl = bytes([1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114])
    old, new = bytes.fromhex("da a1 19 00 00 01".replace(" ", "")), bytes.fromhex("5e0a1b2c3d4e")
    ip = bytes([192, 168, 1, 60])
    packets = []
    for ts, mac, name in ((T0, old, "Pixel-7-Pro"), (T0 + 4000, new, second_name)):
        req = dhcp_request(int(ts) & 0xFFFF, mac, name, "android-dhcp-14", prl, ip)
        frame = eth(BROADCAST, mac, 0x0800, ipv4(b"\0" * 4, b"\xff" * 4, 17, udp(68, 67, req)))
        packets.append((ts, len(frame), frame, 1))
        packets.append(arp_frame(ts + 1, mac, ip))
    packets.append(arp_frame(T0 + 3000, ROUTER_MAC, ROUTER_IP))
    return run(packets, learn=3600.0)  # the second join comes after an hour of learning


def test_a_phone_rotating_its_private_mac_is_not_a_new_device():
    assert [a for a in _rotation("Pixel-7-Pro").alerts if a.kind == "new_device"] == []
    # The control: another phone with a private MAC joining is new.
    other = [a for a in _rotation("Galaxy-S23").alerts if a.kind == "new_device"]
    assert [a.mac for a in other] == ["5e:0a:1b:2c:3d:4e"]
