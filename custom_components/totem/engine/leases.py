"""The router's DHCP leases: the MAC and name behind an address a flow record names.

Flow export carries addresses, rarely MACs; the router that exports flows also hands
out the addresses, and its lease file says which MAC holds which address under which
name. Three formats are read, chosen by content:

- dnsmasq (OpenWrt ``/tmp/dhcp.leases``, Pi-hole): one lease a line,
  ``expiry mac ip name clientid`` (``*`` for no name); DHCPv6 lines (``duid ...``
  header, IAID instead of a MAC) name no MAC and are skipped;
- ISC dhcpd (``dhcpd.leases``): ``lease IP { ... hardware ethernet MAC;
  client-hostname "NAME"; binding state active; }`` blocks, the last block for an
  address winning (dhcpd appends);
- odhcpd (OpenWrt ``/tmp/hosts/odhcpd`` state): ``# iface duid iaid name ts id
  prefix addr/len ...`` lines; they name DHCPv6 clients by DUID, not MAC, so only
  the name is kept for the address.

The file is the router's, possibly copied over the network: it is bounded
(:data:`MAX_FILE_BYTES`, :data:`MAX_LINE`, :data:`MAX_LEASES`), names go through the
one sanitiser (:func:`.names.clean_name`), and a line that parses as none of these is
counted in ``bad_lines`` and skipped. :class:`LeaseFile` re-reads the file when its
mtime or size changes, at most every :data:`CHECK_SECONDS`; an unreadable file gives
one warning line (again only once it recovers and fails anew) and the last good
leases are kept.
"""

from __future__ import annotations

import ipaddress
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import names

# A home router's lease file: a few hundred leases of ~80 bytes (dnsmasq) or ~300
# (dhcpd blocks). 4 MiB is room for a dhcpd file that has appended for weeks; past it
# the file is not one a router writes, and reading more would cost the probe memory.
MAX_FILE_BYTES = 4 << 20
MAX_LINE = 512  # dnsmasq's longest line (client id of 255 hex pairs) is ~600: cut, not kept
MAX_LEASES = 4096  # as many as the collector's device table (cli_collect.MAX_DEVICES)
# Lease files change when a client renews (every lease time / 2, 6 h on OpenWrt by
# default); checking the mtime every 10 s notices a new device within one snapshot.
CHECK_SECONDS = 10.0

_MAC = re.compile(r"^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$")


@dataclass(frozen=True, slots=True)
class Lease:
    ip: str
    mac: str | None  # lower-case colon form; None where the lease names a DUID (DHCPv6)
    name: str | None


@dataclass(slots=True)
class LeaseTable:
    leases: dict[str, Lease] = field(default_factory=dict)  # by address text
    bad_lines: int = 0
    dropped: int = 0  # past MAX_LEASES
    format: str = ""  # "dnsmasq", "dhcpd", "odhcpd" or "" (empty file)


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _mac(text: str) -> str | None:
    if not _MAC.match(text):
        return None
    mac = text.lower()
    if int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
        return None  # multicast or null: no station holds it
    return mac


def _add(table: LeaseTable, lease: Lease) -> None:
    if lease.ip not in table.leases and len(table.leases) >= MAX_LEASES:
        table.dropped += 1
        return
    table.leases[lease.ip] = lease


def parse(data: bytes) -> LeaseTable:
    """Leases of a dnsmasq, ISC dhcpd or odhcpd file (format by content)."""
    text = data[:MAX_FILE_BYTES].decode("utf-8", "replace")
    lines = text.splitlines()
    table = LeaseTable()
    stripped = [ln.strip() for ln in lines]
    if any(ln.startswith("lease ") and ln.endswith("{") for ln in stripped[:2000]):
        table.format = "dhcpd"
        _dhcpd(stripped, table)
        return table
    for line in stripped:
        if not line:
            continue
        if len(line) > MAX_LINE:
            table.bad_lines += 1
            continue
        if line.startswith("# "):
            table.format = table.format or "odhcpd"
            _odhcpd(line, table)
            continue
        if line.startswith("duid "):
            continue  # dnsmasq's DHCPv6 server DUID header
        table.format = table.format or "dnsmasq"
        _dnsmasq(line, table)
    return table


def _dnsmasq(line: str, table: LeaseTable) -> None:
    parts = line.split()
    if len(parts) < 4 or not parts[0].isdigit():
        table.bad_lines += 1
        return
    ip = _address(parts[2])
    if ip is None:
        table.bad_lines += 1
        return
    mac = _mac(parts[1])
    if mac is None and ":" not in ip:
        table.bad_lines += 1  # a DHCPv4 lease always names the client's MAC
        return
    name = None if parts[3] == "*" else names.clean_name(parts[3])
    _add(table, Lease(ip, mac, name))


def _odhcpd(line: str, table: LeaseTable) -> None:
    # "# br-lan 0001000124... 5b3c10e2 phone 600 2 128 fd00::1a3/128 ..."
    parts = line[2:].split()
    if len(parts) < 8 or not parts[4].lstrip("-").isdigit():
        table.bad_lines += 1
        return
    name = None if parts[3] == "-" else names.clean_name(parts[3])
    found = False
    for item in parts[7:]:
        ip = _address(item.split("/", 1)[0])
        if ip is not None:
            _add(table, Lease(ip, None, name))
            found = True
    if not found:
        table.bad_lines += 1


_DHCPD_LEASE = re.compile(r"^lease\s+(\S+)\s*\{$")
_DHCPD_HW = re.compile(r"^hardware\s+ethernet\s+([0-9a-fA-F:]+)\s*;$")
_DHCPD_NAME = re.compile(r'^client-hostname\s+"([^"]*)"\s*;$')
_DHCPD_STATE = re.compile(r"^binding\s+state\s+(\w+)\s*;$")


def _dhcpd(lines: list[str], table: LeaseTable) -> None:
    ip: str | None = None
    mac: str | None = None
    name: str | None = None
    state = "active"
    inside = False
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE:
            table.bad_lines += 1
            continue
        if not inside:
            m = _DHCPD_LEASE.match(line)
            if m is not None:
                ip, mac, name, state, inside = _address(m.group(1)), None, None, "active", True
                if ip is None:
                    table.bad_lines += 1
            elif line.endswith((";", "{", "}")):
                pass  # server-duid, authoring-byte-order, failover blocks: not leases
            else:
                table.bad_lines += 1
            continue
        if line == "}":
            inside = False
            if ip is None:
                continue
            if mac is None or state not in ("active", "static"):
                table.leases.pop(ip, None)  # freed or expired since: nobody holds it
                continue
            _add(table, Lease(ip, mac, name))
            continue
        if m := _DHCPD_HW.match(line):
            mac = _mac(m.group(1))
            if mac is None:
                table.bad_lines += 1
        elif m := _DHCPD_NAME.match(line):
            name = names.clean_name(m.group(1))
        elif m := _DHCPD_STATE.match(line):
            state = m.group(1)
    if inside:
        table.bad_lines += 1  # a block cut off (the file is being rewritten)


class LeaseFile:
    """A lease file re-read on change; :meth:`refresh` is cheap (one stat) when nothing did."""

    def __init__(
        self,
        path: str,
        warn: Callable[[str], None] | None = None,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.path = path
        self.table = LeaseTable()
        self.reads = 0
        self.errors = 0
        self._warn = warn
        self._check = check_seconds
        self._next = 0.0
        self._stamp: tuple[int, int] | None = None
        self._failing = False

    def refresh(self, now: float | None = None, force: bool = False) -> bool:
        """Re-reads the file if it changed; True when the leases were replaced."""
        mono = time.monotonic() if now is None else now
        if not force and mono < self._next:
            return False
        self._next = mono + self._check
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp == self._stamp:
                return False
            with open(self.path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES)
        except OSError as err:
            self.errors += 1
            if not self._failing and self._warn is not None:
                self._warn(f"cannot read DHCP leases {self.path}: {err.strerror or err}")
            self._failing = True
            return False
        self._failing = False
        self._stamp = stamp
        self.table = parse(data)
        self.reads += 1
        return True

    def get(self, ip: str) -> Lease | None:
        return self.table.leases.get(ip)

    def stats(self) -> dict[str, object]:
        return {
            "lease_file": self.path,
            "leases": len(self.table.leases),
            "lease_format": self.table.format,
            "lease_bad_lines": self.table.bad_lines,
            "lease_reads": self.reads,
            "lease_read_errors": self.errors,
        }
