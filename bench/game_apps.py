"""Planspiel apps: player kernel RSS, phase-change propagation to 10 player kernels, player page load.

``bench/run.py`` discovers the entries of this module (:func:`benchmark_entries`);
``python bench/run.py --only game_apps`` runs all three (about 2–3 minutes),
``--only game_apps_rss`` / ``game_apps_propagation`` / ``game_apps_load`` one.

Entries
-------
game_apps_rss
    Real ipykernels started with ``jupyter_client``: one executes the code
    cells of ``notebooks/04_mitspielen.ipynb`` for a joined player
    (``QUERY_STRING`` and ``K360_STORE`` in the kernel's environment), one
    only ``import ipywidgets``; resident memory (``VmRSS``) and peak
    (``VmHWM``) of the kernel process, interleaved, median of the repeats.
    Goal: player kernel <= 90 MB.
game_apps_propagation
    Ten kernels run the player app (notebook 04) on one SQLite store; the
    facilitator changes the phase twelve times through the library
    (``GameSession.submit``: advance through both rounds, then rewind);
    a probe in each kernel observes the app's status widget
    (``.k360-player-status``) and records when its value shows the new
    phase and round. Delay from the committed write to that moment (the
    widget update then travels to the browser: the end-to-end test
    ``tests/e2e/test_planspiel.py`` measures click-to-screen), p50/p95 over
    all kernels and changes. Goal (issue 6): <= 2 s.
game_apps_load
    Voilà (``k360lib.serve.voila_command``) + Chromium (Playwright):
    from requesting a player link to a usable screen (a control of the
    player app visible and enabled) vs a minimal Voilà notebook with one
    ipywidgets Button; interleaved, median of the repeats. The page is left
    through ``about:blank`` so Voilà shuts its kernel down (``beforeunload``).

The machine matters: on a shared, loaded machine the figures are noisy;
measure again on a quiet one for the record.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py
from _common import fig, summary, write_notebook  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
PLAYER_NOTEBOOK = REPO_ROOT / "notebooks" / "04_mitspielen.ipynb"
SCENARIO = "kurz"
#: player kernels of the propagation benchmark
N_KERNELS = 10
#: phase changes of the propagation benchmark (>= 10)
N_CHANGES = 12
KERNEL_TIMEOUT = 180.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# What the end-to-end tests and this benchmark rely on in the player app
# (documented in k360lib/widgets/player.py): the phase display and a control.
PHASE_CLASS = "k360-player-status"
READY_PLAYER = ".k360-player .k360-propose-submit:not([disabled])"
READY_MINIMAL = "button.bench-ready:not([disabled])"

_MINIMAL_NB = """
import ipywidgets as W
_b = W.Button(description="OK")
_b.add_class("bench-ready")
_b
"""


# -- small helpers -----------------------------------------------------------------------


def percentile(values, q: float) -> float:
    """Linear-interpolated percentile ``q`` (0…1) of ``values``."""
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def proc_memory_mib(pid: int) -> tuple[float, float]:
    """Current (``VmRSS``) and peak (``VmHWM``) resident memory of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def notebook_code(path: Path) -> list[str]:
    """Return the sources of the code cells of a notebook (what Voilà executes)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            cells.append("".join(src) if isinstance(src, list) else src)
    return cells


def player_code() -> list[str]:
    """The code cells of the player notebook; a clear error when it does not exist yet."""
    if not PLAYER_NOTEBOOK.is_file():
        raise RuntimeError(f"the player notebook {PLAYER_NOTEBOOK} does not exist yet")
    return notebook_code(PLAYER_NOTEBOOK)


def new_game(store_path: Path, seed: int = 11):
    """Create a ``kurz`` game in a SQLite file; return ``(codes, facilitator session, store)``."""
    from k360lib.game.session import create_game, join
    from k360lib.game.store import open_store

    store = open_store(store_path)
    codes = create_game(store, SCENARIO, seed=seed)
    boss = join(store, codes.game_code, codes.facilitator)
    return codes, boss, store


# -- a real kernel -----------------------------------------------------------------------


class Kernel:
    """An ipykernel started with ``jupyter_client`` in its own environment.

    Parameters
    ----------
    env : dict, optional
        Variables added to this process's environment (e.g. ``QUERY_STRING``).
    cwd : Path, optional
        Working directory of the kernel (the notebook's folder).
    """

    def __init__(self, env: dict | None = None, cwd: Path | None = None):
        from jupyter_client import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(
            env={**os.environ, **(env or {})},
            cwd=str(cwd or REPO_ROOT),
            stdout=subprocess.DEVNULL,  # the kernel's own log lines (TCP warning) stay out
            stderr=subprocess.DEVNULL,
        )
        self.kc = self.km.client()
        self.kc.start_channels()

    def wait_ready(self, timeout: float = KERNEL_TIMEOUT) -> Kernel:
        self.kc.wait_for_ready(timeout=timeout)
        return self

    @property
    def pid(self) -> int:
        return int(self.km.provisioner.process.pid)

    def execute(self, code: str, timeout: float = KERNEL_TIMEOUT) -> str:
        """Run ``code``; return its stdout; raise with the traceback when it fails."""
        out: list[str] = []
        error: list[str] = []

        def hook(msg):
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                error.append("\n".join(content.get("traceback", [])))

        reply = self.kc.execute_interactive(
            code, timeout=timeout, output_hook=hook, allow_stdin=False, stop_on_error=True
        )
        if error or reply["content"].get("status") != "ok":
            text = _ANSI.sub("", "\n".join(error) or str(reply))
            raise RuntimeError("kernel code failed:\n" + text[-4000:])
        return "".join(out)

    def memory_mib(self) -> tuple[float, float]:
        return proc_memory_mib(self.pid)

    def shutdown(self) -> None:
        try:
            self.kc.stop_channels()
        finally:
            self.km.shutdown_kernel(now=True)


def _run_cells(kernel: Kernel, cells: list[str]) -> None:
    for src in cells:
        kernel.execute(src)


# -- (a) RSS -------------------------------------------------------------------------------


def rss(ctx) -> list[dict]:
    """Player kernel vs an ``import ipywidgets`` kernel: RSS, interleaved."""
    cells = player_code()
    repeat = 3  # the figures vary by < 1 MiB between runs
    player, baseline, player_peak, baseline_peak = [], [], [], []
    heavy: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="k360-bench-rss-") as d:
        store_path = Path(d) / "games.sqlite3"
        codes, _, store = new_game(store_path)
        store.close()
        env = {"K360_STORE": str(store_path), "K360_LANG": "de"}
        seats = list(codes.seats)
        for i in range(repeat):
            k = Kernel({**env, "QUERY_STRING": codes.query(seats[i % len(seats)])})
            try:
                k.wait_ready()
                _run_cells(k, cells)
                time.sleep(1.0)  # let the app poll a few times
                now, peak = k.memory_mib()
                player.append(now)
                player_peak.append(peak)
                out = k.execute(
                    f"import sys; print(','.join(m for m in {_HEAVY!r} if m in sys.modules))"
                )
                heavy.update(m for m in out.strip().split(",") if m)
            finally:
                k.shutdown()
            k = Kernel(env)
            try:
                k.wait_ready()
                k.execute("import ipywidgets")
                time.sleep(1.0)
                now, peak = k.memory_mib()
                baseline.append(now)
                baseline_peak.append(peak)
            finally:
                k.shutdown()
    _note(
        ctx,
        "player kernel loaded "
        + (", ".join(sorted(heavy)) if heavy else "none of " + ", ".join(_HEAVY)),
    )
    mb = 1024 * 1024 / 1e6
    return [
        summary("kernel: import ipywidgets only", "RSS", baseline, "MiB"),
        summary("kernel: import ipywidgets only, peak", "RSS", baseline_peak, "MiB"),
        summary("player kernel (notebook 04, joined)", "RSS", player, "MiB"),
        summary("  the same in MB (goal <= 90 MB)", "RSS", player, "MB", mb),
        summary("player kernel, peak", "RSS", player_peak, "MiB"),
        fig(
            "  player minus baseline",
            "RSS",
            statistics.median(player) - statistics.median(baseline),
            "MiB",
            repeat,
        ),
    ]


_HEAVY = ("pandas", "geopandas", "shapely", "pyproj", "mapclassify", "folium", "matplotlib")


def _note(ctx, text: str) -> None:
    """Keep a note with the results and show it now (``bench/run.py`` does not print notes)."""
    ctx.notes.append(text)
    print(f"  note: {text}", file=sys.stderr, flush=True)


# -- (b) propagation -----------------------------------------------------------------------

# Installed in each player kernel after the notebook ran: watch the widgets that
# carry the phase class and append (time, value) to a file whenever one changes.
_PROBE = """
def _k360_probe(path, css_class):
    import json as _j, time as _t
    from ipywidgets.widgets import widget as _w

    found = [w for w in list(_w._instances.values())
             if css_class in getattr(w, "_dom_classes", ()) and hasattr(w, "value")]

    def seen(change):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(_j.dumps({"t": _t.time(), "value": str(change["new"])}) + "\\n")

    for w in found:
        w.observe(seen, names="value")
    return len(found)
"""


def _phase_marks(phase: str, rnd: int) -> list[str]:
    """Texts that must all be in the status widget's value once it shows ``phase`` of ``rnd``."""
    return [f'data-k360-phase="{phase}"', f'data-k360-round="{rnd}"']


def _read_probe(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line being written
            break
    return rows


def _next_change(boss):
    """A facilitator command that changes the phase: advance; at the very last phase, rewind."""
    from k360lib.game import commands as C

    s = boss.state
    at_end = s.round == s.scenario.rounds and s.phase_index == len(s.rules.phases) - 1
    return C.rewind() if at_end else C.advance()


def propagation(ctx, n_kernels: int = N_KERNELS, n_changes: int = N_CHANGES) -> list[dict]:
    """Phase changes by the facilitator -> seen by the app in ``n_kernels`` player kernels."""
    cells = player_code()
    work = Path(tempfile.mkdtemp(prefix="k360-bench-prop-"))
    kernels: list[Kernel] = []
    try:
        store_path = work / "games.sqlite3"
        codes, boss, store = new_game(store_path)
        seats = list(codes.seats)
        env = {"K360_STORE": str(store_path), "K360_LANG": "de"}
        t0 = time.perf_counter()
        for i in range(n_kernels):
            query = codes.query(seats[i % len(seats)])
            kernels.append(Kernel({**env, "QUERY_STRING": query}, cwd=PLAYER_NOTEBOOK.parent))
        for k in kernels:
            k.wait_ready()
        for i, k in enumerate(kernels):
            _run_cells(k, cells)
            probe = f"{_PROBE}\nprint(_k360_probe({str(work / f'k{i}.jsonl')!r}, {PHASE_CLASS!r}))"
            n = int(k.execute(probe))
            if n < 1:
                raise RuntimeError(
                    f"no widget with CSS class {PHASE_CLASS!r} in the player app "
                    "(see k360lib/widgets/player.py)"
                )
        start_s = time.perf_counter() - t0
        _note(ctx, f"{n_kernels} player kernels started and ran notebook 04 in {start_s:.0f} s")
        time.sleep(2.0)  # every app has polled once
        delays: list[float] = []
        per_change: list[float] = []
        missed = 0
        for _ in range(n_changes):
            cmd = _next_change(boss)
            before = [len(_read_probe(work / f"k{i}.jsonl")) for i in range(n_kernels)]
            ev = boss.submit(cmd)
            t_commit = time.time()
            marks = _phase_marks(ev.payload["to"], boss.state.round)
            seen: dict[int, float] = {}
            deadline = time.monotonic() + 15.0
            while len(seen) < n_kernels and time.monotonic() < deadline:
                for i in range(n_kernels):
                    if i in seen:
                        continue
                    for row in _read_probe(work / f"k{i}.jsonl")[before[i] :]:
                        if all(m in row["value"] for m in marks):
                            seen[i] = max(0.0, row["t"] - t_commit)
                            break
                time.sleep(0.02)
            missed += n_kernels - len(seen)
            delays.extend(seen.values())
            if seen:
                per_change.append(max(seen.values()))
            time.sleep(0.3)
        store.close()
    finally:
        for k in kernels:
            try:
                k.shutdown()
            except Exception:  # noqa: BLE001 - shut down the others anyway
                pass
        shutil.rmtree(work, ignore_errors=True)
    if missed:
        _note(ctx, f"propagation: {missed} kernel x change pairs not seen within 15 s")
    return [
        fig(
            f"phase change -> {n_kernels} player apps: p50",
            "delay",
            1000 * percentile(delays, 0.5),
            "ms",
            len(delays),
            1000 * min(delays),
            1000 * max(delays),
        ),
        fig(
            f"phase change -> {n_kernels} player apps: p95",
            "delay",
            1000 * percentile(delays, 0.95),
            "ms",
            len(delays),
        ),
        summary("  last of the kernels, per change", "delay", per_change, "ms", 1000),
        fig("  not seen within 15 s", "count", missed, "", n_changes * n_kernels),
    ]


# -- (c) page load ----------------------------------------------------------------------


def _leave(session) -> None:
    """Leave the page so Voilà shuts its kernel down (``beforeunload``), then close."""
    try:
        session.page.goto("about:blank", timeout=10_000)
        time.sleep(0.3)
    except Exception:  # noqa: BLE001 - closing anyway
        pass
    session.close()


def page_load(ctx) -> list[dict]:
    """Player link -> usable screen vs a minimal Voilà notebook, interleaved."""
    sys.path.insert(0, str(REPO_ROOT))
    from playwright.sync_api import sync_playwright

    from k360lib.game import commands as C
    from k360lib.serve import voila_command
    from tests.e2e.harness import BrowserSession, VoilaServer, find_chromium

    if not PLAYER_NOTEBOOK.is_file():
        raise RuntimeError(f"the player notebook {PLAYER_NOTEBOOK} does not exist yet")
    repeat = max(3, min(ctx.repeat, 5))
    work = Path(tempfile.mkdtemp(prefix="k360-bench-load-"))
    loads: dict[str, list[float]] = {"player": [], "minimal": []}
    try:
        store_path = work / "games.sqlite3"
        codes, boss, store = new_game(store_path)
        boss.submit(C.draw_card())
        boss.submit(C.advance())  # Planung: a player may propose
        store.close()
        shutil.copy(PLAYER_NOTEBOOK, work / PLAYER_NOTEBOOK.name)
        write_notebook(work / "minimal.ipynb", _MINIMAL_NB)
        server = VoilaServer(
            lambda port: voila_command(work, port=port),
            work,
            work / "voila.log",
            env={"K360_STORE": str(store_path), "K360_LANG": "de"},
            cwd=work,
        )
        server.start()
        # the youth office can afford its proposals: its "propose" button is enabled in Planung
        player_query = codes.query("jugendamt")
        try:
            with sync_playwright() as pw:
                _, launch = find_chromium(pw)
                browser = pw.chromium.launch(**launch)
                try:
                    for i in range(repeat + 1):  # round 0 warms caches, not counted
                        for name in ("minimal", "player"):
                            if name == "player":
                                url = server.url_for(PLAYER_NOTEBOOK.name, player_query)
                                ready = READY_PLAYER
                            else:
                                url, ready = server.url_for("minimal.ipynb"), READY_MINIMAL
                            session = BrowserSession(browser, f"bench-load-{name}-{i}")
                            try:
                                t0 = time.perf_counter()
                                session.page.goto(url, wait_until="commit", timeout=120_000)
                                session.page.wait_for_selector(
                                    ready, state="visible", timeout=120_000
                                )
                                elapsed = time.perf_counter() - t0
                                problems = session.problems()
                                if problems:
                                    raise RuntimeError("\n".join(problems))
                            except Exception as exc:
                                raise RuntimeError(f"{exc}\n\n{session.diagnostics()}") from None
                            finally:
                                _leave(session)
                            if i:
                                loads[name].append(elapsed)
                finally:
                    browser.close()
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t_min, t_player = statistics.median(loads["minimal"]), statistics.median(loads["player"])
    return [
        summary(
            "minimal Voilà notebook (one Button): request -> enabled",
            "page load",
            loads["minimal"],
            "ms",
            1000,
        ),
        summary("player link: request -> usable control", "page load", loads["player"], "ms", 1000),
        fig("  ratio to the minimal notebook", "page load", t_player / t_min, "x", repeat),
    ]


# -- registry ------------------------------------------------------------------------------


def all_apps(ctx) -> list[dict]:
    """The three figures in one run."""
    out = []
    for name, func in (("rss", rss), ("propagation", propagation), ("load", page_load)):
        t0 = time.perf_counter()
        out += func(ctx)
        print(f"  game_apps {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return out


def benchmark_entries():
    """The entries ``bench/run.py`` discovers in this module."""
    return [
        (
            "game_apps",
            "Planspiel apps: player RSS, phase propagation to 10 kernels, player page load",
            all_apps,
        ),
        ("game_apps_rss", "Planspiel: player kernel RSS vs ipywidgets only (goal <= 90 MB)", rss),
        (
            "game_apps_propagation",
            "Planspiel: phase change -> 10 player kernels, p50/p95 (goal <= 2 s)",
            propagation,
        ),
        (
            "game_apps_load",
            "Planspiel: player link -> usable screen vs a minimal Voilà notebook",
            page_load,
        ),
    ]


if __name__ == "__main__":
    sys.exit(
        subprocess.call(
            [
                sys.executable,
                str(Path(__file__).with_name("run.py")),
                "--only",
                "game_apps",
                *sys.argv[1:],
            ]
        )
    )
