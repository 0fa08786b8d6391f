"""One sanitiser for every name off the network, and which strings are names at all.

Every host name, mDNS instance, TXT model, NetBIOS or SSDP name a device sends is hostile
until it went through :func:`clean`: control and Unicode format characters go (ANSI
escapes whole, bidirectional overrides, zero-width characters), whitespace collapses to
one space, the result is capped at :data:`MAX_NAME` characters (a DNS label's limit, and
what fits a Home Assistant device page), and an empty result is no name.

:func:`is_protocol_string` says which strings are never a device's name although they
come where names come: an SSDP SERVER banner ("IpBridge/1.9.0", "Linux/3.14 UPnP/1.0"),
a URN or a name built from one ("schemas-wifialliance-org WFADevice"), a bare version or
a UUID.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 63
# ESC-started sequences (ECMA-48): CSI "ESC [ params final", OSC "ESC ] ... BEL/ST",
# and two-byte escapes. The C1 CSI (U+009B) too.
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b"
)
_SPACES = re.compile(r"\s+")
# Categories that never belong in a name: control, format (U+202E RLO, U+200B ZWSP,
# U+FEFF BOM...), surrogates, private use, unassigned.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_VERSIONED_TOKEN = re.compile(r"^[\w.+-]+/v?\d[\w.+-]*$")
_VERSION = re.compile(r"^v?\d+(?:[._-]\d+)+[a-z]?$", re.IGNORECASE)
_UUID = re.compile(
    r"^(uuid:)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I
)
_URN_WORDS = re.compile(r"(^urn:|schemas-|-org\b|:device:|:service:)", re.IGNORECASE)


def strip_escapes(text: str) -> str:
    """The text without ANSI/ECMA-48 escape sequences (their parameters too)."""
    return _ANSI.sub("", text) if "\x1b" in text or "\x9b" in text else text


def clean(raw: str | bytes | None, limit: int = MAX_NAME) -> str | None:
    """The printable, bounded form of a name off the network, or None if nothing is left."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = text[: limit * 8]  # bound the work before the regular expressions run
    text = strip_escapes(text)
    text = "".join(
        " "
        if ch.isspace() or unicodedata.category(ch) in ("Zl", "Zp")
        else ("" if unicodedata.category(ch) in _DROP_CATEGORIES else ch)
        for ch in text
    )
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[:limit].rstrip()
    return text or None


def is_protocol_string(name: str) -> bool:
    """True for banners, URNs, versions and UUIDs: strings that name software, not a device."""
    text = name.strip()
    if not text:
        return True
    tokens = text.split()
    if all(_VERSIONED_TOKEN.match(t) for t in tokens):
        return True  # "IpBridge/1.9.0", "Linux/3.14 UPnP/1.0 Portable/1.2"
    if _VERSION.match(text) or _UUID.match(text):
        return True
    return _URN_WORDS.search(text) is not None


def clean_name(raw: str | bytes | None) -> str | None:
    """A cleaned string that can be a device's name, else None."""
    text = clean(raw)
    if text is None or is_protocol_string(text):
        return None
    return text
