"""k360 benchmarks: print a table of figures; optionally write them as JSON.

Usage::

    python bench/run.py                      # all entries
    python bench/run.py --only import        # one entry (repeatable)
    python bench/run.py --repeat 9 --json bench/results/today.json
    python bench/run.py --list

Not part of the test suite (pytest never collects this folder): figures depend
on the machine, so they are measured and reported, not asserted.

Adding an entry
---------------
Write a function taking a :class:`Context` and returning a list of
:class:`Result`, decorated with ``@benchmark("name", "what it measures")``::

    @benchmark("need_index", "need index over the demo city (warm)")
    def _need_index(ctx):
        code = "..."  # or measure in-process with ctx.time_calls(fn)
        return [Result("need_index()", "time", median_ms, "ms", ctx.repeat)]

Cold figures (imports, first use) run in a fresh interpreter per repetition via
:meth:`Context.run_child`; warm figures time repeated calls in this process via
:meth:`Context.time_calls`. Every figure is the median of ``--repeat`` runs.

Entries in their own file
-------------------------
A bigger benchmark may live in ``bench/<name>.py`` (runnable on its own). This
script imports every such module (not ``run.py``, not ``_*.py``) and registers

- each ``(name, description, func)`` from its ``benchmark_entries()``, or else
- its ``run_benchmark(ctx)`` as entry ``<name>``, described by the first line
  of the module docstring.

``func(ctx)`` returns :class:`Result` objects or dicts with the same keys
(``subject, metric, value, unit, n`` and optionally ``min, max``); a module
need not import this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


# -- registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One measured figure: the median of ``n`` runs, plus min and max."""

    subject: str
    metric: str
    value: float
    unit: str
    n: int
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    func: Callable[[Context], list[Result]]


BENCHMARKS: dict[str, Entry] = {}


def benchmark(name: str, description: str):
    """Register a benchmark function under ``name`` (order of registration = order of the table)."""

    def register(func: Callable[[Context], list[Result]]):
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} is registered twice")
        BENCHMARKS[name] = Entry(name, description, func)
        return func

    return register


# -- measuring -----------------------------------------------------------------------------

# Runs in the child before the measured code: a timer and a peak-RSS reader.
_CHILD_PRELUDE = """
import json as _json, sys as _sys, time as _time

def _peak_rss_mib():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if _sys.platform == "darwin" else peak / 1024

_t0 = _time.perf_counter()
"""

_CHILD_EPILOGUE = """
_dt = _time.perf_counter() - _t0
_sys.stdout.write("\\n@@K360BENCH@@" + _json.dumps({"seconds": _dt, "peak_rss_mib": _peak_rss_mib(), **globals().get("_extra", {})}) + "\\n")
"""


@dataclass
class Context:
    """What a benchmark needs: repetitions, the interpreter, where the data lives."""

    repeat: int = 5
    python: str = sys.executable
    repo_root: Path = REPO_ROOT
    notes: list[str] = field(default_factory=list)

    def run_child(
        self, code: str, *, repeat: int | None = None, setup: str = "", warmup: int = 1
    ) -> list[dict]:
        """Run ``code`` in a fresh interpreter ``repeat`` times (after ``warmup`` discarded runs).

        ``setup`` runs before the timer starts. The child reports the seconds
        ``code`` took and its peak RSS (VmHWM, else ``getrusage``); ``code``
        may add figures by assigning a dict to ``_extra``. The warm-up run
        leaves bytecode caches and the OS file cache warm, so the figures
        measure a cold interpreter, not a cold disk.
        """
        source = textwrap.dedent(setup) + _CHILD_PRELUDE + textwrap.dedent(code) + _CHILD_EPILOGUE
        runs = []
        for _ in range(warmup + (repeat or self.repeat)):
            proc = subprocess.run(
                [self.python, "-c", source],
                cwd=self.repo_root,
                capture_output=True,
                text=True,
                check=False,
            )
            marker = [line for line in proc.stdout.splitlines() if line.startswith("@@K360BENCH@@")]
            if proc.returncode != 0 or not marker:
                raise RuntimeError(
                    f"benchmark child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
                )
            runs.append(json.loads(marker[-1].removeprefix("@@K360BENCH@@")))
        return runs[warmup:]

    def time_calls(
        self, func: Callable[[], object], *, repeat: int | None = None, warmup: int = 1
    ) -> list[float]:
        """Call ``func`` ``warmup`` times, then time ``repeat`` calls; return seconds per call."""
        for _ in range(warmup):
            func()
        out = []
        for _ in range(repeat or self.repeat):
            t0 = time.perf_counter()
            func()
            out.append(time.perf_counter() - t0)
        return out


def _as_result(item) -> Result:
    if isinstance(item, Result):
        return item
    if isinstance(item, dict):
        return Result(**{k: item[k] for k in Result.__dataclass_fields__ if k in item})
    raise TypeError(f"a benchmark returned {type(item).__name__}, expected Result or dict")


def discover(folder: Path = REPO_ROOT / "bench") -> list[str]:
    """Register the entries of the ``bench/<name>.py`` modules; return problems found."""
    import importlib.util

    problems = []
    for path in sorted(folder.glob("*.py")):
        if path.name == "run.py" or path.name.startswith("_"):
            continue
        try:
            spec = importlib.util.spec_from_file_location(f"k360_bench_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            if hasattr(module, "benchmark_entries"):
                for name, description, func in module.benchmark_entries():
                    benchmark(name, description)(func)
            elif hasattr(module, "run_benchmark"):
                doc = (module.__doc__ or path.stem).strip().splitlines()[0]
                benchmark(path.stem, f"{doc} (bench/{path.name})")(module.run_benchmark)
        except Exception as exc:  # noqa: BLE001 - one broken module must not hide the others
            problems.append(f"bench/{path.name}: {type(exc).__name__}: {exc}")
    return problems


def summarize(
    subject: str, metric: str, values: list[float], unit: str, scale: float = 1.0
) -> Result:
    """Median (and min/max) of ``values`` times ``scale``."""
    scaled = [v * scale for v in values]
    return Result(
        subject, metric, statistics.median(scaled), unit, len(scaled), min(scaled), max(scaled)
    )


# -- entries -------------------------------------------------------------------------------


@benchmark(
    "import",
    "import time and peak RSS: `import k360lib` vs `import geopandas` (fresh process each)",
)
def _imports(ctx: Context) -> list[Result]:
    results = []
    for subject, code in [
        ("python (no import)", "pass"),
        ("import k360lib", "import k360lib"),
        ("import geopandas", "import geopandas"),
    ]:
        runs = ctx.run_child(code)
        if code != "pass":  # the baseline's time is ~0; its RSS is the reference
            results.append(summarize(subject, "time", [r["seconds"] for r in runs], "ms", 1000))
        results.append(summarize(subject, "peak RSS", [r["peak_rss_mib"] for r in runs], "MiB"))
    return results


@benchmark("demo_cold", "demo_atlas() in a fresh process: imports + first load")
def _demo_cold(ctx: Context) -> list[Result]:
    code = """
    from k360lib.atlas.demo import demo_atlas
    _t1 = _time.perf_counter()
    _atlas = demo_atlas()
    _extra = {"call_seconds": _time.perf_counter() - _t1, "n_areas": len(_atlas.areas)}
    """
    runs = ctx.run_child(code)
    n_areas = runs[0]["n_areas"]
    return [
        summarize(
            f"demo_atlas() cold ({n_areas} areas)", "time", [r["seconds"] for r in runs], "ms", 1000
        ),
        summarize(
            "demo_atlas() cold, call (lazy imports incl.)",
            "time",
            [r["call_seconds"] for r in runs],
            "ms",
            1000,
        ),
        summarize("demo_atlas() cold", "peak RSS", [r["peak_rss_mib"] for r in runs], "MiB"),
    ]


@benchmark("atlas_load", "Atlas.load(data/geo) warm: repeated loads in one process")
def _atlas_load(ctx: Context) -> list[Result]:
    from k360lib.atlas.model import Atlas

    folder = ctx.repo_root / "data" / "geo"
    times = ctx.time_calls(lambda: Atlas.load(folder))
    return [summarize("Atlas.load(data/geo) warm", "time", times, "ms", 1000)]


@benchmark("demo_generate", "generate_demo() warm: build the demo city from its seed")
def _demo_generate(ctx: Context) -> list[Result]:
    from k360lib.atlas.demo import generate_demo

    times = ctx.time_calls(generate_demo, repeat=max(3, ctx.repeat // 2))
    return [summarize("generate_demo() warm", "time", times, "ms", 1000)]


@benchmark(
    "atlas",
    "Sozialraum-Atlas, Berlin-sized city (550 areas): payload, switch, page load, RSS (Voilà + Chromium)",
)
def _atlas(ctx: Context) -> list[Result]:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "k360_bench_atlas", Path(__file__).with_name("atlas.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.run(ctx, Result, summarize)


# -- command line --------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if abs(value) < 1e6 else f"{value:,.0f}"


def format_table(results: list[tuple[str, Result]]) -> str:
    """Return the results as a fixed-width text table."""
    header = ("entry", "subject", "metric", "median", "min", "max", "unit", "n")
    rows = [
        (entry, r.subject, r.metric, _fmt(r.value), _fmt(r.min), _fmt(r.max), r.unit, str(r.n))
        for entry, r in results
    ]
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(header)
    ]
    numeric = {3, 4, 5, 7}

    def line(cells):
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def environment() -> dict:
    """Describe the machine and versions the figures were measured on."""
    import importlib.metadata as md

    versions = {}
    for dist in ("k360", "geopandas", "pandas", "shapely", "pyogrio", "numpy"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this entry (repeatable)"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="repetitions per figure (median is reported)"
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--list", action="store_true", help="list the entries and exit")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT))  # measure this checkout even without `pip install -e .`
    for problem in discover():
        print(f"warning: {problem}", file=sys.stderr)
    if args.list:
        for entry in BENCHMARKS.values():
            print(f"{entry.name:16s} {entry.description}")
        return 0
    names = args.only or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    ctx = Context(repeat=args.repeat)
    results: list[tuple[str, Result]] = []
    for name in names:
        entry = BENCHMARKS[name]
        print(f"running {name}: {entry.description} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        results.extend((name, _as_result(r)) for r in entry.func(ctx))
        print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    print(format_table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "environment": environment(),
            "repeat": args.repeat,
            "results": [{"entry": name, **asdict(r)} for name, r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
