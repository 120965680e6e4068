"""Key matching between geometry and tables."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from k360lib.atlas.matching import match_keys, normalise_key, split_key

IDS = [f"STGT{i:02d}" for i in range(1, 14)]
NAMES = [
    "01 Altstadt", "02 Neustadt", "03 Nordstadt", "04 Westliche Höhe", "05 Friesischer Berg",
    "06 Weiche", "07 Südstadt", "08 Sandberg", "09 Jürgensby", "10 Fruerlund", "11 Mürwik",
    "12 Engelsby", "13 Tarup",
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "method"),
    [
        ("STGT03", "exact"),
        ("stgt 03", "normalised"),
        ("03 Nordstadt", "code"),
        ("3", "code"),
        (3, "code"),
        ("Nordstadt", "name"),
        ("NORDSTADT", "name"),
    ],
)
def test_one_district_four_key_forms(key, method):
    m = match_keys([key], IDS, NAMES)
    assert m.mapping == {key: "STGT03"}
    assert m.methods[key] == method


def test_underscored_and_umlaut_names_match():
    m = match_keys(["Westliche_Höhe", "Muerwik", "Jürgensby"], IDS, NAMES)
    assert m.mapping == {"Westliche_Höhe": "STGT04", "Muerwik": "STGT11", "Jürgensby": "STGT09"}


def test_code_match_refused_when_name_disagrees():
    # table says key 3 is "Altstadt": the number and the name point to different areas
    m = match_keys(["3"], IDS, NAMES, table_names={"3": "Altstadt"})
    assert m.mapping == {}
    assert m.unmatched == ["3"]


def test_prefix_mismatch_is_not_a_code_match():
    m = match_keys(["STBZ011"], IDS, NAMES)
    assert m.mapping == {}


def test_unmatched_gets_suggestion_and_proposal():
    m = match_keys(["Sandbergg", "Altstadt"], IDS, NAMES)
    assert m.unmatched == ["Sandbergg"]
    assert m.suggestions["Sandbergg"][0] == "STGT08"
    assert m.proposed_mapping == {"Sandbergg": "STGT08"}


def test_bare_numbers_get_no_fuzzy_suggestions():
    m = match_keys(["001", "000"], ["101", "102", "901"], ["A", "B", "C"])
    assert m.unmatched == ["001", "000"]
    assert m.proposed_mapping == {}


def test_explicit_mapping_wins():
    m = match_keys(["Hafen"], IDS, NAMES, mapping={"Hafen": "STGT02"})
    assert m.mapping == {"Hafen": "STGT02"} and m.methods["Hafen"] == "explicit"


def test_conflict_two_keys_same_area_none_used():
    m = match_keys(["3", "Nordstadt"], IDS, NAMES)
    assert m.conflicts == {"STGT03": ["3", "Nordstadt"]}
    assert "STGT03" not in m.mapping.values()


def test_exact_beats_weaker_match_of_a_total_row():
    # Köln: district total "Porz" (key 007) must not take the Stadtteil Porz (key 701)
    m = match_keys(["701", "Porz"], ["701", "702"], ["Porz", "Eil"])
    assert m.mapping == {"701": "701"}
    assert "Porz" in m.unmatched


def test_areas_without_data_listed():
    m = match_keys(["STGT01"], IDS, NAMES)
    assert set(m.areas_without_data) == set(IDS) - {"STGT01"}


@given(
    st.integers(min_value=1, max_value=13),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["", " ", "_", "-"]),
)
def test_padded_numbers_match_their_area(n, pad, sep):
    key = "0" * pad + str(n)
    m = match_keys([key], IDS, NAMES)
    assert m.mapping == {key: IDS[n - 1]}
    key2 = f"STGT{sep}{n:0{pad + 1}d}"
    assert match_keys([key2], IDS, NAMES).mapping == {key2: IDS[n - 1]}


@given(st.lists(st.sampled_from(IDS), min_size=1, max_size=13, unique=True), st.randoms())
def test_matching_is_a_partial_injection(keys, rnd):
    rnd.shuffle(keys)
    m = match_keys(keys, IDS, NAMES)
    assert len(set(m.mapping.values())) == len(m.mapping)  # never two keys on one area
    assert set(m.mapping) | set(m.unmatched) == set(keys)  # every key accounted for
    assert m.mapping == {k: k for k in keys}


@given(st.text(min_size=1, max_size=10))
def test_matcher_never_crashes_and_accounts_for_every_key(key):
    m = match_keys([key], IDS, NAMES)
    accounted = len(m.mapping) + len(m.unmatched) + sum(len(v) for v in m.conflicts.values())
    # blank keys are no keys (the importer reports their rows); every other key is accounted for
    assert accounted == (1 if key.strip() else 0)


def test_normalise_and_split():
    assert normalise_key("STGT 03") == normalise_key("stgt3")
    assert split_key("03 Nordstadt") == ("", 3, "nordstadt")
