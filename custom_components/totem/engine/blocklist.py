"""A user-supplied offline blocklist: IP addresses, CIDR networks and domains.

One entry a line; ``#`` starts a comment. Hosts-file lines (``0.0.0.0
bad.example``) count as the domain. A domain entry also blocks its
sub-domains. No network access: the user downloads the list they trust.
Lookups are O(number of distinct prefix lengths) for addresses and
O(number of labels) for names, so a flow start pays a few dict lookups.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass, field

MAX_ENTRIES = 500_000
# A hosts-format list of MAX_ENTRIES lines is about 20 MB; past this it is not a blocklist.
MAX_BYTES = 64 * 1024 * 1024
_HOSTS_SINKS = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1"})


class BlocklistError(ValueError):
    """The file cannot be read; the message is one line for the user."""


@dataclass(slots=True)
class Blocklist:
    """The parsed list: address networks by prefix length, domains, and the lines skipped."""

    source: str = ""
    # prefix length -> set of network addresses (raw bytes, host bits zeroed)
    v4: dict[int, set[bytes]] = field(default_factory=dict)
    v6: dict[int, set[bytes]] = field(default_factory=dict)
    domains: set[str] = field(default_factory=set)
    skipped: int = 0

    def __len__(self) -> int:
        return sum(map(len, self.v4.values())) + sum(map(len, self.v6.values())) + len(self.domains)

    def add(self, entry: str) -> bool:
        """Add one entry; False when it is neither an address, a network nor a name."""
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            return False
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            net = None
        if net is not None:
            table = self.v4 if net.version == 4 else self.v6
            table.setdefault(net.prefixlen, set()).add(net.network_address.packed)
            return True
        if "." in entry and all(c.isalnum() or c in "-._" for c in entry):
            self.domains.add(entry)
            return True
        return False

    def match_ip(self, raw: bytes) -> str | None:
        """The entry (as text) that covers this raw address, or None."""
        table = self.v4 if len(raw) == 4 else self.v6
        if not table:
            return None
        value = int.from_bytes(raw)
        bits = len(raw) * 8
        for plen, nets in table.items():
            masked = (value >> (bits - plen) << (bits - plen)) if plen else 0
            key = masked.to_bytes(len(raw))
            if key in nets:
                addr = ipaddress.ip_address(key)
                return str(addr) if plen == bits else f"{addr}/{plen}"
        return None

    def match_domain(self, name: str) -> str | None:
        """The blocked domain this name is, or is under, or None."""
        if not self.domains:
            return None
        name = name.lower().rstrip(".")
        while name:
            if name in self.domains:
                return name
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1 :]
        return None


def _read_bounded(path: str | os.PathLike[str]) -> bytes:
    """A regular file's bytes, at most MAX_BYTES. The probe reads this between batches:
    a FIFO or a device would block it forever, so open never waits and only regular
    files are read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise BlocklistError(f"{path}: cannot read blocklist ({err.strerror or err})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BlocklistError(f"{path}: cannot read blocklist (not a regular file)")
        if info.st_size > MAX_BYTES:
            raise BlocklistError(f"{path}: cannot read blocklist (larger than {MAX_BYTES} bytes)")
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as err:
        raise BlocklistError(f"{path}: cannot read blocklist ({err.strerror or err})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:  # it grew while being read
        raise BlocklistError(f"{path}: cannot read blocklist (larger than {MAX_BYTES} bytes)")
    return data


def load_blocklist(path: str | os.PathLike[str]) -> Blocklist:
    """Parse a blocklist file; BlocklistError (one line) when it cannot be read."""
    lines = _read_bounded(path).decode("utf-8", errors="replace").splitlines()
    out = Blocklist(source=str(path))
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) >= 2 and parts[0] in _HOSTS_SINKS:
            parts = parts[1:]
        for part in parts[:1]:
            if len(out) >= MAX_ENTRIES:
                raise BlocklistError(f"{path}: more than {MAX_ENTRIES} entries")
            if not out.add(part):
                out.skipped += 1
    return out
