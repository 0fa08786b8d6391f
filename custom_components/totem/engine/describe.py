"""What a device's identity says beyond its type: its best name, its model, and the
Home Assistant integration that supports it."""

from __future__ import annotations

from . import names
from .evidence import Evidence
from .fusion import SMART_HOME
from .votes import Ballot


def model_of(ev: Evidence | None, keys: tuple[str, ...]) -> str | None:
    """The device's model from its TXT records, best key first, sanitised."""
    if ev is None:
        return None
    for key in keys:
        model = names.clean_name(ev.txt.get(key))
        if model is not None:
            return model
    return None


def integration_of(ballot: Ballot, type_: str) -> str | None:
    """The Home Assistant integration that supports the device: the strongest matched
    domain of the decided type (an IoT kind for ``iot``), else the strongest matched."""
    if not ballot.integrations:
        return None

    def fits(domain_type: str) -> bool:
        iot_kinds = SMART_HOME | {"iot"}
        return domain_type == type_ or (type_ in iot_kinds and domain_type in iot_kinds)

    ranked = sorted(ballot.integrations, key=lambda i: (not fits(i[1]), -i[2]))
    return ranked[0][0]


def best_name(ev: Evidence | None, found: dict[str, str], order: tuple[str, ...]) -> str | None:
    """The first name in NAME_ORDER that names the device: an SSDP name only when it is
    a friendly name (not built from a URN or a SERVER banner), never a protocol string."""
    for source in order:
        value = found.get(source)
        if value is None or names.is_protocol_string(value):
            continue
        if source == "ssdp" and (ev is None or ev.ssdp_name_rank != 0):
            continue
        return value
    return None
