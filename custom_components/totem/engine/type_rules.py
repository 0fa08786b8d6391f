"""Device-type rules as data: evidence pattern -> (type, weight, reason).

Identification scores each device type by adding the weights of the rules
whose pattern matches the device's evidence, and keeps the best type if it
reaches :data:`MIN_SCORE`; otherwise the type stays "unknown". The reason
shown to the user joins the labels of the rules that voted for the winner
("vendor Espressif + hostname ESP_*").

Weights: 3 decides alone (a hostname "iPhone", an advertised ``_ipp._tcp``),
2 decides alone only for the generic type "iot" or when nothing contradicts
it, 1 never decides alone. "iot" is the fallback class: a more specific type
wins over it whenever that type reaches :data:`MIN_SCORE` too.

Extend :data:`RULES` (or pass your own tuple to ``Identifier(rules=...)``)
to teach TOTEM a device; a test can do the same.

Evidence kinds (``TypeRule.evidence``):
- ``vendor``: the OUI manufacturer name.
- ``hostname``: every name the device gave itself (DHCP, mDNS, NetBIOS).
- ``dhcp_vendor_class``: DHCP option 60.
- ``dhcp_fingerprint``: DHCP option 55 as "1,3,6,15" (matched whole).
- ``mdns_service``: a DNS-SD service type the device advertised ("_hap._tcp").
- ``model``: DNS-SD TXT ``md=``/``model=``/``am=``/``ty=`` values.
- ``ssdp_type``, ``ssdp_server``, ``ssdp_location``: headers of the device's own
  SSDP NOTIFY / M-SEARCH responses (never of its searches).
- ``domain``: DNS names it resolved, TLS SNI, HTTP Host.
- ``user_agent``: HTTP User-Agent it sent.
- ``behaviour``: tokens computed from its traffic, see ``identify.behaviours``.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SCORE = 2
FALLBACK_TYPE = "iot"


@dataclass(frozen=True, slots=True)
class TypeRule:
    """Evidence matching ``pattern`` votes ``weight`` for ``type``."""

    evidence: str
    pattern: str  # regular expression, searched case-insensitively
    type: str
    weight: int
    label: str  # the reason as the user reads it


def _r(evidence: str, pattern: str, type_: str, weight: int, label: str) -> TypeRule:
    return TypeRule(evidence, pattern, type_, weight, label)


EDIMAX_PLUG = r"^(edimax[-_ ]?)?sp-?[12]\d{3}w"
EDIMAX_CAMERA = r"^(edimax[-_ ]?)?ic-?\d{4}"

RULES: tuple[TypeRule, ...] = (
    # --- OUI vendors that make (almost) one kind of device on a home network.
    _r("vendor", r"^Espressif", "iot", 2, "vendor Espressif"),
    _r("vendor", r"^Tuya", "iot", 2, "vendor Tuya"),
    _r("vendor", r"^Philips Lighting|^Signify", "hub", 2, "vendor Philips Lighting (Hue)"),
    _r("vendor", r"^Osram", "hub", 2, "vendor OSRAM (Lightify)"),
    _r("vendor", r"^Sonos", "smart_speaker", 3, "vendor Sonos"),
    _r("vendor", r"^Nest Labs", "iot", 2, "vendor Nest Labs"),
    _r("vendor", r"^Withings", "sensor", 3, "vendor Withings"),
    _r("vendor", r"^Belkin", "smart_plug", 1, "vendor Belkin (WeMo)"),
    _r("vendor", r"^Raspberry Pi", "iot", 2, "vendor Raspberry Pi"),
    _r("vendor", r"^Shelly|^Allterco", "iot", 3, "vendor Shelly"),
    _r("vendor", r"^ITEAD|^Sonoff", "smart_plug", 2, "vendor ITEAD (Sonoff)"),
    _r("vendor", r"^LIFI Labs|^LIFX", "light", 3, "vendor LIFX"),
    _r("vendor", r"^Roku", "media_player", 3, "vendor Roku"),
    _r("vendor", r"^Synology|^QNAP", "nas", 3, "vendor Synology/QNAP"),
    _r("vendor", r"^Nintendo|^Sony Interactive", "game_console", 3, "vendor game console"),
    _r(
        "vendor",
        r"^(Hangzhou Hikvision|Zhejiang Dahua|Axis Communications|Reolink|Wyze|Arlo|Ring)",
        "camera",
        3,
        "vendor camera maker",
    ),
    _r("vendor", r"^Ubiquiti", "access_point", 2, "vendor Ubiquiti"),
    _r("vendor", r"^(AVM|NETGEAR|ASUSTek)", "router", 1, "vendor router maker"),
    _r("vendor", r"^Amazon Technologies", "smart_speaker", 1, "vendor Amazon"),
    _r("vendor", r"^Google", "smart_speaker", 1, "vendor Google"),
    _r(
        "vendor",
        r"^(Seiko Epson|Brother Industries|Canon|Xerox|Lexmark)",
        "printer",
        3,
        "vendor printer maker",
    ),
    _r("vendor", r"^Hewlett Packard", "printer", 1, "vendor HP"),
    _r("vendor", r"^iRobot|^Ecobee|^Netatmo|^Tado", "iot", 3, "vendor smart-home maker"),
    # --- DHCP option 60 vendor class.
    _r("dhcp_vendor_class", r"^android-dhcp", "phone", 3, "DHCP vendor class android-dhcp"),
    _r("dhcp_vendor_class", r"^udhcp", "iot", 1, "DHCP vendor class udhcp (embedded Linux)"),
    _r("dhcp_vendor_class", r"^Withings", "sensor", 3, "DHCP vendor class Withings"),
    _r("dhcp_vendor_class", r"^MSFT 5\.0", "computer", 1, "DHCP vendor class MSFT 5.0 (Windows)"),
    _r(
        "dhcp_vendor_class",
        r"^dhcpcd-[\d.]+:Linux.*:BCM27",
        "iot",
        2,
        "DHCP vendor class dhcpcd on BCM27xx (Raspberry Pi)",
    ),
    # --- DHCP option 55 fingerprints (whole list, order matters).
    _r("dhcp_fingerprint", r"^1,121,3,6,15,119,252$", "phone", 2, "DHCP fingerprint iOS"),
    _r(
        "dhcp_fingerprint",
        r"^1,3,28,6,15,44,46,47,31,33,121,43$",
        "iot",
        2,
        "DHCP fingerprint ESP8266/ESP32 (lwIP)",
    ),
    # lwIP's own DHCP client (src/core/ipv4/dhcp.c) asks for subnet mask, router,
    # broadcast and DNS (and NTP when built with it), in this order: the TCP/IP stack of
    # microcontroller firmware, never of a computer's or phone's OS.
    _r(
        "dhcp_fingerprint",
        r"^1,3,28,6(,42)?$",
        "iot",
        2,
        "DHCP fingerprint lwIP (microcontroller firmware)",
    ),
    _r(
        "dhcp_fingerprint",
        r"^1,3,6,15,26,28,51,58,59(,43)?$",
        "phone",
        2,
        "DHCP fingerprint Android",
    ),
    _r(
        "dhcp_fingerprint",
        r"^1,3,6,15,31,33,43,44,46,47,119,121,249,252$",
        "computer",
        1,
        "DHCP fingerprint Windows 10/11",
    ),
    _r(
        "dhcp_fingerprint",
        r"^1,33,3,6,15,26,28,51,58,59$",
        "phone",
        2,
        "DHCP fingerprint Android (dhcpcd)",
    ),
    # --- Host names the device gave itself.
    _r("hostname", r"iphone", "phone", 3, "hostname *iPhone*"),
    _r("hostname", r"ipad", "tablet", 3, "hostname *iPad*"),
    _r("hostname", r"macbook", "laptop", 3, "hostname *MacBook*"),
    _r("hostname", r"imac|mac-?mini|mac-?pro|mac-?studio", "desktop", 3, "hostname *iMac*"),
    _r("hostname", r"apple-?tv", "tv", 3, "hostname *Apple-TV*"),
    _r("hostname", r"homepod", "smart_speaker", 3, "hostname *HomePod*"),
    _r(
        "hostname", r"^android[-_]|^galaxy|^pixel|^redmi|^oneplus", "phone", 3, "hostname android-*"
    ),
    _r("hostname", r"^esp[_-]|^esp32|^esp8266", "iot", 2, "hostname ESP_*"),
    _r("hostname", r"^(hs|kp|ep)\d{3}", "smart_plug", 3, "hostname HS1xx (TP-Link Kasa plug)"),
    _r("hostname", r"^(lb|kl)\d{3}", "light", 3, "hostname LB1xx (TP-Link Kasa bulb)"),
    # Edimax's model naming (its product catalogue): SP-xxxxW smart plugs (SP-1101W,
    # SP-2101W), IC-xxxx IP cameras (IC-3116W, IC-7113W); a model string in any name or
    # TXT record. "IC-" is a short prefix: weight 2, a camera only when nothing contradicts.
    _r("hostname", EDIMAX_PLUG, "smart_plug", 3, "model SP-xxxxW (Edimax smart plug)"),
    _r("hostname", EDIMAX_CAMERA, "camera", 2, "model IC-xxxx (Edimax camera)"),
    _r("hostname", r"philips-hue|hue-?bridge", "hub", 3, "hostname Philips-hue"),
    _r("hostname", r"^lightify", "hub", 3, "hostname Lightify-*"),
    _r("hostname", r"^dcs-\d", "camera", 3, "hostname DCS-* (D-Link camera)"),
    _r("hostname", r"ipcam|camera|^cam[-_\d]", "camera", 2, "hostname *cam*"),
    _r("hostname", r"chromecast", "media_player", 3, "hostname Chromecast*"),
    _r(
        "hostname",
        r"google-?home|google-?nest|nest-?(mini|audio|hub)",
        "smart_speaker",
        3,
        "hostname Google-Home*",
    ),
    _r("hostname", r"^amazon-|echo", "smart_speaker", 2, "hostname amazon-*/Echo"),
    _r("hostname", r"sonos", "smart_speaker", 3, "hostname Sonos*"),
    _r("hostname", r"roku", "media_player", 3, "hostname Roku*"),
    _r(
        "hostname",
        r"printer|^(brn|brw)[0-9a-f]{6}|^epson|^hp[0-9a-f]{6}|^canon",
        "printer",
        3,
        "hostname printer-like",
    ),
    _r(
        "hostname",
        r"shellyplug|^wemo|^sonoff|tasmota.*plug|smart-?plug",
        "smart_plug",
        3,
        "hostname smart plug",
    ),
    _r("hostname", r"^shelly|tasmota|esphome", "iot", 2, "hostname Shelly/Tasmota/ESPHome"),
    _r("hostname", r"^raspberrypi", "iot", 2, "hostname raspberrypi"),
    _r("hostname", r"^desktop-[a-z0-9]{6,8}$", "desktop", 3, "hostname DESKTOP-* (Windows)"),
    _r("hostname", r"^laptop-[a-z0-9]{7,8}$", "laptop", 3, "hostname LAPTOP-* (Windows)"),
    _r("hostname", r"diskstation|synology|qnap|^nas[-_\d]|^nas$", "nas", 3, "hostname NAS"),
    _r(
        "hostname",
        r"playstation|^ps[345]|xbox|nintendo|switch-",
        "game_console",
        3,
        "hostname game console",
    ),
    _r("hostname", r"(^|[-_ ])tv([-_ ]|$)|smart-?tv|bravia|webos|tizen", "tv", 2, "hostname *TV*"),
    _r("hostname", r"^(router|gateway|openwrt|fritz-?box|dd-wrt)", "router", 2, "hostname router"),
    # --- DNS-SD service types the device advertised.
    _r("mdns_service", r"^_googlecast\.", "media_player", 2, "mDNS _googlecast"),
    _r("mdns_service", r"^_hue\.", "hub", 3, "mDNS _hue"),
    _r("mdns_service", r"^_hap\.", "iot", 1, "mDNS _hap (HomeKit accessory)"),
    _r("mdns_service", r"^_(ipp|ipps|printer|pdl-datastream)\.", "printer", 3, "mDNS _ipp"),
    _r("mdns_service", r"^_(uscan|uscans|scanner)\.", "printer", 2, "mDNS _uscan"),
    _r("mdns_service", r"^_airplay\.", "tv", 1, "mDNS _airplay"),
    _r("mdns_service", r"^_raop\.", "media_player", 1, "mDNS _raop"),
    _r("mdns_service", r"^_spotify-connect\.", "media_player", 1, "mDNS _spotify-connect"),
    _r("mdns_service", r"^_sonos\.", "smart_speaker", 3, "mDNS _sonos"),
    _r("mdns_service", r"^_androidtvremote", "tv", 3, "mDNS _androidtvremote"),
    _r("mdns_service", r"^_amzn-wplay\.", "media_player", 2, "mDNS _amzn-wplay (Fire TV)"),
    _r("mdns_service", r"^_(axis-video|rtsp)\.", "camera", 3, "mDNS _rtsp"),
    _r("mdns_service", r"^_(esphomelib|shelly|matter|matterc)\.", "iot", 3, "mDNS IoT service"),
    _r("mdns_service", r"^_(adisk|afpovertcp)\.", "nas", 1, "mDNS file sharing"),
    _r(
        "mdns_service", r"^_(companion-link|rfb|sftp-ssh)\.", "desktop", 1, "mDNS computer services"
    ),
    # --- DNS-SD TXT models.
    _r(
        "model",
        r"google home|nest (mini|audio|hub)|home mini",
        "smart_speaker",
        4,
        "mDNS model Google Home",
    ),
    _r("model", r"chromecast", "media_player", 4, "mDNS model Chromecast"),
    _r("model", r"^appletv", "tv", 4, "mDNS model AppleTV"),
    _r("model", EDIMAX_PLUG, "smart_plug", 3, "model SP-xxxxW (Edimax smart plug)"),
    _r("model", EDIMAX_CAMERA, "camera", 2, "model IC-xxxx (Edimax camera)"),
    _r("model", r"^audioaccessory", "smart_speaker", 4, "mDNS model HomePod"),
    _r("model", r"^macbook", "laptop", 4, "mDNS model MacBook"),
    _r("model", r"^(imac|macmini|macpro)", "desktop", 4, "mDNS model iMac"),
    # --- SSDP (the device's own announcements).
    _r("ssdp_type", r":device:InternetGatewayDevice:", "router", 3, "UPnP InternetGatewayDevice"),
    _r("ssdp_type", r":device:MediaRenderer:", "media_player", 2, "UPnP MediaRenderer"),
    _r("ssdp_type", r":device:(MediaServer|NAS)", "nas", 1, "UPnP MediaServer"),
    _r("ssdp_type", r"dial-multiscreen-org:device:dial", "tv", 2, "DIAL receiver"),
    _r(
        "ssdp_type",
        r"urn:Belkin:device:(insight|controllee)",
        "smart_plug",
        3,
        "UPnP Belkin WeMo plug",
    ),
    _r(
        "ssdp_type",
        r"urn:Belkin:device:(lightswitch|dimmer)",
        "smart_plug",
        3,
        "UPnP Belkin WeMo switch",
    ),
    _r("ssdp_type", r"urn:Belkin:device:sensor", "sensor", 3, "UPnP Belkin WeMo sensor"),
    _r("ssdp_type", r":device:(Printer|Scanner)", "printer", 3, "UPnP printer"),
    _r("ssdp_server", r"IpBridge", "hub", 3, "SSDP server IpBridge (Hue bridge)"),
    _r("ssdp_server", r"Sonos", "smart_speaker", 3, "SSDP server Sonos"),
    _r("ssdp_server", r"Roku", "media_player", 3, "SSDP server Roku"),
    _r(
        "ssdp_server",
        r"Tomato|OpenWrt|DD-WRT|miniupnpd|FRITZ!Box|RT-[A-Z]?\w+",
        "router",
        2,
        "SSDP server router firmware",
    ),
    _r("ssdp_location", r"IPCamDesc\.xml", "camera", 2, "UPnP IPCamDesc.xml"),
    # --- Names it looked up or contacted (weak: apps on phones do the same).
    _r("domain", r"(^|\.)tplinkcloud\.com$", "iot", 1, "domain tplinkcloud.com"),
    _r("domain", r"(^|\.)fitbit\.com$", "sensor", 1, "domain fitbit.com"),
    _r(
        "domain",
        r"(^|\.)(meethue\.com|xbcs\.net|arrayent\.com|tuyaus\.com|tuyaeu\.com)$",
        "iot",
        1,
        "domain IoT cloud",
    ),
    _r("domain", r"(^|\.)mydlink\.com$", "iot", 1, "domain mydlink.com"),
    # --- HTTP User-Agent the device sent (its own software says what it runs on).
    _r("user_agent", r"Android [\d.]+;.*Mobile Safari", "phone", 2, "User-Agent Android Mobile"),
    _r(
        "user_agent",
        r"Android [\d.]+; (SM-[GNAJM]\d|Redmi|Pixel \d|Nokia|ONEPLUS|moto)",
        "phone",
        2,
        "User-Agent phone model",
    ),
    _r("user_agent", r"^Dalvik/", "phone", 1, "User-Agent Dalvik (Android)"),
    _r("user_agent", r"\biPhone\b", "phone", 2, "User-Agent iPhone"),
    _r("user_agent", r"\biPad\b", "tablet", 2, "User-Agent iPad"),
    _r("user_agent", r"\bCrKey/", "media_player", 3, "User-Agent CrKey (Chromecast)"),
    _r(
        "user_agent",
        r"SMART-TV|SmartTV|Tizen|Web0S|webOS|BRAVIA|HbbTV",
        "tv",
        3,
        "User-Agent smart TV",
    ),
    _r("user_agent", r"AppleTV|tvOS", "tv", 3, "User-Agent Apple TV"),
    _r("user_agent", r"\bRoku/", "media_player", 3, "User-Agent Roku"),
    _r("user_agent", r"PlayStation|Xbox|Nintendo", "game_console", 3, "User-Agent game console"),
    # --- Traffic behaviour.
    _r("behaviour", r"^gateway$", "router", 2, "gateway for many remote hosts"),
    _r("behaviour", r"^serves_dhcp$", "router", 2, "serves DHCP"),
    _r("behaviour", r"^serves_dns$", "router", 1, "serves DNS"),
    # NetFlow/IPFIX/sFlow export is a feature of routers, switches and firewalls.
    _r("behaviour", r"^exports_flows$", "router", 2, "exports NetFlow/IPFIX/sFlow"),
    _r("behaviour", r"^upstream_video$", "camera", 3, "steady upstream video"),
    _r("behaviour", r"^serves_rtsp$", "camera", 2, "serves RTSP"),
    _r("behaviour", r"^serves_cast$", "media_player", 2, "serves Cast (TCP 8008/8009)"),
    _r("behaviour", r"^serves_(ipp|printer_raw)$", "printer", 3, "serves IPP/9100"),
    _r("behaviour", r"^tuya_lan$", "iot", 2, "Tuya LAN beacons"),
    _r("behaviour", r"^kasa_server$", "smart_plug", 2, "serves TP-Link Kasa"),
    _r("behaviour", r"^kasa_client$", "smart_speaker", 1, "TP-Link Kasa discovery"),
    _r("behaviour", r"^serves_mqtt$", "hub", 1, "serves MQTT (broker)"),
    # Weak: a plug's API port, but also Webmin's and NDMP's (classify._SERVER_TOKENS).
    _r("behaviour", r"^serves_10000$", "smart_plug", 1, "serves TCP 10000 (Edimax plug API)"),
    # A UDP broadcast beacon on an unprivileged port no general software uses (identify's
    # announce.is_beacon): smart-home devices announce themselves so to their phone app
    # every few seconds. Weak alone (a phone's app may send discovery broadcasts); a box
    # that only beacons and never reaches the Internet is an appliance, not a computer
    # or phone (they reach the Internet within minutes).
    _r("behaviour", r"^lan_beacon$", "iot", 1, "broadcasts a LAN beacon"),
    _r("behaviour", r"^lan_beacon_only$", "iot", 1, "beacons on the LAN, no Internet"),
    # Wakes briefly, sleeps minutes to hours, tiny volumes (engine/wakes.py): how Wi-Fi
    # battery sensors behave; strong alone, as a camera or a plug's own evidence wins.
    # An IGMP report for the all-systems group breaks RFC 2236; no phone's or computer's
    # OS does it, lwIP 1.x firmware does (announce.reports_all_systems). The stack, not
    # the product: iot, as strong as lwIP's DHCP fingerprint.
    _r("behaviour", r"^igmp_all_systems_report$", "iot", 2, "IGMP report for 224.0.0.1 (lwIP)"),
    # A TLS certificate whose commonName is the device's own MAC is an identity its maker
    # provisioned at the factory (a device-authentication CA signs one per unit); a
    # computer's or phone's servers use host names, and a NAS's or printer's self-signed
    # certificate names its host or address. Appliance, kind unknown: iot.
    _r(
        "behaviour",
        r"^certificate_names_own_mac$",
        "iot",
        2,
        "TLS certificate names its MAC (factory device identity)",
    ),
    _r("behaviour", r"^sleeps_between_wakes$", "sensor", 2, "wakes briefly, sleeps between"),
)
