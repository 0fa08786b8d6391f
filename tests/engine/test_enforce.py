"""Blocking backends, faked only at the nft boundary, and the same checks on the real nft.

``FakeNft`` stands in for the ``nft`` process and the kernel behind it: it
applies JSON transactions atomically with nft's rules (adding an existing
element changes nothing, deleting a missing one fails), lets elements expire
on a fake clock and lists tables the way nft 1.0.6 prints them. Behaviour
tests run against it and, as root, against the real nft inside a throwaway
network namespace, so the fake cannot drift from the kernel unnoticed.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from custom_components.totem.engine import enforce
from custom_components.totem.engine.enforce import (
    BACKEND_BRIDGE,
    BACKEND_INET,
    BACKEND_NONE,
    Backend,
    EnforceError,
    NftResult,
    NftRunner,
    make_backend,
    parse_duration,
    parse_mac,
)
from custom_components.totem.engine.hostinfo import (
    Gateway,
    HostInfo,
    canonical_mac,
    find_tool,
    gateways_from,
    parse_default_routes,
    parse_neighbours,
    read_bridges,
    read_host_info,
    read_interfaces,
)
from custom_components.totem.engine.safety import GatewayMemory, Protection
from tests.conftest import ROOT, require_root, require_tool

DEVICE = "cc:50:e3:68:66:4a"
OTHER = "b8:27:eb:00:00:02"
GATEWAY_MAC = "02:00:00:00:00:01"
GATEWAY_IP = "10.231.0.1"
HOST_MAC = "dc:a6:32:00:00:09"
CAPTURE_MAC = "dc:a6:32:00:00:0a"


def host(
    bridges: tuple[str, ...] = ("br0",),
    forwarding: bool = True,
    neighbours: dict[str, str] | None = None,
) -> HostInfo:
    return HostInfo(
        interfaces={"lo": "00:00:00:00:00:00", "br0": HOST_MAC, "wlan0": CAPTURE_MAC},
        bridges=bridges,
        gateways=(Gateway(GATEWAY_IP, "br0", GATEWAY_MAC),),
        ip_forward=forwarding,
        neighbours=neighbours or {GATEWAY_IP: GATEWAY_MAC},
    )


# --- the fake nft --------------------------------------------------------------------------


class _Refused(Exception):
    """What the kernel answers with an errno; the whole transaction is dropped."""


@dataclass
class _Element:
    timeout: int | None
    added: float
    comment: str | None


@dataclass
class _Set:
    type: str
    flags: list[str]
    elements: dict[str, _Element] = field(default_factory=dict)


@dataclass
class _Chain:
    spec: dict[str, Any]
    rules: list[list[Any]] = field(default_factory=list)


@dataclass
class _Table:
    sets: dict[str, _Set] = field(default_factory=dict)
    chains: dict[str, _Chain] = field(default_factory=dict)


class FakeNft:
    """The ``nft`` process and the kernel's ruleset, as far as TOTEM uses them."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.tables: dict[tuple[str, str], _Table] = {}
        self.calls: list[list[str]] = []
        self.transactions: list[list[dict[str, Any]]] = []
        self.answer: NftResult | None = None  # forced reply, e.g. a permission error
        self.missing = False  # behave as if nft were not installed

    # The boundary: what NftRunner.run does with a real process.
    def run(self, args: Sequence[str], stdin: str | None = None) -> NftResult:
        self.calls.append(list(args))
        if self.missing:
            raise FileNotFoundError("nft")
        if self.answer is not None:
            return self.answer
        self._expire()
        if list(args[:3]) == ["-j", "-f", "-"]:
            assert stdin is not None
            commands = json.loads(stdin)["nftables"]
            self.transactions.append(commands)
            return self._transaction(commands)
        if list(args) == ["-j", "list", "tables"]:
            items = [{"table": {"family": f, "name": n}} for f, n in self.tables]
            return NftResult(0, json.dumps({"nftables": [_METAINFO, *items]}), "")
        if list(args[:3]) == ["-j", "list", "table"]:
            return self._list_table(args[3], args[4])
        raise AssertionError(f"TOTEM ran an nft command the fake does not know: {args}")

    def expire_after(self, seconds: float) -> None:
        self.now += seconds

    def elements(self, family: str, set_name: str) -> dict[str, _Element]:
        return self.tables[(family, "totem")].sets[set_name].elements

    def _expire(self) -> None:
        for table in self.tables.values():
            for s in table.sets.values():
                for value in [v for v, e in s.elements.items() if self._left(e) == 0]:
                    del s.elements[value]

    def _left(self, element: _Element) -> float | None:
        if element.timeout is None:
            return None
        return max(0.0, element.added + element.timeout - self.now)

    def _transaction(self, commands: list[dict[str, Any]]) -> NftResult:
        staged = copy.deepcopy(self.tables)
        try:
            for command in commands:
                ((verb, body),) = command.items()
                ((kind, obj),) = body.items()
                self._apply(staged, verb, kind, obj)
        except _Refused as err:
            return NftResult(1, "", f"Error: Could not process rule: {err}\n")
        self.tables = staged
        return NftResult(0, "", "")

    def _apply(
        self, tables: dict[tuple[str, str], _Table], verb: str, kind: str, obj: dict[str, Any]
    ) -> None:
        if kind == "table":
            key = (obj["family"], obj["name"])
            if verb == "add":
                tables.setdefault(key, _Table())
            elif verb == "delete":
                if key not in tables:
                    raise _Refused("No such file or directory")
                del tables[key]
            return
        table = tables.get((obj["family"], obj["table"]))
        if table is None:
            raise _Refused("No such file or directory")
        if kind == "set" and verb == "add":
            existing = table.sets.get(obj["name"])
            if existing is None:
                table.sets[obj["name"]] = _Set(obj["type"], list(obj.get("flags", [])))
            elif existing.type != obj["type"]:
                raise _Refused("File exists")
        elif kind == "chain":
            if verb == "add":
                table.chains.setdefault(obj["name"], _Chain(obj))
            elif verb == "flush":
                self._chain(table, obj["name"]).rules.clear()
        elif kind == "rule" and verb == "add":
            self._chain(table, obj["chain"]).rules.append(obj["expr"])
        elif kind == "element":
            target = table.sets.get(obj["name"])
            if target is None:
                raise _Refused("No such file or directory")
            for raw in obj["elem"]:
                self._element(target, verb, raw)
        else:
            raise AssertionError(f"unexpected nft command {verb} {kind}")

    def _element(self, target: _Set, verb: str, raw: Any) -> None:
        body = raw["elem"] if isinstance(raw, dict) else {"val": raw}
        value = body["val"]
        if verb == "add":
            if "timeout" in body and "timeout" not in target.flags:
                raise _Refused("Operation not supported")
            # Like older kernels: re-adding an element keeps its old timeout.
            if value not in target.elements:
                target.elements[value] = _Element(
                    body.get("timeout"), self.now, body.get("comment")
                )
        elif verb == "delete":
            if value not in target.elements:
                raise _Refused("No such file or directory")
            del target.elements[value]
        else:
            raise AssertionError(f"unexpected element verb {verb}")

    @staticmethod
    def _chain(table: _Table, name: str) -> _Chain:
        if name not in table.chains:
            raise _Refused("No such file or directory")
        return table.chains[name]

    def _list_table(self, family: str, name: str) -> NftResult:
        table = self.tables.get((family, name))
        if table is None:
            stderr = (
                f"Error: No such file or directory\nlist table {family} {name}\n"
                f"{' ' * (11 + len(family))}{'^' * len(name)}\n"
            )
            return NftResult(1, "", stderr)
        items: list[dict[str, Any]] = [_METAINFO, {"table": {"family": family, "name": name}}]
        for set_name, s in table.sets.items():
            listed: dict[str, Any] = {
                "family": family,
                "name": set_name,
                "table": name,
                "type": s.type,
                "flags": s.flags,
            }
            if s.elements:
                listed["elem"] = [self._listed(v, e) for v, e in s.elements.items()]
            items.append({"set": listed})
        for chain_name, chain in table.chains.items():
            items.append({"chain": {**chain.spec, "name": chain_name}})
            for expr in chain.rules:
                items.append(
                    {"rule": {"family": family, "table": name, "chain": chain_name, "expr": expr}}
                )
        return NftResult(0, json.dumps({"nftables": items}), "")

    def _listed(self, value: str, element: _Element) -> Any:
        if element.timeout is None and element.comment is None:
            return value
        body: dict[str, Any] = {"val": value}
        if element.timeout is not None:
            body["timeout"] = element.timeout
            body["expires"] = math.floor(self._left(element) or 0)
        if element.comment is not None:
            body["comment"] = element.comment
        return {"elem": body}


_METAINFO = {"metainfo": {"version": "1.0.6", "json_schema_version": 1}}


# --- one kernel per test: the fake, or the real one in a throwaway namespace -----------------


@dataclass
class Kernel:
    """A ruleset TOTEM can change, and a side door to change it by hand."""

    runner: enforce.NftBoundary
    by_hand: Callable[[str], None]  # an nft command line, as an administrator would type it


@pytest.fixture
def netns() -> Iterator[str]:
    require_root("nft in a throwaway network namespace")
    require_tool("nft")
    name = f"totem-t-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _fake_kernel() -> Kernel:
    fake = FakeNft()

    def by_hand(line: str) -> None:
        words = line.split()
        if words[:2] == ["flush", "chain"]:
            family, table, chain = words[2:5]
            fake.tables[(family, table)].chains[chain].rules.clear()
        elif words[:2] == ["delete", "element"]:
            family, set_name, value = words[2], words[4], words[6]
            del fake.elements(family, set_name)[value]
        else:
            raise AssertionError(f"the fake cannot do {line!r} by hand")

    return Kernel(fake, by_hand)


@pytest.fixture(params=["fake", "real"])
def kernel(request: pytest.FixtureRequest) -> Kernel:
    if request.param == "fake":
        return _fake_kernel()
    ns = request.getfixturevalue("netns")
    prefix = ("ip", "netns", "exec", ns)

    def by_hand(line: str) -> None:
        subprocess.run([*prefix, "nft", *line.split()], check=True)

    return Kernel(NftRunner(prefix=prefix), by_hand)


def backend(kernel: Kernel, name: str = BACKEND_BRIDGE, info: HostInfo | None = None) -> Backend:
    return make_backend(name, runner=kernel.runner, host=lambda: info or host())


def rules(kernel: Kernel, family: str) -> list[tuple[str, str]]:
    """(chain, rule text) of TOTEM's block rules, from the kernel (the quarantine's
    rules are checked on their own, in test_quarantine*)."""
    result = kernel.runner.run(["-j", "list", "table", family, "totem"])
    items = json.loads(result.stdout)["nftables"]
    found = []
    for item in items:
        if "rule" in item:
            rule = item["rule"]
            match = rule["expr"][0]["match"]
            if match["right"] == "@quarantined_macs":
                continue
            payload = match["left"]["payload"]
            verdict = next(iter(rule["expr"][1]))
            text = f"{payload['protocol']} {payload['field']} {match['right']} {verdict}"
            found.append((rule["chain"], text))
    return sorted(found)


# --- input checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "cc:50:e3:68:66:4a",
        "CC-50-E3-68-66-4A",
        "cc50e368664a",
        "cc50.e368.664a",
        " CC:50:E3:68:66:4A ",
    ],
)
def test_common_mac_spellings_are_canonicalised(text: str) -> None:
    assert canonical_mac(text) == DEVICE
    assert parse_mac(text) == DEVICE


def test_single_digit_groups_are_padded() -> None:
    assert canonical_mac("2:0:0:0:0:1") == "02:00:00:00:00:01"


@pytest.mark.parametrize("text", ["", "zz:50:e3:68:66:4a", "cc:50:e3:68:66", "cc:50-e3:68:66:4a"])
def test_malformed_mac_is_refused_with_reason(text: str) -> None:
    with pytest.raises(EnforceError) as err:
        parse_mac(text)
    assert err.value.reason == "invalid_mac"
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:fb", "33:33:00:00:00:01"])
def test_group_macs_are_not_devices(text: str) -> None:
    with pytest.raises(EnforceError, match="multicast/broadcast") as err:
        parse_mac(text)
    assert err.value.reason == "invalid_mac"


def test_null_mac_is_not_a_device() -> None:
    with pytest.raises(EnforceError, match="null MAC") as err:
        parse_mac("00:00:00:00:00:00")
    assert err.value.reason == "invalid_mac"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, None), (90, 90), ("90", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), (2.1, 3)],
)
def test_durations(value: float | str | None, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [0, -5, "0s", "soon", "1w", float("inf"), float("nan"), "400d"])
def test_bad_durations_are_refused(value: float | str) -> None:
    with pytest.raises(EnforceError) as err:
        parse_duration(value)
    assert err.value.reason == "invalid_duration"


# --- host information ----------------------------------------------------------------------


def test_default_routes_and_multipath_next_hops() -> None:
    text = json.dumps(
        [
            {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0", "flags": []},
            {
                "dst": "default",
                "flags": [],
                "nexthops": [
                    {"gateway": "192.0.2.2", "dev": "eth1"},
                    {"gateway": "192.0.2.3", "dev": "eth2"},
                ],
            },
            {"dst": "default", "dev": "ppp0", "flags": []},  # point-to-point: no gateway
        ]
    )
    assert parse_default_routes(text) == [
        ("192.0.2.1", "eth0"),
        ("192.0.2.2", "eth1"),
        ("192.0.2.3", "eth2"),
    ]


def test_unresolved_neighbours_have_no_mac() -> None:
    text = json.dumps(
        [
            {"dst": "192.0.2.1", "dev": "eth0", "lladdr": "02:FC:00:00:00:05", "state": ["STALE"]},
            {"dst": "fd00::1", "dev": "eth0", "state": ["FAILED"]},
        ]
    )
    neighbours = parse_neighbours(text)
    assert neighbours == {("192.0.2.1", "eth0"): "02:fc:00:00:00:05"}
    gateways = gateways_from([("192.0.2.1", "eth0"), ("fd00::1", "eth0")], neighbours)
    assert gateways == (
        Gateway("192.0.2.1", "eth0", "02:fc:00:00:00:05"),
        Gateway("fd00::1", "eth0", None),
    )


@pytest.mark.parametrize("text", ["", "not json", "{}", "[1, 2]"])
def test_garbage_from_ip_yields_nothing(text: str) -> None:
    assert parse_default_routes(text) == []
    assert parse_neighbours(text) == {}


def test_interfaces_and_bridges_from_sysfs(tmp_path: Path) -> None:
    for name, mac in [("lo", "00:00:00:00:00:00"), ("br0", "DC:A6:32:00:00:09"), ("eth0", "x")]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "address").write_text(mac + "\n")
    (tmp_path / "br0" / "bridge").mkdir()
    (tmp_path / "ipip0").mkdir()  # no address file at all
    interfaces = read_interfaces(tmp_path)
    assert interfaces == {"lo": "00:00:00:00:00:00", "br0": HOST_MAC}
    assert read_bridges(tmp_path) == ("br0",)
    assert HostInfo(interfaces=interfaces).own_macs() == {HOST_MAC: "br0"}


def test_missing_ip_command_is_reported_not_fatal(tmp_path: Path) -> None:
    info = read_host_info(
        sys_class_net=tmp_path, ip_forward_path=tmp_path / "absent", ip_command=["/nonexistent/ip"]
    )
    assert info.gateways == ()
    assert not info.ip_forward
    assert len(info.problems) == 1
    assert "ip -j" in info.problems[0]


# --- the automatic choice ------------------------------------------------------------------


def test_auto_choice_is_bridge_on_a_bridge_else_inet() -> None:
    fake = FakeNft()
    assert make_backend(None, runner=fake, host=lambda: host(bridges=("br0",))).name == (
        BACKEND_BRIDGE
    )
    assert make_backend(None, runner=fake, host=lambda: host(bridges=())).name == BACKEND_INET


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(EnforceError, match="nftables-bridge, nftables-inet, none") as err:
        make_backend("iptables", runner=FakeNft(), host=host)
    assert err.value.reason == "invalid_backend"


# --- behaviour on the fake and on the real kernel ------------------------------------------


def test_block_is_listed_back_from_the_kernel(kernel: Kernel) -> None:
    done = backend(kernel).block(DEVICE)
    assert done is not None
    assert (done.mac, done.permanent, done.expires_in) == (DEVICE, True, None)
    # A fresh backend has no memory of the first one: the listing comes from the kernel.
    listed = backend(kernel).list_blocks()
    assert [(b.mac, b.backend, b.timeout) for b in listed] == [(DEVICE, BACKEND_BRIDGE, None)]


def test_bridge_rules_drop_frames_from_and_to_the_mac(kernel: Kernel) -> None:
    backend(kernel).block(DEVICE)
    assert rules(kernel, "bridge") == [
        ("forward", "ether daddr @blocked_macs drop"),
        ("forward", "ether saddr @blocked_macs drop"),
        ("input", "ether saddr @blocked_macs drop"),
        ("output", "ether daddr @blocked_macs drop"),
    ]


def test_blocking_twice_is_one_block_and_one_set_of_rules(kernel: Kernel) -> None:
    first = backend(kernel)
    first.block(DEVICE)
    before = rules(kernel, "bridge")
    first.block("CC-50-E3-68-66-4A")
    assert [b.mac for b in first.list_blocks()] == [DEVICE]
    assert rules(kernel, "bridge") == before


def test_temporary_block_reports_its_expiry(kernel: Kernel) -> None:
    done = backend(kernel).block(DEVICE, duration=600)
    assert done is not None
    assert done.timeout == 600
    assert done.expires_in is not None
    assert 0 < done.expires_in <= 600


def test_reblocking_replaces_the_duration(kernel: Kernel) -> None:
    b = backend(kernel)
    b.block(DEVICE, duration=600)
    b.block(DEVICE)
    assert [x.timeout for x in b.list_blocks()] == [None]
    b.block(DEVICE, duration="2h")
    assert [x.timeout for x in b.list_blocks()] == [7200]


def test_unblock_lifts_only_that_device(kernel: Kernel) -> None:
    b = backend(kernel)
    b.block(DEVICE)
    b.block(OTHER, duration=60)
    assert b.unblock(DEVICE) is True
    assert [x.mac for x in b.list_blocks()] == [OTHER]
    assert b.unblock(DEVICE) is False


def test_unblock_on_a_pristine_kernel_changes_nothing(kernel: Kernel) -> None:
    b = backend(kernel)
    assert b.unblock(DEVICE) is False
    assert b.list_blocks() == []
    tables = json.loads(kernel.runner.run(["-j", "list", "tables"]).stdout)["nftables"]
    assert [t for t in tables if "table" in t] == []


def test_remove_all_drops_the_table_and_is_idempotent(kernel: Kernel) -> None:
    b = backend(kernel)
    b.block(DEVICE)
    b.remove_all()
    assert b.list_blocks() == []
    b.remove_all()
    tables = json.loads(kernel.runner.run(["-j", "list", "tables"]).stdout)["nftables"]
    assert [t for t in tables if "table" in t] == []


def test_rules_removed_by_hand_come_back_on_the_next_block(kernel: Kernel) -> None:
    b = backend(kernel)
    b.block(DEVICE)
    expected = rules(kernel, "bridge")
    kernel.by_hand("flush chain bridge totem forward")
    assert ("forward", "ether saddr @blocked_macs drop") not in rules(kernel, "bridge")
    b.block(OTHER)
    assert rules(kernel, "bridge") == expected


def test_a_block_removed_by_hand_is_gone_from_the_listing(kernel: Kernel) -> None:
    b = backend(kernel)
    b.block(DEVICE)
    b.block(OTHER)
    kernel.by_hand(f"delete element bridge totem blocked_macs {{ {DEVICE} }}")
    assert [x.mac for x in b.list_blocks()] == [OTHER]


def test_inet_blocks_the_mac_and_its_ips(kernel: Kernel) -> None:
    b = backend(kernel, BACKEND_INET)
    done = b.block(DEVICE, duration=300, ips=["10.231.0.20", "FD00::20"])
    assert done is not None
    assert done.ips == ("10.231.0.20", "fd00::20")
    assert [(x.mac, x.ips, x.timeout) for x in b.list_blocks()] == [
        (DEVICE, ("10.231.0.20", "fd00::20"), 300)
    ]
    assert rules(kernel, "inet") == sorted(
        [
            ("forward", "ether saddr @blocked_macs drop"),
            ("forward", "ip saddr @blocked_ipv4 drop"),
            ("forward", "ip daddr @blocked_ipv4 drop"),
            ("forward", "ip6 saddr @blocked_ipv6 drop"),
            ("forward", "ip6 daddr @blocked_ipv6 drop"),
            ("input", "ether saddr @blocked_macs drop"),
            ("input", "ip saddr @blocked_ipv4 drop"),
            ("input", "ip6 saddr @blocked_ipv6 drop"),
            ("output", "ip daddr @blocked_ipv4 drop"),
            ("output", "ip6 daddr @blocked_ipv6 drop"),
        ]
    )


def test_inet_reblock_forgets_ips_the_device_no_longer_has(kernel: Kernel) -> None:
    b = backend(kernel, BACKEND_INET)
    b.block(DEVICE, ips=["10.231.0.20"])
    b.block(OTHER, ips=["10.231.0.30"])
    b.block(DEVICE, ips=["10.231.0.21"])
    assert [(x.mac, x.ips) for x in b.list_blocks()] == [
        (OTHER, ("10.231.0.30",)),
        (DEVICE, ("10.231.0.21",)),
    ]


def test_inet_unblock_frees_the_ips_too(kernel: Kernel) -> None:
    b = backend(kernel, BACKEND_INET)
    b.block(DEVICE, ips=["10.231.0.20", "fd00::20"])
    assert b.unblock(DEVICE) is True
    result = kernel.runner.run(["-j", "list", "table", "inet", "totem"])
    listed = json.loads(result.stdout)["nftables"]
    ip_sets = [i["set"] for i in listed if "set" in i and i["set"]["name"].startswith("blocked_ip")]
    assert [s.get("elem", []) for s in ip_sets] == [[], []]


def test_inet_adds_the_ips_the_neighbour_table_knows(kernel: Kernel) -> None:
    info = host(neighbours={GATEWAY_IP: GATEWAY_MAC, "10.231.0.20": DEVICE, "10.231.0.9": OTHER})
    done = backend(kernel, BACKEND_INET, info).block(DEVICE, ips=["fd00::20"])
    assert done is not None
    assert done.ips == ("10.231.0.20", "fd00::20")


def test_bridge_and_inet_tables_are_separate(kernel: Kernel) -> None:
    backend(kernel, BACKEND_BRIDGE).block(DEVICE)
    backend(kernel, BACKEND_INET).block(OTHER)
    assert [b.mac for b in backend(kernel, BACKEND_BRIDGE).list_blocks()] == [DEVICE]
    assert [b.mac for b in backend(kernel, BACKEND_INET).list_blocks()] == [OTHER]
    backend(kernel, BACKEND_INET).remove_all()
    assert [b.mac for b in backend(kernel, BACKEND_BRIDGE).list_blocks()] == [DEVICE]


# --- fake only: transactions, expiry and errors ---------------------------------------------


def test_a_block_is_one_atomic_transaction_that_builds_its_table_first() -> None:
    fake = FakeNft()
    make_backend(BACKEND_BRIDGE, runner=fake, host=host).block(DEVICE, duration=60)
    assert len(fake.transactions) == 1
    commands = fake.transactions[0]
    assert commands[0] == {"add": {"table": {"family": "bridge", "name": "totem"}}}
    assert commands[-1] == {
        "add": {
            "element": {
                "family": "bridge",
                "table": "totem",
                "name": "blocked_macs",
                "elem": [{"elem": {"val": DEVICE, "timeout": 60}}],
            }
        }
    }
    sets = [c["add"]["set"] for c in commands if "set" in c.get("add", {})]
    assert [(s["name"], s["flags"]) for s in sets] == [
        ("blocked_macs", ["timeout"]),
        ("quarantined_macs", ["timeout"]),
    ]
    # Nothing outside TOTEM's own table is touched.
    touched = {(o.get("family"), o.get("table", o.get("name"))) for c in commands for o in _objs(c)}
    assert touched == {("bridge", "totem")}


def _objs(command: dict[str, Any]) -> list[dict[str, Any]]:
    return [obj for body in command.values() for obj in body.values()]


def test_a_failed_transaction_leaves_the_kernel_as_it_was() -> None:
    fake = FakeNft()
    b = make_backend(BACKEND_BRIDGE, runner=fake, host=host)
    b.block(DEVICE)
    # Someone made a set of the same name with another type: nft refuses the whole batch.
    fake.tables[("bridge", "totem")].sets["blocked_macs"].type = "ipv4_addr"
    with pytest.raises(EnforceError, match="File exists") as err:
        b.block(OTHER)
    assert err.value.reason == "nft_error"
    assert list(fake.elements("bridge", "blocked_macs")) == [DEVICE]


def test_a_temporary_block_expires_in_the_kernel() -> None:
    fake = FakeNft()
    b = make_backend(BACKEND_INET, runner=fake, host=host)
    b.block(DEVICE, duration=120, ips=["10.231.0.20"])
    fake.expire_after(60)
    assert [(x.mac, x.expires_in) for x in b.list_blocks()] == [(DEVICE, 60)]
    fake.expire_after(61)
    assert b.list_blocks() == []
    assert fake.elements("inet", "blocked_ipv4") == {}


def test_unblock_removes_ips_even_if_the_mac_expired_first() -> None:
    fake = FakeNft()
    b = make_backend(BACKEND_INET, runner=fake, host=host)
    b.block(DEVICE, ips=["10.231.0.20"])
    del fake.elements("inet", "blocked_macs")[DEVICE]
    assert b.unblock(DEVICE) is False
    assert fake.elements("inet", "blocked_ipv4") == {}


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (
            "netlink: Error: cache initialization failed: Operation not permitted\n",
            "permission_denied",
        ),
        ("Operation not permitted (you must be root)\n", "permission_denied"),
        ("internal:0:0-0: Error: Invalid LL address\n", "nft_error"),
        ("", "nft_error"),
    ],
)
def test_nft_failures_become_one_line_errors_with_reasons(stderr: str, reason: str) -> None:
    fake = FakeNft()
    fake.answer = NftResult(1, "", stderr)
    with pytest.raises(EnforceError) as err:
        make_backend(BACKEND_BRIDGE, runner=fake, host=host).block(DEVICE)
    assert err.value.reason == reason
    assert "\n" not in err.value.message
    if reason == "nft_error" and stderr:
        assert "Invalid LL address" in err.value.message


def test_missing_nft_is_reported() -> None:
    fake = FakeNft()
    fake.missing = True
    b = make_backend(BACKEND_BRIDGE, runner=fake, host=host)
    with pytest.raises(EnforceError, match="apt-get install nftables") as err:
        b.list_blocks()
    assert err.value.reason == "nft_missing"
    assert b.available() == err.value.message


def test_output_that_is_not_json_is_an_nft_error() -> None:
    fake = FakeNft()
    fake.answer = NftResult(0, "table bridge totem {", "")
    with pytest.raises(EnforceError, match="not JSON") as err:
        make_backend(BACKEND_BRIDGE, runner=fake, host=host).list_blocks()
    assert err.value.reason == "nft_error"


def test_availability_says_why_a_backend_cannot_work_here() -> None:
    fake = FakeNft()
    assert make_backend(BACKEND_BRIDGE, runner=fake, host=host).available() is None
    no_bridge = make_backend(BACKEND_BRIDGE, runner=fake, host=lambda: host(bridges=()))
    assert "no Linux bridge" in (no_bridge.available() or "")
    assert make_backend(BACKEND_INET, runner=fake, host=host).available() is None
    no_routing = make_backend(BACKEND_INET, runner=fake, host=lambda: host(forwarding=False))
    assert "ip_forward" in (no_routing.available() or "")
    fake.answer = NftResult(1, "", "Operation not permitted (you must be root)\n")
    assert "CAP_NET_ADMIN" in (
        make_backend(BACKEND_BRIDGE, runner=fake, host=host).available() or ""
    )


# --- safety --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mac", "ips", "reason"),
    [
        (GATEWAY_MAC, (), "gateway"),
        ("02-00-00-00-00-01", (), "gateway"),
        (DEVICE, (GATEWAY_IP,), "gateway"),
        (HOST_MAC, (), "own_host"),
        (CAPTURE_MAC, (), "capture_interface"),
    ],
)
@pytest.mark.parametrize("name", [BACKEND_BRIDGE, BACKEND_INET, BACKEND_NONE])
def test_safety_refusals_touch_nothing(
    name: str, mac: str, ips: tuple[str, ...], reason: str
) -> None:
    fake = FakeNft()
    b = make_backend(name, runner=fake, host=host, capture_mac=CAPTURE_MAC)
    with pytest.raises(EnforceError) as err:
        b.block(mac, ips=ips)
    assert err.value.reason == reason
    assert "refusing to block" in err.value.message
    assert fake.transactions == []


def test_the_gateway_is_named_in_the_refusal() -> None:
    with pytest.raises(EnforceError, match=r"default gateway \(10\.231\.0\.1 on br0\)"):
        make_backend(BACKEND_BRIDGE, runner=FakeNft(), host=host).block(GATEWAY_MAC)


def test_the_host_is_read_at_every_block() -> None:
    current = [host()]
    b = make_backend(BACKEND_BRIDGE, runner=FakeNft(), host=lambda: current[0])
    assert b.block(OTHER) is not None
    # The router was replaced after the backend was made.
    current[0] = HostInfo(gateways=(Gateway(GATEWAY_IP, "br0", OTHER),))
    with pytest.raises(EnforceError) as err:
        b.block(OTHER)
    assert err.value.reason == "gateway"


def test_a_gateway_the_cache_forgot_stays_protected(tmp_path: Path) -> None:
    """A flushed neighbour cache (or a gateway already blocked, so ARP never resolves
    again) must not let the gateway through: the MAC it once resolved is remembered."""
    memory_file = tmp_path / "gateways.json"
    resolved = host()
    flushed = HostInfo(gateways=(Gateway(GATEWAY_IP, "br0", None),), bridges=("br0",))
    current = [resolved]
    b = make_backend(
        BACKEND_BRIDGE,
        runner=FakeNft(),
        host=lambda: current[0],
        memory=GatewayMemory(memory_file),
    )
    assert b.block(OTHER) is not None  # any block reads the host and learns the gateway
    current[0] = flushed
    # A new backend (a restart) reads the memory from disk.
    again = make_backend(
        BACKEND_BRIDGE, runner=FakeNft(), host=lambda: flushed, memory=GatewayMemory(memory_file)
    )
    with pytest.raises(EnforceError, match="remembered") as err:
        again.block(GATEWAY_MAC)
    assert err.value.reason == "gateway"
    # Without the memory the old code let it through.
    assert make_backend(BACKEND_BRIDGE, runner=FakeNft(), host=lambda: flushed).block(GATEWAY_MAC)


def test_a_broken_gateway_memory_starts_empty(tmp_path: Path) -> None:
    bad = tmp_path / "gateways.json"
    bad.write_text('{"10.0.0.1": "not a list", "x": [1, 2]')
    memory = GatewayMemory(bad)
    assert memory.macs_for("10.0.0.1") == []
    memory.learn(host())
    assert memory.macs_for(GATEWAY_IP) == [GATEWAY_MAC]
    assert GatewayMemory(bad).macs_for(GATEWAY_IP) == [GATEWAY_MAC]


@pytest.mark.parametrize("reason", ["router", "dhcp_server", "dns_server", "gateway"])
def test_what_totem_observed_is_protected(reason: str) -> None:
    fake = FakeNft()
    seen = {OTHER: Protection(reason, "TOTEM saw it serve the network")}  # type: ignore[arg-type]
    b = make_backend(BACKEND_BRIDGE, runner=fake, host=host, protected=lambda: seen)
    with pytest.raises(EnforceError, match="TOTEM saw it serve the network") as err:
        b.block(OTHER)
    assert err.value.reason == reason
    assert fake.transactions == []
    assert b.block(DEVICE) is not None


def test_quarantine_is_its_own_set_and_release_lifts_it(kernel: Kernel) -> None:
    b = backend(kernel)
    b.quarantine(DEVICE.upper())
    assert b.list_quarantined() == [DEVICE]
    assert b.list_blocks() == []  # waiting for approval is not a block
    assert b.release(DEVICE) is True
    assert b.list_quarantined() == []
    assert b.release(DEVICE) is False


def test_the_gateway_is_never_quarantined() -> None:
    fake = FakeNft()
    with pytest.raises(EnforceError) as err:
        make_backend(BACKEND_BRIDGE, runner=fake, host=host).quarantine(GATEWAY_MAC)
    assert err.value.reason == "gateway"
    assert fake.transactions == []


def test_bad_ip_is_refused() -> None:
    with pytest.raises(EnforceError) as err:
        make_backend(BACKEND_INET, runner=FakeNft(), host=host).block(DEVICE, ips=["10.1.2"])
    assert err.value.reason == "invalid_ip"


def test_none_backend_blocks_nothing_and_says_so() -> None:
    fake = FakeNft()
    b = make_backend(BACKEND_NONE, runner=fake, host=host)
    assert b.available() is None
    assert b.block(DEVICE, duration=60) is None
    assert b.list_blocks() == []
    assert b.unblock(DEVICE) is False
    assert "alert only" in b.description
    assert fake.calls == []


# --- the real nft's errors -----------------------------------------------------------------


def test_real_nft_without_privileges_is_permission_denied() -> None:
    require_root("dropping privileges with setpriv")
    require_tool("nft")
    setpriv = require_tool("setpriv")
    runner = NftRunner(prefix=(setpriv, "--bounding-set=-net_admin", "--inh-caps=-net_admin"))
    b = make_backend(BACKEND_BRIDGE, runner=runner, host=host)
    with pytest.raises(EnforceError) as err:
        b.list_blocks()
    assert err.value.reason == "permission_denied"
    assert b.available() == err.value.message


def test_real_missing_nft_binary(netns: str) -> None:
    runner = NftRunner(prefix=("ip", "netns", "exec", netns), nft="/nonexistent/nft")
    with pytest.raises(EnforceError) as err:
        make_backend(BACKEND_BRIDGE, runner=runner, host=host).list_blocks()
    assert err.value.reason == "nft_missing"
    with pytest.raises(EnforceError) as err:
        make_backend(BACKEND_BRIDGE, runner=NftRunner(nft="/nonexistent/nft"), host=host).block(
            DEVICE
        )
    assert err.value.reason == "nft_missing"


# --- the command line ----------------------------------------------------------------------

CLI = (sys.executable, "-m", "custom_components.totem.engine")
IP = shutil.which("ip") or "ip"


def cli(
    netns: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The engine's CLI inside NETNS, where ``ip netns exec`` gives it its own /sys."""
    return subprocess.run(
        [IP, "netns", "exec", netns, *CLI, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
        timeout=60,
    )


def test_cli_block_list_unblock(netns: str) -> None:
    subprocess.run(["ip", "-n", netns, "link", "add", "br0", "type", "bridge"], check=True)
    done = cli(netns, "block", "CC-50-E3-68-66-4A", "--duration", "10m")
    assert done.returncode == 0, done.stderr
    assert "blocked cc:50:e3:68:66:4a for 600 s with nftables-bridge" in done.stdout
    listed = cli(netns, "blocks", "--json")
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert doc["backend"] == BACKEND_BRIDGE
    assert [(b["mac"], b["timeout"]) for b in doc["blocks"]] == [(DEVICE, 600)]
    table = cli(netns, "blocks")
    assert DEVICE in table.stdout
    assert cli(netns, "unblock", "CC50.E368.664A").stdout.strip() == f"unblocked {DEVICE}"
    assert json.loads(cli(netns, "blocks", "--json").stdout)["blocks"] == []
    assert cli(netns, "unblock", "--all").returncode == 0
    after = subprocess.run(
        [IP, "netns", "exec", netns, "nft", "list", "ruleset"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "totem" not in after.stdout


def test_cli_without_a_bridge_uses_inet(netns: str) -> None:
    done = cli(netns, "block", DEVICE, "--ip", "10.231.0.20")
    assert done.returncode == 0, done.stderr
    assert "with nftables-inet (IPs: 10.231.0.20)" in done.stdout


def test_cli_none_backend_says_nothing_was_blocked(netns: str) -> None:
    done = cli(netns, "block", DEVICE, "--backend", "none")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("none is alert-only")
    assert "nothing was blocked" in done.stdout
    ruleset = subprocess.run(
        [IP, "netns", "exec", netns, "nft", "list", "ruleset"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ruleset.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("block", "cc:50:e3:68:66"), "is not a MAC address"),
        # Frames without a real sender carry the null MAC: blocking it would hit anything.
        (("block", "00:00:00:00:00:00"), "is the null MAC"),
        (("block", DEVICE, "--duration", "soon"), "is not a duration"),
        (("block", DEVICE, "--backend", "iptables"), "unknown backend"),
        (("unblock",), "give either a MAC or --all"),
    ],
)
def test_cli_bad_input_is_one_line_and_status_2(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process through the engine's real entry point: each refusal comes before any nft
    # call, so the host's ruleset is never touched and no root is needed.
    from custom_components.totem.engine.__main__ import main

    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def test_cli_refuses_the_hosts_own_mac(netns: str) -> None:
    subprocess.run(
        ["ip", "-n", netns, "link", "add", "br0", "address", HOST_MAC, "type", "bridge"],
        check=True,
    )
    done = cli(netns, "block", HOST_MAC)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: refusing to block {HOST_MAC}: it belongs to this host (br0); "
        "Home Assistant would cut itself off"
    )


def test_cli_missing_nft(netns: str) -> None:
    nft = require_tool("nft")
    require_tool("unshare")
    # A private mount namespace where nft's directory is an empty tmpfs: nft is not installed.
    hide = f'mount -t tmpfs totem-test "{Path(nft).parent}" && exec "$@"'
    done = subprocess.run(
        [
            IP,
            "netns",
            "exec",
            netns,
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            hide,
            "sh",
            *CLI,
            "blocks",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: nft is not installed (Debian: apt-get install nftables)"


def test_nft_is_found_outside_path(monkeypatch: pytest.MonkeyPatch) -> None:
    nft = require_tool("nft")
    monkeypatch.setenv("PATH", "/nonexistent")  # like a service user's PATH without sbin
    assert find_tool("nft") == nft


def test_cli_without_privileges(netns: str) -> None:
    setpriv = require_tool("setpriv")
    # Root without CAP_NET_ADMIN: like a user that may not touch the firewall.
    unprivileged = (setpriv, "--bounding-set=-net_admin", "--inh-caps=-net_admin")
    done = subprocess.run(
        [IP, "netns", "exec", netns, *unprivileged, *CLI, "blocks"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "needs root or CAP_NET_ADMIN" in done.stderr
