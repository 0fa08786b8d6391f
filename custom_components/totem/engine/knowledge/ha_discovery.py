"""Home Assistant's discovery tables: device evidence -> candidate integration domains.

The bundled snapshot ``ha_discovery_tables.json`` is written by ``scripts/refresh-ha-tables``
from ``homeassistant.generated.{dhcp,zeroconf,ssdp}`` (Apache-2.0, Home Assistant core).
A running Home Assistant can hand its own tables (same shapes) to :meth:`HaTables.from_tables`.
Matching follows Home Assistant's own rules: DHCP host names are fnmatch patterns on the
lower-cased name, ``macaddress`` patterns on the upper-cased MAC without separators,
zeroconf ``name`` and ``properties`` patterns on lower-cased values, HomeKit models by
prefix (longest wins), SSDP matchers when every key of the matcher matches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import HERE, globs, read_tsv
from .globs import glob_match

SNAPSHOT = "ha_discovery_tables.json"
DOMAIN_TYPES = "ha_domain_types.tsv"


@dataclass(frozen=True, slots=True)
class DomainType:
    """The kind of device a Home Assistant integration's domain stands for."""

    domain: str
    type: str | None  # None: a software service, no kind of device
    confidence: str
    comment: str


@cache
def domain_types() -> dict[str, DomainType]:
    """Integration domain -> the TOTEM device type it discovers."""
    out: dict[str, DomainType] = {}
    for row in read_tsv(DOMAIN_TYPES):
        type_ = None if row["type"] == "-" else row["type"]
        out[row["domain"]] = DomainType(row["domain"], type_, row["confidence"], row["comment"])
    return out


_Match = Callable[[str], object]
_Compiled = tuple[_Match | None, _Match | None, str]


def _glob(pattern: object) -> _Match | None:
    return None if pattern is None else globs.matcher(str(pattern))


def _lower(value: object) -> str:
    return str(value).lower()


class HaTables:
    """The DHCP, zeroconf, HomeKit and SSDP matchers, with their provenance."""

    def __init__(
        self,
        *,
        dhcp: Sequence[Mapping[str, Any]],
        zeroconf: Mapping[str, Sequence[Any]],
        homekit: Mapping[str, Mapping[str, Any]],
        ssdp: Mapping[str, Sequence[Mapping[str, Any]]],
        provenance: Mapping[str, Any],
    ) -> None:
        self.dhcp = [dict(m) for m in dhcp]
        # A host name is tried only against the matchers whose pattern can start with its
        # first letter, each compiled on first use: the ~1,000 matchers of the table cost
        # neither a full scan per device nor 50 ms of regex compiling at start-up.
        self._dhcp_rx: dict[int, _Compiled] = {}
        self._by_host_letter: dict[str, list[int]] = {}
        self._host_wild: list[int] = []
        for index, matcher in enumerate(self.dhcp):
            pattern = matcher.get("hostname")
            if pattern is None:
                continue
            first = str(pattern)[:1].lower()
            if first and first not in "*?[":
                self._by_host_letter.setdefault(first, []).append(index)
            else:
                self._host_wild.append(index)
        # MAC-only lookups (every new MAC asks one) go through the matchers that name no
        # host name, by their literal six-digit OUI prefix: a MAC flood must not cost a
        # scan of the whole table per address.
        self._mac_only: dict[str, list[int]] = {}
        self._mac_only_other: list[int] = []
        for index, matcher in enumerate(self.dhcp):
            pattern = matcher.get("macaddress")
            if matcher.get("hostname") is not None or pattern is None:
                continue
            prefix = str(pattern)[:6]
            if len(prefix) == 6 and not any(c in prefix for c in "*?[]"):
                self._mac_only.setdefault(prefix, []).append(index)
            else:
                self._mac_only_other.append(index)
        self.zeroconf: dict[str, list[dict[str, Any]]] = {}
        for service, matchers in zeroconf.items():
            key = service.lower().removesuffix(".").removesuffix(".local")
            # Old Home Assistant versions listed a bare domain string.
            self.zeroconf[key] = [
                {"domain": m} if isinstance(m, str) else dict(m) for m in matchers
            ]
        self.homekit = {model: dict(v) for model, v in homekit.items()}
        self._homekit_longest = sorted(self.homekit, key=len, reverse=True)
        self.ssdp = {domain: [dict(m) for m in ms] for domain, ms in ssdp.items()}
        self.provenance = dict(provenance)

    @classmethod
    def from_tables(
        cls,
        dhcp: Sequence[Mapping[str, Any]],
        zeroconf: Mapping[str, Sequence[Any]],
        homekit: Mapping[str, Mapping[str, Any]],
        ssdp: Mapping[str, Sequence[Mapping[str, Any]]],
        version: str = "runtime",
    ) -> HaTables:
        """Tables handed over at runtime by the running Home Assistant (same shapes)."""
        provenance = {
            "source": "the running Home Assistant's homeassistant.generated tables",
            "home_assistant_version": version,
            "licence": "Apache-2.0 (Home Assistant core)",
        }
        return cls(dhcp=dhcp, zeroconf=zeroconf, homekit=homekit, ssdp=ssdp, provenance=provenance)

    # ------------------------------------------------------------------ DHCP

    def match_dhcp(self, hostname: str | None, mac: str | None) -> list[str]:
        """Domains whose DHCP matcher fits the host name and/or MAC ("aa:bb:cc:..").

        A matcher that only lists ``registered_devices`` matches nothing here: Home
        Assistant uses it for devices it already has, which an offline table cannot know.
        """
        host = (hostname or "").lower()
        upper_mac = (mac or "").replace(":", "").replace("-", "").upper()
        found: list[str] = []
        indexes = self._mac_only.get(upper_mac[:6], []) + self._mac_only_other
        if host:  # a matcher naming a host name cannot match without one
            indexes += self._by_host_letter.get(host[0], []) + self._host_wild
        for index in sorted(indexes):  # table order, as Home Assistant walks it
            compiled = self._dhcp_rx.get(index)
            if compiled is None:
                m = self.dhcp[index]
                compiled = (_glob(m.get("hostname")), _glob(m.get("macaddress")), str(m["domain"]))
                self._dhcp_rx[index] = compiled
            host_rx, mac_rx, domain = compiled
            if host_rx is None and mac_rx is None:
                continue
            if host_rx is not None and not (host and host_rx(host)):
                continue
            if mac_rx is not None and not (upper_mac and mac_rx(upper_mac)):
                continue
            if domain not in found:
                found.append(domain)
        return found

    # -------------------------------------------------------------- zeroconf

    def match_zeroconf(
        self,
        service_type: str,
        name: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Domains for a DNS-SD service type ("_hue._tcp") and its instance name / TXT."""
        key = service_type.lower().removesuffix(".").removesuffix(".local")
        props = {k.lower(): v.lower() for k, v in (properties or {}).items()}
        found: list[str] = []
        for matcher in self.zeroconf.get(key, []):
            name_pat = matcher.get("name")
            if name_pat is not None and not (name and glob_match(name.lower(), name_pat)):
                continue
            wanted: Mapping[str, str] = matcher.get("properties", {})
            if any(
                k.lower() not in props or not glob_match(props[k.lower()], _lower(v))
                for k, v in wanted.items()
            ):
                continue
            domain = str(matcher["domain"])
            if domain not in found:
                found.append(domain)
        if key in ("_hap._tcp", "_hap._udp") and props.get("md"):
            model = (properties or {}).get("md") or (properties or {}).get("MD") or ""
            homekit = self.match_homekit(model)
            if homekit is not None and homekit not in found:
                found.insert(0, homekit)
        return found

    def match_homekit(self, model: str) -> str | None:
        """The domain Home Assistant gives a HomeKit accessory model (TXT ``md``), by prefix."""
        for prefix in self._homekit_longest:
            if model.startswith(prefix):
                return str(self.homekit[prefix]["domain"])
        return None

    # ------------------------------------------------------------------ SSDP

    def match_ssdp(self, fields: Mapping[str, str]) -> list[str]:
        """Domains whose SSDP matcher fits: every key of the matcher present and matching.

        ``fields`` uses Home Assistant's keys: ``st``/``nt`` headers, ``deviceType``,
        ``manufacturer``, ``modelName``... from the description XML.
        """
        have = {k.lower(): v for k, v in fields.items()}
        found: list[str] = []
        for domain, matchers in self.ssdp.items():
            for matcher in matchers:
                if matcher and all(
                    k.lower() in have and glob_match(have[k.lower()], str(v))
                    for k, v in matcher.items()
                ):
                    found.append(domain)
                    break
        return found

    def domains(self) -> set[str]:
        """Every integration domain some matcher names."""
        out = {str(m["domain"]) for m in self.dhcp}
        out |= {str(m["domain"]) for ms in self.zeroconf.values() for m in ms}
        out |= {str(v["domain"]) for v in self.homekit.values()}
        out |= set(self.ssdp)
        return out


@cache
def bundled() -> HaTables:
    """The snapshot shipped in this package."""
    raw = (HERE / SNAPSHOT).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return HaTables(
        dhcp=data["dhcp"],
        zeroconf=data["zeroconf"],
        homekit=data["homekit"],
        ssdp=data["ssdp"],
        provenance=data["_provenance"],
    )


def types_of(domains: Iterable[str]) -> list[str]:
    """The TOTEM types of candidate domains, first-seen order, services dropped."""
    table = domain_types()
    out: list[str] = []
    for domain in domains:
        entry = table.get(domain)
        if entry is not None and entry.type is not None and entry.type not in out:
            out.append(entry.type)
    return out


# Home Assistant 2025's tables are about 200 kB as JSON; anything near this is not them.
MAX_TABLES_BYTES = 8 * 1024 * 1024


def load_file(path: str) -> HaTables:
    """Tables a running Home Assistant wrote (ha_tables.py); DataFileError, one line, if bad."""
    from . import DataFileError

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TABLES_BYTES + 1)
    except OSError as err:
        raise DataFileError(f"{path}: {err.strerror or err}") from None
    if len(raw) > MAX_TABLES_BYTES:
        raise DataFileError(f"{path}: larger than {MAX_TABLES_BYTES} bytes")
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise DataFileError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: not an object")
    shapes = {"dhcp": list, "zeroconf": dict, "homekit": dict, "ssdp": dict}
    for key, shape in shapes.items():
        if not isinstance(data.get(key), shape):
            raise DataFileError(f"{path}: {key!r} missing or not a {shape.__name__}")
    try:
        dhcp = [m for m in data["dhcp"] if isinstance(m, dict) and "domain" in m]
        zeroconf = {str(k): [m for m in v if isinstance(m, str | dict)]
                    for k, v in data["zeroconf"].items() if isinstance(v, list)}  # fmt: skip
        homekit = {str(k): v for k, v in data["homekit"].items()
                   if isinstance(v, dict) and "domain" in v}  # fmt: skip
        ssdp = {str(k): [m for m in v if isinstance(m, dict)]
                for k, v in data["ssdp"].items() if isinstance(v, list)}  # fmt: skip
        for matchers in zeroconf.values():
            for m in matchers:
                if isinstance(m, dict) and "domain" not in m:
                    raise DataFileError(f"{path}: a zeroconf matcher without a domain")
    except (TypeError, AttributeError) as err:
        raise DataFileError(f"{path}: malformed tables ({err})") from None
    prov = data.get("_provenance")
    version = str(prov.get("home_assistant_version", "runtime")) if isinstance(prov, dict) else ""
    return HaTables.from_tables(dhcp, zeroconf, homekit, ssdp, version=version or "runtime")
