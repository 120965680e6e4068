"""Matrix, checks, prevention chain, network and perspectives (k360lib.responsibility)."""

from __future__ import annotations

import re

import pytest

from k360lib.errors import DataError
from k360lib.i18n import catalog as messages
from k360lib.responsibility import (
    PHASES,
    Actor,
    Catalog,
    Matrix,
    Service,
    actor_network,
    chain_svg,
    check,
    check_areas,
    compare,
    interfaces,
    load_catalog,
    network_layout,
    network_svg,
    normalize_role,
    prevention_chain,
    service_status,
)


def tiny_catalog(**extra_services) -> Catalog:
    """Four services over three phases, five actors (one coordinating)."""
    services = [
        Service("s_preg", "Beratung", "Counselling", "§ 2 SchKG", phases=("pregnancy",)),
        Service("s_baby", "Hebamme", "Midwife", "§ 24d SGB V", phases=("pregnancy", "0-3")),
        Service("s_kita", "Kita", "Day care", "§ 24 SGB VIII", phases=("3-6",)),
        Service("s_cash", "Geld", "Cash", "BKGG", phases=("0-3", "3-6")),
    ]
    for sid, phases in extra_services.items():
        services.append(Service(sid, sid, sid, "–", phases=tuple(phases)))
    actors = [
        Actor("ja", "Jugendamt", "Youth office", sector="administration"),
        Actor("ga", "Gesundheitsamt", "Health office", sector="administration"),
        Actor("ft", "Freie Träger", "Providers", sector="providers"),
        Actor("kk", "Krankenkasse", "Health fund", sector="health"),
        Actor("ko", "Koordination", "Coordination", sector="administration", coordinating=True),
    ]
    return Catalog(tuple(services), tuple(actors))


def full(cat: Catalog) -> Matrix:
    m = Matrix(cat)
    m.set("s_preg", "ga", "AR")
    m.set("s_baby", "kk", "A")
    m.set("s_baby", "ga", "R")
    m.set("s_kita", "ja", "A")
    m.set("s_kita", "ft", "R")
    m.set("s_cash", "ja", "AR")
    return m


# -- roles and matrix ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("r", "R"),
        (" A ", "A"),
        ("ar", "AR"),
        ("A/R", "AR"),
        ("ra", "AR"),
        ("a+r", "AR"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_role(raw, code):
    assert normalize_role(raw) == code


@pytest.mark.parametrize("raw", ["X", "RACI", "1", "-"])
def test_normalize_role_rejects(raw):
    with pytest.raises(DataError) as info:
        normalize_role(raw)
    assert info.value.key == "resp.invalid_role"
    assert raw in info.value.message("en")


def test_dash_means_no_role_only_in_areas():
    assert normalize_role("-", allow_none=True) == "-"
    cat = tiny_catalog()
    m = full(cat)
    m.set("s_kita", "ft", "-", area="SR01")
    assert m.get("s_kita", "ft", "SR01") is None and m.get("s_kita", "ft") == "R"
    with pytest.raises(DataError):
        m.set("s_kita", "ft", "-")


def test_matrix_set_get_unknown_ids():
    cat = tiny_catalog()
    m = Matrix(cat)
    m.set("s_kita", "ja", "a")
    assert m.get("s_kita", "ja") == "A"
    m.set("s_kita", "ja", None)
    assert m.get("s_kita", "ja") is None and len(m) == 0
    with pytest.raises(DataError) as info:
        m.set("s_kita", "nobody", "R")
    assert info.value.key == "resp.unknown_actor" and "nobody" in info.value.message("de")
    with pytest.raises(DataError) as info:
        m.set("nothing", "ja", "R")
    assert info.value.key == "resp.unknown_service"
    assert m.is_empty()


def test_area_overrides_and_equality():
    cat = tiny_catalog()
    m = full(cat)
    m2 = m.copy()
    assert m2 == m
    m2.set("s_kita", "ko", "C", area="SR02")
    assert m2 != m and m2.areas == ["SR02"] and m2.n_overrides == 1
    assert m2.get("s_kita", "ko", "SR02") == "C" and m2.get("s_kita", "ko") is None
    assert m2.is_override("s_kita", "ko", "SR02") and not m2.is_override("s_kita", "ko", None)
    # setting the city-wide value in an area removes the override
    m2.set("s_kita", "ko", None, area="SR02")
    assert m2.areas == [] and m2 == m
    m2.set("s_kita", "ft", None, area="SR02")
    assert m2.cells("SR02").get(("s_kita", "ft")) is None
    assert m2.diff(m) == [("SR02", "s_kita", "ft", None, "R")]
    m2.reset("s_kita", "ft", "SR02")
    assert m2 == m
    m2.set("s_kita", "ko", "I", area="SR09")
    m2.clear_area("SR09")
    assert m2 == m


def test_dict_round_trip_and_bad_entries():
    cat = tiny_catalog()
    m = full(cat)
    m.name = "Team A"
    m.set("s_cash", "ft", None, area="SR01")
    m.set("s_cash", "ga", "I", area="SR01")
    back = Matrix.from_dict(m.to_dict(), cat)
    assert back == m and back.name == "Team A"
    data = m.to_dict()
    data["roles"][1]["actor"] = "ghost"
    with pytest.raises(DataError) as info:
        Matrix.from_dict(data, cat, file="x.json")
    msg = info.value.message("de")
    assert "roles[1]" in msg and "x.json" in msg and "ghost" in msg
    with pytest.raises(DataError):
        Matrix.from_dict({"roles": []}, cat)


# -- checks --------------------------------------------------------------------------------
def test_complete_matrix_has_no_issue():
    report = check(full(tiny_catalog()))
    assert report.issues == [] and report.ok


def test_empty_matrix_is_all_gaps():
    cat = tiny_catalog()
    report = check(Matrix(cat))
    assert set(report.gap_services) == set(cat.service_ids)
    assert {i.name for i in report.issues if i.service} == {"unassigned"}
    assert report.phase_gaps == ["pregnancy", "0-3", "3-6"]
    assert not report.ok and all(i.level == "error" for i in report.errors)


def test_no_responsible_is_a_gap_and_error():
    cat = tiny_catalog()
    m = full(cat)
    m.set("s_kita", "ft", "C")
    report = check(m)
    assert report.gap_services == ["s_kita"]
    issue = next(i for i in report.issues if i.service == "s_kita")
    assert issue.level == "error" and issue.name == "no_responsible" and issue.kind == "gap"
    assert service_status(report.by_service()["s_kita"]) == "gap"
    assert "Day care" in issue.message(cat, "en")


def test_no_accountable_is_an_error_but_not_a_gap():
    cat = tiny_catalog()
    m = full(cat)
    m.set("s_kita", "ja", "C")
    report = check(m)
    assert report.gap_services == []
    [issue] = report.issues
    assert issue.name == "no_accountable" and issue.level == "error"
    assert service_status([issue]) == "error"


def test_several_accountable_is_an_overlap_error():
    cat = tiny_catalog()
    m = full(cat)
    m.set("s_kita", "ga", "A")
    m.set("s_kita", "ko", "AR")
    report = check(m)
    [issue] = report.issues
    assert issue.name == "several_accountable" and issue.level == "error"
    assert issue.actors == ("ja", "ga", "ko") and issue.params["n"] == 3
    assert report.overlap_services == ["s_kita"]
    msg = issue.message(cat, "de")
    assert "3 Stellen" in msg and "Jugendamt" in msg and "Koordination" in msg


def test_many_responsible_need_a_coordinating_actor():
    cat = tiny_catalog()
    m = full(cat)
    for a in ("ga", "kk"):
        m.set("s_kita", a, "R")
    report = check(m)
    [issue] = report.issues
    assert issue.name == "uncoordinated" and issue.level == "warning" and report.ok
    # a threshold above the count: no warning
    assert check(m, max_responsible=4).issues == []
    # a coordinating actor that is consulted only does not count ...
    m.set("s_kita", "ko", "C")
    assert [i.name for i in check(m).issues] == ["uncoordinated"]
    # ... one that is responsible does
    m.set("s_kita", "ko", "R")
    assert check(m).issues == []


def test_service_without_life_phase_is_a_warning():
    cat = tiny_catalog(s_nophase=())
    m = full(cat)
    m.set("s_nophase", "ja", "AR")
    report = check(m)
    [issue] = report.issues
    assert issue.name == "no_phase" and issue.level == "warning"
    assert issue.service == "s_nophase"
    assert "s_nophase" not in prevention_chain(m).phase("0-3").services


def test_phase_gap_only_when_no_service_in_the_phase_has_responsibility():
    cat = tiny_catalog()
    m = full(cat)
    m.set("s_preg", "ga", "A")  # no R in the only pregnancy-only service
    m.set("s_baby", "ga", "C")  # and none in the other pregnancy service
    report = check(m)
    assert "pregnancy" in report.phase_gaps and "0-3" not in report.phase_gaps
    assert report.counts()["phase_gaps"] == 1
    text = next(i for i in report.issues if i.name == "phase_gap").message(cat, "en")
    assert "Pregnancy and birth" in text


def test_area_checks():
    cat = tiny_catalog()
    m = full(cat)
    m.set("s_kita", "ft", None, area="SR03")
    assert check(m).ok
    area = check(m, area="SR03")
    assert area.gap_services == ["s_kita"] and area.area == "SR03"
    assert all(i.area == "SR03" for i in area.issues)
    assert "Gebiet „SR03“" in area.messages(cat, "de")[0]
    by_area = check_areas(m, areas=["SR01", "SR03"])
    assert list(by_area) == ["SR03"]


def test_check_subset_of_services():
    cat = tiny_catalog()
    report = check(Matrix(cat), services=["s_kita"])
    assert report.gap_services == ["s_kita"] and report.phase_gaps == ["3-6"]


def test_default_matrix_findings_are_the_documented_ones():
    cat = load_catalog()
    report = check(cat.default_matrix())
    assert report.gap_services == ["babylotsen"]
    assert {i.service for i in report.errors if i.name == "no_accountable"} == {
        "uebergang_kita_schule",
        "jugendberufsagentur",
    }
    assert set(report.overlap_services) == {"ganztag", "jugendberufsagentur"}
    assert report.phase_gaps == []


# -- prevention chain ------------------------------------------------------------------------
def test_chain_lanes_gaps_and_handoffs():
    cat = tiny_catalog()
    m = full(cat)
    chain = prevention_chain(m)
    assert [p.phase for p in chain.phases] == list(PHASES)
    baby = chain.phase("0-3")
    assert baby.services == ["s_baby", "s_cash"] and baby.gaps == []
    assert baby.lanes["ga"] == {"s_baby": "R"} and baby.strongest("ja") == "AR"
    # pregnancy -> 0-3: the midwife service spans both phases, its actors continue
    h = chain.handoffs[0]
    assert (h.from_phase, h.to_phase) == ("pregnancy", "0-3")
    assert h.continuing == ["ga", "kk"] and h.leaving == [] and h.status == "ok"
    # 0-3 -> 3-6: Jugendamt continues; health office and health fund leave without a role after
    h = chain.handoffs[1]
    assert h.continuing == ["ja"] and set(h.leaving) == {"ga", "kk"} and h.status == "weak"
    assert h.entering == ["ft"]
    # only phases with services have hand-offs
    assert len(chain.handoffs) == 2


def test_chain_break_and_its_repair():
    cat = tiny_catalog()
    m = Matrix(cat)
    m.set("s_preg", "ga", "AR")
    m.set("s_baby", "kk", "C")  # the service spanning both phases has nobody responsible
    m.set("s_cash", "ja", "AR")
    m.set("s_kita", "ja", "AR")
    h = prevention_chain(m).handoffs[0]
    assert h.status == "break" and h.continuing == [] and h.leaving == ["ga"]
    assert "chain_break" in [i.name for i in check(m).issues]
    assert "no_responsible" in [i.name for i in check(m, chain=False).issues]
    assert "chain_break" not in [i.name for i in check(m, chain=False).issues]
    # someone responsible across both phases repairs it
    m.set("s_baby", "ga", "R")
    assert prevention_chain(m).handoffs[0].status == "ok"
    m2 = full(cat)
    m2.set("s_baby", "ko", "C")
    m2.set("s_kita", "ko", "I")
    assert prevention_chain(m2).handoffs[1].coordinated
    assert prevention_chain(m2).handoffs[1].status == "ok"


def test_chain_svg_is_escaped_and_complete():
    cat = Catalog(
        (Service("x", "<img src=x onerror=alert(1)>", "x", "§ 1", phases=("0-3",)),),
        (Actor("a", "<b>A</b>", "A", sector="politics"),),
    )
    m = Matrix(cat)
    m.set("x", "a", "AR")
    svg = chain_svg(prevention_chain(m), cat, "de", title="<script>")
    assert "<img" not in svg and "<b>A" not in svg and "<script>" not in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg
    assert svg.count('class="k360-chain-cell"') == 1
    assert svg.count('class="k360-chain-gap"') == len(PHASES)


# -- interfaces and network -------------------------------------------------------------------
def test_interfaces_and_network():
    cat = tiny_catalog()
    m = full(cat)
    m.set("s_kita", "ga", "C")
    itf = interfaces(m, "ja")
    assert [(i.partner, i.n) for i in itf] == [("ga", 1), ("ft", 1)]
    assert itf[1].services == (("s_kita", "A", "R"),)
    assert interfaces(m, "ja", roles=("A", "AR", "R"))[0].partner == "ft"
    with pytest.raises(DataError):
        interfaces(m, "ghost")
    net = actor_network(m)
    assert [n.actor for n in net.nodes] == ["ja", "ga", "ft", "kk"]
    assert {(e.a, e.b) for e in net.edges} == {
        ("ja", "ga"),
        ("ja", "ft"),
        ("ga", "ft"),
        ("ga", "kk"),
    }
    assert set(net.neighbours("ga")) == {"ja", "ft", "kk"}
    assert actor_network(m, min_shared=2).edges == []
    assert actor_network(Matrix(cat)).nodes == []


@pytest.mark.parametrize("method", ["circle", "force"])
def test_layout_is_deterministic_and_bounded(method):
    m = load_catalog().default_matrix()
    net = actor_network(m)
    a = network_layout(net, method=method, seed=3)
    b = network_layout(net, method=method, seed=3)
    assert a == b and set(a) == {n.actor for n in net.nodes}
    assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y in a.values())
    assert len(set(a.values())) == len(a)  # no two actors on the same spot
    svg = network_svg(net, a, m.catalog, "en", focus="jobcenter")
    assert svg.count('class="k360-net-node"') == len(net.nodes)
    assert svg.count('class="k360-net-edge"') == len(net.edges)


def test_layout_rejects_unknown_method_and_handles_tiny_networks():
    cat = tiny_catalog()
    with pytest.raises(ValueError, match="circle"):
        network_layout(actor_network(full(cat)), method="spiral")
    assert network_layout(actor_network(Matrix(cat))) == {}
    m = Matrix(cat)
    m.set("s_kita", "ja", "AR")
    assert network_layout(actor_network(m), method="force") == {"ja": (0.5, 0.5)}
    assert "No actors" in network_svg(actor_network(Matrix(cat)), {}, cat, "en")


# -- perspectives ------------------------------------------------------------------------------
def test_compare_ranks_disagreements():
    cat = tiny_catalog()
    a = full(cat)
    b = a.copy()
    c = a.copy()
    b.set("s_kita", "ja", None)
    b.set("s_kita", "ga", "A")  # b thinks the health office is accountable
    c.set("s_cash", "ft", "I")  # c adds an informed provider
    cmp = compare({"A": a, "B": b, "C": c})
    assert cmp.names == ["A", "B", "C"]
    ranked = [(d.service, d.actor) for d in cmp.disagreements]
    # all three cells have agreement 2/3; the accountability ones come first (catalog order)
    assert ranked == [("s_kita", "ja"), ("s_kita", "ga"), ("s_cash", "ft")]
    first = cmp.disagreements[0]
    assert first.agreement == pytest.approx(2 / 3) and first.modal == "A"
    assert first.answer("B") == "" and first.involves_accountable
    assert [c.service for c in cmp.accountability_conflicts] == ["s_kita"]
    assert cmp.pairwise[("A", "B")] == pytest.approx(5 / 7)
    assert 0 < cmp.overall_agreement < 1
    rows = cmp.to_rows(cat, "en")
    assert rows[0]["rank"] == 1 and rows[0]["B"] == "-" and rows[0]["A"] == "A"


def test_compare_edge_cases():
    cat = tiny_catalog()
    a = full(cat)
    same = compare([a, a.copy()])
    assert same.disagreements == [] and same.overall_agreement == 1.0
    assert same.names == ["#1", "#2"]
    named = compare([a.copy("X"), a.copy("X")])
    assert named.names == ["X", "X (2)"]
    empty = compare({"e1": Matrix(cat), "e2": Matrix(cat)})
    assert empty.cells == [] and empty.overall_agreement == 1.0
    with pytest.raises(DataError):
        compare({})
    with pytest.raises(DataError):
        compare({"a": a, "b": Matrix(tiny_catalog(extra=("0-3",)))})
    # area scope: a removal in one area is a disagreement only there
    b = a.copy()
    b.set("s_kita", "ft", None, area="SR01")
    assert compare({"a": a, "b": b}).disagreements == []
    assert len(compare({"a": a, "b": b}, area="SR01").disagreements) == 1


# -- messages ------------------------------------------------------------------------------------
def test_every_message_key_used_exists_in_both_languages():
    from pathlib import Path

    import k360lib.responsibility as pkg
    import k360lib.widgets.responsibility_board as board

    files = list(Path(pkg.__file__).parent.glob("*.py")) + [Path(board.__file__)]
    used = set()
    for path in files:
        used |= set(
            re.findall(r"""["'](resp\.[a-z0-9_.]+[a-z0-9_])["']""", path.read_text("utf-8"))
        )
    cat = messages()
    missing = sorted(k for k in used if k not in cat)
    assert not missing, missing
    for prefix, ids in (
        ("resp.phase.", PHASES),
        ("resp.role.", ("R", "A", "AR", "C", "I")),
    ):
        for i in ids:
            assert cat[prefix + i]["de"] and cat[prefix + i]["en"]
