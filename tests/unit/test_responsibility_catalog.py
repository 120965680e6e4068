"""The bundled services/actors catalog and its loader (k360lib.responsibility.catalog)."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from k360lib.errors import DataError
from k360lib.responsibility import (
    LEVELS,
    PHASES,
    SECTORS,
    TARGET_GROUPS,
    load_catalog,
)
from k360lib.responsibility.catalog import (
    ACTOR_COLUMNS,
    LAW_COLUMNS,
    SERVICE_COLUMNS,
    default_catalog_dir,
)

CATALOG_DIR = default_catalog_dir()
DEMO_KINDS = {
    "Kita",
    "Familienzentrum",
    "Jugendfreizeiteinrichtung",
    "Grundschule",
    "Weiterführende Schule",
    "Beratungsstelle",
    "Kinderarztpraxis",
    "Frühe Hilfen",
}


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def test_catalog_size(cat):
    assert len(cat.services) >= 60
    assert len(cat.actors) >= 15


def test_every_service_is_documented(cat):
    for s in cat.services:
        assert re.fullmatch(r"[a-z0-9_]+", s.id), s.id
        assert s.name_de and s.name_en, s.id
        assert s.description_de and s.description_en, s.id
        assert s.legal_basis, s.id
        assert s.level in LEVELS, s.id
        assert s.phases and set(s.phases) <= set(PHASES), s.id
        assert s.target_groups and set(s.target_groups) <= set(TARGET_GROUPS), s.id
        assert set(s.facility_kinds) <= DEMO_KINDS, s.id
        # the law abbreviations cited appear in the legal basis (or it is state law)
        for law in s.laws:
            assert cat.law(law) is not None, (s.id, law)


def test_required_legal_bases_are_in_the_catalog(cat):
    text = "\n".join(s.legal_basis for s in cat.services)
    for needle in (
        "§ 16 Abs. 2 Nr. 1 SGB VIII",
        "§ 24 Abs. 3 SGB VIII",
        "UVG",
        "§ 6a BKGG",
        "BEEG",
        "§ 28 Abs. 2 SGB II",
        "§ 3 KKG",
        "§ 54 Abs. 2 SchulG",
    ):
        assert needle in text, needle
    assert cat.service("schuleingangsuntersuchung").level == "Land"
    assert cat.service("kinderzuschlag").legal_basis == "§ 6a BKGG"


def test_every_phase_and_place_kind_is_served(cat):
    for phase in PHASES:
        assert cat.filter_services(phase=phase), phase
    used = {k for s in cat.services for k in s.facility_kinds}
    assert used == DEMO_KINDS


def test_actors_cover_every_sector(cat):
    assert {a.sector for a in cat.actors} == set(SECTORS)
    ids = {a.id for a in cat.actors}
    for needed in ("jugendamt", "gesundheitsamt", "sozialamt", "jobcenter", "familienkasse"):
        assert needed in ids
    assert cat.actor("familienkasse").sector == "federal_agency"
    assert cat.actor("jha").sector == "politics"
    assert any(a.coordinating for a in cat.actors)
    for a in cat.actors:
        assert re.fullmatch(r"[a-z0-9_]+", a.id)
        assert a.short_de and a.short_en and a.description_de and a.description_en


def test_default_assignment(cat):
    m = cat.default_matrix()
    assert m.get("kindergeld", "familienkasse") == "AR"  # accountable + responsible
    assert m.get("kita_ue3", "jugendamt") == "A"
    assert m.get("kita_ue3", "kitas") == "R"
    assert m.get("kita_ue3", "jha") == "I"
    assert m.get("but_lernfoerderung", "jobcenter") == "R"
    # every actor of the catalog appears somewhere in the defaults
    assert {a for _, a, _ in cat.defaults} == set(cat.actor_ids)


def test_laws_are_listed_with_a_reference(cat):
    cited = cat.laws_cited()
    assert "SGB VIII" in cited and "Landesrecht" in cited
    for law_id in cited:
        law = cat.law(law_id)
        assert law is not None and law.name_de and law.reference, law_id
        if law.reference.startswith("http"):
            assert law.reference.startswith("https://www.gesetze-im-internet.de/"), law.reference


def test_readme_documents_every_column():
    readme = (CATALOG_DIR / "README.md").read_text(encoding="utf-8")
    for column in (*SERVICE_COLUMNS, *ACTOR_COLUMNS, *LAW_COLUMNS):
        assert f"`{column}`" in readme, column
    for vocab in (*PHASES, *SECTORS, *TARGET_GROUPS):
        assert f"`{vocab}`" in readme, vocab


def test_csv_headers_match_the_loader():
    for name, columns in (
        ("services.csv", SERVICE_COLUMNS),
        ("actors.csv", ACTOR_COLUMNS),
        ("laws.csv", LAW_COLUMNS),
    ):
        with open(CATALOG_DIR / name, encoding="utf-8") as f:
            assert tuple(next(csv.reader(f))) == columns, name


def _copy_catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, folder)
    return folder


def _edit(path: Path, row_id: str, column: str, value: str) -> int:
    """Set one cell of a catalog CSV; return the 1-based line of the row."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    line = next(i for i, r in enumerate(rows, start=2) if r["id"] == row_id)
    rows[line - 2][column] = value
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return line


@pytest.mark.parametrize(
    ("file", "row_id", "column", "value", "expect"),
    [
        ("services.csv", "kindergeld", "phases", "0-3;teen", "teen"),
        ("services.csv", "kindergeld", "target_groups", "everyone", "everyone"),
        ("services.csv", "kindergeld", "responsible", "familienkasse;nobody", "nobody"),
        ("services.csv", "kindergeld", "level", "EU", "EU"),
        ("actors.csv", "jobcenter", "sector", "church", "church"),
    ],
)
def test_loader_names_file_row_and_column(tmp_path, file, row_id, column, value, expect):
    folder = _copy_catalog(tmp_path)
    line = _edit(folder / file, row_id, column, value)
    with pytest.raises(DataError) as info:
        load_catalog(folder)
    msg = info.value.message("de")
    assert f"Datei „{file}“" in msg and f"Zeile {line}" in msg and f"Spalte „{column}“" in msg
    assert expect in msg
    assert f"file '{file}'" in info.value.message("en")


def test_loader_refuses_duplicate_ids_and_missing_columns(tmp_path):
    folder = _copy_catalog(tmp_path)
    _edit(folder / "actors.csv", "jobcenter", "id", "jugendamt")
    with pytest.raises(DataError, match="jugendamt"):
        load_catalog(folder)
    folder2 = tmp_path / "c2"
    shutil.copytree(CATALOG_DIR, folder2)
    text = (folder2 / "services.csv").read_text(encoding="utf-8")
    (folder2 / "services.csv").write_text(
        text.replace("legal_basis,", "basis,", 1), encoding="utf-8"
    )
    with pytest.raises(DataError) as info:
        load_catalog(folder2)
    assert "legal_basis" in info.value.message("en")
    with pytest.raises(DataError):
        load_catalog(tmp_path / "nowhere")


def test_importing_the_model_loads_no_ui_library():
    code = (
        "import sys, k360lib.responsibility as r; r.check(r.load_catalog().default_matrix()); "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'folium','ipywidgets','IPython','branca','pandas','geopandas'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    # the probe notices a UI import (it can fail)
    code2 = code.replace("import sys,", "import sys, ipywidgets,")
    out2 = subprocess.run([sys.executable, "-c", code2], capture_output=True, text=True, check=True)
    assert "ipywidgets" in out2.stdout
