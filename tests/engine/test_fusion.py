"""Weighted evidence fusion: the decision rules, and each knowledge source's votes."""

from __future__ import annotations

from custom_components.totem.engine.evidence import Evidence
from custom_components.totem.engine.fusion import Vote, decide
from custom_components.totem.engine.votes import Knowledge, collect, default_knowledge, site_of


def _ev(**fields: object) -> Evidence:
    ev = Evidence(0.0, 0.0)
    for key, value in fields.items():
        setattr(ev, key, value)
    return ev


def _types(ballot_votes: list[Vote], source: str) -> dict[str, float]:
    return {v.type: v.weight for v in ballot_votes if v.source == source}


def test_one_fact_counts_once_independent_facts_add_up() -> None:
    same = [Vote("light", 1.5, "hostname", "a"), Vote("light", 1.5, "hostname", "b")]
    assert decide(same).type == "unknown"  # 1.5 from one fact: below the bar
    assert decide(same).reason.startswith("too little evidence: ")
    both = [*same, Vote("light", 1.0, "cloud", "c")]
    decision = decide(both)
    assert (decision.type, decision.score) == ("light", 2.5)
    assert decision.reason == "a + c"


def test_iot_is_the_fallback_and_families_credit_members() -> None:
    votes = [Vote("iot", 4.0, "oui", "module"), Vote("smart_plug", 2.0, "hostname", "plug")]
    assert decide(votes).type == "smart_plug"  # a smart-home kind needs only the bar
    votes = [Vote("iot", 4.0, "oui", "module"), Vote("desktop", 2.0, "mdns:_ssh._tcp", "ssh")]
    assert decide(votes).type == "iot"  # a general-purpose type must beat iot
    votes = [Vote("computer", 1.0, "dhcp_class", "win"), Vote("laptop", 1.0, "hostname", "dell")]
    assert decide(votes).type == "laptop"
    votes = [Vote("iot", 1.0, "behaviour:sites", "q"), Vote("camera", 1.0, "cloud", "c")]
    assert decide(votes).type == "iot"  # weak kind + weak iot: some IoT thing
    assert decide([]).type == "unknown"
    assert decide([]).reason == ""


def test_a_lone_weak_vote_names_its_type_only_when_nothing_contradicts() -> None:
    oui = Vote("computer", 0.5, "oui", "OUI AzureWave", "oui_classes", alone="laptop")
    decision = decide([oui])
    assert (decision.type, decision.reason) == ("laptop", "weak: OUI AzureWave")
    # Evidence of the same family agrees with it: still the lone vote's guess.
    agreeing = Vote("personal", 0.5, "behaviour:x", "y")
    assert decide([oui, agreeing]).type == "laptop"
    # Any vote for another type wins over the guess, even one too weak to decide alone.
    for other in ("iot", "printer", "router"):
        against = Vote(other, 1.0, "behaviour:x", "y")
        assert decide([oui, against]).type == "unknown", other
    # Two lone votes that guess differently: no guess.
    other_guess = Vote("computer", 0.5, "hostname", "h", alone="desktop")
    assert decide([oui, other_guess]).type == "unknown"
    # Without an ``alone`` the same weak vote stays unknown.
    assert decide([Vote("computer", 0.5, "oui", "OUI x")]).type == "unknown"


def test_computer_maker_ouis_guess_by_what_the_maker_sells() -> None:
    def guess(mac: str, vendor: str) -> str:
        return decide(collect(default_knowledge(), mac, vendor, None, set()).votes).type

    assert guess("48:5d:60:00:00:01", "AzureWave Technology Inc.") == "laptop"
    assert guess("9c:b6:d0:00:00:01", "Rivet Networks") == "laptop"
    assert guess("44:8a:5b:00:00:01", "Micro-Star INT'L CO., LTD.") == "desktop"
    assert guess("00:24:e8:00:00:01", "Dell Inc.") == "desktop"
    assert guess("8c:16:45:00:00:01", "LCFC(Hefei) Electronics Technology co., ltd") == "laptop"
    # HP makes printers too: its OUI alone is no computer.
    assert guess("00:25:b3:00:00:01", "Hewlett Packard") == "unknown"
    # Hon Hai fills consoles and TVs as well as laptops: no guess.
    assert guess("00:22:68:00:00:01", "Hon Hai Precision Ind. Co.,Ltd.") == "unknown"
    # Real evidence of something else wins: a Dell OUI that beacons like an appliance.
    ballot = collect(default_knowledge(), "00:24:e8:00:00:01", "Dell Inc.", None, {"lan_beacon"})
    assert decide(ballot.votes).type == "unknown"


def _ballot(mac: str = "02:00:00:00:00:01", vendor: str | None = None, **ev: object):  # type: ignore[no-untyped-def]
    return collect(default_knowledge(), mac, vendor, _ev(**ev), set())


def test_ha_dhcp_hostname_and_oui() -> None:
    ballot = _ballot(names={"dhcp": "yeelink-light-lamp4_mio1"})
    assert _types(ballot.votes, "ha_discovery") == {"light": 3.0}
    assert ("yeelight", "light", 3.0) in ballot.integrations
    ballot = _ballot(mac="50:c7:bf:00:00:01", names={"dhcp": "hs100"})
    assert "tplink" in [d for d, _, _ in ballot.integrations]


def test_zeroconf_homekit_model_and_category() -> None:
    ballot = _ballot(mdns_services={"_hap._tcp"}, txt={"md": "BSB002", "ci": "2"})
    votes = {v.label: v for v in ballot.votes}
    assert votes["HomeKit category 2"].type == "hub"
    assert votes["HA HomeKit model BSB002: hue"].type == "hub"
    ballot = _ballot(mdns_services={"_hue._tcp"})
    assert _types(ballot.votes, "ha_discovery") == {"hub": 3.0}
    assert _types(ballot.votes, "mdns_services") == {"hub": 3.0}


def test_ssdp_urn_through_ha() -> None:
    urn = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    ballot = _ballot(ssdp_types={urn})
    assert ("upnp", "router", 3.0) in ballot.integrations
    assert decide(ballot.votes).type == "router"


def test_clouds_and_behaviour_over_sites() -> None:
    ballot = _ballot(domains={"i.ezvizlife.com": None, "pool.ntp.org": None})
    assert _types(ballot.votes, "clouds") == {"camera": 2.0}
    assert _types(ballot.votes, "behaviour") == {"iot": 1.0}  # one site (NTP not counted)
    browsing = {f"www.site{n}.com": None for n in range(12)} | {"a.tuyaeu.com": None}
    ballot = _ballot(domains=browsing)
    assert _types(ballot.votes, "behaviour") == {"personal": 1.5}
    assert _types(ballot.votes, "clouds") == {"iot": 1.0}  # halved: a phone's app
    assert site_of("a.b.example.co.uk") == "example.co.uk"
    assert site_of("eu-disp.coolkit.cc") == "coolkit.cc"


def test_hostname_tokens_and_oui_classes() -> None:
    ballot = _ballot(names={"dhcp": "Kitchen-Lamp"})
    assert _types(ballot.votes, "hostname_tokens") == {"light": 2.0}
    ballot = collect(default_knowledge(), "24:0a:c4:00:00:01", "Espressif Inc.", None, set())
    assert _types(ballot.votes, "oui_classes") == {"iot": 2.0}
    ballot = collect(default_knowledge(), "3c:a9:f4:00:00:01", "Intel Corporate", None, set())
    assert _types(ballot.votes, "oui_classes") == {"computer": 1.0}  # weak computer


def test_maker_lan_protocol_only_is_weak_iot() -> None:
    ballot = collect(
        default_knowledge(), "02:00:00:00:00:01", None, None, set(), {"Tuya LAN": 10, "DNS": 2}
    )
    assert _types(ballot.votes, "behaviour") == {"iot": 1.0}
    ballot = collect(
        default_knowledge(), "02:00:00:00:00:01", None, None, set(), {"Tuya LAN": 10, "TLS": 2}
    )
    assert _types(ballot.votes, "behaviour") == {}


def test_without_drops_every_row_naming_the_vendor() -> None:
    full = default_knowledge()
    lean: Knowledge = full.without("yee|xiaomi|mi home")
    assert len(lean.hostnames) < len(full.hostnames)
    assert "yeelight" in lean.dropped_domains
    ballot = collect(lean, "02:00:00:00:00:01", None, _ev(names={"dhcp": "yeelink-light-1"}), set())
    assert not ballot.integrations
    assert all("yeelink" not in v.label for v in ballot.votes)
