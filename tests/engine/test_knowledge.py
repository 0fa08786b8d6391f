"""The knowledge package: every data file parses, has provenance, uses the type vocabulary,
and the matchers answer as Home Assistant's own tables say."""

from __future__ import annotations

import pytest

from custom_components.totem.engine.knowledge import (
    ha_discovery,
    read_header,
    read_tsv,
)
from custom_components.totem.engine.model import DEVICE_TYPES


def test_ha_snapshot_has_provenance() -> None:
    tables = ha_discovery.bundled()
    prov = tables.provenance
    assert prov["home_assistant_version"]
    assert "Apache-2.0" in prov["licence"]
    assert len(prov["files"]) == 3
    assert len(tables.dhcp) > 100
    assert len(tables.zeroconf) > 50


def test_every_ha_domain_has_a_type() -> None:
    types = ha_discovery.domain_types()
    missing = ha_discovery.bundled().domains() - set(types)
    assert not missing
    for entry in types.values():
        assert entry.type is None or entry.type in DEVICE_TYPES, entry
        assert entry.confidence in ("high", "low"), entry
        assert entry.comment, entry
    header = read_header(ha_discovery.DOMAIN_TYPES)
    assert "Source" in header
    assert "Apache-2.0" in header


@pytest.mark.parametrize(
    ("hostname", "mac", "domain"),
    [
        ("yeelink-light-color1_mibt1234", None, "yeelight"),
        ("YEELINK-light-lamp4", None, "yeelight"),  # host names compare lower-cased
        ("es20m", "3c:52:a1:00:00:01", "tplink"),  # host pattern AND OUI pattern
    ],
)
def test_dhcp_matching(hostname: str, mac: str | None, domain: str) -> None:
    assert domain in ha_discovery.bundled().match_dhcp(hostname, mac)


def test_dhcp_needs_both_parts_and_ignores_registered_only() -> None:
    tables = ha_discovery.bundled()
    assert "tplink" not in tables.match_dhcp("hs100", "3c:52:a1:00:00:01")  # e[sp]* fails
    assert tables.match_dhcp(None, None) == []


def test_zeroconf_and_homekit_matching() -> None:
    tables = ha_discovery.bundled()
    assert tables.match_zeroconf("_hue._tcp.local.") == ["hue"]
    assert tables.match_zeroconf("_googlecast._tcp") == ["cast"]
    assert tables.match_homekit("BSB002") == "hue"
    assert "hue" in tables.match_zeroconf("_hap._tcp", "Philips hue - 1234", {"md": "BSB002"})
    assert ha_discovery.types_of(["hue", "plex", "cast"]) == ["hub", "media_player"]


def test_ssdp_matching_needs_every_key() -> None:
    tables = ha_discovery.bundled()
    assert "axis" in tables.match_ssdp({"manufacturer": "AXIS"})
    assert "braviatv" not in tables.match_ssdp({"manufacturer": "Sony Corporation"})


def test_runtime_tables_replace_the_snapshot() -> None:
    tables = ha_discovery.HaTables.from_tables(
        dhcp=[{"domain": "mine", "hostname": "widget-*"}],
        zeroconf={"_widget._tcp.local.": [{"domain": "mine"}]},
        homekit={},
        ssdp={},
        version="2099.1.0",
    )
    assert tables.match_dhcp("widget-12", None) == ["mine"]
    assert tables.match_zeroconf("_widget._tcp") == ["mine"]
    assert tables.provenance["home_assistant_version"] == "2099.1.0"


def test_tsv_reader_rejects_extra_cells() -> None:
    assert read_tsv(ha_discovery.DOMAIN_TYPES)[0]["domain"]


def test_clouds_parse_with_provenance_and_vocabulary() -> None:
    from custom_components.totem.engine.knowledge import clouds

    rows = clouds.table()
    assert len(rows) >= 150
    allowed = set(DEVICE_TYPES) | {clouds.GENERAL, clouds.NTP}
    for row in rows.values():
        assert row.vendor, row
        assert row.source, row
        assert row.types, row
        assert set(row.types) <= allowed, row
    header = read_header(clouds.DATA)
    assert "nDPI" in header
    assert "LGPL-3.0" in header


@pytest.mark.parametrize(
    ("domain", "vendor"),
    [
        ("bridge.meethue.com", "Philips Hue"),
        ("devs.tplinkcloud.com", "TP-Link Kasa"),
        ("api.xbcs.net", "Belkin WeMo"),
        ("signal.mydlink.com", "D-Link mydlink"),
        ("0.openwrt.pool.ntp.org", "NTP Pool"),
        ("MEETHUE.COM.", "Philips Hue"),
    ],
)
def test_cloud_suffix_matching(domain: str, vendor: str) -> None:
    from custom_components.totem.engine.knowledge import clouds

    hit = clouds.match(domain)
    assert hit is not None
    assert hit.vendor == vendor


def test_cloud_suffix_needs_a_label_boundary() -> None:
    from custom_components.totem.engine.knowledge import clouds

    assert clouds.match("xmeethue.com") is None
    assert clouds.match("com") is None
    hit = clouds.match("home.nest.com")
    assert hit is not None
    assert hit.suffix == "home.nest.com"  # the longest suffix wins


def test_small_tables_parse_with_provenance_and_vocabulary() -> None:
    from custom_components.totem.engine.knowledge import hints

    assert len(hints.oui_classes()) >= 50
    for row in hints.oui_classes():
        assert row.cls in hints.OUI_CLASS_NAMES, row
        assert row.weight in (1, 2), row
        assert row.comment, row
    for table in (hints.hostname_hints(), hints.mdns_hints()):
        assert len(table) >= 50
        for hint in table:
            assert hint.type is None or hint.type in DEVICE_TYPES, hint
            assert hint.source, hint
            assert 0 <= hint.weight <= 3, hint
    for name in (
        hints.OUI_CLASSES,
        hints.HOSTNAME_TOKENS,
        hints.MDNS_SERVICES,
        "clouds.tsv",
        "ha_domain_types.tsv",
    ):
        assert "Source" in read_header(name), name


def test_oui_classes_on_aiooui_names() -> None:
    from custom_components.totem.engine import vendor
    from custom_components.totem.engine.knowledge import hints

    esp = hints.oui_class(vendor.lookup(bytes.fromhex("5ccf7f000001")))
    assert esp is not None
    assert esp.cls == "iot_module"
    intel = hints.oui_class(vendor.lookup(bytes.fromhex("3ca9f4000001")))
    assert intel is not None
    assert intel.cls == "laptop_wifi"
    assert hints.oui_class(None) is None


def test_hostname_tokens_and_patterns() -> None:
    from custom_components.totem.engine.knowledge import hints

    def types(name: str) -> set[str | None]:
        return {h.type for h in hints.match_hostname(name)}

    assert "light" in types("yeelink-light-lamp4_mio1")
    assert "smart_plug" in types("HS100(EU)")
    assert "iot" in types("ESP_0A1B2C")
    assert "laptop" in types("someone-dell")
    assert "camera" not in types("camille")  # a token matches a whole piece only
    assert types("kitchen-lamp") == {"light"}


def test_mdns_services_and_homekit_categories() -> None:
    from custom_components.totem.engine.knowledge import hints

    hit = hints.match_service("_ipp._tcp.local.")
    assert hit is not None
    assert hit.type == "printer"
    cat = hints.homekit_category(17)
    assert cat is not None
    assert cat.type == "camera"
    bridge = hints.homekit_category("2")
    assert bridge is not None
    assert bridge.type == "hub"


def test_labels_cover_every_capture() -> None:
    from pathlib import Path

    from tests import eval_identify

    labels = eval_identify.read_labels()
    labelled = {lab.capture for lab in labels}
    for lab in labels:
        assert lab.split in ("dev", "heldout"), lab
        assert lab.type in DEVICE_TYPES, lab
        assert lab.mac != "00:00:00:00:00:00", lab
    splits: dict[str, set[str]] = {}
    for lab in labels:
        splits.setdefault(lab.capture, set()).add(lab.split)
    assert all(len(s) == 1 for s in splits.values())  # a capture is in one split
    local = Path(__file__).resolve().parent.parent / "pcaps"
    mine = {p.name for p in local.iterdir() if p.suffix in (".pcap", ".pcapng")}
    assert mine <= labelled, sorted(mine - labelled)
    shared = eval_identify.CAPTURE_DIRS[1]
    if not shared.is_dir():
        pytest.skip(f"{shared} absent: shared captures not checked")
    theirs = {p.name for p in shared.iterdir() if p.suffix in (".pcap", ".pcapng")}
    assert theirs <= labelled, sorted(theirs - labelled)


def test_testbed_devices_run_through_the_engine() -> None:
    from tests import eval_testbed

    rows = eval_testbed.run()
    assert len(rows) == len(eval_testbed.DEVICES) + 1
    assert all(got in DEVICE_TYPES for _, _, got, _ in rows)
    by_label = {label: got for label, _, got, _ in rows}
    assert by_label["TP-Link HS100 plug"] == "smart_plug"
    assert by_label["TP-Link router (serves DHCP)"] == "router"


def test_tables_file_from_a_running_home_assistant(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from custom_components.totem.engine.identify import Identifier, apply_tables_file
    from custom_components.totem.engine.knowledge import DataFileError

    path = tmp_path / "tables.json"
    path.write_text(
        json.dumps(
            {
                "_provenance": {"home_assistant_version": "2099.1.0"},
                "dhcp": [{"domain": "widget", "hostname": "widget-*"}],
                "zeroconf": {"_widget._tcp.local.": [{"domain": "widget"}]},
                "homekit": {},
                "ssdp": {},
            }
        )
    )
    tables = ha_discovery.load_file(str(path))
    assert tables.provenance["home_assistant_version"] == "2099.1.0"
    assert tables.match_dhcp("widget-1", None) == ["widget"]
    identifier = Identifier()
    assert apply_tables_file(identifier, str(path))
    assert identifier.knowledge.ha.match_dhcp("widget-1", None) == ["widget"]
    # Bad files: one clear line, and the bundled snapshot stays.
    for bad in ("[1, 2]", "{not json", json.dumps({"dhcp": {}, "zeroconf": {}})):
        path.write_text(bad)
        with pytest.raises(DataFileError, match="tables.json"):
            ha_discovery.load_file(str(path))
        fresh = Identifier()
        assert not apply_tables_file(fresh, str(path))
        assert "yeelight" in fresh.knowledge.ha.match_dhcp("yeelink-light-1", None)
    with pytest.raises(DataFileError, match="tables.json"):
        ha_discovery.load_file(str(tmp_path / "missing" / "tables.json"))


def test_mac_only_dhcp_lookup_by_prefix_answers_as_the_full_scan() -> None:
    """The OUI index (a MAC flood asks once per address) finds what scanning every matcher
    finds, in the same order, for every MAC prefix the bundled table names and a few more."""
    from fnmatch import fnmatchcase

    tables = ha_discovery.bundled()
    prefixes = {str(m["macaddress"])[:6] for m in tables.dhcp if m.get("macaddress")}
    macs = [p.replace("*", "0").ljust(12, "A") for p in prefixes] + ["000000000000", "FFFFFF123456"]
    for upper in macs:
        mac = ":".join(upper[i : i + 2] for i in range(0, 12, 2))
        expected: list[str] = []
        for m in tables.dhcp:
            pattern = m.get("macaddress")
            fits = m.get("hostname") is None and pattern and fnmatchcase(upper, str(pattern))
            if fits and m["domain"] not in expected:
                expected.append(str(m["domain"]))
        assert tables.match_dhcp(None, mac) == expected, mac
    assert any(tables.match_dhcp(None, m) for m in macs)
