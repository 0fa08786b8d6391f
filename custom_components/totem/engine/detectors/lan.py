"""The LAN itself: who is on it (new_device, mac_flood), who claims which
address (arp_spoof) and who hands out addresses (rogue_dhcp).

Inventory. Every MAC that sent a frame is remembered with its last-seen
time (persisted, capped), so a device back after weeks is not new. A MAC
first seen after learning is new once it has sent something (a frame to
an unknown MAC creates a table entry but is not a device joining) and is
not a rotated MAC the identifier ties to a known device. A burst of new
MACs (``mac_flood_new_macs`` in ``mac_flood_window``) is a MAC flood: one
alert, and none of the flood's MACs becomes a new_device alert or an
inventory entry.

ARP. The first MAC that claimed each IPv4 address (as ARP sender) is its
owner; the owner stays alive while it claims the address or sends IP from
it. Another MAC claiming it while the owner was alive within
``arp_conflict_window`` is spoofing (critical for the gateway's address).
Ownership is sticky where addresses do not move by themselves: the
gateway's address never changes hands silently, and an address its owner
got by DHCP moves only to a claimant that asked DHCP too (a lease handed
on). Elsewhere an owner silent for longer has left and the address moves
without alert. The blame is always on the claimant, named, unless the
claimant is the address's proven owner (the DHCP server that announced it,
or the router against a non-router) and the held owner is not: then the
held owner was the impostor (a capture that began mid-attack) and is blamed.

DHCP. Servers seen while learning (or the first one when learning is off)
are legitimate; a DHCP offer or ack from another MAC is rogue whatever it
writes in option 54 (an attacker copies the real server's address there).
A legitimate extra server (a mesh node, a Pi-hole, a second interface of
the router) is allowed by the user's list (the ``dhcp_servers`` command, the
options' "Other DHCP servers"), by MAC or by an address its MAC owns; never
by guess.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from .. import netaddr
from ..flows import Flow
from ..protocol import OK, AllowDhcpServers, Command, Reply
from .base import Detector, DetectorContext, register

MAX_INVENTORY = 8192
MAX_OWNERS = 4096
MAX_DHCP_SERVERS = 8
NEW_DEVICE_GRACE = 10.0  # let DHCP and announcements name the device first
NEW_DEVICE_GIVE_UP = 120.0  # never sent anything: not a device
INVENTORY_SWEEP = 300.0
FLOOD_MATURITY = 2.0  # seconds a new MAC has to show it is a device


def _sent_something(ctx: DetectorContext, mac: bytes) -> bool:
    dev = ctx.devices.get(mac)
    return dev is not None and (dev.sent_ip or dev.tx_packets > 0 or bool(dev.arp_ips))


@register(order=10)
class InventoryDetector(Detector):
    kinds = ("new_device", "mac_flood")

    def __init__(self, ctx: DetectorContext) -> None:
        super().__init__(ctx)
        self.inventory: OrderedDict[str, float] = OrderedDict()
        self._pending: deque[tuple[float, bytes]] = deque(maxlen=4096)
        self._recent: deque[tuple[float, bytes]] = deque(maxlen=4096)
        self._fake: deque[tuple[float, bytes]] = deque(maxlen=4096)
        self._flood_until = 0.0
        self._flood_mac: bytes | None = None
        self._floods: deque[tuple[float, float]] = deque(maxlen=16)  # (start, end)
        self._next_sweep = 0.0

    def _remember(self, mac: bytes, ts: float) -> None:
        key = netaddr.mac_str(mac)
        inv = self.inventory
        if key in inv:
            inv.move_to_end(key)
        inv[key] = max(ts, inv.get(key, ts))
        while len(inv) > MAX_INVENTORY:
            inv.popitem(last=False)

    def rekey(self, old: bytes, new: bytes) -> None:
        """A known device is no new one under its new key: known since its old key was.
        Still in its grace period, it is judged under the new key when that ends."""
        seen = self.inventory.pop(netaddr.mac_str(old), None)
        if seen is not None:
            self._remember(new, seen)
        for queue in (self._pending, self._recent, self._fake):
            if any(m == old for _t, m in queue):
                moved = [(t, new if m == old else m) for t, m in queue]
                queue.clear()
                queue.extend(moved)

    def on_new_device(self, ts: float, mac: bytes) -> None:
        if netaddr.mac_str(mac) in self.inventory:
            return
        self._pending.append((ts, mac))
        recent = self._recent
        if len(recent) == recent.maxlen:
            # More new MACs than a housekeeping tick can judge (4,096 within seconds):
            # no home's devices arrive like that, so the one pushed out counts as fake.
            self._fake.append(recent.popleft())
        recent.append((ts, mac))

    def _flood_check(self, ts: float) -> None:
        """Count recent MACs that do not behave like devices (no DHCP, no ARP).

        A power cut brings every device back within seconds, but each asks
        DHCP or announces itself by ARP; flood frames (macof) do neither. A
        MAC is judged once it is ``FLOOD_MATURITY`` seconds old (its DHCP has
        had time to go out); non-IP frames only reach the device table at
        housekeeping, so judging goes by first-seen time, not by arrival.
        """
        t = self.ctx.thresholds(None)
        recent = self._recent
        devices = self.ctx.devices
        keep: list[tuple[float, bytes]] = []
        while recent:
            first, mac = recent.popleft()
            if first > ts - FLOOD_MATURITY:
                keep.append((first, mac))
                continue
            dev = devices.get(mac)
            # Gone already: the device table evicted it within seconds of its first
            # frame, which only a flood of new MACs does (independent of the table).
            if dev is None or (not dev.sent_dhcp and not dev.arp_ips):
                self._fake.append((first, mac))
        recent.extend(keep)
        if not self._fake:
            return
        fake = sorted(self._fake)
        newest = fake[-1][0]
        fake = [(first, mac) for first, mac in fake if first >= newest - t.mac_flood_window]
        self._fake.clear()
        self._fake.extend(fake)
        if len(fake) < t.mac_flood_new_macs:
            return
        start = fake[0][0]
        if start > self._flood_until or self._flood_mac is None:
            self._flood_mac = fake[0][1]  # one alert per flood, counted on its first MAC
        self._flood_until = newest + t.mac_flood_window
        if self._floods and self._floods[-1][1] >= start:
            self._floods[-1] = (self._floods[-1][0], self._flood_until)
        else:
            self._floods.append((start, self._flood_until))
        flooded = {m for _, m in fake}
        self._pending = deque(
            ((s, m) for s, m in self._pending if m not in flooded), maxlen=self._pending.maxlen
        )
        self._fake.clear()
        self.ctx.raise_alert(
            newest,
            self._flood_mac,
            "mac_flood",
            "critical",
            f"{len(fake)} unknown network addresses (MACs) appeared within "
            f"{t.mac_flood_window:.0f} seconds without behaving like devices. Something on "
            "your network is flooding it with fake devices, to overload switches or hide an "
            "attack. What you can do: unplug what was connected last, or the port that "
            "floods.",
            {"new_macs": len(fake), "sample": [netaddr.mac_str(m) for _, m in fake[:8]]},
        )

    def on_tick(self, ts: float) -> None:
        ctx = self.ctx
        if self._recent:
            self._flood_check(ts)
        pending = self._pending
        due = []
        while pending and pending[0][0] <= ts - NEW_DEVICE_GRACE:
            due.append(pending.popleft())
        for first, mac in due:
            if self._in_flood(first):
                continue
            if not _sent_something(ctx, mac):
                if ts - first < NEW_DEVICE_GIVE_UP:
                    pending.append((first, mac))  # look again on a later tick
                continue
            self._arrived(first, mac)
        if ts >= self._next_sweep:
            self._next_sweep = ts + INVENTORY_SWEEP
            for mac, dev in ctx.devices.items():
                if dev.tx_packets or dev.sent_ip or dev.arp_ips:
                    key = netaddr.mac_str(mac)
                    if key in self.inventory:
                        self.inventory[key] = max(self.inventory[key], dev.last_seen)
                    elif not self._in_flood(dev.first_seen):
                        self._arrived(dev.first_seen or ts, mac)

    def _in_flood(self, ts: float) -> bool:
        return any(start <= ts <= end for start, end in self._floods)

    def _arrived(self, ts: float, mac: bytes) -> None:
        ctx = self.ctx
        key = netaddr.mac_str(mac)
        if key in self.inventory:
            return
        self._remember(mac, ts)
        if ctx.learn_seconds <= 0 or ts < ctx.learn_end:
            return
        ident = ctx.identity(mac)
        if ident.same_device_as in self.inventory:
            return  # a phone's rotated private address, already known under another MAC
        randomized = netaddr.is_locally_administered(mac)
        ctx.raise_alert(
            ts,
            mac,
            "new_device",
            "info",
            f"A new device joined your network: {ctx.profile(mac, ts, fresh=True).label}"
            + (" (it uses a private, randomised address)." if randomized else ".")
            + " What you can do: nothing if you know it; otherwise block it.",
            {"randomized": randomized},
        )

    def state(self) -> dict[str, Any] | None:
        inventory = dict(self.inventory)
        # MACs still in their grace period are devices too: a restart must not
        # announce them as new.
        for first, mac in self._pending:
            key = netaddr.mac_str(mac)
            fresh = key not in inventory and not self._in_flood(first)
            if fresh and _sent_something(self.ctx, mac):
                inventory[key] = first
        return {"inventory": inventory}

    def restore(self, state: dict[str, Any]) -> None:
        inv = state.get("inventory")
        if not isinstance(inv, dict):
            return
        known = [(float(v), str(k)) for k, v in inv.items() if isinstance(v, int | float)]
        for seen, key in sorted(known):
            self.inventory[key] = seen
        while len(self.inventory) > MAX_INVENTORY:
            self.inventory.popitem(last=False)


@register(order=40)
class ArpDetector(Detector):
    kinds = ("arp_spoof",)

    def __init__(self, ctx: DetectorContext) -> None:
        super().__init__(ctx)
        # IPv4 address -> (owner MAC, last time the owner claimed or used it)
        self._owners: OrderedDict[bytes, tuple[bytes, float]] = OrderedDict()
        self.gateway_ips: set[bytes] = set()
        self._announced: dict[bytes, bytes] = {}  # address -> the DHCP server MAC using it

    def on_dhcp_server(self, ts: float, mac: bytes, server_ip: str) -> None:
        try:
            raw = bytes(int(p) for p in server_ip.split("."))
        except ValueError:
            return
        if len(raw) == 4 and len(self.gateway_ips) < 8:
            self.gateway_ips.add(raw)
            self._announced.setdefault(raw, bytes(mac))

    def on_flow_start(self, ts: float, flow: Flow, origin: bytes | None) -> None:
        held = self._owners.get(flow.src_ip)
        if held is not None and held[0] == flow.src_mac:
            self._owners[flow.src_ip] = (held[0], ts)  # alive: it sends from the address

    def _is_gateway_ip(self, ip: bytes, owner: bytes) -> bool:
        return ip in self.gateway_ips or self.ctx.is_forwarder(owner)

    def _proof(self, ip: bytes, mac: bytes) -> int:
        """How surely ``mac`` owns ``ip``: announced it as DHCP server (2), routes (1)."""
        if self._announced.get(ip) == mac:
            return 2
        return 1 if self.ctx.is_forwarder(mac) else 0

    def _moves(self, ts: float, ip: bytes, owner: bytes, last: float, claimant: bytes) -> bool:
        """May the address pass silently from ``owner`` to ``claimant``?"""
        if ts - last <= self.ctx.thresholds(claimant).arp_conflict_window:
            return False  # the owner is alive
        if self._is_gateway_ip(ip, owner):
            return False  # the router's address never changes hands by itself
        devices = self.ctx.devices
        owned = devices.get(owner)
        if owned is not None and owned.sent_dhcp:
            new = devices.get(claimant)
            return new is not None and new.sent_dhcp  # a lease handed on, asked for
        return True

    def on_arp(
        self,
        ts: float,
        src_mac: bytes,
        op: int,
        sender_mac: bytes,
        sender_ip: bytes,
        target_ip: bytes,
    ) -> None:
        if not any(sender_ip) or not netaddr.is_unicast_mac(sender_mac):
            return  # an ARP probe (0.0.0.0) claims nothing
        owners = self._owners
        held = owners.get(sender_ip)
        if held is None or held[0] == sender_mac:
            owners[sender_ip] = (sender_mac, ts)
            owners.move_to_end(sender_ip)
            while len(owners) > MAX_OWNERS:
                owners.popitem(last=False)
            return
        owner, last = held
        if self._moves(ts, sender_ip, owner, last, sender_mac):
            owners[sender_ip] = (sender_mac, ts)  # the old owner left; the address moved
            return
        claimant = sender_mac
        if self._proof(sender_ip, sender_mac) > self._proof(sender_ip, owner):
            # The proven owner speaks: the one that held the address was the impostor.
            owners[sender_ip] = (sender_mac, ts)
            claimant, owner = owner, sender_mac
        ctx = self.ctx
        if ctx.counted(ts, claimant, "arp_spoof"):
            return
        ip = netaddr.ip_str(sender_ip)
        gateway = self._is_gateway_ip(sender_ip, owner)
        victim = ctx.profile(owner, ts).label
        ctx.raise_alert(
            ts,
            claimant,
            "arp_spoof",
            "critical" if gateway else "warning",
            f"{ctx.describe(claimant, ts)} ({netaddr.mac_str(claimant)}) claims the address "
            f"{ip}, which belongs to "
            + (f"your router ({victim.split('(')[-1].rstrip(')')})" if gateway else victim)
            + ". "
            + (
                "It is trying to intercept your network's traffic (ARP spoofing). What you "
                "can do: find and unplug this device, or block it."
                if gateway
                else "Either two devices share one address or one is impersonating the "
                "other. What you can do: check that device's network settings."
            ),
            {"ip": ip, "owner": netaddr.mac_str(owner), "gateway": gateway},
        )

    def forget(self, mac: bytes | None) -> None:
        if mac is None:
            self._owners.clear()
        else:
            for ip in [ip for ip, (m, _) in self._owners.items() if m == mac]:
                del self._owners[ip]


@register(order=50)
class DhcpDetector(Detector):
    kinds = ("rogue_dhcp",)

    def __init__(self, ctx: DetectorContext) -> None:
        super().__init__(ctx)
        self.servers: set[str] = set()  # MACs
        self.server_ips: set[str] = set()
        # The user's extra servers (a mesh node, a Pi-hole): MACs, and addresses.
        self.allowed: frozenset[str] = frozenset()

    def command(self, cmd: Command) -> Reply | None:
        if not isinstance(cmd, AllowDhcpServers):
            return None
        self.allowed = frozenset(cmd.servers)
        return OK

    def on_dhcp_server(self, ts: float, mac: bytes, server_ip: str) -> None:
        key = netaddr.mac_str(mac)
        if key in self.servers or key in self.allowed or self._allowed_address(mac):
            return
        ctx = self.ctx
        # Option 54 is written by the sender: a known server's address from a new
        # MAC proves nothing (copying it is how a rogue server hides).
        if not self.servers or ctx.learning(ts) or self._is_the_router(mac, server_ip):
            if len(self.servers) < MAX_DHCP_SERVERS:
                self.servers.add(key)
                self.server_ips.add(server_ip)
            return
        ctx.raise_alert(
            ts,
            mac,
            "rogue_dhcp",
            "critical",
            f"{ctx.describe(mac, ts)} is handing out network addresses (DHCP server "
            f"{server_ip}) although another device does that on your network. A rogue "
            "DHCP server can send your devices' traffic through an attacker. What you can "
            "do: unplug or block it, unless it is a legitimate one (a mesh node, a "
            "Pi-hole: then add it to TOTEM's other DHCP servers in the options).",
            {"server_ip": server_ip, "known_servers": sorted(self.servers)},
        )

    def _allowed_address(self, mac: bytes) -> bool:
        """An allowed IP address counts for the MAC that owns it: sends from it or
        claims it by ARP, and no other device claims it (option 54 alone is the
        sender's word, and copying a known server's address is how a rogue hides)."""
        if not self.allowed:
            return False
        devices = self.ctx.devices
        dev = devices.get(mac)
        if dev is None:
            return False
        for raw in set(dev.source_ips) | dev.arp_ips:
            if netaddr.ip_str(raw) in self.allowed:
                return not any(raw in d.arp_ips for m, d in devices.items() if m != mac)
        return False

    def _is_the_router(self, mac: bytes, server_ip: str) -> bool:
        """The router itself: it routes for the Internet and it alone claims the
        server's address by ARP (what the ARP detector guards), so option 54 is
        backed by more than the sender's word."""
        try:
            raw = bytes(int(p) for p in server_ip.split("."))
        except ValueError:
            return False
        devices = self.ctx.devices
        dev = devices.get(mac)
        if dev is None or not dev.is_gateway or raw not in dev.arp_ips:
            return False
        return not any(raw in d.arp_ips for m, d in devices.items() if m != mac)

    def state(self) -> dict[str, Any] | None:
        return {"servers": sorted(self.servers), "server_ips": sorted(self.server_ips)}

    def restore(self, state: dict[str, Any]) -> None:
        servers = state.get("servers")
        if isinstance(servers, list):
            self.servers = {str(s) for s in servers[:MAX_DHCP_SERVERS]}
        ips = state.get("server_ips")
        if isinstance(ips, list):
            self.server_ips = {str(s) for s in ips[:MAX_DHCP_SERVERS]}
