"""DNS answers name their addresses (engine/resolved.py): the identifier maps each A/AAAA
answer, through bounded CNAME chains, to the name the device asked for."""

from __future__ import annotations

import itertools

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from custom_components.totem.engine import dissect, resolved
from custom_components.totem.engine.identify import Identifier

DEVICE = bytes.fromhex("5ccf7f010203")
ROUTER = bytes.fromhex("00b56d0608ba")
T0 = 1_700_000_000.0


def _answer(qname: str, *records: DNSRR, rcode: int = 0) -> bytes:
    dns = DNS(id=7, qr=1, rd=1, ra=1, rcode=rcode, qd=DNSQR(qname=qname), an=list(records) or None)
    return bytes(dns)


def _deliver(ident: Identifier, payload: bytes, ts: float = T0, dst: bytes = DEVICE) -> None:
    ident.inspect(ts, ROUTER, dst, "192.168.1.1", "192.168.1.40", 17, 53, 40000, payload)


def test_an_a_record_names_its_address_for_the_device_that_asked() -> None:
    ident = Identifier()
    _deliver(
        ident,
        _answer(
            "eu-disp.coolkit.cc",
            DNSRR(rrname="eu-disp.coolkit.cc", type="A", rdata="203.0.113.7", ttl=60),
        ),
    )
    assert ident.resolved_name(DEVICE, "203.0.113.7", T0 + 1) == "eu-disp.coolkit.cc"
    assert ident.resolved_name(DEVICE, bytes([203, 0, 113, 7]), T0 + 1) == "eu-disp.coolkit.cc"
    other = bytes.fromhex("5ccf7f999999")
    assert ident.resolved_name(other, "203.0.113.7", T0 + 1) is None  # not its lookup
    assert ident.resolved_name(DEVICE, "203.0.113.8", T0 + 1) is None


def test_a_cname_chain_maps_to_the_queried_name() -> None:
    ident = Identifier()
    payload = _answer(
        "www.example.com",
        DNSRR(rrname="www.example.com", type="CNAME", rdata="www.example.com.cdn.net", ttl=300),
        DNSRR(rrname="www.example.com.cdn.net", type="CNAME", rdata="e12.edge.cdn.net", ttl=20),
        DNSRR(rrname="e12.edge.cdn.net", type="A", rdata="198.51.100.4", ttl=20),
        DNSRR(rrname="e12.edge.cdn.net", type="AAAA", rdata="2001:db8::4", ttl=20),
        DNSRR(rrname="unrelated.example.org", type="A", rdata="198.51.100.99", ttl=20),
    )
    _deliver(ident, payload)
    assert ident.resolved_name(DEVICE, "198.51.100.4", T0 + 5) == "www.example.com"
    assert ident.resolved_name(DEVICE, "2001:db8:0:0::4", T0 + 5) == "www.example.com"
    # An address record no CNAME of the question leads to names nothing.
    assert ident.resolved_name(DEVICE, "198.51.100.99", T0 + 5) is None


def test_a_chain_longer_than_the_bound_stops() -> None:
    hops = [f"hop{n}.example.net" for n in range(resolved.MAX_CHAIN + 3)]
    records = [DNSRR(rrname="start.example.com", type="CNAME", rdata=hops[0])]
    records += [DNSRR(rrname=a, type="CNAME", rdata=b) for a, b in itertools.pairwise(hops)]
    records.append(DNSRR(rrname=hops[-1], type="A", rdata="198.51.100.5"))
    msg = dissect.parse_dns(_answer("start.example.com", *records))
    assert msg is not None
    assert resolved.answered(msg) == []
    short = [*records[:3], DNSRR(rrname=hops[2], type="A", rdata="198.51.100.6")]
    msg = dissect.parse_dns(_answer("start.example.com", *short))
    assert msg is not None
    assert [(a, n) for a, n, _ in resolved.answered(msg)] == [
        (bytes([198, 51, 100, 6]), "start.example.com")
    ]


def test_a_cname_loop_ends() -> None:
    records = [
        DNSRR(rrname="a.example.com", type="CNAME", rdata="b.example.com"),
        DNSRR(rrname="b.example.com", type="CNAME", rdata="a.example.com"),
        DNSRR(rrname="b.example.com", type="A", rdata="198.51.100.7"),
    ]
    msg = dissect.parse_dns(_answer("a.example.com", *records))
    assert msg is not None
    assert [n for _, n, _ in resolved.answered(msg)] == ["a.example.com"]


def test_errors_queries_and_broadcast_answers_teach_nothing() -> None:
    ident = Identifier()
    rec = DNSRR(rrname="x.example.com", type="A", rdata="198.51.100.8")
    _deliver(ident, _answer("x.example.com", rec, rcode=3))  # NXDOMAIN with a record
    _deliver(ident, _answer("x.example.com", rec), dst=b"\xff" * 6)  # not one device's
    query = bytes(DNS(id=1, qr=0, qd=DNSQR(qname="x.example.com"), an=rec))
    _deliver(ident, query)
    assert ident.resolved_name(DEVICE, "198.51.100.8", T0 + 1) is None
    assert len(ident.answers) == 0


def test_hostile_names_are_refused() -> None:
    ident = Identifier()
    bad = "\x1b[31mevil.example.com"
    _deliver(ident, _answer(bad, DNSRR(rrname=bad, type="A", rdata="198.51.100.9")))
    assert ident.resolved_name(DEVICE, "198.51.100.9", T0 + 1) is None


def test_an_answer_is_held_at_least_ten_minutes_and_at_most_a_day() -> None:
    assert resolved.hold_seconds(20) == resolved.MIN_HOLD
    assert resolved.hold_seconds(3600) == 3600
    assert resolved.hold_seconds(2**31) == resolved.MAX_HOLD
    ident = Identifier()
    _deliver(
        ident,
        _answer(
            "t.example.com", DNSRR(rrname="t.example.com", type="A", rdata="198.51.100.10", ttl=30)
        ),
    )
    assert (
        ident.resolved_name(DEVICE, "198.51.100.10", T0 + resolved.MIN_HOLD - 1) == "t.example.com"
    )
    assert ident.resolved_name(DEVICE, "198.51.100.10", T0 + resolved.MIN_HOLD + 1) is None


def test_the_book_is_bounded_and_forgets_the_oldest() -> None:
    book = resolved.AnswerBook(max_entries=50)
    for n in range(200):
        payload = _answer(
            f"h{n}.example.com",
            DNSRR(rrname=f"h{n}.example.com", type="A", rdata=f"198.51.{n // 250}.{n % 250}"),
        )
        msg = dissect.parse_dns(payload)
        assert msg is not None
        book.note(T0 + n, DEVICE, msg)
    assert len(book) == 50
    assert book.name_of(DEVICE, "198.51.0.199", T0 + 200) == "h199.example.com"
    assert book.name_of(DEVICE, "198.51.0.0", T0 + 200) is None


def test_a_huge_answer_is_capped() -> None:
    records = [
        DNSRR(rrname="big.example.com", type="A", rdata=f"198.51.100.{n}") for n in range(1, 100)
    ]
    msg = dissect.parse_dns(_answer("big.example.com", *records))
    assert msg is not None
    assert len(resolved.answered(msg)) <= resolved.MAX_ADDRESSES_PER_ANSWER


def test_answers_wait_unparsed_until_asked_and_the_queue_is_bounded() -> None:
    book = resolved.AnswerBook()
    for n in range(resolved.PENDING_PER_DEVICE + 10):
        payload = _answer(
            f"q{n}.example.com",
            DNSRR(rrname=f"q{n}.example.com", type="A", rdata=f"198.51.100.{n + 1}"),
        )
        book.keep(T0 + n, DEVICE, payload)
    assert len(book) == 0  # nothing parsed on the packet path
    last = resolved.PENDING_PER_DEVICE + 9
    assert book.name_of(DEVICE, f"198.51.100.{last + 1}", T0 + last) == f"q{last}.example.com"
    assert len(book) == resolved.PENDING_PER_DEVICE  # the oldest ten fell off the queue
    assert book.name_of(DEVICE, "198.51.100.1", T0 + last) is None
    for n in range(resolved.MAX_PENDING_DEVICES + 5):
        book.keep(T0, n.to_bytes(6, "big"), b"\x00" * 4000)
    assert len(book._pending) <= resolved.MAX_PENDING_DEVICES
    assert all(len(p) <= resolved.MAX_PENDING_BYTES for q in book._pending.values() for _, p in q)


def test_through_the_engine_a_frame_teaches_the_device_its_destination() -> None:
    from custom_components.totem.engine.engine import Engine

    engine = Engine()
    dns = _answer(
        "api.example.com", DNSRR(rrname="api.example.com", type="A", rdata="198.51.100.12")
    )
    frame = bytes(
        Ether(src=ROUTER, dst=DEVICE)
        / IP(src="192.168.1.1", dst="192.168.1.40")
        / UDP(sport=53, dport=40001)
        / dns
    )
    engine.process([(T0, len(frame), frame, 1)])
    assert engine.identifier.resolved_name(DEVICE, "198.51.100.12", T0 + 2) == "api.example.com"


def test_a_repeated_answer_is_read_once_and_learned_at_each_time() -> None:
    """Answers that differ only in their ID are read once per drain; each still counts
    at its own time, in order, among the others."""
    book = resolved.AnswerBook()
    first = _answer("a.example.com", DNSRR(rrname="a.example.com", type="A", rdata="198.51.100.1"))
    other = _answer("b.example.com", DNSRR(rrname="b.example.com", type="A", rdata="198.51.100.2"))
    again = b"\x55\x66" + first[2:]  # the same answer to a later query (another ID)
    for n, payload in enumerate((first, other, again, b"\x00" * 12)):
        book.keep(T0 + n * 1000, DEVICE, payload)
    # Held from the last time it was received (T0 + 2000), not the first.
    assert book.name_of(DEVICE, "198.51.100.1", T0 + 2000 + resolved.MIN_HOLD) == "a.example.com"
    assert book.name_of(DEVICE, "198.51.100.2", T0 + 1000 + resolved.MIN_HOLD + 1) is None
    held = [(DEVICE, bytes([198, 51, 100, 2])), (DEVICE, bytes([198, 51, 100, 1]))]
    assert list(book._entries) == held  # the repeat moved its entry last
