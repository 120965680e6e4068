"""Shared fixtures and CI rules for the whole test suite.

Fixtures
--------
repo_root
    The repository root (the folder holding ``pyproject.toml``).
realdata
    ``../shared/realdata`` next to the repository (override with
    ``K360_REALDATA``); tests using it are marked ``realdata`` and skip when
    the folder is absent.

CI rules (``CI=true``)
----------------------
- An ``e2e`` test that skips is reported as failed: CI must prove the apps
  work in a browser, and a skip would hide a missing browser or notebook.
- The terminal summary ends with one machine-readable line,
  ``k360-e2e: collected=N passed=N failed=N skipped=N errors=N``, which
  ``.ci/run`` checks (printed under CI, and whenever e2e tests were collected).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
E2E_MARK = "e2e"
E2E_SUMMARY_PREFIX = "k360-e2e:"


def _is_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def realdata() -> Path:
    override = os.environ.get("K360_REALDATA")
    path = (
        Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "realdata"
    )
    if not path.is_dir():
        pytest.skip(
            f"real municipal data not available at {path} (set K360_REALDATA to point elsewhere)"
        )
    return path


def pytest_collection_modifyitems(config, items):
    for item in items:
        if (
            "realdata" in getattr(item, "fixturenames", ())
            and item.get_closest_marker("realdata") is None
        ):
            item.add_marker(pytest.mark.realdata)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI, an e2e test that skips is a failure (never for xfail)."""
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and _is_ci()
        and item.get_closest_marker(E2E_MARK)
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"e2e test skipped under CI=true, which counts as a failure: {reason}"
    return report


class E2EStats:
    """Count e2e outcomes and print the ``k360-e2e:`` summary line."""

    def __init__(self) -> None:
        self.collected = 0
        self.e2e_ids: set[str] = set()
        self.outcomes: Counter[str] = Counter()

    def pytest_collection_finish(self, session) -> None:
        # by marker, not by keyword: a test's keywords also hold its folder names ("e2e")
        self.e2e_ids = {item.nodeid for item in session.items if item.get_closest_marker(E2E_MARK)}
        self.collected = len(self.e2e_ids)

    def pytest_runtest_logreport(self, report) -> None:
        if report.nodeid not in self.e2e_ids:
            return
        if report.when == "call":
            self.outcomes[report.outcome] += 1
        elif report.when == "setup" and report.skipped:
            self.outcomes["skipped"] += 1
        elif report.failed:  # setup or teardown errors
            self.outcomes["errors"] += 1

    def summary(self) -> str:
        o = self.outcomes
        return (
            f"{E2E_SUMMARY_PREFIX} collected={self.collected} passed={o['passed']} "
            f"failed={o['failed']} skipped={o['skipped']} errors={o['errors']}"
        )

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.collected or _is_ci():
            terminalreporter.write_line(self.summary())


def pytest_configure(config):
    config.pluginmanager.register(E2EStats(), "k360-e2e-stats")


@pytest.fixture(autouse=True)
def _reset_ui_language():
    """No test leaks a process-wide UI language into the next one."""
    from k360lib import i18n

    before = i18n._current
    yield
    i18n.set_lang(before)
