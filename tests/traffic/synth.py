"""Synthetic smart-home traffic: frames built with ``struct``, deterministic per seed.

Used for the demo capture shipped with the integration, for ``scripts/bench``
and for scenario tests. Devices behave like their kind: a camera streams
upstream, a plug polls its cloud over TLS and MQTT, a phone browses, a laptop
downloads. Identification evidence (DHCP host names and vendor classes, mDNS,
SSDP, TLS SNI, DNS) is in the frames, as on a real network.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from custom_components.totem.engine.sources import Packet, write_pcap

ROUTER_MAC = bytes.fromhex("00b56d0608ba")
ROUTER_IP = bytes([192, 168, 1, 1])
BROADCAST = b"\xff" * 6


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def eth(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    frame = dst + src + struct.pack("!H", ethertype) + payload
    return frame + b"\x00" * (60 - len(frame)) if len(frame) < 60 else frame


def ipv4(
    src: bytes, dst: bytes, proto: int, payload: bytes, ttl: int = 64, ident: int = 0
) -> bytes:
    hdr = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, ttl, proto, 0, src, dst
    )
    return hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:] + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 64240, 0, 0) + payload


def arp(op: int, smac: bytes, sip: bytes, tmac: bytes, tip: bytes) -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, smac, sip, tmac, tip)


def dns_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def dns_query(qid: int, name: str, qtype: int = 1) -> bytes:
    return (
        struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
        + dns_name(name)
        + struct.pack("!HH", qtype, 1)
    )


def dns_answer(qid: int, name: str, addr: bytes) -> bytes:
    q = dns_name(name) + struct.pack("!HH", 1, 1)
    ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + addr
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + ans


def mdns_announce(
    instance: str, service: str, host: str, addr: bytes, txt: dict[str, str]
) -> bytes:
    """A DNS-SD announcement: PTR service -> instance, SRV, TXT and the host's A record."""
    full = f"{instance}.{service}.local"
    txt_raw = b"".join(bytes([len(e)]) + e for e in (f"{k}={v}".encode() for k, v in txt.items()))
    rrs = [
        dns_name(f"{service}.local")
        + struct.pack("!HHIH", 12, 1, 4500, len(dns_name(full)))
        + dns_name(full),
        dns_name(full)
        + struct.pack("!HHIH", 33, 0x8001, 120, 6 + len(dns_name(f"{host}.local")))
        + struct.pack("!HHH", 0, 0, 80)
        + dns_name(f"{host}.local"),
        dns_name(full) + struct.pack("!HHIH", 16, 0x8001, 4500, len(txt_raw)) + txt_raw,
        dns_name(f"{host}.local") + struct.pack("!HHIH", 1, 0x8001, 120, 4) + addr,
    ]
    return struct.pack("!HHHHHH", 0, 0x8400, 0, len(rrs), 0, 0) + b"".join(rrs)


def dhcp_request(
    xid: int, mac: bytes, hostname: str, vendor_class: str, prl: bytes, requested: bytes
) -> bytes:
    opts = b"\x35\x01\x03"  # DHCPREQUEST
    opts += b"\x3d\x07\x01" + mac
    opts += b"\x32\x04" + requested
    if hostname:
        opts += bytes([12, len(hostname)]) + hostname.encode()
    if vendor_class:
        opts += bytes([60, len(vendor_class)]) + vendor_class.encode()
    opts += bytes([55, len(prl)]) + prl + b"\xff"
    head = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        1,
        1,
        6,
        0,
        xid,
        0,
        0x8000,
        b"\0" * 4,
        b"\0" * 4,
        b"\0" * 4,
        b"\0" * 4,
        mac + b"\0" * 10,
        b"\0" * 64,
        b"\0" * 128,
    )
    return head + b"\x63\x82\x53\x63" + opts


def dhcp_ack(xid: int, mac: bytes, yiaddr: bytes, server: bytes) -> bytes:
    opts = b"\x35\x01\x05" + b"\x36\x04" + server + b"\x33\x04\x00\x01\x51\x80"
    opts += b"\x01\x04\xff\xff\xff\x00" + b"\x03\x04" + server + b"\x06\x04" + server + b"\xff"
    head = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        2,
        1,
        6,
        0,
        xid,
        0,
        0x8000,
        b"\0" * 4,
        yiaddr,
        server,
        b"\0" * 4,
        mac + b"\0" * 10,
        b"\0" * 64,
        b"\0" * 128,
    )
    return head + b"\x63\x82\x53\x63" + opts


def ssdp_notify(ip: bytes, server: str, nt: str, usn: str) -> bytes:
    host = ".".join(str(b) for b in ip)
    return (
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
        f"LOCATION: http://{host}:49152/description.xml\r\nNT: {nt}\r\nNTS: ssdp:alive\r\n"
        f"SERVER: {server}\r\nUSN: {usn}\r\n\r\n"
    ).encode()


def tls_client_hello(sni: str) -> bytes:
    name = sni.encode()
    ext_sni = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    exts = ext_sni + struct.pack("!HH", 0x000A, 4) + b"\x00\x02\x00\x1d"
    body = (
        b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!H", 4) + b"\x13\x01\x13\x02" + b"\x01\x00"
    )
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def http_get(host: str, path: str, agent: str) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\n"
    return (head + "Accept: */*\r\n\r\n").encode()


@dataclass(slots=True)
class HomeDevice:
    """One device of the synthetic home and how it behaves."""

    kind: str
    mac: bytes
    ip: bytes
    hostname: str
    vendor_class: str
    prl: bytes
    cloud: str
    cloud_ip: bytes
    mdns: tuple[str, str, dict[str, str]] | None = None
    ssdp: tuple[str, str] | None = None
    weight: float = 1.0
    next_port: int = 40000
    seq: int = field(default=1000)


_PRL_UDHCP = bytes([1, 3, 6, 12, 15, 28, 42])
_PRL_ANDROID = bytes([1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114])
_PRL_APPLE = bytes([1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46])
_PRL_WIN = bytes([1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252])

# kind, OUI, hostname pattern, vendor class, PRL, cloud domain, mDNS, SSDP, weight
_PROFILES: list[
    tuple[str, str, str, str, bytes, str, tuple[str, str] | None, str | None, float]
] = [
    (
        "camera",
        "b0c554",
        "DCS-935L-{n}",
        "udhcp 1.22.1",
        _PRL_UDHCP,
        "signal.mydlink.com",
        ("_http._tcp", "DCS-935L"),
        "Linux/2.6 UPnP/1.0 DCS-935L/1.0",
        6.0,
    ),
    (
        "smart_plug",
        "50c7bf",
        "HS100(EU)",
        "udhcp 0.9.9-pre",
        _PRL_UDHCP,
        "devs.tplinkcloud.com",
        None,
        None,
        0.6,
    ),
    (
        "smart_plug",
        "cc50e3",
        "ESP_{hex6}",
        "",
        bytes([1, 3, 28, 6]),
        "mqtt.sonoff.example",
        None,
        None,
        0.5,
    ),
    (
        "light",
        "001788",
        "Philips-hue",
        "udhcp 1.19.4",
        _PRL_UDHCP,
        "bridge.meethue.com",
        ("_hue._tcp", "Philips Hue - {hex6}"),
        "Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0",
        0.8,
    ),
    (
        "phone",
        "f0989d",
        "Lucas-iPhone",
        "",
        _PRL_APPLE,
        "gateway.icloud.com",
        ("_companion-link._tcp", "Lucas iPhone"),
        None,
        3.0,
    ),
    (
        "phone",
        "380b40",
        "android-{hex8}",
        "android-dhcp-13",
        _PRL_ANDROID,
        "www.google.com",
        None,
        None,
        3.0,
    ),
    ("laptop", "a4c3f0", "Nicks-MacBook", "", _PRL_APPLE, "www.apple.com", None, None, 8.0),
    (
        "laptop",
        "5cbaef",
        "DESKTOP-{hex6}",
        "MSFT 5.0",
        _PRL_WIN,
        "www.microsoft.com",
        None,
        None,
        6.0,
    ),
    (
        "tv",
        "f4f5d8",
        "Chromecast",
        "",
        _PRL_ANDROID,
        "www.youtube.com",
        ("_googlecast._tcp", "Chromecast-{hex6}"),
        None,
        10.0,
    ),
    (
        "smart_speaker",
        "347e5c",
        "Sonos-{hex6}",
        "udhcp 1.20.2",
        _PRL_UDHCP,
        "api.sonos.com",
        ("_sonos._tcp", "Living Room"),
        "Linux UPnP/1.0 Sonos/63.2-88230 (ZPS9)",
        1.5,
    ),
    (
        "printer",
        "3c2af4",
        "BRN{hex6}",
        "",
        _PRL_UDHCP,
        "",
        ("_ipp._tcp", "Brother HL-L2350DW"),
        None,
        0.2,
    ),
    (
        "sensor",
        "0024e4",
        "Withings-{hex6}",
        "Withings00",
        _PRL_UDHCP,
        "scalews.withings.net",
        None,
        None,
        0.2,
    ),
]


def profile_device(
    i: int,
    kind: str,
    oui: str,
    host: str,
    vc: str,
    prl: bytes,
    cloud: str | None,
    mdns: tuple[str, str] | None,
    ssdp: str | None,
    tail: bytes,
    weight: float = 1.0,
) -> HomeDevice:
    """The I-th device of a home from one profile row and its MAC's last three bytes."""
    mac = bytes.fromhex(oui) + tail
    hex6 = tail.hex().upper()
    name = host.format(n=i, hex6=hex6, hex8=(tail + b"\x01").hex())
    mdns_full = None
    if mdns is not None:
        service, instance = mdns
        mdns_full = (instance.format(hex6=hex6), service, {"md": instance.split(" -")[0]})
    ssdp_full = None
    if ssdp is not None:
        ssdp_full = (ssdp, f"uuid:{tail.hex()}-0000-1000-8000-{mac.hex()}")
    return HomeDevice(
        kind=kind,
        mac=mac,
        ip=bytes([192, 168, 1, 10 + i]),
        hostname=name,
        vendor_class=vc,
        prl=prl,
        cloud=cloud or "www.example.com",
        cloud_ip=bytes([203, 0, 113, 1 + (i % 200)]),
        mdns=mdns_full,
        ssdp=ssdp_full,
        weight=weight,
    )


def make_home(n_devices: int, seed: int = 1) -> list[HomeDevice]:
    rnd = random.Random(seed)
    devices = []
    for i in range(n_devices):
        kind, oui, host, vc, prl, cloud, mdns, ssdp, weight = _PROFILES[i % len(_PROFILES)]
        tail = bytes([(i >> 8) & 0xFF, i & 0xFF, rnd.randrange(256)])
        devices.append(profile_device(i, kind, oui, host, vc, prl, cloud, mdns, ssdp, tail, weight))
    return devices


class HomeTraffic:
    """Emits the frames of a home, in time order."""

    def __init__(self, devices: list[HomeDevice], seed: int = 1, start: float = 1_700_000_000.0):
        self.devices = devices
        self.rnd = random.Random(seed)
        # Payload bytes come from their own generator so the traffic's shape (who talks,
        # when, how much) stays the same for a seed whatever the payloads hold.
        self.noise = random.Random(seed ^ 0x5EED)
        self.t = start

    def _frame(self, dst: bytes, src: bytes, payload: bytes) -> Packet:
        frame = eth(dst, src, 0x0800, payload)
        return (self.t, len(frame), frame, 1)

    def _tick(self, gap: float) -> None:
        self.t += gap * (0.5 + self.rnd.random())

    def join(self, dev: HomeDevice) -> Iterator[Packet]:
        """What a device says when it joins: DHCP, ARP, announcements."""
        xid = self.rnd.getrandbits(32)
        req = dhcp_request(xid, dev.mac, dev.hostname, dev.vendor_class, dev.prl, dev.ip)
        yield self._frame(BROADCAST, dev.mac, ipv4(b"\0" * 4, b"\xff" * 4, 17, udp(68, 67, req)))
        self._tick(0.002)
        ack = dhcp_ack(xid, dev.mac, dev.ip, ROUTER_IP)
        yield self._frame(dev.mac, ROUTER_MAC, ipv4(ROUTER_IP, dev.ip, 17, udp(67, 68, ack)))
        self._tick(0.01)
        frame = eth(BROADCAST, dev.mac, 0x0806, arp(1, dev.mac, dev.ip, b"\0" * 6, ROUTER_IP))
        yield (self.t, len(frame), frame, 1)
        self._tick(0.001)
        frame = eth(dev.mac, ROUTER_MAC, 0x0806, arp(2, ROUTER_MAC, ROUTER_IP, dev.mac, dev.ip))
        yield (self.t, len(frame), frame, 1)
        yield from self.announce(dev)

    def announce(self, dev: HomeDevice) -> Iterator[Packet]:
        if dev.mdns is not None:
            instance, service, txt = dev.mdns
            payload = mdns_announce(instance, service, dev.hostname, dev.ip, txt)
            ip = ipv4(dev.ip, bytes([224, 0, 0, 251]), 17, udp(5353, 5353, payload), ttl=255)
            self._tick(0.01)
            yield self._frame(bytes.fromhex("01005e0000fb"), dev.mac, ip)
        if dev.ssdp is not None:
            server, usn = dev.ssdp
            payload = ssdp_notify(dev.ip, server, "upnp:rootdevice", usn + "::upnp:rootdevice")
            ip = ipv4(dev.ip, bytes([239, 255, 255, 250]), 17, udp(1900, 1900, payload), ttl=4)
            self._tick(0.01)
            yield self._frame(bytes.fromhex("01005e7ffffa"), dev.mac, ip)

    def session(self, dev: HomeDevice, volume: int) -> Iterator[Packet]:
        """A DNS lookup and a TLS session to the device's cloud, shaped by its kind."""
        rnd = self.rnd
        qid = rnd.getrandbits(16)
        port = dev.next_port = 40000 + (dev.next_port - 39999) % 20000
        q = dns_query(qid, dev.cloud)
        yield self._frame(ROUTER_MAC, dev.mac, ipv4(dev.ip, ROUTER_IP, 17, udp(port, 53, q)))
        self._tick(0.004)
        a = dns_answer(qid, dev.cloud, dev.cloud_ip)
        yield self._frame(dev.mac, ROUTER_MAC, ipv4(ROUTER_IP, dev.ip, 17, udp(53, port, a)))
        sport = port + 1
        server_port = 8883 if dev.kind == "smart_plug" and dev.cloud.startswith("mqtt") else 443
        up = (dev.mac, ROUTER_MAC, dev.ip, dev.cloud_ip, sport, server_port)
        down = (ROUTER_MAC, dev.mac, dev.cloud_ip, dev.ip, server_port, sport)
        yield from self._tcp(up, 0x02, b"")
        yield from self._tcp(down, 0x12, b"")
        yield from self._tcp(up, 0x10, b"")
        first = tls_client_hello(dev.cloud)
        if dev.kind == "laptop" and rnd.random() < 0.3:
            first = http_get(dev.cloud, "/", "Mozilla/5.0 (X11; Linux x86_64)")
        yield from self._tcp(up, 0x18, first)
        upstream = dev.kind == "camera"
        encrypted = first[:1] == b"\x16"
        for _ in range(volume):
            size = rnd.choice((60, 120, 400, 1200, 1460, 1460, 1460))
            # What follows a handshake is ciphertext: high-entropy bytes, in TLS
            # application-data records where the session is TLS (zeros would let a
            # dissector such as tshark's give up early, which no real capture allows).
            noise = self.noise.randbytes(size)
            data = b"\x17\x03\x03" + struct.pack("!H", size - 5) + noise[5:] if encrypted else noise
            if upstream or rnd.random() < 0.2:
                yield from self._tcp(up, 0x18, data)
            else:
                yield from self._tcp(down, 0x18, data)
        yield from self._tcp(up, 0x11, b"")
        yield from self._tcp(down, 0x11, b"")

    def _tcp(
        self, way: tuple[bytes, bytes, bytes, bytes, int, int], flags: int, data: bytes
    ) -> Iterator[Packet]:
        smac, dmac, sip, dip, sport, dport = way
        self._tick(0.0008)
        yield self._frame(dmac, smac, ipv4(sip, dip, 6, tcp(sport, dport, 1, 1, flags, data)))

    def run(self, n_packets: int) -> Iterator[Packet]:
        """Joins, then sessions picked by weight, until ``n_packets`` frames."""
        count = 0
        for dev in self.devices:
            for pkt in self.join(dev):
                count += 1
                yield pkt
        weights = [d.weight for d in self.devices]
        while count < n_packets:
            dev = self.rnd.choices(self.devices, weights)[0]
            # Streams (camera upload, TV video, laptop downloads) are long flows; IoT chatter
            # is short: as in a real home, most frames belong to a few big flows.
            streaming = dev.kind in ("camera", "tv", "laptop")
            volume = self.rnd.randrange(40, 400) if streaming else self.rnd.randrange(2, 8)
            gen = self.session(dev, volume) if self.rnd.random() < 0.97 else self.announce(dev)
            for pkt in gen:
                count += 1
                yield pkt
                if count >= n_packets:
                    return


def home_capture(
    path: str, n_devices: int, n_packets: int, seed: int = 1, span: float | None = None
) -> int:
    """Write a home's capture; ``span`` stretches it to that many seconds of packet time."""
    home = HomeTraffic(make_home(n_devices, seed), seed)
    if span is None:
        return write_pcap(path, home.run(n_packets))
    frames = list(home.run(n_packets))
    t0, t1 = frames[0][0], frames[-1][0]
    scale = span / (t1 - t0) if t1 > t0 else 1.0
    return write_pcap(path, ((t0 + (ts - t0) * scale, n, d, lt) for ts, n, d, lt in frames))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic smart-home capture.")
    parser.add_argument("out")
    parser.add_argument("--devices", type=int, default=12)
    parser.add_argument("--packets", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--span", type=float, default=None, help="seconds of packet time")
    args = parser.parse_args(argv)
    count = home_capture(args.out, args.devices, args.packets, args.seed, args.span)
    print(f"wrote {count} packets of {args.devices} devices to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
