"""Screenshots for the guides: copy selected e2e artifacts into ``$K360_DOC_SHOTS``.

Opt-in: ``K360_DOC_SHOTS=docs/img python -m pytest tests/e2e/test_atlas_explorer.py``
copies the screenshots listed in :data:`DOC_SHOTS` that this run wrote to
``tests/e2e/artifacts/`` into ``docs/img/`` (a relative path is taken from the
repository root), under stable names, cropped to :data:`MAX_HEIGHT` pixels and
reduced to a 128-colour palette so the guides stay small.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

__all__ = ["DOC_SHOTS", "MAX_HEIGHT", "copy_doc_shots", "doc_name", "target_dir"]

#: Artifact stem (``fnmatch`` pattern) -> image name in the guides; a ``*`` in
#: the pattern is carried into the name (``facilitator_*`` -> ``facilitator-*``).
DOC_SHOTS: dict[str, str] = {
    "test_start_page_lists_every_app_de": "start-page.de",
    "test_start_page_lists_every_app_en": "start-page.en",
    "atlas_overview": "atlas-overview",
    "atlas_need_index": "atlas-need-index",
    "atlas_hotspots": "atlas-hotspots",
    "atlas_suppressed": "atlas-suppressed",
    "atlas_area_profile": "atlas-area-profile",
    "atlas_compare": "atlas-compare",
    "atlas_import_report": "import-report",
    "atlas_import_explorer": "import-explorer",
    "atlas_import_error": "import-error",
    "responsibility_grid": "responsibility-grid",
    "responsibility_chain": "responsibility-chain",
    "facilitator_*": "facilitator-*",
    "planspiel_*": "planspiel-*",
    "player_*": "player-*",
    "debrief_*": "debrief-*",
}
#: Taller full-page screenshots are cut at this height (the top shows the app).
MAX_HEIGHT = 1600


def target_dir(repo_root: Path) -> Path | None:
    """Return the folder named by ``$K360_DOC_SHOTS`` (relative to ``repo_root``), or ``None``."""
    raw = os.environ.get("K360_DOC_SHOTS", "").strip()
    if not raw:
        return None
    path = Path(raw)
    return path if path.is_absolute() else repo_root / path


def doc_name(stem: str) -> str | None:
    """Return the guide image name for an artifact ``stem`` (``None`` if not selected)."""
    for pattern, name in DOC_SHOTS.items():
        if fnmatch.fnmatchcase(stem, pattern):
            if "*" in pattern:
                prefix = pattern.split("*", 1)[0]
                rest = stem[len(prefix) :].replace("_", "-").strip("-")
                return name.replace("*", rest)
            return name
    return None


def copy_doc_shots(artifacts: Path, target: Path, since: float = 0.0) -> list[Path]:
    """Copy the selected screenshots written after ``since`` (a timestamp) to ``target``.

    Returns
    -------
    list of Path
        The images written (``<name>.png``).
    """
    from PIL import Image

    written = []
    if not artifacts.is_dir():
        return written
    for src in sorted(artifacts.glob("*.png")):
        name = doc_name(src.stem)
        if name is None or src.stat().st_mtime < since:
            continue
        target.mkdir(parents=True, exist_ok=True)
        with Image.open(src) as img:
            img = img.convert("RGB")
            if img.height > MAX_HEIGHT:
                img = img.crop((0, 0, img.width, MAX_HEIGHT))
            small = img.quantize(
                colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
            )
            dst = target / f"{name}.png"
            small.save(dst, "PNG", optimize=True)
        written.append(dst)
    return written
