"""Battery-sensor behaviour: short wakes, long sleeps, tiny volumes.

A Wi-Fi battery sensor (a door/window contact like the Sonoff DW2-WiFi, a Shelly H&T,
Xiaomi's Wi-Fi motion and temperature sensors) keeps its radio off between events and
reports: every wake re-joins the Wi-Fi and starts a lease from scratch (DHCP DISCOVER, or
a REQUEST without a client address: INIT-REBOOT), sends a few kilobytes to its cloud and
sleeps again within seconds. An always-on device (a plug, a bulb, a camera) takes a lease
at boot, *renews* it (a REQUEST from its own address, which is no wake) and keeps its
cloud connection open for hours; when its Wi-Fi drops and it reconnects, the connection
it held before still shows how long it stayed up.

So a device sleeps between wakes when (:func:`sleeps`): it woke at least
:data:`MIN_WAKES` times, on average at least :data:`MIN_MEAN_GAP` apart, it started no
flow more than :data:`MAX_AWAKE_SECONDS` after its last wake (:func:`note_contact`: the
identifier sees the first packets of every flow), no flow of its lasted longer than that
either (a keepalive on one connection starts no new flow), and its traffic per wake is
tiny (:data:`MAX_BYTES_PER_WAKE`). The wake count is kept in the device's
:class:`~.evidence.Evidence` from its DHCP messages (:func:`note_dhcp`); the flow
durations come from the engine's counters (``TrafficSummary.longest_flow``).
"""

from __future__ import annotations

from . import dissect
from .evidence import Evidence, TrafficSummary

TOKEN = "sleeps_between_wakes"
# A DISCOVER, its REQUEST and their retries come within seconds of each other (RFC 2131's
# retransmission starts at 4 s); a door opened and closed again at once is one event. A
# minute joins them into one wake.
WAKE_COALESCE = 60.0
# Three wakes with sleep between is a pattern; two could be a reboot and a power cut.
MIN_WAKES = 3
# Battery sensors report on events and on a timer of minutes to hours (a Shelly H&T every
# few hours, the DW2 on every open/close plus an hourly heartbeat): five minutes of
# silence on average is well inside what they do and far above a reboot loop.
MIN_MEAN_GAP = 300.0
# A DW2 is awake about 3-8 s per event, a Shelly H&T under 30 s; two minutes leaves room
# for a slow cloud and TLS retries. An always-on device's cloud connection (MQTT or
# WebSocket with a 30-120 s keepalive) lasts until the engine's active-timeout export
# (30 minutes) or until its next reconnect, far longer.
MAX_AWAKE_SECONDS = 120.0
# One wake moves DHCP (~1.5 KB), DNS (~0.3 KB), a TLS handshake with its certificate
# chain (~6 KB) and a report (~1 KB): about 10 KB. 64 KB is six times that; a battery
# camera or doorbell that wakes to upload a clip moves megabytes and is no sensor.
MAX_BYTES_PER_WAKE = 64_000


def note_dhcp(ev: Evidence, ts: float, msg: dissect.DhcpMessage) -> None:
    """Count a wake when a client starts a lease from scratch (not a renewal)."""
    if msg.op != 1 or msg.client_ip is not None:
        return  # a server's reply, or a renewal / rebinding from the client's own address
    if msg.msg_type not in (dissect.DHCP_DISCOVER, dissect.DHCP_REQUEST):
        return
    if ev.wakes and ts - ev.last_wake < WAKE_COALESCE:
        ev.last_wake = max(ev.last_wake, ts)
        return
    if not ev.wakes:
        ev.first_wake = ts
    ev.wakes += 1
    ev.last_wake = ts


def note_contact(ev: Evidence, ts: float) -> None:
    """The device started a flow (or sent an evidence packet): awake between wakes?"""
    if ts - ev.last_wake > MAX_AWAKE_SECONDS:
        ev.awake_between += 1


def sleeps(ev: Evidence | None, traffic: TrafficSummary) -> bool:
    """Whether the device behaves like a battery sensor: brief wakes, long sleeps."""
    if ev is None or ev.wakes < MIN_WAKES or ev.awake_between:
        return False  # too few wakes, or it talked while it should have slept
    mean_gap = (ev.last_wake - ev.first_wake) / (ev.wakes - 1)
    if mean_gap < MIN_MEAN_GAP:
        return False
    if traffic.longest_flow > MAX_AWAKE_SECONDS:
        return False
    return traffic.tx_bytes + traffic.rx_bytes <= MAX_BYTES_PER_WAKE * ev.wakes
