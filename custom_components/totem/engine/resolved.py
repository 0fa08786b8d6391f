"""Which name an address belongs to, from the DNS answers a device received.

A lookup's question says what a device wanted; its answer says where that name lives. The
identifier hands every DNS response (from port 53, to the device that asked) to
:meth:`AnswerBook.keep`, which only queues its bytes (the last :data:`PENDING_PER_DEVICE`
per device): parsing waits until someone asks, so the packet path pays a deque append.
:func:`answers_in` reads a queued one (only its question and answer records,
:func:`.dissect.dns_answers`; :func:`answered` and :meth:`AnswerBook.note` take a parsed
message): the A/AAAA records reachable from the question through at most
:data:`MAX_CHAIN` CNAMEs map their address to the *queried* name (``www.example.com``,
not the CDN's ``e123.akamaiedge.net``: the device asked for the first). Detectors and
domain attribution ask :meth:`AnswerBook.name_of` ("this device connected to
203.0.113.7: which name gave it that address?").

Everything here came off the network: names are cleaned (:func:`clean_domain`), answers
are bounded per message (:data:`MAX_ADDRESSES_PER_ANSWER`) and in total
(:data:`MAX_ENTRIES`, oldest forgotten first), and a mapping expires
(:func:`hold_seconds`).
"""

from __future__ import annotations

import functools
import re
import socket
from collections import OrderedDict, deque
from dataclasses import dataclass

from . import dissect

DNS_CNAME = 5
# Real chains are one to four CNAMEs (a service name, a CDN's, the CDN edge's); eight is
# RFC 1034 resolvers' usual loop guard and stops a crafted loop.
MAX_CHAIN = 8
# A CDN answers with up to 8-16 addresses; more in one answer is a crafted message.
MAX_ADDRESSES_PER_ANSWER = 32
# 8192 (device, address) pairs: a busy home's devices hold a few hundred live names each
# over a day; a flood of answers costs at most this much memory.
MAX_ENTRIES = 8192
# CDNs answer with TTLs of 20-300 s, but a device keeps using the address it got for
# minutes (resolver and app caches, connection reuse, retries): ten minutes at least.
# A day at most: after that the provider may have handed the address to someone else.
MIN_HOLD = 600.0
# Answers waiting to be parsed, per device: a device connects within seconds of its
# lookup, and a busy phone resolves a few dozen names a minute; 64 bytes-only answers of
# at most 512 bytes (classic DNS over UDP) for at most 512 devices bound the queue at 16 MB.
PENDING_PER_DEVICE = 64
MAX_PENDING_DEVICES = 512
MAX_PENDING_BYTES = 512
MAX_HOLD = 86_400.0

_DOMAIN_CHARS = re.compile(r"[\w.-]+")
_IPV4_LITERAL = re.compile(r"[\d.]+")


# Names repeat: a home's devices ask for a few hundred names, each flow's and each
# query's cleaned again otherwise (two regular expressions). 1,024 holds them with room;
# a spray of random names (a DNS tunnel) just cycles it, at ~0.3 MB at most.
@functools.lru_cache(maxsize=1024)
def clean_domain(name: str) -> str | None:
    """A host name off the network, lower-cased and checked, or None when it is not one."""
    name = name.strip().rstrip(".").lower()
    if "." not in name or len(name) > 253 or name.endswith((".arpa", ".local")):
        return None
    if _DOMAIN_CHARS.fullmatch(name) is None or _IPV4_LITERAL.fullmatch(name) is not None:
        return None  # not a host name, or an IPv4 literal in an SNI / Host header
    return name


def hold_seconds(ttl: int) -> float:
    """How long an answer keeps naming its address."""
    return min(max(float(ttl), MIN_HOLD), MAX_HOLD)


def packed(address: str | bytes) -> bytes | None:
    """An address as its 4 or 16 bytes (the engine's form), or None when it is none."""
    if isinstance(address, bytes):
        return address if len(address) in (4, 16) else None
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(family, address)
        except OSError:
            continue
    return None


def answered(msg: dissect.DnsMessage) -> list[tuple[bytes, str, int]]:
    """(address, queried name, TTL) for every address the answer gives the question."""
    if not msg.is_response or msg.rcode != 0 or len(msg.questions) != 1:
        return []  # an error, or a multi-question message no stub resolver sends
    records: list[dissect.AnswerRecord] = [(r.name, r.rtype, r.ttl, r.data) for r in msg.answers]
    return _chase(msg.questions[0][0], records)


def answers_in(payload: bytes) -> list[tuple[bytes, str, int]]:
    """``answered(parse_dns(payload))`` (``[]`` where that is None), read with the lean
    :func:`.dissect.dns_answers`: how queued answers are parsed."""
    got = dissect.dns_answers(payload)
    return [] if got is None else _chase(*got)


def _chase(question: str, records: list[dissect.AnswerRecord]) -> list[tuple[bytes, str, int]]:
    """The addresses of ``records`` (an answer section) reachable from ``question``."""
    qname = clean_domain(question)
    if qname is None:
        return []
    names = {qname}
    frontier = {qname}
    for _ in range(MAX_CHAIN):  # follow CNAMEs breadth-first, bounded
        step = {
            target
            for name, rtype, _ttl, data in records
            if rtype == DNS_CNAME
            and isinstance(data, str)  # always, for a CNAME: its target name or None
            and data
            and name.rstrip(".").lower() in frontier
            for target in (clean_domain(data),)
            if target is not None and target not in names
        }
        if not step:
            break
        names |= step
        frontier = step
    out: list[tuple[bytes, str, int]] = []
    for name, rtype, ttl, data in records:
        if rtype not in (dissect.DNS_A, dissect.DNS_AAAA) or not data:
            continue
        address = packed(data)
        if address is not None and name.rstrip(".").lower() in names:
            out.append((address, qname, ttl))
            if len(out) >= MAX_ADDRESSES_PER_ANSWER:
                break
    return out


@dataclass(slots=True)
class _Entry:
    """The name an address was looked up by: when seen, and until when it holds."""

    name: str
    seen: float
    until: float


class AnswerBook:
    """(device MAC, address) -> the name the device looked up to get it, bounded."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._entries: OrderedDict[tuple[bytes, bytes], _Entry] = OrderedDict()
        self._pending: dict[bytes, deque[tuple[float, bytes]]] = {}

    def __len__(self) -> int:
        """Answers parsed and held (queued ones are parsed on the next question)."""
        return len(self._entries)

    def keep(self, ts: float, mac: bytes, payload: bytes) -> None:
        """Queue an answer the device ``mac`` received, unparsed (the packet path)."""
        queue = self._pending.get(mac)
        if queue is None:
            if len(self._pending) >= MAX_PENDING_DEVICES:
                del self._pending[next(iter(self._pending))]
            queue = self._pending[bytes(mac)] = deque(maxlen=PENDING_PER_DEVICE)
        queue.append((ts, bytes(payload[:MAX_PENDING_BYTES])))

    def _drain(self, mac: bytes) -> None:
        queue = self._pending.pop(mac, None)
        # A device asks for the same names again and again, and an answer repeats the
        # last one to the same question but for its ID when the resolver gives the same
        # TTL again (the same second, or a TTL passed on as the authority gave it): the
        # bytes after the ID are read once per drain (at most PENDING_PER_DEVICE entries).
        # The 400k-packet bench capture's 1,772 queued answers are 60 distinct.
        read: dict[bytes, list[tuple[bytes, str, int]]] = {}
        for ts, payload in queue or ():
            key = payload[2:]  # answered reads nothing of the ID
            found = read.get(key)
            if found is None:
                found = read[key] = answers_in(payload)
            self._learn(ts, mac, found)

    def note(self, ts: float, mac: bytes, msg: dissect.DnsMessage) -> list[tuple[bytes, str]]:
        """Learn an answer the device ``mac`` received; (address, name) pairs learned."""
        return self._learn(ts, mac, answered(msg))

    def _learn(
        self, ts: float, mac: bytes, answers: list[tuple[bytes, str, int]]
    ) -> list[tuple[bytes, str]]:
        learned: list[tuple[bytes, str]] = []
        for address, name, ttl in answers:
            key = (bytes(mac), address)
            entries = self._entries
            if key in entries:
                entries.move_to_end(key)
            elif len(entries) >= self._max:
                entries.popitem(last=False)
            entries[key] = _Entry(name, ts, ts + hold_seconds(ttl))
            learned.append((address, name))
        return learned

    def name_of(self, mac: bytes, address: str | bytes, ts: float) -> str | None:
        """The name ``mac`` looked up that answered ``address`` (text or packed), if still
        held at ``ts``."""
        raw = packed(address)
        if mac in self._pending:
            self._drain(bytes(mac))
        entry = self._entries.get((bytes(mac), raw)) if raw is not None else None
        if entry is None or not entry.seen - 1.0 <= ts <= entry.until:
            return None
        return entry.name
