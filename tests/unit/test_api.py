"""The public API stays light and complete; the message catalog is complete in both languages."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import k360lib
from k360lib.i18n import LANGS, catalog, t

PKG = Path(k360lib.__file__).parent
HEAVY_UI = ["folium", "ipywidgets", "IPython", "mapclassify", "branca"]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_k360lib_is_light():
    mods = _loaded_after("import k360lib")
    assert not {m for m in mods if m.split(".")[0] in HEAVY_UI}
    assert "pandas" not in mods and "geopandas" not in mods


@pytest.mark.parametrize(
    "module",
    ["k360lib.atlas", "k360lib.atlas.io", "k360lib.atlas.classify", "k360lib.atlas.indicators"],
)
def test_model_layers_never_load_ui(module):
    mods = _loaded_after(f"import {module}")
    assert not {m for m in mods if m.split(".")[0] in HEAVY_UI}, module


def test_the_check_can_fail():
    # the same probe notices a UI import: proves the test above can fail
    mods = _loaded_after("import k360lib, ipywidgets")
    assert "ipywidgets" in mods


def test_public_names_resolve():
    for name in k360lib.__all__:
        assert getattr(k360lib, name) is not None, name


def test_every_message_has_both_languages():
    for key, texts in catalog().items():
        for lang in LANGS:
            assert texts.get(lang), f"{key} lacks {lang}"
        # the same placeholders in both languages
        ph = {lang: set(re.findall(r"{(\w+)}", texts[lang])) for lang in LANGS}
        assert ph["de"] == ph["en"], key


def test_every_key_used_in_code_exists():
    used = set()
    pattern = re.compile(r"""["']((?:atlas|cli|loc|level|error|lang)\.[a-z0-9_.]+)["']""")
    for path in PKG.rglob("*.py"):
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in catalog() and not k.endswith("."))
    assert not missing, missing


def test_translation_falls_back_visibly():
    assert t("no.such.key", "en") == "no.such.key"
    assert t("lang.name", "en") == "English"
    with pytest.raises(ValueError, match="unsupported language"):
        t("lang.name", "fr")
