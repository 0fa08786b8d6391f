"""Flow export in: NetFlow v5, NetFlow v9, IPFIX (RFC 7011) and sFlow v5 flow samples.

Own ``struct`` parsers rather than the PyPI ``netflow`` package, deliberately:
- the probe runs inside Home Assistant's environment, which does not ship that
  package; a collector must not add a dependency the integration cannot install;
- ``netflow`` keeps templates in an unbounded dict keyed by template id only, so two
  exporters (or two observation domains of one router) overwrite each other, and a
  hostile sender can grow it forever; here templates are keyed by
  (exporter, version, observation domain / source id, template id), expire when not
  refreshed, and live in a bounded table;
- it raises on malformed input; a collector port is reachable by anyone on the LAN,
  so every datagram here is decoded under explicit length checks, counted as
  malformed when it does not add up, and never raises.

Everything that comes off the network is bounded: template field counts, template
and exporter tables, per-set record loops (by the datagram's own length), sampling
rates and counters.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

# IPFIX information element ids (RFC 7012; NetFlow v9 shares them below 128).
IE_OCTETS = 1
IE_PACKETS = 2
IE_PROTOCOL = 4
IE_TCP_FLAGS = 6
IE_SRC_PORT = 7
IE_SRC_V4 = 8
IE_DST_PORT = 11
IE_DST_V4 = 12
IE_LAST_UPTIME = 21  # LAST_SWITCHED / flowEndSysUpTime, ms since exporter boot
IE_FIRST_UPTIME = 22  # FIRST_SWITCHED / flowStartSysUpTime
IE_SRC_V6 = 27
IE_DST_V6 = 28
IE_SAMPLING_INTERVAL = 34  # v9 SAMPLING_INTERVAL, IPFIX samplingInterval
IE_SAMPLER_RANDOM_INTERVAL = 50  # v9 FLOW_SAMPLER_RANDOM_INTERVAL
IE_SRC_MAC = 56
IE_POST_DST_MAC = 57
IE_DIRECTION = 61
IE_DST_MAC = 80
IE_POST_SRC_MAC = 81
IE_START_S = 150
IE_END_S = 151
IE_START_MS = 152
IE_END_MS = 153
IE_SYSTEM_INIT_MS = 160
IE_SAMPLING_PACKET_INTERVAL = 305

_SAMPLING_IES = (IE_SAMPLING_INTERVAL, IE_SAMPLER_RANDOM_INTERVAL, IE_SAMPLING_PACKET_INTERVAL)
VARIABLE = 0xFFFF  # IPFIX variable-length field in a template

MAX_SAMPLING = 1 << 24  # a rate above this is a broken or hostile exporter, not a sampler
MAX_TEMPLATE_FIELDS = 256  # RFC 7011 allows more; no real record needs them
MAX_GAP = 1 << 20  # a jump larger than this is an exporter restart, not loss

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_V5_HEADER = struct.Struct(">HHIIIIBBH")
_V5_RECORD = struct.Struct(">4s4s4sHHIIIIHHxBBBHHBBxx")
_V9_HEADER = struct.Struct(">HHIIII")
_IPFIX_HEADER = struct.Struct(">HHIII")
_SET_HEADER = struct.Struct(">HH")


@dataclass(slots=True)
class FlowRecord:
    """One flow as an exporter saw it, counts already scaled by ``sampling``."""

    src: bytes
    dst: bytes
    sport: int = 0
    dport: int = 0
    proto: int = 0
    packets: int = 0
    octets: int = 0
    tcp_flags: int = 0
    first: float | None = None
    last: float | None = None
    src_mac: bytes | None = None
    dst_mac: bytes | None = None
    direction: int | None = None  # 0 ingress, 1 egress (IE 61)
    sampling: int = 1  # 1 in N packets; packets/bytes above are already multiplied


@dataclass(slots=True)
class DecoderStats:
    """What the decoder saw and what it refused; every counter only goes up."""

    datagrams: int = 0
    records: int = 0
    malformed: int = 0
    unknown_version: int = 0
    no_template: int = 0  # data sets whose template this exporter never sent (or expired)
    templates_learned: int = 0
    templates_withdrawn: int = 0
    templates_expired: int = 0
    templates_evicted: int = 0
    options_records: int = 0  # options data: read for sampling, never a flow
    enterprise_fields: int = 0
    sampled_records: int = 0
    max_sampling: int = 1
    sequence_gaps: int = 0
    lost_datagrams: int = 0  # NetFlow v9 and sFlow count export datagrams
    lost_records: int = 0  # NetFlow v5 and IPFIX count flow records
    reordered: int = 0
    exporters_evicted: int = 0
    sflow_counter_samples: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Field:
    ie: int  # 0 for an enterprise field: skipped, only its length matters
    length: int  # VARIABLE for IPFIX variable length


@dataclass(slots=True)
class _Template:
    fields: tuple[_Field, ...]
    min_length: int  # a record is at least this long; what is left below is padding
    options: bool
    refreshed: float


@dataclass(slots=True)
class _Domain:
    """Per exporter + observation domain state: sequence and sampling."""

    expected: int | None = None
    sampling: int = 1


TemplateKey = tuple[str, int, int, int]  # exporter, version, domain, template id
DomainKey = tuple[str, int, int]


@dataclass(slots=True)
class DecoderConfig:
    template_ttl: float = 1800.0  # RFC 7011 suggests 30 min for UDP templates
    max_templates: int = 4096
    max_domains: int = 1024


class FlowDecoder:
    """Datagrams in, ``FlowRecord`` lists out; state per exporter and domain."""

    def __init__(self, config: DecoderConfig | None = None) -> None:
        self.config = config or DecoderConfig()
        self.stats = DecoderStats()
        self._templates: dict[TemplateKey, _Template] = {}
        self._domains: dict[DomainKey, _Domain] = {}
        self._set_records = 0  # data records of the IPFIX message being decoded

    @property
    def templates(self) -> int:
        return len(self._templates)

    def decode(self, data: bytes, exporter: str, now: float) -> list[FlowRecord]:
        """Records of one datagram; never raises, malformed input is counted."""
        self.stats.datagrams += 1
        out: list[FlowRecord] = []
        if len(data) < 4:
            self.stats.malformed += 1
            return out
        version = _U16.unpack_from(data, 0)[0]
        try:
            if version == 5:
                ok = self._v5(data, exporter, out)
            elif version == 9:
                ok = self._v9(data, exporter, now, out)
            elif version == 10:
                ok = self._ipfix(data, exporter, now, out)
            elif version == 0 and _U32.unpack_from(data, 0)[0] == 5:
                ok = self._sflow(data, exporter, out)
            else:
                self.stats.unknown_version += 1
                return out
        except (struct.error, IndexError, ValueError):
            # Belt and braces: the parsers check lengths first; a miss must cost one
            # datagram, never the collector.
            ok = False
        if not ok:
            self.stats.malformed += 1
        self.stats.records += len(out)
        return out

    # -- shared state -------------------------------------------------------------

    def _domain(self, key: DomainKey) -> _Domain:
        dom = self._domains.get(key)
        if dom is None:
            if len(self._domains) >= self.config.max_domains:
                del self._domains[next(iter(self._domains))]
                self.stats.exporters_evicted += 1
            dom = self._domains[key] = _Domain()
        return dom

    def _sequence(self, dom: _Domain, seq: int, advance: int, datagrams: bool) -> None:
        """Counts what was lost before this datagram; ``advance`` is its share of numbers.

        NetFlow v9 and sFlow number export datagrams, NetFlow v5 and IPFIX number flow
        records, so a gap is lost datagrams for the first and lost records for the others.
        """
        if dom.expected is not None:
            gap = (seq - dom.expected) & 0xFFFFFFFF
            if gap and gap <= MAX_GAP:
                self.stats.sequence_gaps += 1
                if datagrams:
                    self.stats.lost_datagrams += gap
                else:
                    self.stats.lost_records += gap
            elif gap:
                self.stats.reordered += 1  # a late datagram or an exporter restart
        dom.expected = (seq + advance) & 0xFFFFFFFF

    def _sampling(self, rate: int) -> int:
        rate = min(max(rate, 1), MAX_SAMPLING)
        if rate > 1:
            self.stats.sampled_records += 1
            self.stats.max_sampling = max(self.stats.max_sampling, rate)
        return rate

    def _store_template(self, key: TemplateKey, tmpl: _Template) -> None:
        if key in self._templates:
            del self._templates[key]  # re-insert: the table's order is refresh order
        else:
            self.stats.templates_learned += 1
            if len(self._templates) >= self.config.max_templates:
                del self._templates[next(iter(self._templates))]
                self.stats.templates_evicted += 1
        self._templates[key] = tmpl

    def _template(self, key: TemplateKey, now: float) -> _Template | None:
        tmpl = self._templates.get(key)
        if tmpl is None:
            return None
        if now - tmpl.refreshed > self.config.template_ttl:
            del self._templates[key]
            self.stats.templates_expired += 1
            return None
        return tmpl

    # -- NetFlow v5 ---------------------------------------------------------------

    def _v5(self, data: bytes, exporter: str, out: list[FlowRecord]) -> bool:
        if len(data) < 24:
            return False
        _v, count, uptime, secs, nsecs, seq, _et, _eid, sampling = _V5_HEADER.unpack_from(data)
        if not 1 <= count <= 30 or len(data) < 24 + 48 * count:
            return False
        dom = self._domain((exporter, 5, 0))
        self._sequence(dom, seq, count, datagrams=False)
        # Low 14 bits: 1 in N; the top two bits name the sampling mode.
        rate = self._sampling(sampling & 0x3FFF) if sampling & 0x3FFF else 1
        base = secs + nsecs / 1e9 - uptime / 1000.0
        for i in range(count):
            (src, dst, _nh, _in, _out, pkts, octets, first, last, sport, dport, flags, proto,
             _tos, _sas, _das, _sm, _dm) = _V5_RECORD.unpack_from(data, 24 + 48 * i)  # fmt: skip
            out.append(
                FlowRecord(
                    src,
                    dst,
                    sport,
                    dport,
                    proto,
                    pkts * rate,
                    octets * rate,
                    flags,
                    base + first / 1000.0,
                    base + last / 1000.0,
                    sampling=rate,
                )  # fmt: skip
            )
        return True

    # -- NetFlow v9 and IPFIX -----------------------------------------------------

    def _v9(self, data: bytes, exporter: str, now: float, out: list[FlowRecord]) -> bool:
        if len(data) < 20:
            return False
        _v, _count, uptime, secs, seq, source_id = _V9_HEADER.unpack_from(data)
        dom = self._domain((exporter, 9, source_id))
        self._sequence(dom, seq, 1, datagrams=True)
        times = (float(secs), uptime)
        return self._sets(data, 20, exporter, 9, source_id, dom, now, times, out)

    def _ipfix(self, data: bytes, exporter: str, now: float, out: list[FlowRecord]) -> bool:
        if len(data) < 16:
            return False
        _v, length, export_time, seq, domain_id = _IPFIX_HEADER.unpack_from(data)
        if length < 16 or length > len(data):
            return False
        data = data[:length]
        dom = self._domain((exporter, 10, domain_id))
        self._set_records = 0
        times = (float(export_time), None)
        ok = self._sets(data, 16, exporter, 10, domain_id, dom, now, times, out)
        self._sequence(dom, seq, self._set_records, datagrams=False)
        return ok

    def _sets(
        self,
        data: bytes,
        pos: int,
        exporter: str,
        version: int,
        domain_id: int,
        dom: _Domain,
        now: float,
        times: tuple[float, int | None],
        out: list[FlowRecord],
    ) -> bool:
        end = len(data)
        tmpl_set, opts_set = (0, 1) if version == 9 else (2, 3)
        while pos + 4 <= end:
            set_id, length = _SET_HEADER.unpack_from(data, pos)
            if length < 4 or pos + length > end:
                return False
            body, set_end = pos + 4, pos + length
            if set_id == tmpl_set:
                if not self._templates_set(data, body, set_end, exporter, version, domain_id, now):
                    return False
            elif set_id == opts_set:
                if not self._options_set(data, body, set_end, exporter, version, domain_id, now):
                    return False
            elif set_id >= 256:
                tmpl = self._template((exporter, version, domain_id, set_id), now)
                if tmpl is None:
                    self.stats.no_template += 1
                elif not self._data_set(data, body, set_end, tmpl, dom, times, out):
                    return False
            # Set ids 2..255 (v9) / 4..255 (IPFIX) are reserved: skipped by length.
            pos = set_end
        # v9 allows a few bytes of padding after the last flowset; IPFIX does not.
        return version == 9 or pos == end

    def _fields(
        self, data: bytes, pos: int, end: int, count: int, version: int
    ) -> tuple[tuple[_Field, ...], int] | None:
        if not 1 <= count <= MAX_TEMPLATE_FIELDS:
            return None
        fields: list[_Field] = []
        for _ in range(count):
            if pos + 4 > end:
                return None
            ie, length = _SET_HEADER.unpack_from(data, pos)
            pos += 4
            if version == 10 and ie & 0x8000:
                if pos + 4 > end:
                    return None
                pos += 4  # private enterprise number: we decode no vendor fields
                self.stats.enterprise_fields += 1
                ie = 0
            if length == VARIABLE and version != 10:
                return None
            fields.append(_Field(ie, length))
        return tuple(fields), pos

    @staticmethod
    def _min_length(fields: Iterable[_Field]) -> int:
        return sum(1 if f.length == VARIABLE else f.length for f in fields)

    def _templates_set(
        self, data: bytes, pos: int, end: int, exporter: str, version: int, domain_id: int,
        now: float,
    ) -> bool:  # fmt: skip
        while pos + 4 <= end:
            tid, count = _SET_HEADER.unpack_from(data, pos)
            pos += 4
            if tid < 256:
                return tid == 0 and version == 9  # v9 padding is zeros
            key = (exporter, version, domain_id, tid)
            if count == 0 and version == 10:  # RFC 7011 8.1: template withdrawal
                if self._templates.pop(key, None) is not None:
                    self.stats.templates_withdrawn += 1
                continue
            parsed = self._fields(data, pos, end, count, version)
            if parsed is None:
                return False
            fields, pos = parsed
            min_length = self._min_length(fields)
            if min_length == 0:
                return False  # a zero-length record would never advance
            self._store_template(key, _Template(fields, min_length, False, now))
        return True

    def _options_set(
        self, data: bytes, pos: int, end: int, exporter: str, version: int, domain_id: int,
        now: float,
    ) -> bool:  # fmt: skip
        while pos + 6 <= end:
            tid, a, b = struct.unpack_from(">HHH", data, pos)
            pos += 6
            if tid < 256:
                return tid == 0 and version == 9
            if version == 9:
                # Scope and option lengths are in bytes, four per field.
                if a % 4 or b % 4:
                    return False
                count = (a + b) // 4
            else:
                count, scope = a, b
                if scope == 0 or scope > count:
                    return False
            parsed = self._fields(data, pos, end, count, version)
            if parsed is None:
                return False
            fields, pos = parsed
            min_length = self._min_length(fields)
            if min_length == 0:
                return False
            self._store_template(
                (exporter, version, domain_id, tid), _Template(fields, min_length, True, now)
            )
        return True

    def _data_set(
        self,
        data: bytes,
        pos: int,
        end: int,
        tmpl: _Template,
        dom: _Domain,
        times: tuple[float, int | None],
        out: list[FlowRecord],
    ) -> bool:
        export_secs, uptime = times
        while pos + tmpl.min_length <= end:
            values: dict[int, bytes] = {}
            for f in tmpl.fields:
                length = f.length
                if length == VARIABLE:
                    if pos + 1 > end:
                        return False
                    length = data[pos]
                    pos += 1
                    if length == 255:
                        if pos + 2 > end:
                            return False
                        length = _U16.unpack_from(data, pos)[0]
                        pos += 2
                if pos + length > end:
                    return False
                if f.ie:
                    values[f.ie] = data[pos : pos + length]
                pos += length
            self._set_records += 1
            if tmpl.options:
                self.stats.options_records += 1
                for ie in _SAMPLING_IES:
                    if ie in values:
                        dom.sampling = min(max(_int(values[ie]), 1), MAX_SAMPLING)
                continue
            rec = _record(values, export_secs, uptime)
            if rec is None:
                continue  # no addresses: not a flow we can attribute (e.g. L2-only)
            rate = dom.sampling
            for ie in _SAMPLING_IES:
                if ie in values:
                    rate = _int(values[ie])
            rate = self._sampling(rate)
            if rate > 1:
                rec.packets *= rate
                rec.octets *= rate
            rec.sampling = rate
            out.append(rec)
        return True

    # -- sFlow v5 -----------------------------------------------------------------

    def _sflow(self, data: bytes, exporter: str, out: list[FlowRecord]) -> bool:
        end = len(data)
        if end < 28:
            return False
        addr_type = _U32.unpack_from(data, 4)[0]
        alen = 4 if addr_type == 1 else 16 if addr_type == 2 else 0
        if not alen or end < 8 + alen + 16:
            return False
        pos = 8 + alen
        sub_agent, seq, _uptime, nsamples = struct.unpack_from(">IIII", data, pos)
        pos += 16
        agent = data[8 : 8 + alen].hex()
        dom = self._domain((f"{exporter}/{agent}", 0, sub_agent))  # version 0: sFlow
        self._sequence(dom, seq, 1, datagrams=True)
        for _ in range(min(nsamples, 1024)):
            if pos + 8 > end:
                return False
            fmt, length = struct.unpack_from(">II", data, pos)
            body, pos = pos + 8, pos + 8 + length
            if pos > end:
                return False
            if fmt in (1, 3):  # flow sample, expanded flow sample
                if not self._sflow_flow(data, body, pos, fmt == 3, out):
                    return False
            elif fmt in (2, 4):
                self.stats.sflow_counter_samples += 1
        return True

    def _sflow_flow(
        self, data: bytes, pos: int, end: int, expanded: bool, out: list[FlowRecord]
    ) -> bool:
        head = 44 if expanded else 32
        if pos + head > end:
            return False
        rate = self._sampling(_U32.unpack_from(data, pos + 8)[0])
        nrecords = _U32.unpack_from(data, pos + head - 4)[0]
        pos += head
        for _ in range(min(nrecords, 256)):
            if pos + 8 > end:
                return False
            fmt, length = struct.unpack_from(">II", data, pos)
            body, pos = pos + 8, pos + 8 + ((length + 3) & ~3)
            if body + length > end:
                return False
            if fmt == 1 and length >= 16:  # raw packet header
                proto, frame_length, _stripped, hlen = struct.unpack_from(">IIII", data, body)
                if proto == 1 and 16 + hlen <= length:
                    rec = _ethernet(data[body + 16 : body + 16 + hlen])
                    if rec is not None:
                        rec.packets = rate
                        rec.octets = min(frame_length, 65535) * rate
                        rec.sampling = rate
                        out.append(rec)
        return True


def _int(raw: bytes) -> int:
    # IPFIX reduced-size encoding: counters may come in fewer bytes than their type.
    return int.from_bytes(raw[:8], "big")


def _record(values: dict[int, bytes], export_secs: float, uptime: int | None) -> FlowRecord | None:
    src = values.get(IE_SRC_V4)
    dst = values.get(IE_DST_V4)
    if src is None or dst is None or len(src) != 4 or len(dst) != 4:
        src, dst = values.get(IE_SRC_V6), values.get(IE_DST_V6)
        if src is None or dst is None or len(src) != 16 or len(dst) != 16:
            return None
    get = values.get
    rec = FlowRecord(bytes(src), bytes(dst))
    rec.sport = _int(get(IE_SRC_PORT, b"")) & 0xFFFF
    rec.dport = _int(get(IE_DST_PORT, b"")) & 0xFFFF
    rec.proto = _int(get(IE_PROTOCOL, b"")) & 0xFF
    rec.packets = _int(get(IE_PACKETS, b"\x01"))
    rec.octets = _int(get(IE_OCTETS, b""))
    rec.tcp_flags = _int(get(IE_TCP_FLAGS, b"")) & 0xFF
    if IE_DIRECTION in values:
        rec.direction = _int(values[IE_DIRECTION]) & 0xFF
    for ie in (IE_SRC_MAC, IE_POST_SRC_MAC):
        mac = values.get(ie)
        if mac is not None and len(mac) == 6 and mac != b"\x00" * 6:
            rec.src_mac = bytes(mac)
            break
    for ie in (IE_DST_MAC, IE_POST_DST_MAC):
        mac = values.get(ie)
        if mac is not None and len(mac) == 6 and mac != b"\x00" * 6:
            rec.dst_mac = bytes(mac)
            break
    rec.first, rec.last = _times(values, export_secs, uptime)
    return rec


def _times(values: dict[int, bytes], export_secs: float, uptime: int | None) -> tuple[float, float]:
    if IE_START_MS in values and IE_END_MS in values:
        return _int(values[IE_START_MS]) / 1000.0, _int(values[IE_END_MS]) / 1000.0
    if IE_START_S in values and IE_END_S in values:
        return float(_int(values[IE_START_S])), float(_int(values[IE_END_S]))
    if IE_FIRST_UPTIME in values and IE_LAST_UPTIME in values:
        first, last = _int(values[IE_FIRST_UPTIME]), _int(values[IE_LAST_UPTIME])
        if IE_SYSTEM_INIT_MS in values:
            boot = _int(values[IE_SYSTEM_INIT_MS]) / 1000.0
            return boot + first / 1000.0, boot + last / 1000.0
        if uptime is not None:
            # v9: uptime fields count ms since boot; the header pairs boot time with now.
            boot = export_secs - uptime / 1000.0
            return boot + first / 1000.0, boot + last / 1000.0
    return export_secs, export_secs


def _ethernet(frame: bytes) -> FlowRecord | None:
    """The flow key of a sampled Ethernet header (sFlow), or None."""
    if len(frame) < 14:
        return None
    dst_mac, src_mac = frame[0:6], frame[6:12]
    etype = _U16.unpack_from(frame, 12)[0]
    pos = 14
    while etype in (0x8100, 0x88A8) and len(frame) >= pos + 4:
        etype = _U16.unpack_from(frame, pos + 2)[0]
        pos += 4
    if etype == 0x0800 and len(frame) >= pos + 20:
        ihl = (frame[pos] & 0x0F) * 4
        proto = frame[pos + 9]
        src, dst = frame[pos + 12 : pos + 16], frame[pos + 16 : pos + 20]
        l4 = pos + ihl
    elif etype == 0x86DD and len(frame) >= pos + 40:
        proto = frame[pos + 6]
        src, dst = frame[pos + 8 : pos + 24], frame[pos + 24 : pos + 40]
        l4 = pos + 40
    else:
        return None
    rec = FlowRecord(src, dst, proto=proto, src_mac=src_mac, dst_mac=dst_mac)
    if proto in (6, 17) and len(frame) >= l4 + 4:
        rec.sport, rec.dport = struct.unpack_from(">HH", frame, l4)
        if proto == 6 and len(frame) >= l4 + 14:
            rec.tcp_flags = frame[l4 + 13]
    return rec


@dataclass(slots=True)
class Datagram:
    """One UDP payload from a capture, with who sent it and when."""

    time: float
    exporter: str
    payload: bytes = field(repr=False)
