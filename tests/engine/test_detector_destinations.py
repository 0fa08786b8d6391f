"""new_destination by address: raw addresses no learned name leads to are new; CDN
churn behind a learned domain and hosts in a learned network are not."""

from __future__ import annotations

from scapy.layers.dns import DNS, DNSQR, DNSRR

from custom_components.totem.engine.detectors.destinations import prefix_of
from custom_components.totem.engine.detectors.guard import attach_detectors
from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.model import Alert
from custom_components.totem.engine.sources import Packet
from tests.traffic.synth import (
    ROUTER_IP,
    ROUTER_MAC,
    HomeDevice,
    HomeTraffic,
    dns_query,
    eth,
    ipv4,
    make_home,
    tcp,
    udp,
)

T0 = 1_700_000_000.0
LEARN = 3600.0


def _connect(ts: float, dev: HomeDevice, ip: bytes, port: int, sport: int) -> list[Packet]:
    """An answered TCP handshake from the device to an Internet host."""
    up = (ROUTER_MAC, dev.mac, dev.ip, ip, sport, port)
    down = (dev.mac, ROUTER_MAC, ip, dev.ip, port, sport)
    out = []
    for k, ((dmac, smac, sip, dip, sp, dp), flags) in enumerate(
        ((up, 0x02), (down, 0x12), (up, 0x10), (up, 0x18))
    ):
        frame = eth(dmac, smac, 0x0800, ipv4(sip, dip, 6, tcp(sp, dp, 1, 1, flags, b"x" * 8)))
        out.append((ts + k * 0.01, len(frame), frame, 1))
    return out


def _lookup(ts: float, dev: HomeDevice, name: str) -> Packet:
    q = dns_query(7, name)
    frame = eth(ROUTER_MAC, dev.mac, 0x0800, ipv4(dev.ip, ROUTER_IP, 17, udp(5353 + 1, 53, q)))
    return (ts, len(frame), frame, 1)


def _home() -> tuple[HomeDevice, list[Packet]]:
    dev = next(d for d in make_home(12, seed=3) if d.kind == "camera")
    packets = list(HomeTraffic([dev], start=T0).join(dev))
    for m in range(int(LEARN // 60) + 5):  # the camera's hourly habit: its cloud, by name
        ts = T0 + 1 + m * 60
        packets.append(_lookup(ts, dev, dev.cloud))
        packets += _connect(ts + 0.05, dev, dev.cloud_ip, 443, 41000 + m)
    return dev, packets


def _alerts(packets: list[Packet]) -> list[Alert]:
    engine = Engine(EngineConfig(learn_seconds=LEARN))
    attach_detectors(engine)
    engine.process(sorted(packets, key=lambda p: p[0]))
    last = max(p[0] for p in packets) + 60
    dev = next(d for d in make_home(12, seed=3) if d.kind == "camera")
    engine.process([_lookup(last, dev, dev.cloud)])
    engine.flush()
    return [a for a in engine.alerts if a.kind == "new_destination"]


AFTER = T0 + LEARN + 600


def test_a_raw_address_no_name_led_to_is_a_new_destination():
    dev, packets = _home()
    packets += _connect(AFTER, dev, bytes([185, 10, 20, 30]), 6667, 50000)  # IRC C2
    (alert,) = _alerts(packets)
    assert alert.details["address"] == "185.10.20.30"
    assert alert.details["port"] == 6667
    assert alert.mac == ":".join(f"{b:02x}" for b in dev.mac)
    assert "What you can do" in alert.message


def test_cdn_churn_behind_a_learned_domain_is_not_new():
    dev, packets = _home()
    for k in range(5):  # the same name, each time an address in another network
        ts = AFTER + k * 120
        packets.append(_lookup(ts, dev, dev.cloud))
        packets += _connect(ts + 0.05, dev, bytes([151, 101, 10 + k, 7]), 443, 50000 + k)
    # Later, straight back to one of those networks from the device's DNS cache.
    packets += _connect(AFTER + 900, dev, bytes([151, 101, 12, 99]), 443, 50100)
    assert _alerts(packets) == []


def test_another_host_in_a_learned_network_is_not_new():
    dev, packets = _home()
    near = dev.cloud_ip[:3] + bytes([(dev.cloud_ip[3] + 50) % 250 + 1])
    packets += _connect(AFTER, dev, near, 443, 50000)
    assert _alerts(packets) == []


def test_prefixes():
    assert prefix_of(bytes([203, 0, 113, 9])) == "203.0.113.0/24"
    assert prefix_of(bytes.fromhex("20010db8000100020000000000000001")) == "2001:db8:1::/48"


def _nameless(mac: bytes) -> tuple[HomeDevice, list[Packet]]:
    """A device that says nothing about itself (no DHCP name, no vendor class, no
    announcement) with its cloud habit, then a connection to a raw new address."""
    from dataclasses import replace

    dev, _ = _home()
    dev = replace(
        dev, mac=mac, hostname="", vendor_class="", mdns=None, ssdp=None, cloud="api.example.net"
    )
    packets = list(HomeTraffic([dev], start=T0).join(dev))
    for m in range(int(LEARN // 60) + 5):
        ts = T0 + 1 + m * 60
        packets.append(_lookup(ts, dev, dev.cloud))
        packets += _connect(ts + 0.05, dev, dev.cloud_ip, 443, 41000 + m)
    packets += _connect(AFTER, dev, bytes([185, 10, 20, 30]), 443, 50000)
    return dev, packets


def test_an_unknown_device_with_a_makers_mac_is_watched_like_iot_and_a_random_mac_is_not():
    # A maker's (burned-in) MAC TOTEM cannot name: an IoT device, most likely.
    _dev, packets = _nameless(bytes.fromhex("0024e4a1b2c3"))
    assert [a.details["address"] for a in _alerts(packets)] == ["185.10.20.30"]
    # A randomised MAC (the locally administered bit): a phone or a laptop on a
    # private address, which reaches new hosts all day.
    _dev, packets = _nameless(bytes.fromhex("6a2f3b4c5d6e"))
    assert _alerts(packets) == []


def _answer(ts: float, dev: HomeDevice, name: str, address: str) -> Packet:
    """The resolver's answer to the device: ``name`` is at ``address`` for an hour."""
    payload = bytes(
        DNS(
            id=7,
            qr=1,
            rd=1,
            ra=1,
            qd=DNSQR(qname=name),
            an=DNSRR(rrname=name, type="A", rdata=address, ttl=3600),
        )
    )
    frame = eth(
        dev.mac, ROUTER_MAC, 0x0800, ipv4(ROUTER_IP, dev.ip, 17, udp(53, 5353 + 1, payload))
    )
    return (ts, len(frame), frame, 1)


def test_an_address_a_dns_answer_gave_for_a_learned_domain_is_not_new_minutes_later():
    # Devices cache answers for their TTL: the connection can come long after the
    # lookup (outside RESOLVE_WINDOW), and the answer still names the host.
    dev, packets = _home()
    packets.append(_lookup(AFTER, dev, dev.cloud))
    packets.append(_answer(AFTER + 0.02, dev, dev.cloud, "151.101.50.7"))
    packets += _connect(AFTER + 600, dev, bytes([151, 101, 50, 7]), 443, 50000)
    assert _alerts(packets) == []


def test_without_the_answer_the_same_late_connection_is_new():
    dev, packets = _home()
    packets.append(_lookup(AFTER, dev, dev.cloud))
    packets += _connect(AFTER + 600, dev, bytes([151, 101, 50, 7]), 443, 50000)
    (alert,) = _alerts(packets)
    assert alert.details["address"] == "151.101.50.7"


def _nameless_streamer(names: list[str]) -> list[Alert]:
    """A stick TOTEM cannot name (a maker's MAC, nothing said about itself) learns
    its cloud for an hour, then opens each of ``names`` by lookup, each at an
    address in a network it never reached."""
    from dataclasses import replace

    dev, _ = _home()
    dev = replace(
        dev,
        mac=bytes.fromhex("f4f5d8a1b2c3"),
        hostname="",
        vendor_class="",
        mdns=None,
        ssdp=None,
        cloud="clients.example.net",
    )
    packets = list(HomeTraffic([dev], start=T0).join(dev))
    for m in range(int(LEARN // 60) + 5):
        ts = T0 + 1 + m * 60
        packets.append(_lookup(ts, dev, dev.cloud))
        packets += _connect(ts + 0.05, dev, dev.cloud_ip, 443, 41000 + m)
    for k, name in enumerate(names):
        ts = AFTER + k * 10
        packets.append(_lookup(ts, dev, name))
        packets += _connect(ts + 0.05, dev, bytes([45, 57, 10 + k, 9]), 443, 50000 + k)
    return [a for a in _alerts(packets) if a.mac == "f4:f5:d8:a1:b2:c3"]


def test_a_film_from_a_streaming_cdn_is_not_a_new_destination_and_a_new_service_is():
    # Each segment from another Open Connect node: someone watching a film.
    nodes = [f"ipv4-c{k:03d}-fra00{k}.1.oca.nflxvideo.net" for k in range(6)]
    assert _nameless_streamer(nodes) == []
    # The same device looking up a service it never used is still new.
    (alert,) = _nameless_streamer(nodes[:2] + ["relay.unknown-cloud.example"])
    assert alert.details.get("domain") == "unknown-cloud.example"
