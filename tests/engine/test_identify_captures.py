"""Who is who on the real captures: vendor, name and type per device.

The expected values are what a person reading each capture in Wireshark
would say, from the evidence in it (see MANIFEST.tsv). The IoT Sentinel
captures (``iot_*_setup``) come from Miettinen et al., "IoT Sentinel:
Automated Device-Type Identification for Security Enforcement in IoT",
ICDCS 2017. The engine runs end to end: capture file -> Engine -> snapshot.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.model import DEVICE_TYPES, DeviceRow
from custom_components.totem.engine.sources import read_captures
from tests.conftest import SHARED_PCAPS, VENDORED_PCAPS, any_pcap


@cache
def _devices(path: Path) -> dict[str, DeviceRow]:
    engine = Engine(EngineConfig())
    for batch in read_captures([path], lambda _message: None):
        engine.process(batch)
    engine.flush()
    return {row.mac: row for row in engine.snapshot().devices}


def devices(name: str) -> dict[str, DeviceRow]:
    return _devices(any_pcap(name))


# (capture, MAC, manufacturer starts with (None: no vendor), name, type)
EXPECTED: list[tuple[str, str, str | None, str | None, str]] = [
    # IoT devices joining Wi-Fi (IoT Sentinel).
    ("iot_philips_hue_bridge_setup.pcap", "00:17:88:24:76:ff", "Philips", "Philips-hue", "hub"),
    ("iot_tplink_hs100_plug_setup.pcap", "50:c7:bf:00:fc:a3", "TP-LINK", "HS100(EU)", "smart_plug"),
    ("iot_tplink_hs110_plug_setup.pcap", "50:c7:bf:00:c7:03", "TP-LINK", "HS110(EU)", "smart_plug"),
    # No DHCP or mDNS name: the WeMo names itself in its UPnP device URN only, and a
    # URN is never a name (Home Assistant shows vendor + MAC tail).
    ("iot_belkin_wemo_insight_setup.pcap", "94:10:3e:41:c2:05", "Belkin", None, "smart_plug"),
    ("iot_dlink_dcs935l_camera_setup.pcap", "b0:c5:54:25:5b:0e", "D-Link", "DCS-935L", "camera"),
    ("iot_edimax_ipcam_setup.pcap", "74:da:38:80:7a:08", "Edimax", "localcam", "camera"),
    # No name says "plug", but it answers on TCP 10000, Edimax plugs' local API port,
    # and talks to the Edimax cloud (plugs and cameras).
    ("iot_edimax_sp1101w_plug_setup.pcap", "74:da:38:4a:76:49", "Edimax", None, "smart_plug"),
    ("iot_esp8266_smartercoffee_setup.pcap", "5c:cf:7f:07:ae:fb", "Espressif", "ESP_07AEFB", "iot"),
    ("iot_withings_scale_setup.pcap", "00:24:e4:24:80:2a", "Withings", None, "sensor"),
    (
        "iot_fitbit_aria_scale_setup.pcap",
        "20:f8:5e:ca:91:52",
        "Delta Electronics",
        "GainSpanca9152",
        "sensor",
    ),
    (
        "iot_osram_lightify_gateway_setup.pcap",
        "84:18:26:7b:5f:6b",
        "Osram",
        "Lightify-7B5F6B",
        "hub",
    ),
    ("iot_google_nest_logsink.pcap", "18:b4:30:26:34:40", "Nest Labs", None, "iot"),
    ("iot_sonos_speaker.pcapng", "34:7e:5c:ff:a2:6e", "Sonos", None, "smart_speaker"),
    ("iot_sonos_speaker.pcapng", "5c:aa:fd:02:92:1a", "Sonos", None, "smart_speaker"),
    # Google speakers scanning for Kasa plugs on UDP 9999.
    (
        "iot_google_home_tplink_shp_discovery.pcap",
        "20:df:b9:b4:ba:b1",
        "Google",
        None,
        "smart_speaker",
    ),
    ("iot_tuya_lan_discovery.pcap", "cc:50:e3:7d:88:34", "Espressif", None, "iot"),
    ("iot_tuya_lan_discovery.pcap", "38:1f:8d:45:1e:b5", "Tuya", None, "iot"),
    # The access point of the IoT Sentinel testbed: gateway, DHCP and DNS server.
    ("iot_philips_hue_bridge_setup.pcap", "00:b5:6d:06:08:ba", "David Electronics", None, "router"),
    # Phones and computers.
    # The phone that set the Hue bridge up: its Hue app's Dalvik User-Agent
    # names a Galaxy Note (SM-N7505).
    ("iot_philips_hue_bridge_setup.pcap", "38:0b:40:ef:85:41", "Samsung", None, "phone"),
    ("home_iphone_dhcp_mdns_tls.pcap", "c4:61:8b:35:82:a9", "Apple", "Lucas-iPhone", "phone"),
    ("home_iphone_dhcp_mdns_tls.pcap", "d8:30:62:56:00:1c", "Apple", "Lucas-iMac", "desktop"),
    ("home_android_dhcp_opt60_tls.pcap", "4c:6a:f6:9f:f6:27", "HMD Global", None, "phone"),
    ("home_android_dhcp_opt60_tls.pcap", "c6:2c:03:60:6a:64", None, None, "router"),
    (
        "phone_amazon_alexa_app_android.pcapng",
        "78:f8:82:d3:fb:c2",
        "LG Electronics",
        "android-1c1335ec95a27318",
        "phone",
    ),
    ("proto_dhcp_discover_opt60_msft.pcap", "28:cf:da:dc:8d:76", "Apple", "NicksMacBook", "laptop"),
    (
        "attack_mirai_like_telnet_scan_home_lan.pcap",
        "b8:27:eb:c7:e9:c9",
        "Raspberry Pi",
        "black-pearl",
        "iot",
    ),
    ("attack_mirai_like_telnet_scan_home_lan.pcap", "a6:d1:8c:1f:ce:64", None, None, "router"),
    # Printers and routers.
    ("printer_ipp_print_job.pcap", "00:12:79:80:69:60", "Hewlett Packard", None, "printer"),
    ("proto_ssdp_notify_router.pcap", "e0:91:f5:73:8c:c2", "NETGEAR", None, "router"),
    # A VM announcing itself over mDNS: a name, but nothing says what it is.
    (
        "proto_mdns_dnssd_ipp_printer.pcap",
        "8a:3c:d6:e1:4d:c4",
        None,
        "johanna-QEMU-Virtual-Machine",
        "desktop",  # Ubuntu default <user>-<product> name of a VM
    ),
    (
        "attack_nmap_arp_discovery_version_scan.pcap",
        "00:80:77:08:48:e1",
        "Brother",
        None,
        "printer",
    ),
    ("attack_icmp_ping_sweep.pcap", "74:38:b7:8e:b2:a5", "CANON", None, "printer"),
    # The DHCP server of a Raspberry Pi's LAN, and the relay that forwards its request.
    ("proto_dhcp_hostname_opt60_mudurl.pcap", "00:23:54:c2:57:02", "ASUSTek", None, "router"),
    ("proto_dhcp_hostname_opt60_mudurl.pcap", "00:23:eb:10:2c:29", "Cisco", None, "unknown"),
    ("iot_google_nest_logsink.pcap", "00:90:fb:26:27:6b", "PORTWELL", None, "router"),
    ("phone_xiaomi_miui_push.pcap", "78:94:b4:24:04:a0", "Sercomm", None, "router"),
    ("attack_arp_scan_24.pcap", "dc:a6:32:10:0c:2d", "Raspberry Pi", None, "iot"),
    ("proto_coap_ipv6_mixed.pcap", "b8:27:eb:a6:b2:2f", "Raspberry Pi", None, "iot"),
    # Clients with no identifying traffic stay unknown: scanners, VMs, a Google
    # device that only answers pings, a phone browsing for Chromecasts.
    ("attack_arp_scan_24.pcap", "50:ed:3c:39:bc:d9", "Apple", None, "unknown"),
    ("attack_icmp_ping_sweep.pcap", "b0:e4:d5:b7:62:ed", "Google", None, "unknown"),
    ("attack_dns_tunnel_iodine.pcap", "08:00:27:9c:e0:b4", "PCS", None, "unknown"),
    ("attack_dns_exfil_dnscat2.pcap", "8c:dc:d4:46:be:c4", "Hewlett Packard", None, "laptop"),
    ("attack_nmap_syn_portscan.pcap", "00:25:b3:bf:91:ee", "Hewlett Packard", None, "unknown"),
    ("attack_ssh_password_guessing.pcap", "08:00:27:20:54:03", "PCS", None, "unknown"),
    ("attack_syn_flood_synthetic.pcap", "02:00:00:00:00:01", None, None, "unknown"),
    ("home_multicast_googlecast_mdns_ssdp.pcap", "e2:36:eb:f7:3b:66", None, None, "unknown"),
    ("home_multicast_googlecast_mdns_ssdp.pcap", "7c:10:c9:44:16:bb", "ASUSTek", None, "unknown"),
    # Only its Killer Wi-Fi card's OUI: a weak laptop guess, nothing against it.
    ("proto_ntp_client_server.pcap", "9c:b6:d0:09:17:1d", "Rivet", None, "laptop"),
    ("proto_mqtt_iot_device_ota.pcap", "00:0c:00:4d:2c:b0", "BEB", None, "unknown"),
    ("printer_ipp_print_job.pcap", "00:1b:63:98:bf:36", "Apple", None, "unknown"),
    ("iot_sonos_speaker.pcapng", "9c:58:3c:a7:ee:cc", "Apple", None, "unknown"),  # the app
    ("proto_mqtt_paho_pubsub.pcap", "24:a2:e1:e6:ee:9b", "Apple", None, "unknown"),
    # Flow exporters: sending NetFlow/IPFIX/sFlow is what routers and switches do.
    ("flow_netflow_fritzbox_export.pcap", "00:0c:11:22:22:22", "NIPPON DEMPA", None, "router"),
    ("flow_netflow_v9_export.pcap", "ac:1f:6b:ad:6a:2c", "Super Micro", None, "router"),
    ("flow_sflow_v5_export.pcap", "00:e0:b1:cf:94:c3", "Alcatel-Lucent", None, "router"),
    # Malformed traffic: the devices behind it say nothing about themselves, except a
    # Cisco that forwards Internet addresses (a router) and a DHCP name in a fuzzed request.
    ("fuzz_bad_packets.pcap", "78:ba:f9:68:79:67", "Cisco", None, "router"),
    ("fuzz_bad_packets.pcap", "c4:34:6b:b5:ad:c8", "Hewlett Packard", None, "unknown"),
    ("fuzz_dhcp_malformed.pcapng", "00:1f:29:da:2d:79", "Hewlett Packard", "MK03862", "unknown"),
    ("fuzz_ip_fragmented_garbage.pcap", "42:01:0a:f0:00:1b", None, None, "unknown"),
    # Loopback-style frames: the null MAC is counted but is nobody (no vendor, no type).
    ("fuzz_dns_malformed.pcap", "00:00:00:00:00:00", None, None, "unknown"),
]


@pytest.mark.parametrize(
    ("capture", "mac", "vendor", "name", "type_"),
    EXPECTED,
    ids=[f"{row[0].split('.')[0]}-{row[1]}" for row in EXPECTED],
)
def test_device_identity(
    capture: str, mac: str, vendor: str | None, name: str | None, type_: str
) -> None:
    row = devices(capture)[mac]
    if vendor is None:
        assert row.manufacturer is None
    else:
        assert row.manufacturer  # the short brand ("ASUS"), the registry string beside it
        assert row.manufacturer_registry is not None
        assert row.manufacturer_registry.lower().startswith(vendor.lower())
    assert row.name == name
    assert row.type == type_, row.type_reason


def test_every_capture_has_expected_devices() -> None:
    # "Go through every capture": each one in the corpus has rows above.
    covered = {row[0] for row in EXPECTED}
    corpus = {p.name for p in SHARED_PCAPS.glob("*.pcap*")} | {
        p.name for p in VENDORED_PCAPS.glob("*.pcap*")
    }
    assert corpus <= covered, sorted(corpus - covered)


def test_null_mac_is_counted_but_no_station() -> None:
    null = devices("fuzz_dns_malformed.pcap")["00:00:00:00:00:00"]
    assert not null.station
    assert null.tx_packets == 6  # what tshark counts for it
    assert all(row.station for row in devices("fuzz_bad_packets.pcap").values())


def test_reasons_name_the_evidence() -> None:
    assert devices("iot_philips_hue_bridge_setup.pcap")["00:17:88:24:76:ff"].type_reason == (
        "hostname Philips-hue + SSDP server IpBridge (Hue bridge) + HA zeroconf _hap._tcp: hue"
        " + HomeKit category 2 + vendor Philips Lighting (Hue) + cloud ecdinterface.philips.com"
        " (Philips)"
    )
    esp = devices("iot_esp8266_smartercoffee_setup.pcap")["5c:cf:7f:07:ae:fb"]
    assert "vendor Espressif" in esp.type_reason
    assert "hostname ESP_*" in esp.type_reason


def test_name_sources_keep_every_origin() -> None:
    hue = devices("iot_philips_hue_bridge_setup.pcap")["00:17:88:24:76:ff"]
    assert hue.name_sources["dhcp"] == "Philips-hue"
    assert hue.name_sources["mdns_instance"] == "Philips hue - 2476FF"
    assert hue.name_sources["mdns"] == "Philips-hue"
    assert hue.name_sources["ssdp"] == "IpBridge/1.9.0"
    lightify = devices("iot_osram_lightify_gateway_setup.pcap")["84:18:26:7b:5f:6b"]
    assert lightify.name_sources["mdns_instance"] == "Lightify-017b5f6b"


def test_domains_come_from_dns_sni_and_host() -> None:
    plug = devices("iot_tplink_hs100_plug_setup.pcap")["50:c7:bf:00:fc:a3"]
    assert "devs.tplinkcloud.com" in plug.domains
    wemo = devices("iot_belkin_wemo_insight_setup.pcap")["94:10:3e:41:c2:05"]
    assert "api.xbcs.net" in wemo.domains
    iphone = devices("home_iphone_dhcp_mdns_tls.pcap")["c4:61:8b:35:82:a9"]
    assert "gateway.icloud.com" in iphone.domains
    # Reverse lookups and mDNS names are not destinations.
    assert not [d for d in iphone.domains if d.endswith((".arpa", ".local"))]


@pytest.mark.parametrize(
    "capture",
    sorted(p.name for p in SHARED_PCAPS.glob("*.pcap*")) or ["iot_sonos_speaker.pcapng"],
)
def test_type_is_never_a_guess(capture: str) -> None:
    for row in devices(capture).values():
        assert row.type in DEVICE_TYPES
        # Every type says why; "unknown" says what little there was, or nothing.
        if row.type == "unknown":
            assert not row.type_reason or row.type_reason.startswith("too little evidence: ")
        else:
            assert row.type_reason, row.mac
        assert len(row.domains) <= 64
        if row.mac[1] in "26ae":  # locally administered: no vendor
            assert row.manufacturer is None


@pytest.mark.parametrize(
    "capture",
    sorted(p.name for p in SHARED_PCAPS.glob("*.pcap*")) or ["iot_sonos_speaker.pcapng"],
)
def test_protocol_bytes_add_up_to_device_traffic(capture: str) -> None:
    for row in devices(capture).values():
        assert sum(row.protocols.values()) == row.tx_bytes + row.rx_bytes, row.mac


def test_application_protocols_per_device() -> None:
    hue = devices("iot_philips_hue_bridge_setup.pcap")["00:17:88:24:76:ff"]
    for proto in ("HTTP", "DNS", "mDNS", "SSDP", "NTP", "DHCP"):
        assert hue.protocols.get(proto, 0) > 0, proto
    plug = devices("iot_tplink_hs100_plug_setup.pcap")["50:c7:bf:00:fc:a3"]
    assert plug.protocols["TLS"] > plug.protocols["DNS"] > 0
    assert devices("iot_tuya_lan_discovery.pcap")["cc:50:e3:7d:88:34"].protocols == {
        "Tuya LAN": 1840
    }
    assert set(devices("proto_mqtt_paho_pubsub.pcap")["24:a2:e1:e6:ee:9b"].protocols) == {"MQTT"}
    assert "IPP" in devices("printer_ipp_print_job.pcap")["00:12:79:80:69:60"].protocols
    ssh = devices("attack_ssh_password_guessing.pcap")["08:00:27:20:54:03"]
    assert set(ssh.protocols) == {"SSH"}
