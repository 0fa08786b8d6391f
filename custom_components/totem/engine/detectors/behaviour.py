"""What a device speaks, to whom, and how much.

- insecure_protocol (rule): a Telnet or FTP session that was answered; the
  blame goes to the LAN device that serves it (it accepts passwords in
  clear text), else to the one that logged in.
- unexpected_protocol (baseline + policy): a named application protocol that
  neither the device's type policy allows nor the device spoke while
  learning. "Unknown port N" flows are not judged: IoT vendors use their
  own ports, and the scan detectors watch the dangerous ones.
- new_destination for LAN peers (baseline): a watched device opens an
  answered connection to a LAN device it never talked to while learning
  (a plug talking to the NAS is lateral movement).
- traffic_spike (baseline): per-minute upload volume far above the device's
  own history (see :mod:`.baseline` for the model).
- blocklisted_host (rule): a flow to or from an address, or a DNS query for
  a name, in the user's offline blocklist.
"""

from __future__ import annotations

from .. import netaddr
from ..flows import Flow
from .base import Detector, DetectorContext, Settled, move_key, register
from .baseline import (
    MAX_PEERS,
    MAX_PROTOCOLS,
    MAX_SERVERS,
    add_bounded,
)
from .destinations import prefix_of

INSECURE = {"Telnet": "Telnet", "FTP": "FTP"}
BUCKET_SECONDS = 60.0


@register(order=60)
class ProtocolDetector(Detector):
    kinds = ("insecure_protocol", "unexpected_protocol", "new_destination")

    def on_settled(self, s: Settled) -> None:
        if not s.answered:
            return
        ctx = self.ctx
        f = s.flow
        ts = f.started
        app = s.app
        if app in INSECURE and f.proto == 6:
            culprit = s.server or s.origin
            if culprit is not None and not ctx.counted(ts, culprit, "insecure_protocol"):
                serving = culprit == s.server
                peer = netaddr.ip_str(f.src_ip if serving else f.dst_ip)
                what = (
                    f"accepted an unencrypted {app} login from {peer}"
                    if serving
                    else f"logged in to {peer} over unencrypted {app}"
                )
                ctx.raise_alert(
                    ts,
                    culprit,
                    "insecure_protocol",
                    "warning",
                    f"{ctx.describe(culprit, ts)} {what}: passwords travel in clear text "
                    f"and {app} is how botnets like Mirai take over devices. What you can "
                    "do: turn that service off, or change the device's password.",
                    {"protocol": app, "peer": peer},
                )
        if app.startswith("Unknown") or ctx.learn_seconds <= 0:
            return  # the rest compares with baselines, which learning off leaves out
        for mac in (s.origin, s.server):
            if mac is not None:
                self._protocol(ts, mac, app)
        if s.origin is not None and s.server is not None:
            self._peer(ts, s.origin, s.server)
        if app == "NTP" and s.origin is not None:
            base = ctx.baseline(s.origin, ts)
            if base is not None and (base.learning(ts) or not ctx.alerted_recently(s.origin, ts)):
                add_bounded(base.ntp_servers, netaddr.ip_str(f.dst_ip), MAX_SERVERS)

    def _protocol(self, ts: float, mac: bytes, app: str) -> None:
        ctx = self.ctx
        base = ctx.baseline(mac, ts)
        if base is None or app in base.protocols:
            return
        if base.learning(ts):
            add_bounded(base.protocols, app, MAX_PROTOCOLS)
            return
        prof = ctx.profile(mac, ts)
        if ctx.policy.allows(prof.type, app):
            return
        if ctx.watched(mac, "unexpected_protocol", ts) is None:
            return
        ctx.raise_alert(
            ts,
            mac,
            "unexpected_protocol",
            "warning",
            f"{ctx.describe(mac, ts)} used {app}, which a device of its kind "
            f"({prof.type.replace('_', ' ')}) does not need and which it never used while "
            "TOTEM was learning. What you can do: if you did not change how you use it, "
            "check the device, or allow the protocol for its kind.",
            {"protocol": app},
        )

    def _peer(self, ts: float, origin: bytes, server: bytes) -> None:
        ctx = self.ctx
        base = ctx.baseline(origin, ts)
        if base is None:
            return
        peer = netaddr.mac_str(server)
        if peer in base.lan_peers:
            return
        if base.learning(ts):
            add_bounded(base.lan_peers, peer, MAX_PEERS)
            return
        if ctx.watched(origin, "new_destination", ts) is None:
            return
        ctx.raise_alert(
            ts,
            origin,
            "new_destination",
            "warning",
            f"{ctx.describe(origin, ts)} connected to {ctx.profile(server, ts).label} on "
            "your network, which it never talked to while TOTEM was learning. What you can "
            "do: if you did not set this up, block the device and check it.",
            {"peer": peer},
        )


@register(order=70)
class TrafficSpikeDetector(Detector):
    """Per-minute upload of each device against its own history."""

    kinds = ("traffic_spike",)

    def __init__(self, ctx: DetectorContext) -> None:
        super().__init__(ctx)
        self._next_bucket = 0.0
        # When the minute now closing began, and the minute before it: an alert is
        # stamped at the start of the minutes it measured.
        self._starts = (0.0, 0.0)
        # Devices seen moving a big transfer to their own networks, and when: the
        # transfer's last minute comes after its flow ended (no longer live).
        self._owner_transfer: dict[bytes, float] = {}

    def rekey(self, old: bytes, new: bytes) -> None:
        move_key(self._owner_transfer, old, new)

    def on_tick(self, ts: float) -> None:
        if self.ctx.learn_seconds <= 0:
            return
        if self._next_bucket == 0.0:
            self._next_bucket = ts + BUCKET_SECONDS
            self._starts = (ts, ts)
            return
        if ts < self._next_bucket:
            return
        self._next_bucket = ts + BUCKET_SECONDS
        self._bucket(ts)
        self._starts = (self._starts[1], ts)

    def _uploads(self) -> dict[bytes, int]:
        """Bytes each device has sent so far: folded counters plus live flows."""
        ctx = self.ctx
        totals = {mac: dev.tx_bytes for mac, dev in ctx.devices.items()}
        # Live flows hold what was not folded yet (long uploads fold every 30 minutes).
        for f in ctx.live_flows():
            src = f.src_dev
            if src is not None and src.mac in totals:
                totals[src.mac] += f.fwd_bytes
            dst = f.dst_dev
            if dst is not None and dst.mac in totals:
                totals[dst.mac] += f.rev_bytes
        return totals

    def _bucket(self, ts: float) -> None:
        ctx = self.ctx
        for mac, total in self._uploads().items():
            base = ctx.baseline(mac, ts)
            if base is None:
                continue
            previous = base.last_total
            base.last_total = total
            if previous < 0:
                continue
            sent = max(0, total - previous)
            if base.learning(ts):
                base.volume.add(float(sent))
                continue
            usual = self._usual(ts, mac, sent, base.last_sent)
            base.last_sent = sent if usual else 0
            # A usual minute is learned one minute late, once the next one is judged
            # usual too: an upload that straddles the minute boundary leaves its first
            # part in a minute under the bar, which the next minute's verdict (alone or
            # as a pair) shows to be part of the spike. Holding one minute per device
            # is the whole cost; a day of history barely notices the delay.
            held, base.pending = base.pending, None
            if not usual:
                continue  # never learn from unusual minutes, nor from their neighbour
            if held is not None:
                base.volume.learn(held)
            if not ctx.alerted_recently(mac, ts):
                base.pending = float(sent)  # never learn from alerting minutes

    def _to_known_networks(self, mac: bytes, ts: float) -> int:
        """Bytes the device's live flows sent to networks it reached while learning."""
        ctx = self.ctx
        base = ctx.baseline(mac, ts)
        if base is None or not base.prefixes:
            return 0
        known = base.prefixes
        total = 0
        for f in ctx.live_flows():
            src, dst = f.src_dev, f.dst_dev
            if src is not None and src.mac == mac and prefix_of(f.dst_ip) in known:
                total += f.fwd_bytes
            elif dst is not None and dst.mac == mac and prefix_of(f.src_ip) in known:
                total += f.rev_bytes
        return total

    def _owners_transfer(self, mac: bytes, ts: float, sent: int, big: int) -> bool:
        """Is this minute's upload the device's own big transfer to networks it knows:
        held by its live flows there, or the last minute of one seen live a minute ago
        (its flow has ended since)?"""
        known = self._to_known_networks(mac, ts)
        if known >= min(sent, big):
            if len(self._owner_transfer) >= MAX_PEERS:
                self._owner_transfer.clear()
            self._owner_transfer[mac] = ts
            return 2 * known >= sent
        seen = self._owner_transfer.get(mac)
        return seen is not None and ts - seen <= 2 * BUCKET_SECONDS

    def _usual(self, ts: float, mac: bytes, sent: int, before: int = 0) -> bool:
        """True for a minute within the device's usual range; alerts on a spike.

        ``before`` is the previous minute's upload when that minute was usual. An
        upload does not start on TOTEM's minute boundary: a one-minute burst lands
        in two buckets, each half of it under the bar. So the two minutes are also
        judged together, against twice the floor and ``factor`` x (p95 + median):
        a device's busiest normal minute next to an ordinary one.
        """
        ctx = self.ctx
        t = ctx.thresholds(mac)
        base = ctx.baseline(mac, ts)
        stats = base.volume.stats() if base is not None else None
        if stats is None:
            return True
        roomy = ctx.policy.roomy_volume(ctx.profile(mac, ts).type)
        factor = t.spike_factor_roomy if roomy else t.spike_factor
        floor = t.spike_min_bytes_roomy if roomy else t.spike_min_bytes
        limit = max(factor * stats.p95, stats.median + t.spike_mad * 1.4826 * stats.mad, floor)
        pair_limit = max(factor * (stats.p95 + stats.median), 2 * floor)
        minutes, since = 1, self._starts[1]
        if sent > limit:
            pass
        elif sent > stats.p95 and sent + before > pair_limit:
            # Together far above two of its own minutes: the spike began a minute earlier.
            minutes, sent, since = 2, sent + before, self._starts[0]
        else:
            return True
        if roomy and self._owners_transfer(mac, ts, sent, t.spike_min_bytes_roomy):
            # A person's machine or a media device moving a lot to where it always
            # goes (a phone's photo backup to its own cloud, a sync, a video call) is
            # its owner's doing: not learned, not alerted. Data stolen goes somewhere
            # new, and flows to networks it never reached do not count here.
            return False
        if ctx.watched(mac, "traffic_spike", ts) is None:
            return False
        usual = max(stats.median, 1.0)
        ctx.raise_alert(
            ts,
            mac,
            "traffic_spike",
            "warning",
            f"{ctx.describe(mac, ts)} uploaded {_size(sent)} in "
            f"{'two minutes' if minutes == 2 else 'one minute'}, "
            f"{sent / (minutes * usual):.0f} times its usual {_size(usual)} a minute. "
            "Something may be copying "
            "data out of your home, or the device joined an attack. What you can do: "
            "check what the device is doing, and block it if you do not know why.",
            {
                "bytes": sent,
                "minutes": minutes,
                "usual": round(stats.median),
                "p95": round(stats.p95),
                "until": ts,  # the measured minutes: from the alert's time to this
            },
            since=max(since, base.learn_until) if base is not None else since,
        )
        return False


def _size(n: float) -> str:
    """'1.2 MB', '34 KB', '800 bytes': a person's unit for a byte count."""
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    if n >= 1e3:
        return f"{n / 1e3:.0f} KB"
    return f"{n:.0f} bytes"


@register(order=80)
class BlocklistDetector(Detector):
    kinds = ("blocklisted_host",)

    def on_flow_start(self, ts: float, flow: Flow, origin: bytes | None) -> None:
        blocklist = self.ctx.blocklist
        if blocklist is None:
            return
        if origin is not None:
            if netaddr.is_local_ip(flow.dst_ip) or netaddr.is_multicast_ip(flow.dst_ip):
                return
            hit = blocklist.match_ip(flow.dst_ip)
            if hit is not None:
                self._alert(ts, origin, netaddr.ip_str(flow.dst_ip), hit, outgoing=True)
        elif flow.dst_dev is not None and not flow.dst_dev.is_gateway:
            hit = blocklist.match_ip(flow.src_ip)
            if hit is not None:
                self._alert(ts, flow.dst_mac, netaddr.ip_str(flow.src_ip), hit, outgoing=False)

    def on_dns_query(self, ts: float, mac: bytes, qname: str, qtype: int, server: str) -> None:
        blocklist = self.ctx.blocklist
        if blocklist is None or self.ctx.is_forwarder(mac):
            return
        hit = blocklist.match_domain(qname)
        if hit is not None:
            self._alert(ts, mac, qname, hit, outgoing=True)

    def _alert(self, ts: float, mac: bytes, host: str, entry: str, outgoing: bool) -> None:
        ctx = self.ctx
        if ctx.counted(ts, mac, "blocklisted_host"):
            return
        source = ctx.blocklist.source if ctx.blocklist is not None else "blocklist"
        what = "contacted" if outgoing else "was contacted by"
        ctx.raise_alert(
            ts,
            mac,
            "blocklisted_host",
            "critical",
            f"{ctx.describe(mac, ts)} {what} {host}, which your blocklist lists as "
            "dangerous (malware, tracking or attack servers). What you can do: block the "
            "device if you do not know why it did that.",
            {"host": host, "entry": entry, "list": source},
        )
