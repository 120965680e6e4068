"""The guides: every relative link resolves, the scenario schema reference is current, images stay small."""

import os
import re
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from k360lib.game import scenario as S
from k360lib.game.schema_doc import FIELD_NOTES, MODELS, default_output, main, render_schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
IMG = DOCS / "img"
MAX_IMG_BYTES = 3 * 1024 * 1024

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_SRC = re.compile(r"""<(?:img|a)\b[^>]*?(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces -> hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[`*_]", lambda m: "_" if m.group() == "_" else "", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for line in text.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            out.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
    out |= set(re.findall(r"""<a\s+(?:name|id)=["']([^"']+)["']""", text))
    return out


def links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return LINK.findall(text) + HTML_SRC.findall(text)


def broken_links(path: Path) -> list[str]:
    """Relative links of ``path`` whose file (or heading anchor) does not exist."""
    bad = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, mailto:, …
            continue
        file_part, _, anchor = target.partition("#")
        dest = path if not file_part else (path.parent / file_part).resolve()
        if not dest.exists():
            bad.append(f"{os.path.relpath(path, ROOT)}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{os.path.relpath(path, ROOT)}: {target} (no such heading)")
    return bad


def test_every_relative_link_resolves():
    files = markdown_files()
    assert len(files) > 5  # the README and the guides are found
    problems = [p for f in files for p in broken_links(f)]
    assert not problems, "\n".join(problems)


def test_the_link_check_can_fail(tmp_path):
    (tmp_path / "README.md").write_text("# Top\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "probe.md"
    doc.write_text(
        "# Probe\n[gone](no/such/file.md) [ok](../README.md#top) [bad anchor](#nope) "
        "[good anchor](#probe) [web](https://example.org/x.md) `[code](x.md)`\n"
        "```\n[in code](ignored.md)\n```\n",
        encoding="utf-8",
    )
    found = broken_links(doc)
    assert len(found) == 2, found
    assert "no/such/file.md" in found[0] and "#nope" in found[1]


def test_slug_follows_github():
    assert slug("1. Eigene Daten einlesen") == "1-eigene-daten-einlesen"
    assert slug("Serve on a server (`--lan`)") == "serve-on-a-server---lan"
    assert slug("Analysen & Export") == "analysen--export"


def test_guides_exist_in_both_languages():
    pairs = {
        "planung.md": "planners.md",
        "spielleitung.md": "facilitators.md",
        "datenfachleute.md": "data-staff.md",
        "betrieb.md": "operators.md",
    }
    for de, en in pairs.items():
        assert (DOCS / "de" / de).is_file(), de
        assert (DOCS / "en" / en).is_file(), en
        # each links to its translation
        assert f"../en/{en}" in (DOCS / "de" / de).read_text(encoding="utf-8")
        assert f"../de/{de}" in (DOCS / "en" / en).read_text(encoding="utf-8")


def test_readme_links_every_guide():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for guide in sorted((DOCS / "de").glob("*.md")) + sorted((DOCS / "en").glob("*.md")):
        assert f"docs/{guide.parent.name}/{guide.name}" in readme, guide.name


# ---------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------
def test_images_are_small_and_used():
    images = sorted(IMG.glob("*.png")) if IMG.is_dir() else []
    total = sum(p.stat().st_size for p in images)
    assert total < MAX_IMG_BYTES, f"docs/img holds {total / 1e6:.1f} MB"
    used = set()
    for f in markdown_files():
        for target in links(f):
            used.add((f.parent / target.partition("#")[0]).resolve())
    unused = [p.name for p in images if p.resolve() not in used]
    assert not unused, f"images no guide shows: {unused}"


def test_doc_shots_copy_selected_recent_screenshots(tmp_path, monkeypatch):
    from PIL import Image

    from tests.e2e.doc_shots import MAX_HEIGHT, copy_doc_shots, doc_name, target_dir

    assert doc_name("atlas_overview") == "atlas-overview"
    assert doc_name("facilitator_join_en") == "facilitator-join-en"
    assert doc_name("test_something_else") is None
    art = tmp_path / "artifacts"
    art.mkdir()
    Image.new("RGB", (300, MAX_HEIGHT + 500), "white").save(art / "atlas_overview.png")
    Image.new("RGB", (10, 10), "red").save(art / "facilitator_join_de.png")
    Image.new("RGB", (10, 10), "red").save(art / "unrelated.png")
    old = art / "atlas_hotspots.png"
    Image.new("RGB", (10, 10), "blue").save(old)
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    out = tmp_path / "img"
    written = copy_doc_shots(art, out, since=time.time() - 60)
    assert sorted(p.name for p in written) == ["atlas-overview.png", "facilitator-join-de.png"]
    with Image.open(out / "atlas-overview.png") as img:
        assert img.size == (300, MAX_HEIGHT) and img.mode == "P"
    monkeypatch.delenv("K360_DOC_SHOTS", raising=False)
    assert target_dir(tmp_path) is None
    monkeypatch.setenv("K360_DOC_SHOTS", "docs/img")
    assert target_dir(tmp_path) == tmp_path / "docs" / "img"


# ---------------------------------------------------------------------------
# the generated scenario schema reference
# ---------------------------------------------------------------------------
def test_schema_reference_is_current():
    committed = default_output().read_text(encoding="utf-8")
    assert committed == render_schema(), (
        "docs/reference/scenario-schema.md is out of date: run python -m k360lib.game.schema_doc"
    )
    assert main(["--check"]) == 0


def test_schema_check_notices_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "schema.md"
    stale.write_text(render_schema().replace("`rounds`", "`runden`"), encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert main(["--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == render_schema()


def _reachable(model: type[BaseModel], seen: set) -> None:
    import typing

    if model in seen:
        return
    seen.add(model)

    def walk(tp):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            _reachable(tp, seen)
        for arg in typing.get_args(tp):
            walk(arg)

    for field in model.model_fields.values():
        walk(field.annotation)


def test_reference_covers_every_model_and_field():
    seen: set = set()
    _reachable(S.Scenario, seen)
    assert seen == set(MODELS)
    text = render_schema()
    for model in MODELS:
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"{model.__name__}.{name}"
    # every hand-written note names a real field (stale notes fail here)
    for key in FIELD_NOTES:
        model_name, field = key.split(".")
        model = next(m for m in MODELS if m.__name__ == model_name)
        assert field in model.model_fields, key


def test_reference_shows_constraints_and_defaults():
    text = render_schema()
    assert "| `rounds` | integer (≥ 1, ≤ 12) | **required** |" in text
    assert "| `majority` | `simple` \\| `absolute` | `simple` |" in text
    assert "pattern `^[a-z][a-z0-9_]*$`" in text
    assert "[Text](#text)" in text and "### Text" in text


@pytest.mark.parametrize("lang_dir", ["de", "en"])
def test_data_staff_guide_links_the_reference(lang_dir):
    name = "datenfachleute.md" if lang_dir == "de" else "data-staff.md"
    text = (DOCS / lang_dir / name).read_text(encoding="utf-8")
    assert "../reference/scenario-schema.md" in text


# ---------------------------------------------------------------------------
# commands quoted in the guides exist
# ---------------------------------------------------------------------------
def quoted_commands() -> list[tuple[str, str]]:
    """``(file, command)`` for every ``k360 …`` line in code blocks and inline code."""
    found = []
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        blocks = [m.group(0) for m in FENCE.finditer(text)]
        lines = [ln for b in blocks for ln in b.splitlines()[1:-1]]
        lines += [m.group(0).strip("`") for m in INLINE_CODE.finditer(FENCE.sub("", text))]
        for line in lines:
            line = line.split("#", 1)[0].split(" > ", 1)[0].strip()
            for part in line.split("&&"):
                part = part.strip()
                for prefix in (".venv/bin/k360 ", "k360 "):
                    if part.startswith(prefix):
                        found.append((path.name, part[len(prefix) :]))
    return found


def _command_problem(parser, tokens: list[str]) -> str | None:
    """Return what is wrong with ``k360 <tokens>`` (unknown subcommand or option), else None."""
    import argparse

    chain = [parser]
    expect_sub = True
    skip = 0
    for tok in tokens:
        if skip:
            skip -= 1
            continue
        if tok.startswith("-"):
            name = tok.split("=", 1)[0]
            action = next(
                (p._option_string_actions[name] for p in chain if name in p._option_string_actions),
                None,
            )
            if action is None:
                return f"unknown option {name}"
            if "=" not in tok and action.nargs != 0:
                skip = 1
            continue
        subs = [a for a in chain[-1]._actions if isinstance(a, argparse._SubParsersAction)]
        if subs:
            if tok not in subs[0].choices:
                return f"unknown command {tok}"
            chain.append(subs[0].choices[tok])
            continue
        expect_sub = False  # a positional value
    if expect_sub and [a for a in chain[-1]._actions if isinstance(a, argparse._SubParsersAction)]:
        return "no command"
    return None


def test_every_quoted_k360_command_exists():
    import shlex

    from k360lib.cli import build_parser

    commands = quoted_commands()
    assert len(commands) > 15
    parser = build_parser()
    bad = []
    for file, args in commands:
        if "|" in args:  # a list of commands in prose, e.g. "check|demo|serve"
            continue
        problem = _command_problem(parser, shlex.split(args))
        if problem:
            bad.append(f"{file}: k360 {args}: {problem}")
    assert not bad, "\n".join(bad)


def test_the_command_check_can_fail():
    from k360lib.cli import build_parser

    parser = build_parser()
    assert _command_problem(parser, ["serve", "--lan", "--port", "8866"]) is None
    assert _command_problem(parser, ["--lang", "en", "game", "check", "x.yaml"]) is None
    assert "--flying" in _command_problem(parser, ["serve", "--flying"])
    assert "fly" in _command_problem(parser, ["game", "fly"])
