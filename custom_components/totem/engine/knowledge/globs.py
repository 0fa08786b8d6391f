"""``fnmatchcase`` for the discovery tables' patterns, without a regex for the common ones.

Home Assistant's DHCP, zeroconf and SSDP matchers are shell globs, and almost all of
them are a literal, ``prefix*``, ``*suffix`` or ``*part*``. ``fnmatchcase`` compiles a
regular expression for each (about 0.1 ms apiece, and there are hundreds), which was the
largest part of identifying a device for the first time; string methods give the same
answer for those shapes, and anything else still goes through ``fnmatch``'s own regex.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import translate
from functools import cache

_WILD = frozenset("*?[")


@cache
def matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate equal to ``fnmatchcase(name, pattern)`` for every ``name``."""
    body = pattern.strip("*")
    if not _WILD.intersection(body):
        lead = pattern.startswith("*")
        trail = pattern.endswith("*")
        if lead and trail:
            return lambda name: body in name
        if lead:
            return lambda name: name.endswith(body)
        if trail:
            return lambda name: name.startswith(body)
        return lambda name: name == body
    rx = re.compile(translate(pattern))
    return lambda name: rx.match(name) is not None


def glob_match(name: str, pattern: str) -> bool:
    """``fnmatchcase(name, pattern)``."""
    return matcher(pattern)(name)
