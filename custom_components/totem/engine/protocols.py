"""Application protocol of a flow: payload signatures first, ports second.

The engine calls :func:`detect` with the first few payload-carrying packets of
each flow (both directions) until it answers, and :func:`by_port` for a flow
no signature matched. Signatures are byte comparisons on the payload's first
bytes, so a flow costs a few slices once, not a parse per packet.
"""

from __future__ import annotations

from .dissect import DHCP_MAGIC, HTTP_METHODS

DNS = "DNS"
MDNS = "mDNS"
LLMNR = "LLMNR"
DHCP = "DHCP"
DHCPV6 = "DHCPv6"
NTP = "NTP"
SSDP = "SSDP"
TLS = "TLS"
QUIC = "QUIC"
HTTP = "HTTP"
MQTT = "MQTT"
MQTT_TLS = "MQTT over TLS"
COAP = "CoAP"
TELNET = "Telnet"
SSH = "SSH"
FTP = "FTP"
RTSP = "RTSP"
RTMP = "RTMP"
SMB = "SMB"
NETBIOS = "NetBIOS"
IPP = "IPP"
TUYA = "Tuya LAN"
KASA = "TP-Link Kasa"
HUE = "Hue"
HOMEKIT = "HomeKit"
GOOGLE_CAST = "Google Cast"
SONOS = "Sonos"
SNMP = "SNMP"
SYSLOG = "Syslog"
SMTP = "SMTP"
IMAP = "IMAP"
POP3 = "POP3"
UPNP = "UPnP"
STUN = "STUN"
NAT_PMP = "NAT-PMP"
DROPBOX_LAN = "Dropbox LAN sync"
MODBUS = "Modbus"
WS_DISCOVERY = "WS-Discovery"
PRINTER_RAW = "Printer (raw 9100)"
RDP = "RDP"
VNC = "VNC"
APPLE_PUSH = "Apple Push"
AIRPLAY = "AirPlay"
SPOTIFY_CONNECT = "Spotify Connect"
XMPP = "XMPP"
WEAVE = "Nest Weave"
DNS_OVER_TLS = "DNS over TLS"
SIP = "SIP"

TCP, UDP = 6, 17

# (protocol, port) -> name. A port names a protocol only when nothing in the
# payload said otherwise.
PORTS: dict[tuple[int, int], str] = {
    (UDP, 53): DNS,
    (TCP, 53): DNS,
    (UDP, 5353): MDNS,
    (UDP, 5355): LLMNR,
    (TCP, 5355): LLMNR,
    (UDP, 67): DHCP,
    (UDP, 68): DHCP,
    (UDP, 546): DHCPV6,
    (UDP, 547): DHCPV6,
    (UDP, 123): NTP,
    (UDP, 1900): SSDP,
    (TCP, 443): TLS,
    (UDP, 443): QUIC,
    (TCP, 80): HTTP,
    (TCP, 8080): HTTP,
    (TCP, 1883): MQTT,
    (TCP, 8883): MQTT_TLS,
    (UDP, 5683): COAP,
    (UDP, 5684): COAP,
    (TCP, 23): TELNET,
    (TCP, 2323): TELNET,
    (TCP, 22): SSH,
    (TCP, 21): FTP,
    (TCP, 554): RTSP,
    (TCP, 8554): RTSP,
    (TCP, 1935): RTMP,
    (TCP, 445): SMB,
    (TCP, 139): NETBIOS,
    (UDP, 137): NETBIOS,
    (UDP, 138): NETBIOS,
    (TCP, 631): IPP,
    (UDP, 631): IPP,
    (TCP, 6668): TUYA,
    (UDP, 6666): TUYA,
    (UDP, 6667): TUYA,
    (UDP, 7000): TUYA,
    (TCP, 9999): KASA,
    (UDP, 9999): KASA,
    (UDP, 2100): HUE,  # Hue Entertainment (DTLS)
    (TCP, 51826): HOMEKIT,  # HAP's default port (HAP-NodeJS, Homebridge)
    (TCP, 8008): GOOGLE_CAST,
    (TCP, 8009): GOOGLE_CAST,
    (TCP, 1400): SONOS,
    (TCP, 1443): SONOS,
    (TCP, 3400): SONOS,
    (TCP, 3401): SONOS,
    (TCP, 3500): SONOS,
    (UDP, 161): SNMP,
    (UDP, 162): SNMP,
    (UDP, 514): SYSLOG,
    (TCP, 25): SMTP,
    (TCP, 587): SMTP,
    (TCP, 465): SMTP,
    (TCP, 143): IMAP,
    (TCP, 993): IMAP,
    (TCP, 110): POP3,
    (TCP, 995): POP3,
    (TCP, 49152): UPNP,
    (TCP, 49153): UPNP,
    (UDP, 3478): STUN,
    (UDP, 5351): NAT_PMP,
    (UDP, 17500): DROPBOX_LAN,
    (TCP, 17500): DROPBOX_LAN,
    (TCP, 502): MODBUS,
    (UDP, 3702): WS_DISCOVERY,
    (TCP, 9100): PRINTER_RAW,
    (TCP, 3389): RDP,
    (TCP, 5900): VNC,
    (TCP, 5223): APPLE_PUSH,
    (TCP, 7000): AIRPLAY,
    (TCP, 57621): SPOTIFY_CONNECT,
    (UDP, 57621): SPOTIFY_CONNECT,
    (TCP, 5222): XMPP,
    (TCP, 11095): WEAVE,
    (TCP, 853): DNS_OVER_TLS,
    (UDP, 5060): SIP,
    (TCP, 5060): SIP,
}

# Protocols carried inside TLS whose port says more than "TLS" does.
_TLS_PORTS: dict[int, str] = {
    8883: MQTT_TLS,
    1443: SONOS,
    8009: GOOGLE_CAST,
    853: DNS_OVER_TLS,
    5223: APPLE_PUSH,
}
# Protocols carried in HTTP messages whose port says more than "HTTP" does.
_HTTP_PORTS: dict[int, str] = {
    631: IPP,
    1400: SONOS,
    8008: GOOGLE_CAST,
    1900: SSDP,
    51826: HOMEKIT,
}

# Linux hands out client ports from 32768, Windows and macOS from 49152.
_EPHEMERAL_START = 32768

# The first two bytes of TP-Link's XOR "autokey" cipher applied to '{"'.
_KASA_UDP_PREFIX = b"\xd0\xf2"
_TUYA_PREFIX = b"\x00\x00\x55\xaa"


def service_port(proto: int, sport: int, dport: int) -> int:
    """The port that names the service: a known one, else the well-known, else the
    responder's.

    Callers pass the flow's initiator port as ``sport`` where they know it;
    the heuristics still hold when they do not.
    """
    known_d = (proto, dport) in PORTS
    known_s = (proto, sport) in PORTS
    if known_d != known_s:
        return dport if known_d else sport
    if known_d and known_s:
        return min(sport, dport)
    if (sport < 1024) != (dport < 1024):
        return sport if sport < 1024 else dport
    if dport >= _EPHEMERAL_START and sport < _EPHEMERAL_START:
        return sport  # the caller passed the responder first
    return dport


def by_port(proto: int, sport: int, dport: int) -> str:
    """The name a flow gets when no payload matched: known port, else "Unknown ..."."""
    port = service_port(proto, sport, dport)
    name = PORTS.get((proto, port))
    if name is not None:
        return name
    if proto == TCP:
        return f"Unknown TCP port {port}"
    if proto == UDP:
        return f"Unknown UDP port {port}"
    return f"Unknown IP protocol {proto}"


def _is_mqtt_connect(payload: bytes) -> bool:
    # Fixed header 0x10, a 1-4 byte remaining length, then the protocol name
    # "MQTT" (3.1.1 / 5) or "MQIsdp" (3.1) as a length-prefixed string.
    if len(payload) < 8 or payload[0] != 0x10:
        return False
    pos = 1
    while pos < 5 and pos < len(payload) and payload[pos] & 0x80:
        pos += 1
    pos += 1
    name = payload[pos : pos + 8]
    return name.startswith((b"\x00\x04MQTT", b"\x00\x06MQIsdp"))


def _detect_tcp(sport: int, dport: int, payload: bytes) -> str | None:
    first = payload[0]
    if first == 0x16 and len(payload) >= 6 and payload[1] == 3 and payload[5] in (1, 2):
        # ClientHello (1) or ServerHello (2) in a TLS handshake record.
        return _TLS_PORTS.get(dport) or _TLS_PORTS.get(sport) or TLS
    if payload.startswith(HTTP_METHODS):
        line = payload[:512].split(b"\n", 1)[0]
        if b" RTSP/1." in line:
            return RTSP
        if b" HTTP/1." in line or b" HTTP/2" in line:
            if line.startswith((b"POST /pair-setup ", b"POST /pair-verify ")):
                return HOMEKIT  # HAP pairing runs in clear HTTP before encryption
            return _HTTP_PORTS.get(dport) or _HTTP_PORTS.get(sport) or HTTP
    if payload.startswith(b"HTTP/1."):
        return _HTTP_PORTS.get(sport) or _HTTP_PORTS.get(dport) or HTTP
    if payload.startswith(b"RTSP/1."):
        return RTSP
    if payload.startswith(b"SSH-"):
        return SSH
    if payload.startswith((b"220 ", b"220-")) and b"FTP" in payload[:256].upper():
        return FTP  # the server's greeting
    if _is_mqtt_connect(payload):
        return MQTT_TLS if 8883 in (sport, dport) else MQTT
    if first == 0xFF and len(payload) >= 3 and 0xFB <= payload[1] <= 0xFE:
        return TELNET  # IAC WILL/WONT/DO/DONT option negotiation
    if len(payload) >= 8 and payload[4:8] in (b"\xffSMB", b"\xfeSMB"):
        return SMB
    if payload.startswith(_TUYA_PREFIX):
        return TUYA
    if len(payload) >= 6 and payload[4:6] == _KASA_UDP_PREFIX:
        return KASA  # 4-byte length, then the XOR-obfuscated JSON
    if first == 3 and len(payload) == 1537 and 1935 in (sport, dport):
        return RTMP  # handshake C0+C1
    return None


def _detect_udp(sport: int, dport: int, payload: bytes) -> str | None:
    ports = (sport, dport)
    if 53 in ports and len(payload) >= 12:
        return DNS
    if 5353 in ports and len(payload) >= 12:
        return MDNS
    if 5355 in ports and len(payload) >= 12:
        return LLMNR
    if len(payload) >= 240 and payload[236:240] == DHCP_MAGIC:
        return DHCP
    if payload.startswith((b"M-SEARCH * ", b"NOTIFY * ")) or (
        1900 in ports and payload.startswith(b"HTTP/1.")
    ):
        return SSDP
    if payload.startswith(_TUYA_PREFIX):
        return TUYA
    if payload.startswith(_KASA_UDP_PREFIX) and 9999 in ports:
        return KASA
    first = payload[0]
    if 443 in ports and first & 0xC0 == 0xC0 and len(payload) >= 1200:
        return QUIC  # long header Initial packets are padded to 1200 bytes
    if 123 in ports and len(payload) >= 48 and 1 <= (first >> 3) & 7 <= 4 and first & 7:
        return NTP
    if (5683 in ports or 5684 in ports) and first >> 6 == 1:
        return COAP
    if (546 in ports or 547 in ports) and 1 <= first <= 13:
        return DHCPV6
    return None


def detect(proto: int, sport: int, dport: int, payload: bytes) -> str | None:
    """The application protocol of a flow from one of its first payloads, or None."""
    if not payload:
        return None
    try:
        if proto == TCP:
            name = _detect_tcp(sport, dport, payload)
        elif proto == UDP:
            name = _detect_udp(sport, dport, payload)
        else:
            return None
    except IndexError:  # pragma: no cover - signatures check lengths; belt and braces
        name = None
    if name is not None:
        return name
    port = service_port(proto, sport, dport)
    return PORTS.get((proto, port))
