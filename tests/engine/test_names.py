"""The one name sanitiser, and which strings are never a device's name."""

from __future__ import annotations

import pytest

from custom_components.totem.engine import names, vendor
from custom_components.totem.engine.identify import Identifier, TrafficSummary
from tests.engine.test_identify import dhcp_request, mac, mdns_response, udp


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (b"\x1b[31mEVIL\x1b[0m-plug", "EVIL-plug"),  # ANSI colour escapes
        (b"lamp\x1b]0;owned\x07", "lamp"),  # an OSC title-setting escape
        (b"kitchen\x1b[2J\x1b[Hclear", "kitchenclear"),  # clear screen + cursor home
        ("cam\u202eexe.jpg", "camexe.jpg"),  # RTL override (U+202E)
        ("zero\u200bwidth\ufeff", "zerowidth"),  # zero-width space, BOM
        (b"tab\tand\r\nnew\x00line", "tab and newline"),  # spaces collapse, NUL goes
        ("  many    spaces  ", "many spaces"),
        (b"\xff\xfeplug", "\ufffd\ufffdplug"),  # invalid UTF-8 becomes visible, not a crash
        ("\x1b[0m\u202e  ", None),  # nothing left: no name
        (None, None),
    ],
)
def test_clean(raw: str | bytes | None, want: str | None) -> None:
    assert names.clean(raw) == want


def test_long_dhcp_name_is_capped() -> None:
    raw = b"A" * 250
    got = names.clean(raw)
    assert got == "A" * names.MAX_NAME
    assert names.MAX_NAME == 63


@pytest.mark.parametrize(
    "text",
    [
        "IpBridge/1.9.0",
        "Linux/3.14 UPnP/1.0 Portable/1.2",
        "MiniUPnPd/1.6",
        "schemas-wifialliance-org WFADevice",
        "urn:schemas-upnp-org:device:Basic:1",
        "1.2.3",
        "v70.3-35220",
        "uuid:2f402f80-da50-11e1-9b23-001788255acc",
    ],
)
def test_banners_urns_versions_are_never_names(text: str) -> None:
    assert names.is_protocol_string(text)
    assert names.clean_name(text) is None


@pytest.mark.parametrize("text", ["Philips-hue", "Kitchen speaker", "HS100", "ESP_68664A"])
def test_names_stay_names(text: str) -> None:
    assert names.clean_name(text) == text


def test_hostile_dhcp_name_reaches_identity_clean() -> None:
    identifier = Identifier()
    raw = "\x1b[31mplug\x1b[0m\u202e" + "x" * 230  # 246 bytes: the most a DHCP option holds
    identifier.inspect(*dhcp_request("50:c7:bf:00:00:01", raw))
    ident = identifier.identity(mac("50:c7:bf:00:00:01"), TrafficSummary())
    assert ident.name is not None
    assert ident.name.startswith("plug")
    assert len(ident.name) == names.MAX_NAME
    assert "\x1b" not in ident.name
    assert "\u202e" not in ident.name


def test_bridge_named_by_its_banner_gets_no_name_but_a_model_does() -> None:
    from scapy.layers.dns import DNSRR, DNSRRSRV

    notify = (
        b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
        b"NTS: ssdp:alive\r\nSERVER: Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0\r\n\r\n"
    )
    identifier = Identifier()
    hue = "00:17:88:00:00:01"
    identifier.inspect(*udp(hue, "192.168.1.5", "239.255.255.250", 1900, 1900, notify))
    assert identifier.identity(mac(hue), TrafficSummary()).name is None
    records = [
        DNSRR(rrname="_hap._tcp.local", type="PTR", rdata="Bridge-1._hap._tcp.local"),
        DNSRRSRV(rrname="Bridge-1._hap._tcp.local", target="0017880000.local", port=8080),
        DNSRR(rrname="0017880000.local", type="A", rdata="192.168.1.5"),
        DNSRR(rrname="Bridge-1._hap._tcp.local", type="TXT", rdata=[b"md=BSB002", b"ci=2"]),
    ]
    identifier.inspect(*udp(hue, "192.168.1.5", "224.0.0.251", 5353, 5353, mdns_response(records)))
    ident = identifier.identity(mac(hue), TrafficSummary())
    assert ident.model == "BSB002"
    assert ident.integration == "hue"
    assert ident.type == "hub"


@pytest.mark.parametrize(
    ("registry", "short"),
    [
        ("TP-LINK TECHNOLOGIES CO.,LTD.", "TP-Link"),
        ("Espressif Inc.", "Espressif"),
        ("Sichuan AI-Link Technology Co., Ltd.", "AI-Link"),
        ("CANON INC.", "Canon"),
        ("Apple, Inc.", "Apple"),
        (None, None),
    ],
)
def test_short_vendor_names(registry: str | None, short: str | None) -> None:
    assert vendor.short_name(registry) == short
