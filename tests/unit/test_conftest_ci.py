"""The CI rules of tests/conftest.py, which .ci/run relies on, in a throwaway test tree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

TESTS = """
import pytest

@pytest.mark.e2e
def test_browser_ok():
    pass

@pytest.mark.e2e
def test_browser_missing():
    pytest.skip("no chromium")

def test_unit_skip():
    pytest.skip("not an e2e test")
"""


def run_tree(tmp_path: Path, ci: bool) -> tuple[int, str]:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_tree.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    e2e: browser\n    realdata: data\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_ADDOPTS"}}
    if ci:
        env["CI"] = "true"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:nbval", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    return proc.returncode, proc.stdout


def summary(out: str) -> dict[str, int]:
    (line,) = [ln for ln in out.splitlines() if ln.startswith("k360-e2e:")]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def test_outside_ci_an_e2e_skip_is_a_skip(tmp_path):
    code, out = run_tree(tmp_path, ci=False)
    assert code == 0, out
    assert summary(out) == {"collected": 2, "passed": 1, "failed": 0, "skipped": 1, "errors": 0}


def test_under_ci_an_e2e_skip_fails_but_other_skips_do_not(tmp_path):
    code, out = run_tree(tmp_path, ci=True)
    assert code == 1, out
    assert summary(out) == {"collected": 2, "passed": 1, "failed": 1, "skipped": 0, "errors": 0}
    assert "skipped under CI=true" in out and "no chromium" in out
    assert re.search(r"1 failed, 1 passed, 1 skipped", out)


def test_only_marked_tests_count_as_e2e_even_in_a_folder_named_e2e(tmp_path):
    folder = tmp_path / "e2e"
    folder.mkdir()
    (folder / "test_in_e2e_folder.py").write_text(
        "import pytest\n\n@pytest.mark.e2e\ndef test_marked():\n    pass\n\n"
        "def test_unmarked():\n    pass\n"
    )
    code, out = run_tree(tmp_path, ci=False)
    assert code == 0, out
    # the tree's 2 marked tests + 1 marked here; the unmarked one is not an e2e test
    assert summary(out) == {"collected": 3, "passed": 2, "failed": 0, "skipped": 1, "errors": 0}


def test_realdata_fixture_skips_with_a_reason(tmp_path, monkeypatch):
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_rd.py").write_text("def test_rd(realdata):\n    pass\n")
    env = {**os.environ, "K360_REALDATA": str(tmp_path / "absent")}
    env.pop("CI", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:nbval",
            "-rs",
            "-m",
            "realdata",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout
    assert "1 skipped" in proc.stdout and "real municipal data not available" in proc.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_script_is_strict_bash():
    script = Path(__file__).resolve().parents[2] / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert "set -euo pipefail" in text
    subprocess.run(["bash", "-n", str(script)], check=True)  # syntax
