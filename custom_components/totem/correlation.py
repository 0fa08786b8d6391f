"""Traffic around state changes, and what a device's traffic usually is in each state.

Plain Python on purpose (no Home Assistant object): activity.py feeds it the
device table after every snapshot and the state changes of linked entities,
and turns what it finds into events. Every time here is on the data clock:
packet time for a replay, wall time for a live capture.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

WINDOW = 60.0  # seconds before and after a change, and the length of a learning span
MAX_SAMPLES = 720  # per device: a few minutes at a one-second interval
STATS_SIZE = 60  # per-minute figures kept per (entity, state)
MAX_STATS = 512  # (entity, state) pairs remembered
MIN_LEARNED = 5  # minutes of a state before its own figures are trusted
# An "off" device sending more than this a minute is busy, not idle (~70 kbit/s):
# far above a plug's heartbeats, far below a camera's stream.
OFF_UPLOAD_FLOOR = 512_000
# A burst nobody asked for: ten times what the hour usually sees, once the hour is known.
BURST_FACTOR = 10.0
HOUR_MIN_SAMPLES = 30
HOUR_ALPHA = 0.05
MAX_DESTINATIONS = 20
MAX_PENDING = 64  # changes waiting for their minute after: a flapping entity is bounded
# Switch-like entities named so are "on" when the device should be quiet.
PRIVACY_WORDS = ("privacy", "privacy_mode")
OFF_STATES = frozenset({"off", "standby"})
# Transitions through these are restarts and outages, not physical activity.
IGNORED_STATES = frozenset({"unavailable", "unknown"})

KIND_OFF_UPLOAD = "uploading_while_off"
KIND_BURST = "burst_without_activity"


@dataclass(frozen=True, slots=True)
class Sample:
    """A device's cumulative counters at one moment of the data clock."""

    time: float
    tx: int
    rx: int
    domains: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Traffic:
    """Bytes a device sent (up) and received (down) between two samples."""

    start: float
    end: float
    bytes_up: int
    bytes_down: int

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def per_minute_up(self) -> float:
        return self.bytes_up * WINDOW / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Traffic:
        return cls(
            float(data["start"]),
            float(data["end"]),
            int(data["bytes_up"]),
            int(data["bytes_down"]),
        )


def between(first: Sample, last: Sample) -> Traffic:
    return Traffic(first.time, last.time, max(last.tx - first.tx, 0), max(last.rx - first.rx, 0))


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One state change of a linked entity with the device's traffic around it."""

    entity_id: str
    old_state: str
    new_state: str
    mac: str
    changed_at: float  # wall clock
    data_time: float  # the data clock at the change
    before: Traffic
    after: Traffic
    new_destinations: tuple[str, ...]
    new_destinations_before: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "old_state": self.old_state,
            "new_state": self.new_state,
            "mac": self.mac,
            "changed_at": self.changed_at,
            "data_time": self.data_time,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "new_destinations": list(self.new_destinations),
            "new_destinations_before": list(self.new_destinations_before),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActivityRecord:
        return cls(
            entity_id=str(data["entity_id"]),
            old_state=str(data["old_state"]),
            new_state=str(data["new_state"]),
            mac=str(data["mac"]),
            changed_at=float(data["changed_at"]),
            data_time=float(data["data_time"]),
            before=Traffic.from_json(data["before"]),
            after=Traffic.from_json(data["after"]),
            new_destinations=tuple(data.get("new_destinations", ())),
            new_destinations_before=tuple(data.get("new_destinations_before", ())),
        )


@dataclass(slots=True)
class StateStats:
    """Upload per minute while an entity is in one state: median and MAD of the last hour."""

    values: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_SIZE))
    used: float = 0.0  # data time of the last update, to forget the least used pairs

    @property
    def learned(self) -> bool:
        return len(self.values) >= MIN_LEARNED

    def median(self) -> float:
        return float(median(self.values)) if self.values else 0.0

    def mad(self) -> float:
        if not self.values:
            return 0.0
        mid = self.median()
        return float(median(abs(v - mid) for v in self.values))


def upload_limit(stats: StateStats | None) -> float:
    """Above this, upload per minute contradicts an "off" state.

    Median + 8 scaled MADs is robust to the odd busy minute while learning; the
    floor keeps a quiet device's tiny jitter from counting as a contradiction.
    """
    if stats is None or not stats.learned:
        return float(OFF_UPLOAD_FLOOR)
    mid = stats.median()
    return max(float(OFF_UPLOAD_FLOOR), mid + 8 * 1.4826 * stats.mad(), 4 * mid)


def off_like(entity_id: str, state: str) -> bool:
    """Does this state mean the device should be quiet?"""
    object_id = entity_id.partition(".")[2]
    if any(word in object_id for word in PRIVACY_WORDS):
        return state == "on"
    return state in OFF_STATES


@dataclass(slots=True)
class HourProfile:
    """Typical upload per minute for each hour of the day (EWMA), to tell odd hours."""

    count: list[int] = field(default_factory=lambda: [0] * 24)
    level: list[float] = field(default_factory=lambda: [0.0] * 24)

    def update(self, hour: int, value: float) -> None:
        if self.count[hour] == 0:
            self.level[hour] = value
        else:
            self.level[hour] += HOUR_ALPHA * (value - self.level[hour])
        self.count[hour] += 1

    def unusual(self, hour: int, value: float) -> bool:
        if self.count[hour] < HOUR_MIN_SAMPLES:
            return False
        return value > max(float(OFF_UPLOAD_FLOOR), BURST_FACTOR * self.level[hour])

    def to_json(self) -> dict[str, Any]:
        return {"count": list(self.count), "level": [round(v, 1) for v in self.level]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HourProfile:
        count = [int(c) for c in data.get("count", [])]
        level = [float(v) for v in data.get("level", [])]
        if len(count) != 24 or len(level) != 24:
            return cls()
        return cls(count, level)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Network behaviour that contradicts what Home Assistant says about the device."""

    kind: str  # KIND_OFF_UPLOAD or KIND_BURST
    mac: str
    entity_id: str | None
    state: str | None
    time: float
    bytes_up: int
    seconds: float
    usual: float | None  # the learned upload per minute in that state or hour


@dataclass(slots=True)
class _EntityState:
    mac: str
    state: str
    since: float  # data time of the last change; -inf when it predates TOTEM's watch


@dataclass(slots=True)
class _Pending:
    entity_id: str
    mac: str
    old_state: str
    new_state: str
    changed_at: float
    time: float | None  # None until the first sample: the change predates any data


class Correlator:
    """Per-device samples, pending state changes and the learned figures per state."""

    def __init__(self, hour_of: Callable[[float], int] | None = None) -> None:
        self._hour_of = hour_of or (lambda t: datetime.fromtimestamp(t).hour)
        self.history: dict[str, deque[Sample]] = {}
        self.entities: dict[str, _EntityState] = {}
        self.pending: list[_Pending] = []
        self.stats: dict[tuple[str, str], StateStats] = {}
        self.hours: dict[str, HourProfile] = {}
        self._span_start: dict[str, Sample] = {}
        self._fired: set[tuple[str, float]] = set()  # (entity, episode) already reported
        self._burst_fired: dict[str, tuple[int, int]] = {}  # mac -> (day, hour)
        # Episodes reported before a restart (entity -> its state then): the entity
        # still in that state is the same episode, never reported again.
        self._carried: dict[str, str] = {}
        self._clock: tuple[float, float] | None = None  # (data time, wall time) of last sample

    # -- inputs -----------------------------------------------------------

    def set_links(self, links: dict[str, str], states: dict[str, str]) -> None:
        """The linked entities (entity -> MAC) and their current states."""
        kept: dict[str, _EntityState] = {}
        for entity_id, mac in links.items():
            old = self.entities.get(entity_id)
            if old is not None and old.mac == mac:
                kept[entity_id] = old
            else:
                kept[entity_id] = _EntityState(mac, states.get(entity_id, ""), -math.inf)
        self.entities = kept
        self._carried = {
            e: state
            for e, state in self._carried.items()
            if e in kept and kept[e].state in (state, "")
        }
        macs = set(links.values())
        for mac in [m for m in self.history if m not in macs]:
            del self.history[mac]
            self._span_start.pop(mac, None)
        self.pending = [p for p in self.pending if p.entity_id in kept]

    @property
    def linked_macs(self) -> set[str]:
        return {e.mac for e in self.entities.values()}

    def data_time(self, wall: float, speed: float) -> float | None:
        """The data clock now: a replay runs ``speed`` times faster than the wall clock."""
        if self._clock is None:
            return None
        data, at = self._clock
        return data + max(wall - at, 0.0) * speed

    def state_changed(self, entity_id: str, old: str, new: str, wall: float, speed: float) -> bool:
        """Note a change; its record comes once the minute after it has been seen."""
        linked = self.entities.get(entity_id)
        if linked is None or old == new or old in IGNORED_STATES or new in IGNORED_STATES:
            if linked is not None:
                linked.state = new
            return False
        now = self.data_time(wall, speed)
        linked.state = new
        self._carried.pop(entity_id, None)  # a new episode: its own report
        linked.since = now if now is not None else -math.inf
        if len(self.pending) >= MAX_PENDING:
            self.pending.pop(0)
        self.pending.append(_Pending(entity_id, linked.mac, old, new, wall, now))
        return True

    def observe(
        self, time: float, wall: float, devices: dict[str, Sample]
    ) -> tuple[list[ActivityRecord], list[Mismatch]]:
        """Fold in one snapshot of the linked devices' counters."""
        if self._clock is not None and time < self._clock[0]:
            # A looping replay started over: its clock went back.
            self._restart_clock()
        self._clock = (time, wall)
        for pending in self.pending:
            if pending.time is None:
                pending.time = time
                self._episode_start(pending.entity_id, time)
        records: list[ActivityRecord] = []
        mismatches: list[Mismatch] = []
        for mac, sample in devices.items():
            history = self.history.setdefault(mac, deque(maxlen=MAX_SAMPLES))
            history.append(sample)
            mismatches += self._learn_span(mac, sample)
        done = [p for p in self.pending if p.time is not None and time >= p.time + WINDOW]
        for pending in done:
            self.pending.remove(pending)
            record = self._record(pending)
            if record is None:
                continue
            records.append(record)
            found = self._judge_change(pending, record.after, time)
            if found is not None:
                mismatches.append(found)
        self._trim(time)
        return records, mismatches

    # -- learning and judging ---------------------------------------------

    def _episode_start(self, entity_id: str, time: float) -> None:
        linked = self.entities.get(entity_id)
        if linked is not None and linked.since == -math.inf:
            linked.since = time

    def _learn_span(self, mac: str, sample: Sample) -> list[Mismatch]:
        start = self._span_start.get(mac)
        if start is None:
            self._span_start[mac] = sample
            return []
        if sample.time - start.time < WINDOW:
            return []
        self._span_start[mac] = sample
        span = between(start, sample)
        found: list[Mismatch] = []
        quiet_since = sample.time - 2 * WINDOW
        changed_lately = False
        for entity_id, linked in self.entities.items():
            if linked.mac != mac:
                continue
            if linked.since > quiet_since:
                changed_lately = True
            if linked.since > start.time or not linked.state:
                continue  # the state changed inside the span: it says nothing about one state
            if self._contradicts(entity_id, linked.state, span):
                # Not what this state is like: reported, never learned.
                mismatch = self._report(entity_id, span, sample.time)
                if mismatch is not None:
                    found.append(mismatch)
                continue
            self._stats_for(entity_id, linked.state, sample.time).values.append(
                span.per_minute_up()
            )
        burst = self._judge_hour(mac, span, sample.time, changed_lately)
        if burst is not None:
            found.append(burst)
        return found

    def _judge_change(self, pending: _Pending, after: Traffic, now: float) -> Mismatch | None:
        """The minute after a change, while the entity stayed in its new state."""
        linked = self.entities.get(pending.entity_id)
        if linked is None or linked.state != pending.new_state or linked.since != pending.time:
            return None
        if not self._contradicts(pending.entity_id, pending.new_state, after):
            return None
        return self._report(pending.entity_id, after, now)

    def _contradicts(self, entity_id: str, state: str, span: Traffic) -> bool:
        if not off_like(entity_id, state):
            return False
        return span.per_minute_up() > upload_limit(self.stats.get((entity_id, state)))

    def _report(self, entity_id: str, span: Traffic, now: float) -> Mismatch | None:
        linked = self.entities[entity_id]
        episode = (entity_id, linked.since)
        if episode in self._fired:
            return None  # once per time the entity entered the state
        if self._carried.get(entity_id) == linked.state:
            return None  # reported before a restart, and never left that state since
        # Bounded: only the episodes still going on matter.
        self._fired = {
            (e, since)
            for e, since in self._fired
            if (other := self.entities.get(e)) is not None and other.since == since
        }
        self._fired.add(episode)
        stats = self.stats.get((entity_id, linked.state))
        usual = stats.median() if stats is not None and stats.learned else None
        return Mismatch(
            KIND_OFF_UPLOAD,
            linked.mac,
            entity_id,
            linked.state,
            now,
            span.bytes_up,
            span.seconds,
            usual,
        )

    def _judge_hour(
        self, mac: str, span: Traffic, now: float, changed_lately: bool
    ) -> Mismatch | None:
        profile = self.hours.setdefault(mac, HourProfile())
        hour = self._hour_of(span.end)
        value = span.per_minute_up()
        if changed_lately or not profile.unusual(hour, value):
            profile.update(hour, value)
            return None
        slot = (int(now // 86400), hour)
        if self._burst_fired.get(mac) == slot:
            return None
        self._burst_fired[mac] = slot
        return Mismatch(
            KIND_BURST, mac, None, None, now, span.bytes_up, span.seconds, profile.level[hour]
        )

    def _stats_for(self, entity_id: str, state: str, now: float) -> StateStats:
        key = (entity_id, state)
        stats = self.stats.get(key)
        if stats is None:
            if len(self.stats) >= MAX_STATS:
                oldest = min(self.stats, key=lambda k: self.stats[k].used)
                del self.stats[oldest]
            stats = self.stats[key] = StateStats()
        stats.used = now
        return stats

    # -- records ------------------------------------------------------------

    def _record(self, pending: _Pending) -> ActivityRecord | None:
        history = self.history.get(pending.mac)
        if not history or pending.time is None:
            return None
        change = _at_or_before(history, pending.time) or history[0]
        first = _at_or_before(history, pending.time - WINDOW) or history[0]
        last = history[-1]
        return ActivityRecord(
            entity_id=pending.entity_id,
            old_state=pending.old_state,
            new_state=pending.new_state,
            mac=pending.mac,
            changed_at=pending.changed_at,
            data_time=pending.time,
            before=between(first, change),
            after=between(change, last),
            new_destinations=_new(change.domains, last.domains),
            new_destinations_before=_new(first.domains, change.domains),
        )

    def _trim(self, now: float) -> None:
        oldest = min((p.time for p in self.pending if p.time is not None), default=now)
        keep_from = oldest - 2 * WINDOW
        for history in self.history.values():
            # Keep one sample older than needed: it bounds the window from below.
            while len(history) > 1 and history[1].time <= keep_from:
                history.popleft()

    def _restart_clock(self) -> None:
        self.history.clear()
        self._span_start.clear()
        self.pending.clear()
        for linked in self.entities.values():
            linked.since = -math.inf

    # -- persistence --------------------------------------------------------

    def learned_json(self) -> dict[str, Any]:
        return {
            "stats": [
                {"entity_id": e, "state": s, "values": [round(v, 1) for v in st.values]}
                for (e, s), st in self.stats.items()
            ],
            "hours": {mac: profile.to_json() for mac, profile in self.hours.items()},
            "reported": self._reported_json(),
        }

    def _reported_json(self) -> dict[str, Any]:
        """The mismatches already reported whose episode still goes on: a restart
        must not report them again (the same switched-off camera, the same hour)."""
        episodes = dict(self._carried)
        for entity_id, since in self._fired:
            linked = self.entities.get(entity_id)
            if linked is not None and linked.since == since and linked.state:
                episodes[entity_id] = linked.state
        return {
            "episodes": [{"entity_id": e, "state": s} for e, s in sorted(episodes.items())],
            "bursts": {mac: list(slot) for mac, slot in self._burst_fired.items()},
        }

    def load_learned(self, data: dict[str, Any]) -> None:
        for item in data.get("stats", []):
            stats = StateStats()
            stats.values.extend(float(v) for v in item.get("values", []))
            self.stats[(str(item["entity_id"]), str(item["state"]))] = stats
        self.hours = {
            str(mac): HourProfile.from_json(profile)
            for mac, profile in data.get("hours", {}).items()
        }
        try:
            reported = data.get("reported", {})
            episodes = reported.get("episodes", [])[:MAX_STATS]
            carried = {str(item["entity_id"]): str(item["state"]) for item in episodes}
            bursts = {
                str(mac): (int(slot[0]), int(slot[1]))
                for mac, slot in list(reported.get("bursts", {}).items())[:MAX_STATS]
            }
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            # A damaged list of reports costs only itself, not the learned figures.
            carried, bursts = {}, {}
        self._carried, self._burst_fired = carried, bursts


def _at_or_before(history: Iterable[Sample], time: float) -> Sample | None:
    found: Sample | None = None
    for sample in history:
        if sample.time > time:
            break
        found = sample
    return found


def _new(before: tuple[str, ...], after: tuple[str, ...]) -> tuple[str, ...]:
    known = set(before)
    return tuple(sorted(d for d in after if d not in known))[:MAX_DESTINATIONS]
