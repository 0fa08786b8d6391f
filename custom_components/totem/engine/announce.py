"""What a device announces about itself: mDNS/DNS-SD records, LLMNR and NetBIOS names,
SSDP notices, into its :class:`~.evidence.Evidence`, bounded and sanitised.

:class:`~.identify.Identifier` routes the payloads here once it has decided whose
evidence they are (see its module docstring for the attribution rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import dissect
from . import names as names_mod
from .evidence import Evidence

MAX_SET_ITEMS = 16  # services, models, SSDP headers, user agents, TXT keys per MAC
# DNS-SD TXT keys that carry a model, best first: a model number beats a marketing model
# name, which beats a printer's make-and-model string.
MODEL_KEYS: tuple[str, ...] = ("model_number", "md", "mdl", "usb_mdl", "model", "ty", "am")
# TXT keys kept for Home Assistant's zeroconf matchers and HomeKit (ci: category).
_TXT_KEYS = frozenset({*MODEL_KEYS, "ci", "fn", "manufacturer", "vendor", "id", "mac"})

_MAC_IN_NAME = re.compile(r"\s*\[?([0-9a-f]{2}[:-]){5}[0-9a-f]{2}\]?\s*", re.IGNORECASE)
_CONFLICT_SUFFIX = re.compile(r"\s*\(\d+\)$")
_SSDP_SERVER_NOISE = ("upnp", "linux", "unspecified", "dlnadoc", "windows", "darwin", "posix")


# UDP broadcast ports of general-purpose software: computer and phone apps (Dropbox LAN
# sync, Spotify Connect, Steam, KDE Connect, Syncthing, Plex GDM, BitTorrent LSD), printer
# discovery (Canon BJNP, Epson ENPC) and network gear (Ubiquiti, MikroTik). A broadcast to
# another unprivileged port is a LAN beacon of the kind smart-home devices send every few
# seconds for their phone app (Tuya 6666/6667, LIFX 56700, WiZ 38899, Magic Home 48899...):
# knowledge of what general software broadcasts, so no smart-home vendor needs naming.
GENERAL_BROADCAST_PORTS = frozenset(
    {1716, 3289, 5678, 6771, 8612, 10001, 17500, 21027, 27036, 32412, 32414, 57621}
)


def is_beacon(dst_ip: str, dport: int) -> bool:
    """A UDP payload to the IPv4 broadcast address (limited or a /24's) on a port no
    general-purpose software broadcasts to."""
    return (
        dport >= 1024
        and dport not in GENERAL_BROADCAST_PORTS
        and (dst_ip == "255.255.255.255" or (dst_ip.endswith(".255") and "." in dst_ip))
    )


# IGMP membership reports (v1 0x12, v2 0x16) and the all-systems group 224.0.0.1.
_IGMP_REPORTS = frozenset({0x12, 0x16})
_ALL_SYSTEMS = bytes([224, 0, 0, 1])
IGMP_ALL_SYSTEMS = "igmp_all_systems_report"  # behaviour token, see reports_all_systems


def reports_all_systems(message: bytes) -> bool:
    """An IGMP report for 224.0.0.1, which RFC 2236 section 6 says a host never sends.

    Linux, Windows, macOS, iOS and Android follow the RFC (Linux's igmp.c skips
    IGMP_ALL_HOSTS in every report path); lwIP 1.x, the stack of many Wi-Fi modules'
    SDKs, reports every group it holds when the interface comes up, the all-systems
    group it joins itself included (igmp_report_groups; 2.0 skips it). A router's
    queries go to 224.0.0.1 too, but they are type 0x11, no report.
    """
    return len(message) >= 8 and message[0] in _IGMP_REPORTS and message[4:8] == _ALL_SYSTEMS


def set_name(ev: Evidence, source: str, raw: str | None) -> None:
    """Every name off the network goes through the one sanitiser (names.clean)."""
    name = names_mod.clean(raw)
    if name is not None:
        ev.names[source] = name


def add_bounded(bounded: set[str], value: str) -> None:
    if value and len(bounded) < MAX_SET_ITEMS:
        bounded.add(value)


def strip_local(name: str) -> str:
    name = name.rstrip(".")
    return name[:-6] if name.lower().endswith(".local") else name


def instance_name(raw: str) -> str | None:
    """An instance label without the MAC some devices append or the ' (2)' of a conflict."""
    name = _MAC_IN_NAME.sub(" ", raw).strip()
    name = _CONFLICT_SUFFIX.sub("", name).strip()
    return names_mod.clean(name)


def split_service(name: str) -> tuple[str, str] | None:
    """'Philips hue - 2476FF._hap._tcp.local' -> ('Philips hue - 2476FF', '_hap._tcp').

    The instance part is '' for a bare service type; None when the name holds
    no DNS-SD service type.
    """
    labels = name.rstrip(".").split(".")
    if labels and labels[-1].lower() == "local":
        labels.pop()
    if len(labels) < 2 or labels[-1].lower() not in ("_tcp", "_udp"):
        return None
    if not labels[-2].startswith("_"):
        return None
    return ".".join(labels[:-2]), f"{labels[-2]}.{labels[-1]}".lower()


def ssdp_product(server: str) -> str | None:
    """The SERVER header's product token that is not the OS or the UPnP version."""
    for token in re.split(r"[\s,]+", server):
        product = token.split("/", 1)[0].lower()
        if "/" in token and product and not product.startswith(_SSDP_SERVER_NOISE):
            return token
    return None


def own_records(src_ip: str, records: list[dissect.DnsRecord]) -> list[dissect.DnsRecord]:
    """The records a sender publishes about itself, or none if it speaks for another."""
    addresses = [r.data for r in records if r.rtype in (dissect.DNS_A, dissect.DNS_AAAA)]
    if addresses and src_ip not in addresses:
        return []  # a proxy (Bonjour sleep proxy) answering for someone else
    if not addresses and not any(r.rtype == dissect.DNS_SRV for r in records):
        # Only PTR/TXT: nothing anchors them to the sender. A sleep proxy
        # answers like this for the Mac it guards; a device announcing
        # itself sends its SRV and address records too.
        return []
    return records


def _txt(ev: Evidence, items: Iterable[str]) -> None:
    for item in items:
        key, sep, value = item.partition("=")
        key = key.lower()
        if not sep or not value:
            continue
        if key in _TXT_KEYS and key not in ev.txt and len(ev.txt) < MAX_SET_ITEMS:
            ev.txt[key] = value[:64]
        if key in MODEL_KEYS:
            add_bounded(ev.models, value[:64])
        elif key == "fn":
            # A Cast device's friendly name beats its UUID-like instance.
            set_name(ev, "mdns_instance", value[:64])


def _ptr(ev: Evidence, name: str, data: str, instances: dict[str, str]) -> None:
    owner = split_service(name)
    if owner is None or owner[0]:
        return  # reverse-address or sub-type PTR: not an announcement
    if owner[1] == "_services._dns-sd._udp":
        advertised = split_service(data)
        if advertised is not None and not advertised[0]:
            add_bounded(ev.mdns_services, advertised[1])
        return
    add_bounded(ev.mdns_services, owner[1])
    target = split_service(data)
    if target is not None and target[1] == owner[1]:
        instance = instance_name(target[0])
        if instance:
            instances.setdefault(owner[1], instance)


def mdns_records(ev: Evidence, src_ip: str, records: list[dissect.DnsRecord]) -> None:
    """A sender's own mDNS records: services, instances, host name, TXT models."""
    instances: dict[str, str] = {}
    for record in records:
        if record.rtype == dissect.DNS_PTR and record.data:
            _ptr(ev, record.name, record.data, instances)
        elif record.rtype == dissect.DNS_SRV and record.data:
            host = strip_local(record.data)
            if host and "mdns" not in ev.names:
                set_name(ev, "mdns", host)
            owner = split_service(record.name)
            if owner is not None and owner[0]:
                add_bounded(ev.mdns_services, owner[1])
                instance = instance_name(owner[0])
                if instance:
                    instances.setdefault(owner[1], instance)
        elif record.rtype in (dissect.DNS_A, dissect.DNS_AAAA) and record.data == src_ip:
            host = strip_local(record.name)
            if host and "mdns" not in ev.names:
                set_name(ev, "mdns", host)
        elif record.rtype == dissect.DNS_TXT:
            _txt(ev, record.txt)
    for service, instance in instances.items():
        if service not in ev.mdns_instances and len(ev.mdns_instances) < MAX_SET_ITEMS:
            ev.mdns_instances[service] = instance
    if instances and "mdns_instance" not in ev.names:
        # _device-info names the host itself; otherwise the first service seen.
        set_name(
            ev,
            "mdns_instance",
            instances.get("_device-info._tcp", next(iter(instances.values()))),
        )


def llmnr_name(src_ip: str, msg: dissect.DnsMessage) -> str | None:
    """The name an LLMNR responder claims for its own address."""
    for record in own_records(src_ip, msg.answers):
        if record.rtype in (dissect.DNS_A, dissect.DNS_AAAA) and record.data == src_ip:
            return record.name.rstrip(".") or None
    return None


def ssdp_notice(ev: Evidence, headers: dict[str, str]) -> None:
    """An SSDP NOTIFY or search response: types, SERVER, LOCATION, the best SSDP name."""
    device_type = headers.get("NT") or headers.get("ST") or ""
    if device_type:
        add_bounded(ev.ssdp_types, device_type)
    server = headers.get("SERVER")
    if server:
        add_bounded(ev.ssdp_servers, server)
    location = headers.get("LOCATION")
    if location:
        add_bounded(ev.ssdp_locations, location)
    # Best SSDP name first: a friendly-name header, a vendor's own device
    # URN (the UPnP forum's name no product), then the SERVER product token.
    rank, name = 0, headers.get("X-FRIENDLY-NAME")
    if name is None and device_type.startswith("urn:"):
        parts = device_type.split(":")
        if len(parts) >= 4 and parts[2] == "device" and parts[1] != "schemas-upnp-org":
            rank, name = 1, f"{parts[1]} {parts[3]}"
    if name is None and server:
        rank, name = 2, ssdp_product(server)
    if name and rank <= ev.ssdp_name_rank:
        ev.ssdp_name_rank = rank
        set_name(ev, "ssdp", name)
