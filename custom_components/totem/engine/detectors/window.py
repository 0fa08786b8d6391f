"""Bounded sliding windows over packet time."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable


class DistinctInWindow:
    """Distinct keys seen in the last ``window`` seconds, at most ``cap`` of them.

    Keys arrive in (nearly) time order, so the oldest sits at the front and
    expiry pops from there: O(1) amortised per ``add``.
    """

    __slots__ = ("_seen", "cap", "window")

    def __init__(self, window: float, cap: int) -> None:
        self.window = window
        self.cap = cap
        self._seen: OrderedDict[Hashable, float] = OrderedDict()

    def add(self, key: Hashable, ts: float) -> int:
        seen = self._seen
        if key in seen:
            seen.move_to_end(key)
        seen[key] = ts
        cutoff = ts - self.window
        # One walk counts the expired keys at the front, then they go: not a fresh
        # values iterator per key looked at (the common case looks at one and stops).
        expired = 0
        for seen_at in seen.values():
            if seen_at >= cutoff:
                break
            expired += 1
        for _ in range(expired):
            seen.popitem(last=False)
        while len(seen) > self.cap:
            seen.popitem(last=False)
        return len(seen)

    def keys(self) -> list[Hashable]:
        return list(self._seen)

    def clear(self) -> None:
        self._seen.clear()


class CountInWindow:
    """Events in the last ``window`` seconds (timestamps kept, at most ``cap``)."""

    __slots__ = ("_times", "window")

    def __init__(self, window: float, cap: int) -> None:
        self.window = window
        self._times: deque[float] = deque(maxlen=cap)

    def add(self, ts: float) -> int:
        times = self._times
        times.append(ts)
        cutoff = ts - self.window
        while times and times[0] < cutoff:
            times.popleft()
        return len(times)


class LruTable[K, V]:
    """A dict capped at ``cap`` entries; the least recently used goes first."""

    __slots__ = ("_items", "_make", "cap")

    def __init__(self, cap: int, make: Callable[[], V]) -> None:
        self.cap = cap
        self._make = make
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V:
        items = self._items
        value = items.get(key)
        if value is None:
            value = items[key] = self._make()
            if len(items) > self.cap:
                items.popitem(last=False)
        else:
            items.move_to_end(key)
        return value

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
