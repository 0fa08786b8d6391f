"""Types from how a device's traffic flows, not its names: a cast receiver with no name
(Google OUI, a stream in from a video CDN, Cast ports served) is a media player, and a
randomised (private) MAC is a phone or computer, never a camera from upload volume.

Evidence is fed as bytes (scapy DNS answers through ``Identifier.inspect``); the traffic
totals are the per-device summary the engine folds per flow.
"""

from __future__ import annotations

from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from custom_components.totem.engine.identify import Identifier, TrafficSummary
from tests.engine.test_identify import mac, packet_args

CHROMECAST = "f4:f5:d8:12:34:56"  # a Google, Inc. OUI
PRIVATE = "da:a1:19:42:17:03"  # U/L bit set: an iOS/Android private address
GATEWAY = "00:11:22:33:44:55"


def _dns_answer(identifier: Identifier, client: str, name: str) -> None:
    """The client's own DNS query for ``name``, as the engine hands it to ``inspect``."""
    pkt = (
        Ether(src=client, dst=GATEWAY)
        / IP(src="192.168.1.50", dst="192.168.1.1")
        / UDP(sport=40000, dport=53)
        / DNS(rd=1, qd=DNSQR(qname=name))
    )
    args = packet_args(pkt)
    assert args is not None
    identifier.inspect(*args)


def _streaming(seconds: float = 600.0) -> TrafficSummary:
    # 3 Mbit/s in (an HD YouTube stream), ACKs out.
    down = int(375_000 * seconds)
    return TrafficSummary(
        rx_bytes=down,
        tx_bytes=down // 40,
        downstream_bytes=down,
        upstream_bytes=down // 40,
        duration=seconds,
        remote_hosts=3,
    )


def test_nameless_cast_receiver_streaming_is_a_media_player() -> None:
    identifier = Identifier()
    _dns_answer(identifier, CHROMECAST, "r3---sn-4g5e6nsz.googlevideo.com")
    traffic = _streaming()
    ident = identifier.identity(mac(CHROMECAST), traffic)
    assert ident.type == "media_player", ident.type_reason
    assert "media stream" in ident.type_reason
    assert "r3---sn-4g5e6nsz.googlevideo.com" in ident.domains
    # The phone casting to it connects to its Cast ports: more evidence, same answer.
    traffic.server_ports = {(6, 8009): 40_000, (6, 8008): 2_000}
    assert identifier.identity(mac(CHROMECAST), traffic).type == "media_player"


def test_cast_ports_alone_make_a_media_player() -> None:
    ident = Identifier().identity(mac(CHROMECAST), TrafficSummary(server_ports={(6, 8009): 40_000}))
    assert ident.type == "media_player", ident.type_reason


def test_short_or_balanced_traffic_is_no_stream() -> None:
    identifier = Identifier()
    # One minute's worth of bytes spread over an hour: a trickle, not a stream.
    trickle = TrafficSummary(downstream_bytes=375_000 * 60, upstream_bytes=1000, duration=3600)
    assert identifier.identity(mac(CHROMECAST), trickle).type != "media_player"
    # As much out as in: a call or a sync, not a stream being watched.
    both = TrafficSummary(downstream_bytes=10**8, upstream_bytes=10**8, duration=600)
    assert identifier.identity(mac(CHROMECAST), both).type != "media_player"


def test_private_mac_uploading_video_is_no_camera() -> None:
    identifier = Identifier()
    # A phone's video call / photo backup: 1 Mbit/s up for 10 minutes.
    up = 125_000 * 600
    upload = TrafficSummary(upstream_bytes=up, downstream_bytes=up // 40, duration=600.0)
    ident = identifier.identity(mac(PRIVATE), upload)
    assert ident.type != "camera", ident.type_reason
    assert ident.randomized
    # The same traffic from a maker's OUI still reads as a camera's upstream video.
    cam = identifier.identity(mac("00:12:34:56:78:9a"), upload)
    assert cam.type == "camera", cam.type_reason


def test_private_mac_streaming_and_browsing_is_a_personal_device() -> None:
    identifier = Identifier()
    for site in (
        "www.wikipedia.org",
        "news.ycombinator.com",
        "www.bbc.co.uk",
        "github.com",
        "www.reddit.com",
        "www.nytimes.com",
        "stackoverflow.com",
        "www.amazon.com",
        "www.lemonde.fr",
        "www.spiegel.de",
        "www.imdb.com",
        "www.ebay.com",
    ):
        _dns_answer(identifier, PRIVATE, site)
    ident = identifier.identity(mac(PRIVATE), _streaming())
    assert ident.type in ("phone", "tablet", "laptop", "desktop"), ident.type_reason
    assert "randomised MAC" in ident.type_reason
