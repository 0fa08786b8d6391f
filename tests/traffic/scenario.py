"""A labelled anomaly scenario: a small home learns, then misbehaves on cue.

Builds on :mod:`.synth` (its home, its devices and its frame builders) without
changing it. Timeline, in packet time:

1. ``learn_minutes`` of a normal home: the camera streams, plugs and lights
   poll their clouds, phones and laptops browse, the router answers ARP.
2. ``after_minutes`` more of the same, with busy general-purpose devices
   (laptops and phones visit dozens of new sites and move big files: they
   must stay silent), and one labelled anomaly every ``gap`` seconds: a plug
   sweeping the Internet for Telnet, a camera uploading ten times its usual,
   a DNS tunnel, a new cloud destination, a rogue DHCP server, ARP spoofing
   of the gateway, a Telnet login, a MAC flood, a port scan, a SYN flood, an
   SSH session from a light, a blocklisted host, a hard-coded DNS server and
   a new device.

:func:`score` matches alerts to labels: an injection is detected when an
alert of one of its kinds names its device inside its window (plus a grace
for the detectors' settle time); every other alert is a false alert.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from custom_components.totem.engine.model import Alert
from custom_components.totem.engine.netaddr import mac_str
from custom_components.totem.engine.sources import Packet, write_pcap

from .synth import (
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
    make_home,
    tcp,
    tls_client_hello,
    udp,
)

START = 1_700_000_000.0
MATCH_GRACE = 30.0  # seconds after an injection's last frame an alert still counts
BLOCKLIST = ("198.51.100.64/26", "evil-tracker.example")
_SYN, _SYNACK, _ACK, _PSH, _RST = 0x02, 0x12, 0x10, 0x18, 0x14


@dataclass(slots=True)
class Injection:
    label: str
    kinds: frozenset[str]
    mac: str | None  # the device to blame; None when any MAC will do (MAC flood)
    start: float
    end: float


@dataclass(slots=True)
class Scenario:
    packets: list[Packet]
    learn_seconds: float
    injections: list[Injection]
    devices: list[HomeDevice]
    normal_macs: set[str]  # never injected: must raise nothing
    blocklist: tuple[str, ...] = BLOCKLIST


@dataclass(slots=True)
class Score:
    detected: list[Injection] = field(default_factory=list)
    missed: list[Injection] = field(default_factory=list)
    false_alerts: list[Alert] = field(default_factory=list)
    on_normal_devices: list[Alert] = field(default_factory=list)
    # Detected only because the minutes an alert measured overlap the injection
    # (its time, their start, came before the injection's first frame).
    by_window: list[Injection] = field(default_factory=list)

    @property
    def recall(self) -> float:
        total = len(self.detected) + len(self.missed)
        return len(self.detected) / total if total else 1.0


class _Writer:
    """Frames at explicit times (the injections' own clock)."""

    def __init__(self, out: list[Packet]) -> None:
        self.out = out

    def frame(
        self, ts: float, dst: bytes, src: bytes, payload: bytes, ethertype: int = 0x0800
    ) -> None:
        data = eth(dst, src, ethertype, payload)
        self.out.append((ts, len(data), data, 1))

    def tcp(
        self,
        ts: float,
        smac: bytes,
        dmac: bytes,
        sip: bytes,
        dip: bytes,
        sport: int,
        dport: int,
        flags: int,
        data: bytes = b"",
    ) -> None:
        self.frame(ts, dmac, smac, ipv4(sip, dip, 6, tcp(sport, dport, 1, 1, flags, data)))

    def session(
        self,
        ts: float,
        dev: HomeDevice,
        dip: bytes,
        dport: int,
        first: bytes,
        reply: bytes,
        sport: int = 45000,
    ) -> None:
        """A complete, answered TCP session from a device through the router."""
        up = (dev.mac, ROUTER_MAC, dev.ip, dip, sport, dport)
        down = (ROUTER_MAC, dev.mac, dip, dev.ip, dport, sport)
        self.tcp(ts, *up, _SYN)
        self.tcp(ts + 0.01, *down, _SYNACK)
        self.tcp(ts + 0.02, *up, _ACK)
        if first:
            self.tcp(ts + 0.03, *up, _PSH, first)
        if reply:
            self.tcp(ts + 0.04, *down, _PSH, reply)
        self.tcp(ts + 0.05, *up, 0x11)
        self.tcp(ts + 0.06, *down, 0x11)


def _public_ip(rnd: random.Random) -> bytes:
    while True:
        ip = bytes(
            [rnd.randrange(1, 224), rnd.randrange(256), rnd.randrange(256), 1 + rnd.randrange(254)]
        )
        if ip[0] not in (10, 127, 169, 172, 192, 100, 198, 203):
            return ip


def _normal_minute(
    home: HomeTraffic, t0: float, busy: bool, rnd: random.Random
) -> Iterator[Packet]:
    """One minute of a normal home; ``busy`` makes laptops and phones roam."""
    plan: list[tuple[float, HomeDevice, int]] = []
    for dev in home.devices:
        if dev.kind == "camera":
            plan += [(rnd.uniform(0, 58), dev, 100) for _ in range(4)]
        elif dev.kind == "tv":
            plan += [(rnd.uniform(0, 58), dev, 60) for _ in range(2)]
        elif dev.kind in ("laptop", "phone"):
            n = 6 if busy else 2
            for _ in range(n):
                target = dev
                if busy:  # a new site every time, sometimes a big file
                    site = f"site{rnd.randrange(10**6)}.example{rnd.randrange(50)}.com"
                    target = replace(dev, cloud=site, cloud_ip=_public_ip(rnd))
                volume = rnd.choice((20, 40, 80, 1500 if busy else 80))
                plan.append((rnd.uniform(0, 58), target, volume))
        elif dev.kind == "smart_speaker":
            plan.append((rnd.uniform(0, 58), dev, 20))
        elif rnd.random() < 0.5:  # plugs, lights, sensors, printers: a poll now and then
            plan.append((rnd.uniform(0, 58), dev, rnd.randrange(2, 8)))
    plan.sort(key=lambda p: p[0])
    for offset, dev, volume in plan:
        home.t = max(home.t, t0 + offset)
        yield from home.session(dev, volume)
    # The router answers an ARP request now and then, as it does all day.
    asker = rnd.choice(home.devices)
    home.t = max(home.t, t0 + 59.0)
    frame = eth(BROADCAST, asker.mac, 0x0806, arp(1, asker.mac, asker.ip, b"\0" * 6, ROUTER_IP))
    yield (home.t, len(frame), frame, 1)
    home.t += 0.001
    frame = eth(asker.mac, ROUTER_MAC, 0x0806, arp(2, ROUTER_MAC, ROUTER_IP, asker.mac, asker.ip))
    yield (home.t, len(frame), frame, 1)


def _by_kind(devices: list[HomeDevice], kind: str, nth: int = 0) -> HomeDevice:
    return [d for d in devices if d.kind == kind][nth]


def build_scenario(
    seed: int = 7, learn_minutes: int = 40, after_minutes: int = 32, gap: float = 120.0
) -> Scenario:
    rnd = random.Random(seed)
    devices = make_home(12, seed)
    home = HomeTraffic(devices, seed, START)
    normal: list[Packet] = list(home.run(len(devices) * 8))  # joins and a little chatter
    for minute in range(learn_minutes + after_minutes):
        t0 = START + 60.0 + minute * 60.0
        normal.extend(_normal_minute(home, t0, busy=minute >= learn_minutes, rnd=rnd))
    learn_seconds = 60.0 + learn_minutes * 60.0
    injected: list[Packet] = []
    w = _Writer(injected)
    injections: list[Injection] = []
    camera = _by_kind(devices, "camera")
    plug, esp = _by_kind(devices, "smart_plug", 0), _by_kind(devices, "smart_plug", 1)
    light, sensor = _by_kind(devices, "light"), _by_kind(devices, "sensor")
    printer, tv = _by_kind(devices, "printer"), _by_kind(devices, "tv")
    laptop = _by_kind(devices, "laptop")
    slot = iter(START + learn_seconds + 90.0 + i * gap for i in range(100))

    def label(
        name: str, kinds: set[str], dev: HomeDevice | bytes | None, t: float, end: float
    ) -> None:
        mac = dev.mac if isinstance(dev, HomeDevice) else dev
        injections.append(Injection(name, frozenset(kinds), mac_str(mac) if mac else None, t, end))

    # 1. A plug infected by a Mirai-like bot sweeps the Internet for Telnet.
    t = next(slot)
    for i in range(80):
        w.tcp(t + i * 0.5, esp.mac, ROUTER_MAC, esp.ip, _public_ip(rnd), 50000 + i, 23, _SYN)
    label("plug telnet sweep", {"host_scan"}, esp, t, t + 40)
    # 2. The camera uploads ten times its usual volume for three minutes.
    t = next(slot)
    for minute in range(3):
        for k in range(40):
            home.t = t + minute * 60 + k * 1.4
            injected.extend(home.session(camera, 100))
    label("camera uploads 10x", {"traffic_spike"}, camera, t, t + 180)
    next(slot)  # the upload takes three minutes: leave its slots to it
    # 3. A DNS tunnel from the scale.
    t = next(slot)
    for i in range(60):
        chunk = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(48))
        name = f"{chunk}.{i:x}.t.exfil-tunnel.example"
        q = dns_query(i, name, qtype=16)
        w.frame(
            t + i * 0.5,
            ROUTER_MAC,
            sensor.mac,
            ipv4(sensor.ip, ROUTER_IP, 17, udp(41000 + i, 53, q)),
        )
        a = dns_answer(i, name, b"\x01\x02\x03\x04")
        w.frame(
            t + i * 0.5 + 0.01,
            sensor.mac,
            ROUTER_MAC,
            ipv4(ROUTER_IP, sensor.ip, 17, udp(53, 41000 + i, a)),
        )
    label("DNS tunnel", {"dns_tunnel", "new_destination"}, sensor, t, t + 30)
    # 4. The light reaches a cloud it never used.
    t = next(slot)
    name = "cdn.unknown-update.example"
    q = dns_query(77, name)
    w.frame(t, ROUTER_MAC, light.mac, ipv4(light.ip, ROUTER_IP, 17, udp(42000, 53, q)))
    w.frame(
        t + 0.01,
        light.mac,
        ROUTER_MAC,
        ipv4(
            ROUTER_IP, light.ip, 17, udp(53, 42000, dns_answer(77, name, bytes([93, 184, 216, 34])))
        ),
    )
    w.session(
        t + 0.1,
        light,
        bytes([93, 184, 216, 34]),
        443,
        tls_client_hello(name),
        b"\x16\x03\x03" + bytes(60),
    )
    label("new cloud destination", {"new_destination"}, light, t, t + 1)
    # 5. A new device joins, then runs a DHCP server of its own.
    t = next(slot)
    rogue = HomeDevice(
        "iot",
        bytes.fromhex("b827eb5a1b2c"),
        bytes([192, 168, 1, 250]),
        "raspberrypi",
        "",
        bytes([1, 3, 6, 12, 15]),
        "deb.debian.org",
        bytes([151, 101, 2, 132]),
    )
    home.t = t
    injected.extend(home.join(rogue))
    label("new device", {"new_device"}, rogue, t, t + 1)
    for i in range(3):
        ack = dhcp_ack(1000 + i, laptop.mac, bytes([192, 168, 1, 200 + i]), rogue.ip)
        w.frame(t + 20 + i, laptop.mac, rogue.mac, ipv4(rogue.ip, laptop.ip, 17, udp(67, 68, ack)))
    label("rogue DHCP server", {"rogue_dhcp"}, rogue, t + 20, t + 23)
    # 6. A plug claims the router's address (ARP spoofing).
    t = next(slot)
    for i in range(5):
        w.frame(
            t + i * 2,
            laptop.mac,
            plug.mac,
            arp(2, plug.mac, ROUTER_IP, laptop.mac, laptop.ip),
            0x0806,
        )
    label("ARP spoofing of the gateway", {"arp_spoof"}, plug, t, t + 10)
    # 7. The printer accepts a Telnet login.
    t = next(slot)
    up = (laptop.mac, printer.mac, laptop.ip, printer.ip, 51000, 23)
    down = (printer.mac, laptop.mac, printer.ip, laptop.ip, 23, 51000)
    w.tcp(t, *up, _SYN)
    w.tcp(t + 0.01, *down, _SYNACK)
    w.tcp(t + 0.02, *up, _ACK)
    w.tcp(t + 0.03, *down, _PSH, b"\xff\xfd\x18\xff\xfd\x20")
    w.tcp(t + 0.5, *up, _PSH, b"admin\r\n")
    label(
        "Telnet login on the printer",
        {"insecure_protocol", "unexpected_protocol"},
        printer,
        t,
        t + 1,
    )
    # 8. A MAC flood: 300 made-up MACs in five seconds.
    t = next(slot)
    for i in range(300):
        fake = bytes(
            [
                0x02,
                rnd.randrange(256),
                rnd.randrange(256),
                rnd.randrange(256),
                rnd.randrange(256),
                i & 0xFF,
            ]
        )
        w.frame(t + i / 60, BROADCAST, fake, bytes(46), 0x88B5)
    label("MAC flood", {"mac_flood"}, None, t, t + 5)
    # 9. The TV scans the printer's ports.
    t = next(slot)
    for i, port in enumerate(range(20, 60)):
        w.tcp(t + i * 0.05, tv.mac, printer.mac, tv.ip, printer.ip, 52000, port, _SYN)
        w.tcp(t + i * 0.05 + 0.001, printer.mac, tv.mac, printer.ip, tv.ip, port, 52000, _RST)
    label("port scan of the printer", {"port_scan"}, tv, t, t + 2)
    # 10. The other plug joins a SYN flood.
    t = next(slot)
    victim = bytes([198, 18, 0, 7])
    for i in range(200):
        w.tcp(t + i * 0.01, plug.mac, ROUTER_MAC, plug.ip, victim, 20000 + i, 80, _SYN)
    label("SYN flood", {"syn_flood"}, plug, t, t + 2)
    # 11. The light opens an SSH session.
    t = next(slot)
    w.session(
        t, light, bytes([45, 33, 32, 156]), 22, b"SSH-2.0-dropbear\r\n", b"SSH-2.0-OpenSSH_9.2\r\n"
    )
    label("SSH from a light", {"unexpected_protocol"}, light, t, t + 1)
    # 12. The scale talks to a blocklisted host.
    t = next(slot)
    w.session(
        t,
        sensor,
        bytes([198, 51, 100, 66]),
        443,
        tls_client_hello("c2.bad.example"),
        b"\x16\x03\x03" + bytes(40),
    )
    label("blocklisted host", {"blocklisted_host"}, sensor, t, t + 1)
    # 13. A plug asks a hard-coded public DNS server.
    t = next(slot)
    q = dns_query(99, esp.cloud)
    w.frame(t, ROUTER_MAC, esp.mac, ipv4(esp.ip, bytes([9, 9, 9, 9]), 17, udp(43000, 53, q)))
    label("hard-coded DNS server", {"unexpected_dns_server"}, esp, t, t + 1)

    packets = sorted(normal + injected, key=lambda p: p[0])
    blamed = {i.mac for i in injections if i.mac is not None}
    normal_macs = {mac_str(d.mac) for d in devices} - blamed
    return Scenario(packets, learn_seconds, injections, devices, normal_macs)


def _overlaps(inj: Injection, alert: Alert) -> bool:
    """Does an alert over measured minutes (details ``until``) cover the injection?

    Such an alert is stamped at the start of the minutes it measured (a
    volume per minute), which an upload starting mid-minute follows by up to
    a minute: it counts when those minutes overlap the injection's frames.
    """
    until = alert.details.get("until")
    return isinstance(until, int | float) and alert.time <= inj.end and until >= inj.start


def score(scenario: Scenario, alerts: list[Alert]) -> Score:
    out = Score()
    matched: set[int] = set()
    for inj in scenario.injections:
        hit = window = False
        for n, alert in enumerate(alerts):
            if alert.kind not in inj.kinds:
                continue
            if inj.mac is not None and alert.mac != inj.mac:
                continue
            if inj.start - 1.0 <= alert.time <= inj.end + MATCH_GRACE:
                hit = True
                matched.add(n)
            elif _overlaps(inj, alert):
                window = True
                matched.add(n)
        (out.detected if hit or window else out.missed).append(inj)
        if window and not hit:
            out.by_window.append(inj)
    for n, alert in enumerate(alerts):
        if n in matched:
            continue
        out.false_alerts.append(alert)
        if alert.mac in scenario.normal_macs:
            out.on_normal_devices.append(alert)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the scenario as a capture plus its labels (``OUT.labels.json``)."""
    parser = argparse.ArgumentParser(description="Write the labelled anomaly scenario.")
    parser.add_argument("out", help="pcap file to write")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    scenario = build_scenario(seed=args.seed)
    count = write_pcap(args.out, iter(scenario.packets))
    labels = {
        "learn_seconds": scenario.learn_seconds,
        "blocklist": list(scenario.blocklist),
        "normal_macs": sorted(scenario.normal_macs),
        "injections": [
            {
                "label": i.label,
                "kinds": sorted(i.kinds),
                "mac": i.mac,
                "start": i.start,
                "end": i.end,
            }
            for i in scenario.injections
        ],
    }
    with open(f"{args.out}.labels.json", "w", encoding="utf-8") as fh:
        json.dump(labels, fh, indent=1)
    print(f"wrote {count} frames and {len(scenario.injections)} labels", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
