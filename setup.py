"""Build hook: ship the data folders and the app notebooks inside the wheel.

The metadata lives in ``pyproject.toml``; this file only adds one step to
``build_py``. The demo city (``data/geo``), the catalogs (``data/catalog``),
the scenarios (``data/scenarios``) and the notebooks (``notebooks/*.ipynb``)
stay where the product layout wants them (top level of the repository); a
wheel build copies them into ``k360lib/_bundle/<name>``, where
``k360lib.bundled.bundled_dir`` finds them in an installed package. Editable
installs skip the copy: they read the repository's folders directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: wheel folder (inside k360lib/_bundle) -> (source folder, file patterns)
BUNDLE = {
    "geo": ("data/geo", ("*.geojson", "*.csv", "*.json")),
    "catalog": ("data/catalog", ("*.csv", "*.md")),
    "scenarios": ("data/scenarios", ("*.yaml", "*.yml")),
    "notebooks": ("notebooks", ("*.ipynb",)),
}


class BuildPyWithBundle(build_py):
    """``build_py`` that also copies the bundled folders into the build tree."""

    def run(self):  # noqa: D102
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name, (source, patterns) in BUNDLE.items():
            target = Path(self.build_lib) / "k360lib" / "_bundle" / name
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            for pattern in patterns:
                for path in sorted((ROOT / source).glob(pattern)):
                    if path.is_file():
                        shutil.copyfile(path, target / path.name)


setup(cmdclass={"build_py": BuildPyWithBundle})
