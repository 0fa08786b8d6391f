"""A family of labelled homes: varied shapes, so a detector cannot fit one generator.

:mod:`.scenario` is one home with one rhythm. Here each seed draws a home from a
:class:`Shape`: the device mix (few or many devices, camera-, media- or
plug-heavy, a game console, a NAS), how busy and how big each device's traffic
is, the learning and test timings, a share of anonymised devices (people's
machines with a randomised MAC and no host name, IoT devices with no host name,
vendor class or announcement), and benign traps that must stay silent:

- a TV streaming 4K in the evening: bursty, ~190 MB a minute downstream, a new
  CDN name and address every few seconds;
- a laptop browsing dozens of new sites a minute;
- a phone backing up photos once: a large upload to its own cloud;
- a NAS or PC downloading a software update from a new CDN;
- a game console downloading a game.

Attacks come in the shape's intensity: ``loud`` (fast sweeps, long floods),
``slow`` (scans and tunnels spread over minutes, just inside what a person
would call an attack), ``short`` (brief floods, a few spoofed replies) and
``lowslow`` (low-and-slow exfiltration from a plug or a sensor).

Large transfers are written as the capture host's GRO sees them: one record of
up to 64 KB on the wire (``wirelen``) whose bytes are cut at the headers, as a
Pi capturing with GRO on records a fast download. The frame count stays small,
the byte counts are what a real home moves.

Which shapes and seeds tune and which are held back is said in
:mod:`.evaluate` (``TUNING_SHAPES``, ``HELD_BACK_SHAPES``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace

from custom_components.totem.engine.netaddr import mac_str
from custom_components.totem.engine.sources import Packet

from .scenario import (
    _ACK,
    _PSH,
    _RST,
    _SYN,
    _SYNACK,
    BLOCKLIST,
    START,
    Injection,
    Scenario,
    _public_ip,
    _Writer,
)
from .synth import (
    _PROFILES,
    BROADCAST,
    ROUTER_IP,
    ROUTER_MAC,
    HomeDevice,
    HomeTraffic,
    arp,
    dhcp_ack,
    dns_answer,
    dns_query,
    eth,
    ipv4,
    profile_device,
    tcp,
    tls_client_hello,
    udp,
)

GRO = 64_000  # bytes on the wire of one GRO-merged record of a bulk transfer

# Profiles by kind (synth's, plus a console and a NAS it does not have).
_EXTRA_PROFILES = [
    ("game_console", "fc0fe6", "PS5-{hex6}", "", bytes([1, 3, 6, 15, 28]), "psn.example.net"),
    ("nas", "001132", "DS920-{hex6}", "udhcp 1.23.2", bytes([1, 3, 6, 12, 15, 28, 42]), ""),
]


@dataclass(frozen=True, slots=True)
class Shape:
    """How one family member's home looks and misbehaves."""

    name: str
    extra: tuple[tuple[str, int], ...]  # devices beyond one of each core kind
    rate: float  # normal chatter: sessions a minute, times the kind's own
    size: float  # normal session volume, times the kind's own
    learn_minutes: int
    after_minutes: int
    gap: float  # seconds between injections
    anonymised: float  # share of devices with no identity hints
    intensity: str  # loud | slow | short | lowslow
    traps: tuple[str, ...]  # tv4k laptop_browse phone_backup update console


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("classic", (), 1.0, 1.0, 40, 40, 120.0, 0.0, "loud", ("laptop_browse",)),
        Shape(
            "camera-heavy",
            (("camera", 3), ("smart_plug", 1)),
            1.0,
            1.5,
            45,
            45,
            120.0,
            0.2,
            "short",
            ("tv4k", "phone_backup"),
        ),
        Shape(
            "plug-heavy",
            (("smart_plug", 6), ("light", 3), ("sensor", 2)),
            0.7,
            0.6,
            40,
            45,
            110.0,
            0.3,
            "slow",
            ("laptop_browse", "update"),
        ),
        Shape(
            "media-heavy",
            (("tv", 2), ("smart_speaker", 2), ("game_console", 1)),
            1.3,
            1.2,
            50,
            45,
            120.0,
            0.25,
            "lowslow",
            ("tv4k", "console", "laptop_browse"),
        ),
        Shape(
            "few-devices",
            (),
            0.5,
            0.8,
            30,
            40,
            100.0,
            0.5,
            "short",
            ("phone_backup", "laptop_browse"),
        ),
        Shape(
            "busy-family",
            (("phone", 3), ("laptop", 2), ("tv", 1), ("nas", 1), ("camera", 1)),
            1.6,
            1.4,
            60,
            45,
            130.0,
            0.4,
            "slow",
            ("tv4k", "phone_backup", "update", "console", "laptop_browse"),
        ),
    )
}

CORE = ("camera", "smart_plug", "smart_plug", "light", "sensor", "printer", "tv", "laptop", "phone")
_PEOPLE = frozenset({"phone", "laptop"})


def _make_devices(shape: Shape, rnd: random.Random) -> list[HomeDevice]:
    kinds = list(CORE) + [k for k, n in shape.extra for _ in range(n)]
    by_kind: dict[str, list[tuple[str, str, str, bytes, str, object, object]]] = {}
    for kind, oui, host, vc, prl, cloud, mdns, ssdp, _w in _PROFILES:
        by_kind.setdefault(kind, []).append((oui, host, vc, prl, cloud, mdns, ssdp))
    for kind, oui, host, vc, prl, cloud in _EXTRA_PROFILES:
        by_kind.setdefault(kind, []).append((oui, host, vc, prl, cloud, None, None))
    devices: list[HomeDevice] = []
    seen: dict[str, int] = {}
    for i, kind in enumerate(kinds):
        nth = seen.get(kind, 0)
        seen[kind] = nth + 1
        # The two core plugs are one TP-Link and one ESP; the rest drawn.
        options = by_kind[kind]
        oui, host, vc, prl, cloud, mdns, ssdp = (
            options[nth % len(options)] if nth < len(options) else rnd.choice(options)
        )
        tail = bytes([i, rnd.randrange(256), rnd.randrange(256)])
        dev = profile_device(i, kind, oui, host, vc, prl, cloud, mdns, ssdp, tail)
        mac = dev.mac
        if rnd.random() < shape.anonymised:
            # People's machines randomise their MAC (locally administered) and may
            # send no host name; an IoT device keeps its maker's MAC but may say
            # nothing else about itself.
            if kind in _PEOPLE:
                mac = bytes([(rnd.randrange(256) | 0x02) & 0xFE]) + rnd.randbytes(5)
            dev = replace(dev, mac=mac, hostname="", vendor_class="", mdns=None, ssdp=None)
        devices.append(dev)
    return devices


# Sessions a minute and frames a session, per kind, before the shape's factors.
_RHYTHM = {
    "camera": (4, 100),
    "tv": (2, 60),
    "smart_speaker": (1, 20),
    "game_console": (1, 30),
    "nas": (1, 40),
    "laptop": (2, 60),
    "phone": (2, 40),
}


def _normal_minute(
    home: HomeTraffic,
    t0: float,
    busy: bool,
    rnd: random.Random,
    shape: Shape,
    scale: dict[bytes, float],
) -> Iterator[Packet]:
    plan: list[tuple[float, HomeDevice, int]] = []
    for dev in home.devices:
        per_minute, frames = _RHYTHM.get(dev.kind, (0, 0))
        if per_minute == 0:  # plugs, lights, sensors, printers: a poll now and then
            if rnd.random() < 0.5 * shape.rate:
                plan.append((rnd.uniform(0, 58), dev, rnd.randrange(2, 8)))
            continue
        n = max(1, round(per_minute * shape.rate * rnd.uniform(0.5, 1.5)))
        if busy and dev.kind in _PEOPLE:
            n *= 3
        for _ in range(n):
            target = dev
            if busy and dev.kind in _PEOPLE:  # a new site every time
                site = f"site{rnd.randrange(10**6)}.example{rnd.randrange(50)}.com"
                target = replace(dev, cloud=site, cloud_ip=_public_ip(rnd))
            volume = max(1, round(frames * shape.size * scale[dev.mac] * rnd.uniform(0.6, 1.4)))
            plan.append((rnd.uniform(0, 58), target, volume))
    plan.sort(key=lambda p: p[0])
    for offset, dev, volume in plan:
        home.t = max(home.t, t0 + offset)
        yield from home.session(dev, volume)
    asker = rnd.choice(home.devices)
    home.t = max(home.t, t0 + 59.0)
    frame = eth(BROADCAST, asker.mac, 0x0806, arp(1, asker.mac, asker.ip, b"\0" * 6, ROUTER_IP))
    yield (home.t, len(frame), frame, 1)
    home.t += 0.001
    frame = eth(asker.mac, ROUTER_MAC, 0x0806, arp(2, ROUTER_MAC, ROUTER_IP, asker.mac, asker.ip))
    yield (home.t, len(frame), frame, 1)


def _bulk(
    out: list[Packet],
    t: float,
    dev: HomeDevice,
    name: str | None,
    ip: bytes,
    seconds: float,
    mb_per_minute: float,
    upstream: bool,
    rnd: random.Random,
) -> None:
    """A bulk TLS transfer as GRO records: ``mb_per_minute`` one way, ACKs the other."""
    w = _Writer(out)
    sport = 30000 + rnd.randrange(20000)
    if name is not None:
        qid = rnd.getrandbits(16)
        w.frame(
            t,
            ROUTER_MAC,
            dev.mac,
            ipv4(dev.ip, ROUTER_IP, 17, udp(sport, 53, dns_query(qid, name))),
        )
        answer = dns_answer(qid, name, ip)
        w.frame(t + 0.005, dev.mac, ROUTER_MAC, ipv4(ROUTER_IP, dev.ip, 17, udp(53, sport, answer)))
    up = (dev.mac, ROUTER_MAC, dev.ip, ip, sport, 443)
    down = (ROUTER_MAC, dev.mac, ip, dev.ip, 443, sport)
    w.tcp(t + 0.01, *up, _SYN)
    w.tcp(t + 0.02, *down, _SYNACK)
    w.tcp(t + 0.03, *up, _ACK)
    w.tcp(t + 0.04, *up, _PSH, tls_client_hello(name or "update.example"))
    records = max(1, int(mb_per_minute * 1e6 / GRO * seconds / 60))
    step = seconds / records
    data_way, ack_way = (up, down) if upstream else (down, up)
    for i in range(records):
        ts = t + 0.05 + i * step * rnd.uniform(0.5, 1.5) if i else t + 0.05
        smac, dmac, sip, dip, a, b = data_way
        frame = eth(dmac, smac, 0x0800, ipv4(sip, dip, 6, tcp(a, b, 1, 1, _PSH, b"\x17\x03\x03")))
        out.append((min(ts, t + seconds), GRO, frame, 1))
        if i % 8 == 0:
            w.tcp(min(ts, t + seconds) + 0.001, *ack_way, _ACK)
    w.tcp(t + seconds + 0.1, *up, 0x11)
    w.tcp(t + seconds + 0.11, *down, 0x11)


def _traps(
    shape: Shape, devices: list[HomeDevice], t0: float, t1: float, rnd: random.Random
) -> list[Packet]:
    """The benign heavy moments of a home, in the test hour: none may alert."""
    out: list[Packet] = []
    first = {
        k: next((d for d in devices if d.kind == k), None)
        for k in ("tv", "phone", "nas", "laptop", "game_console")
    }
    span = t1 - t0
    if "tv4k" in shape.traps and first["tv"] is not None:
        # A film in 4K: ~25 Mbit/s (190 MB a minute), in segments from CDN nodes
        # that change every few seconds, under a streaming service's names.
        t = t0 + span * 0.3
        for seg in range(60):
            city = rnd.choice(("fra", "ams", "par"))
            node = f"ipv4-c{rnd.randrange(999):03d}-{city}{rnd.randrange(9)}.1.oca.nflxvideo.net"
            _bulk(
                out,
                t + seg * 10,
                first["tv"],
                node,
                _public_ip(rnd),
                9.0,
                190.0 * rnd.uniform(0.6, 1.4),
                False,
                rnd,
            )
    if "phone_backup" in shape.traps and first["phone"] is not None:
        phone = first["phone"]
        # The day's photos to the phone's own cloud: 400 MB at a 40 Mbit/s uplink.
        _bulk(out, t0 + span * 0.5, phone, phone.cloud, phone.cloud_ip, 80.0, 300.0, True, rnd)
    if "update" in shape.traps:
        box = first["nas"] or first["laptop"]
        if box is not None:
            # An OS update: 2 GB from a CDN the box never used.
            _bulk(
                out,
                t0 + span * 0.6,
                box,
                "dl.update-cdn.example.net",
                _public_ip(rnd),
                120.0,
                1000.0,
                False,
                rnd,
            )
    if "console" in shape.traps and first["game_console"] is not None:
        # A 50 GB game at 200 Mbit/s, for two minutes of it.
        _bulk(
            out,
            t0 + span * 0.4,
            first["game_console"],
            "gst.prod.dl.playstation.net",
            _public_ip(rnd),
            120.0,
            1500.0,
            False,
            rnd,
        )
    if "laptop_browse" in shape.traps and first["laptop"] is not None:
        laptop = first["laptop"]
        home = HomeTraffic([laptop], rnd.randrange(10**6), t0 + span * 0.2)
        for minute in range(20):  # forty new sites a minute, for twenty minutes
            for _ in range(40):
                home.t = max(home.t, t0 + span * 0.2 + minute * 60 + rnd.uniform(0, 58))
                site = replace(
                    laptop,
                    cloud=f"news{rnd.randrange(10**6)}.site{rnd.randrange(999)}.org",
                    cloud_ip=_public_ip(rnd),
                )
                out.extend(home.session(site, rnd.randrange(4, 30)))
    return out


# Per intensity: (hosts, seconds between SYNs) of the Telnet sweep, the upload's
# (factor, minutes), DNS tunnel (queries, interval), port scan (ports, interval),
# SYN flood (SYNs, interval), MAC flood (MACs, seconds), spoofed ARP replies.
_INTENSITY: dict[str, dict[str, tuple[float, float]]] = {
    "loud": {"sweep": (80, 0.5), "upload": (10, 3), "tunnel": (60, 0.5), "ports": (40, 0.05),
             "flood": (200, 0.01), "macs": (300, 5), "arp": (5, 2)},
    "slow": {"sweep": (40, 1.4), "upload": (8, 6), "tunnel": (30, 3.0), "ports": (20, 2.5),
             "flood": (120, 0.05), "macs": (120, 8), "arp": (3, 20)},
    "short": {"sweep": (30, 0.2), "upload": (12, 1), "tunnel": (15, 0.2), "ports": (18, 0.01),
              "flood": (70, 0.002), "macs": (60, 1), "arp": (1, 1)},
    "lowslow": {"sweep": (25, 2.0), "upload": (6, 10), "tunnel": (20, 2.5), "ports": (16, 3.0),
                "flood": (90, 0.1), "macs": (80, 6), "arp": (2, 30)},
}  # fmt: skip


def build_family(seed: int, shape: Shape) -> Scenario:
    """One member of the family: ``shape``'s home, drawn with ``seed``."""
    rnd = random.Random(seed * 7919 + len(shape.name))
    devices = _make_devices(shape, rnd)
    # Each device's own size: one camera streams twice what another does.
    scale = {d.mac: rnd.uniform(0.5, 2.0) for d in devices}
    home = HomeTraffic(devices, seed, START)
    normal: list[Packet] = [p for d in devices for p in home.join(d)]
    minutes = shape.learn_minutes + shape.after_minutes
    for minute in range(minutes):
        t0 = START + 60.0 + minute * 60.0
        busy = minute >= shape.learn_minutes
        normal.extend(_normal_minute(home, t0, busy, rnd, shape, scale))
    learn_seconds = 60.0 + shape.learn_minutes * 60.0
    test_from, test_to = START + learn_seconds, START + 60.0 + minutes * 60.0
    normal.extend(_traps(shape, devices, test_from, test_to, rnd))
    injected: list[Packet] = []
    injections = _inject(shape, devices, home, injected, rnd, START + learn_seconds + 90.0, scale)
    packets = sorted(normal + injected, key=lambda p: p[0])
    blamed = {i.mac for i in injections if i.mac is not None}
    normal_macs = {mac_str(d.mac) for d in devices} - blamed
    return Scenario(packets, learn_seconds, injections, devices, normal_macs, BLOCKLIST)


def _inject(
    shape: Shape,
    devices: list[HomeDevice],
    home: HomeTraffic,
    injected: list[Packet],
    rnd: random.Random,
    first_slot: float,
    scale: dict[bytes, float],
) -> list[Injection]:
    w = _Writer(injected)
    cue = _INTENSITY[shape.intensity]
    injections: list[Injection] = []

    def pick(kind: str) -> HomeDevice:
        return rnd.choice([d for d in devices if d.kind == kind])

    laptop, printer = pick("laptop"), pick("printer")
    plugs = [d for d in devices if d.kind == "smart_plug"]
    rnd.shuffle(plugs)
    t = first_slot

    def label(name: str, kinds: set[str], dev: HomeDevice | None, start: float, end: float) -> None:
        mac = mac_str(dev.mac) if dev is not None else None
        injections.append(Injection(f"{shape.name}: {name}", frozenset(kinds), mac, start, end))

    def advance(seconds: float) -> float:
        nonlocal t
        start = t
        t += max(shape.gap, seconds + 60.0)
        return start

    # A plug with a Mirai-like bot sweeps the Internet for Telnet.
    hosts, every = cue["sweep"]
    bot = plugs[0]
    s = advance(hosts * every)
    for i in range(int(hosts)):
        w.tcp(s + i * every, bot.mac, ROUTER_MAC, bot.ip, _public_ip(rnd), 50000 + i, 23, _SYN)
    label("plug Telnet sweep", {"host_scan"}, bot, s, s + hosts * every)
    # A camera uploads ``factor`` times its usual for some minutes.
    factor, length = cue["upload"]
    camera = pick("camera")
    s = advance(length * 60)
    per_minute = _RHYTHM["camera"][0] * shape.rate
    for minute in range(int(length)):
        for k in range(max(1, round(per_minute * factor))):
            home.t = s + minute * 60 + k * 60 / max(1, per_minute * factor)
            volume = round(_RHYTHM["camera"][1] * shape.size * scale[camera.mac])
            injected.extend(home.session(camera, volume))
    label(f"camera uploads {factor:g}x", {"traffic_spike"}, camera, s, s + length * 60)
    if shape.intensity == "lowslow":
        # Low and slow: the sensor sends 150 KB a minute for ten minutes to an
        # address it never resolved (no DNS: hard-coded exfiltration).
        sensor = pick("sensor")
        s = advance(600)
        drop = _public_ip(rnd)
        for minute in range(10):
            _bulk(injected, s + minute * 60, sensor, None, drop, 50.0, 0.15 * 60 / 50, True, rnd)
        label(
            "sensor exfiltrates low and slow",
            {"traffic_spike", "new_destination"},
            sensor,
            s,
            s + 600,
        )
    # A DNS tunnel from the sensor.
    queries, every = cue["tunnel"]
    sensor = pick("sensor")
    s = advance(queries * every)
    for i in range(int(queries)):
        chunk = "".join(
            rnd.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(rnd.randrange(30, 56))
        )
        name = f"{chunk}.{i:x}.t.{rnd.choice(('exfil-tunnel', 'cdn-sync', 'metrics'))}.example"
        q = dns_query(i, name, qtype=rnd.choice((16, 1, 28)))
        w.frame(
            s + i * every,
            ROUTER_MAC,
            sensor.mac,
            ipv4(sensor.ip, ROUTER_IP, 17, udp(41000 + i, 53, q)),
        )
        a = dns_answer(i, name, b"\x01\x02\x03\x04")
        w.frame(
            s + i * every + 0.01,
            sensor.mac,
            ROUTER_MAC,
            ipv4(ROUTER_IP, sensor.ip, 17, udp(53, 41000 + i, a)),
        )
    label("DNS tunnel", {"dns_tunnel", "new_destination"}, sensor, s, s + queries * every)
    # A light reaches a cloud it never used.
    light = pick("light")
    s = advance(1)
    name = f"cdn.{rnd.choice(('unknown-update', 'fw-mirror', 'cloud-relay'))}.example"
    addr = _public_ip(rnd)
    q = dns_query(77, name)
    w.frame(s, ROUTER_MAC, light.mac, ipv4(light.ip, ROUTER_IP, 17, udp(42000, 53, q)))
    w.frame(
        s + 0.01,
        light.mac,
        ROUTER_MAC,
        ipv4(ROUTER_IP, light.ip, 17, udp(53, 42000, dns_answer(77, name, addr))),
    )
    w.session(s + 0.1, light, addr, 443, tls_client_hello(name), b"\x16\x03\x03" + bytes(60))
    label("new cloud destination", {"new_destination"}, light, s, s + 1)
    # A new device joins, then runs a DHCP server of its own.
    s = advance(30)
    rogue = HomeDevice("iot", bytes.fromhex("b827eb") + rnd.randbytes(3), bytes([192, 168, 1, 250]),
                       rnd.choice(("raspberrypi", "", "kali")), "", bytes([1, 3, 6, 12, 15]),
                       "deb.debian.org", bytes([151, 101, 2, 132]))  # fmt: skip
    home.t = s
    injected.extend(home.join(rogue))
    label("new device", {"new_device"}, rogue, s, s + 1)
    server = rnd.choice((rogue.ip, ROUTER_IP))  # option 54 honest, or the router's copied
    for i in range(int(rnd.choice((1, 3)))):
        ack = dhcp_ack(1000 + i, laptop.mac, bytes([192, 168, 1, 200 + i]), server)
        w.frame(s + 20 + i, laptop.mac, rogue.mac, ipv4(rogue.ip, laptop.ip, 17, udp(67, 68, ack)))
    label("rogue DHCP server", {"rogue_dhcp"}, rogue, s + 20, s + 23)
    # A plug claims the router's address.
    replies, every = cue["arp"]
    spoofer = plugs[1]
    s = advance(replies * every)
    for i in range(int(replies)):
        w.frame(
            s + i * every,
            laptop.mac,
            spoofer.mac,
            arp(2, spoofer.mac, ROUTER_IP, laptop.mac, laptop.ip),
            0x0806,
        )
    label("ARP spoofing of the gateway", {"arp_spoof"}, spoofer, s, s + replies * every)
    # The printer accepts a Telnet login.
    s = advance(1)
    port = rnd.randrange(50000, 60000)
    up = (laptop.mac, printer.mac, laptop.ip, printer.ip, port, 23)
    down = (printer.mac, laptop.mac, printer.ip, laptop.ip, 23, port)
    w.tcp(s, *up, _SYN)
    w.tcp(s + 0.01, *down, _SYNACK)
    w.tcp(s + 0.02, *up, _ACK)
    w.tcp(s + 0.03, *down, _PSH, b"\xff\xfd\x18\xff\xfd\x20")
    w.tcp(s + 0.5, *up, _PSH, b"admin\r\n")
    label(
        "Telnet login on the printer",
        {"insecure_protocol", "unexpected_protocol"},
        printer,
        s,
        s + 1,
    )
    # A MAC flood.
    count, seconds = cue["macs"]
    s = advance(seconds)
    for i in range(int(count)):
        fake = bytes([0x02, *rnd.randbytes(4), i & 0xFF])
        w.frame(s + i * seconds / count, BROADCAST, fake, bytes(46), 0x88B5)
    label("MAC flood", {"mac_flood"}, None, s, s + seconds)
    # A TV scans the printer's ports.
    ports, every = cue["ports"]
    tv = pick("tv")
    s = advance(ports * every)
    first_port = rnd.choice((20, 1, 8000))
    for i, dport in enumerate(range(first_port, first_port + int(ports))):
        w.tcp(s + i * every, tv.mac, printer.mac, tv.ip, printer.ip, 52000, dport, _SYN)
        w.tcp(s + i * every + 0.001, printer.mac, tv.mac, printer.ip, tv.ip, dport, 52000, _RST)
    label("port scan of the printer", {"port_scan"}, tv, s, s + ports * every)
    # A plug joins a SYN flood.
    syns, every = cue["flood"]
    flooder = plugs[-1]
    s = advance(syns * every)
    victim, vport = _public_ip(rnd), rnd.choice((80, 443, 53))
    for i in range(int(syns)):
        w.tcp(s + i * every, flooder.mac, ROUTER_MAC, flooder.ip, victim, 20000 + i, vport, _SYN)
    label("SYN flood", {"syn_flood"}, flooder, s, s + syns * every)
    # A light opens an SSH session.
    s = advance(1)
    w.session(s, light, _public_ip(rnd), 22, b"SSH-2.0-dropbear\r\n", b"SSH-2.0-OpenSSH_9.2\r\n")
    label("SSH from a light", {"unexpected_protocol"}, light, s, s + 1)
    # The sensor talks to a blocklisted host.
    s = advance(1)
    bad = bytes([198, 51, 100, 64 + rnd.randrange(64)])
    w.session(s, sensor, bad, 443, tls_client_hello("c2.bad.example"), b"\x16\x03\x03" + bytes(40))
    label("blocklisted host", {"blocklisted_host"}, sensor, s, s + 1)
    # A plug asks a hard-coded public DNS server.
    s = advance(1)
    asker = plugs[0] if len(plugs) == 1 else plugs[1]
    resolver = rnd.choice((bytes([9, 9, 9, 9]), bytes([8, 8, 4, 4]), bytes([1, 0, 0, 1])))
    q = dns_query(99, asker.cloud)
    w.frame(s, ROUTER_MAC, asker.mac, ipv4(asker.ip, resolver, 17, udp(43000, 53, q)))
    label("hard-coded DNS server", {"unexpected_dns_server"}, asker, s, s + 1)
    return injections
