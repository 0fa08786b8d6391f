"""Device type by weighted evidence fusion: many sources vote, one decision with its reasons.

Every knowledge source (:mod:`.votes` asks them) turns a piece of a device's evidence into
:class:`Vote` s: a type (or a family of types), a weight, the *fact* it read and a label
with its provenance ("HA dhcp: yeelight (hostname yeelink-light-*)"). :func:`decide` adds
them up:

- votes that read the same fact (the host name through three tables, the OUI through two)
  are one piece of evidence: per fact and type only the strongest vote counts;
- independent facts add up;
- a family vote (``computer``: laptop or desktop; ``personal``: laptop, desktop, phone or
  tablet) credits every member, so a Windows DHCP fingerprint and a "dell" in the host name
  make a laptop together;
- ``iot`` is the fallback class: a smart-home type (plug, light, sensor...) at
  :data:`MIN_SCORE` wins over it, a general-purpose type must also beat it;
- a type needs :data:`MIN_SCORE`; weaker evidence leaves ``unknown`` and the reason says
  what little there was;
- the last resort: a vote that names the type it stands for *alone* (``Vote.alone``, a
  computer maker's OUI) gives that type when nothing decided and no other vote points
  elsewhere, so any real evidence against it wins (``unknown`` only with no evidence).

This runs when an identity is computed (snapshots, alerts), never per packet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .model import DEVICE_TYPES

# 3 decides alone, 2 decides alone for iot or when nothing contradicts it, 1 never alone:
# the scale of type_rules.py, kept for every source.
MIN_SCORE = 2.0
FALLBACK_TYPE = "iot"
FAMILIES: dict[str, tuple[str, ...]] = {
    "computer": ("laptop", "desktop"),
    "personal": ("laptop", "desktop", "phone", "tablet"),
}
# Kinds of IoT device: each is also evidence of ``iot``.
SMART_HOME: frozenset[str] = frozenset(
    {"smart_plug", "light", "sensor", "camera", "hub", "smart_speaker"}
)
_ORDER = {t: n for n, t in enumerate(DEVICE_TYPES)}


@dataclass(frozen=True, slots=True)
class Vote:
    """One piece of evidence for a device type or family, weighed by :func:`decide`."""

    type: str  # a DEVICE_TYPES member or a FAMILIES key
    weight: float
    fact: str  # the piece of evidence read: one fact counts once per type
    label: str  # what the user reads, with the source
    source: str = ""  # the knowledge source ("rules", "ha_dhcp", "clouds"...)
    # The type this vote stands for when it is all the evidence ("" for none): a family
    # vote's likeliest member, given only as the last resort (see decide).
    alone: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """The type :func:`decide` settled on, why, its score and the votes behind it."""

    type: str
    reason: str
    score: float
    votes: tuple[Vote, ...]  # the votes that made the decision (empty for unknown)


def _strongest(votes: Iterable[Vote]) -> dict[tuple[str, str], Vote]:
    best: dict[tuple[str, str], Vote] = {}
    for vote in votes:
        if vote.weight <= 0:
            continue
        key = (vote.fact, vote.type)
        held = best.get(key)
        if held is None or vote.weight > held.weight:
            best[key] = vote
    return best


def _reason(votes: list[Vote]) -> str:
    seen: list[str] = []
    for vote in sorted(votes, key=lambda v: -v.weight):
        if vote.label not in seen:
            seen.append(vote.label)
    return " + ".join(seen)


def decide(votes: Iterable[Vote]) -> Decision:
    """The type the votes support, with the votes that won; ``unknown`` below MIN_SCORE."""
    counted = list(_strongest(votes).values())
    if not counted:
        return Decision("unknown", "", 0.0, ())
    backing: dict[str, list[Vote]] = {}
    for vote in counted:
        for member in FAMILIES.get(vote.type, (vote.type,)):
            backing.setdefault(member, []).append(vote)
    # A family vote read from one fact counts once even if a member has its own vote
    # from the same fact: keep the strongest per fact for each member.
    scores: dict[str, float] = {}
    for type_, backers in backing.items():
        per_fact: dict[str, Vote] = {}
        for vote in backers:
            held = per_fact.get(vote.fact)
            if held is None or vote.weight > held.weight:
                per_fact[vote.fact] = vote
        backing[type_] = list(per_fact.values())
        scores[type_] = sum(v.weight for v in per_fact.values())
    iot_score = scores.get(FALLBACK_TYPE, 0.0)
    candidates = [
        t
        for t, s in scores.items()
        if t != FALLBACK_TYPE
        and t in _ORDER
        and s >= MIN_SCORE
        and (t in SMART_HOME or s > iot_score)
    ]
    if candidates:
        best = max(
            candidates,
            key=lambda t: (
                scores[t],
                max(v.weight for v in backing[t]),
                -_ORDER[t],
            ),
        )
        return Decision(best, _reason(backing[best]), scores[best], tuple(backing[best]))
    # The fallback: iot's own votes plus the best smart-home kind's (a weak "plug" is
    # still evidence of some IoT thing).
    kinds = [t for t in SMART_HOME if t in scores]
    best_kind = max(kinds, key=lambda t: (scores[t], -_ORDER[t])) if kinds else None
    total = iot_score + (scores[best_kind] if best_kind else 0.0)
    if total >= MIN_SCORE:
        won = backing.get(FALLBACK_TYPE, []) + (backing[best_kind] if best_kind else [])
        return Decision(FALLBACK_TYPE, _reason(won), total, tuple(won))
    lone = _alone(counted)
    if lone is not None:
        return lone
    return Decision("unknown", "too little evidence: " + _reason(counted), 0.0, ())


def _alone(counted: list[Vote]) -> Decision | None:
    """The last resort: the type weak votes stand for, if every vote agrees with it."""
    wanted = {v.alone for v in counted if v.alone}
    if len(wanted) != 1:
        return None
    (type_,) = wanted
    if any(type_ not in FAMILIES.get(v.type, (v.type,)) for v in counted):
        return None  # some evidence points elsewhere: it wins, and it is too weak alone
    score = sum(v.weight for v in counted)
    return Decision(type_, "weak: " + _reason(counted), score, tuple(counted))
