"""The benchmark runner's plumbing (bench/run.py); no benchmark is run here."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[2] / "bench" / "run.py"


@pytest.fixture
def run():
    spec = importlib.util.spec_from_file_location("k360_bench_run_under_test", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_registry_refuses_a_duplicate_name(run):
    assert {"import", "demo_cold", "atlas_load"} <= set(run.BENCHMARKS)
    with pytest.raises(ValueError, match="twice"):
        run.benchmark("import", "again")(lambda ctx: [])


def test_summarize_reports_median_min_max(run):
    r = run.summarize("x", "time", [0.003, 0.001, 0.002], "ms", 1000)
    assert (r.value, r.min, r.max, r.n) == pytest.approx((2.0, 1.0, 3.0, 3))


def test_discover_registers_module_entries_and_reports_broken_ones(run, tmp_path):
    (tmp_path / "run.py").write_text("raise SystemExit('run.py must be skipped')")
    (tmp_path / "_helper.py").write_text("raise SystemExit('private modules are skipped')")
    (tmp_path / "entries.py").write_text(
        "def benchmark_entries():\n"
        "    return [('twice', 'doubles', lambda ctx: [dict(subject='s', metric='m', value=2.0, unit='u', n=1)])]\n"
    )
    (tmp_path / "single.py").write_text(
        '"""One figure."""\ndef run_benchmark(ctx):\n    return []\n'
    )
    (tmp_path / "broken.py").write_text("import does_not_exist_k360\n")
    problems = run.discover(tmp_path)
    assert len(problems) == 1 and "broken.py" in problems[0]
    assert run.BENCHMARKS["single"].description.startswith("One figure.")
    (result,) = [run._as_result(r) for r in run.BENCHMARKS["twice"].func(run.Context())]
    assert result == run.Result("s", "m", 2.0, "u", 1)


def test_child_measurement_reports_time_and_rss(run):
    (res,) = run.Context(repeat=1).run_child("_extra = {'answer': 42}", warmup=0)
    assert res["answer"] == 42 and res["seconds"] >= 0 and res["peak_rss_mib"] > 1


def test_child_failure_shows_stderr(run):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run.Context(repeat=1).run_child("1 / 0", warmup=0)


def test_table_and_command_line(run):
    table = run.format_table(
        [("e", run.Result("subject", "time", 1234.5, "ms", 5, 1000.0, 1500.0))]
    )
    assert "subject" in table and "1,234.5" in table
    out = subprocess.run(
        [sys.executable, str(RUN_PY), "--list"], capture_output=True, text=True, check=True
    )
    assert "atlas_load" in out.stdout
    bad = subprocess.run(
        [sys.executable, str(RUN_PY), "--only", "nope"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unknown benchmark" in bad.stderr
