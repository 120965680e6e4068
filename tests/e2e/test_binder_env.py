"""Binder and non-editable installs: a fresh environment built from ``binder/`` alone.

What Binder (repo2docker) does with this repository, replayed without Docker:

1. a fresh copy of the working tree (what a clone of the commit holds: tracked
   and new files, nothing git ignores - no ``build/``, no ``*.egg-info``);
2. a new virtual environment with the Python that ``binder/runtime.txt`` pins;
3. ``pip install -r binder/requirements.txt`` from the repository root (a
   regular, non-editable install: ``k360lib`` lands in site-packages);
4. ``binder/postBuild``;
5. a Jupyter server from that environment (Binder runs one; the badge's
   ``urlpath=voila/render/notebooks/00_start.ipynb`` is the Voilà server
   extension), and headless Chromium opening the start page and the atlas.

The same environment also runs ``k360 serve`` outside the repository: the
notebooks, the demo city, catalogs and scenarios then come from the wheel
(``k360lib/_bundle``). The pip cache (``$PIP_CACHE_DIR`` or the user's) keeps
the install fast; nothing here is skipped under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
#: shipped folders: source folder -> folder in the wheel
BUNDLED = {
    "data/geo": "k360lib/_bundle/geo",
    "data/catalog": "k360lib/_bundle/catalog",
    "data/scenarios": "k360lib/_bundle/scenarios",
    "notebooks": "k360lib/_bundle/notebooks",
}
RENDER_S = 240.0
PRIOR_SETTINGS = {"ServerApp": {"tornado_settings": {"keep": 1}}, "Other": {"a": 1}}


def harness():
    """The e2e harness module (``tests/e2e/harness.py``), loaded by path."""
    import importlib.util

    name = "k360_e2e_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "e2e" / "harness.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    return sys.modules[name]


def is_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str):
    if is_ci():
        pytest.fail(f"{reason} (CI=true: the Binder test must run, not skip)", pytrace=False)
    pytest.skip(reason)


def run(cmd, *, cwd, env=None, timeout=1200) -> str:
    """Run ``cmd``; fail the test with its output if it fails."""
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=str(cwd),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode:
        pytest.fail(
            f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
            f"{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc.stdout + proc.stderr


def fresh_clone(dest: Path) -> Path:
    """Copy what a clone of the working tree holds (tracked + new files, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():  # deleted but still tracked files are not in a new commit
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def pinned_python() -> str:
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", text)
    assert match, f"binder/runtime.txt must pin a Python version like python-3.11, not {text!r}"
    return match.group(1)


# -- the binder/ files themselves (fast) --------------------------------------------------
def test_binder_files_pin_python_install_the_package_and_configure_culling():
    from k360lib.serve import CULL_IDLE_TIMEOUT, CULL_INTERVAL, TEMPLATE

    version = pinned_python()
    assert tuple(map(int, version.split("."))) >= (3, 10)  # pyproject: requires-python >= 3.10
    reqs = [
        line.split("#", 1)[0].strip()
        for line in (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    ]
    (local,) = [r for r in reqs if r.startswith(".[")]
    extras = set(local[2:-1].split(","))
    assert {"app", "analysis"} <= extras, "Binder installs the package with the apps and analyses"
    config = json.loads((BINDER / "jupyter_server_config.json").read_text(encoding="utf-8"))
    assert config["MappingKernelManager"] == {
        "cull_idle_timeout": CULL_IDLE_TIMEOUT,
        "cull_interval": CULL_INTERVAL,
        "cull_connected": False,
    }
    assert config["VoilaConfiguration"]["template"] == TEMPLATE
    # Voilà's page loads MathJax from a CDN unless both settings are null
    assert config["ServerApp"]["tornado_settings"] == {"mathjax_url": None, "mathjax_config": None}
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "repo2docker runs binder/postBuild as an executable"
    run(["bash", "-n", post], cwd=ROOT)


def test_readme_badges_open_the_start_page_and_jupyterlab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((https://mybinder\.org/v2/gh/[^)\s]+)\)", readme)
    assert any(link.endswith("?urlpath=voila/render/notebooks/00_start.ipynb") for link in links)
    assert any(link.endswith("?urlpath=lab") for link in links)
    assert (ROOT / "notebooks" / "00_start.ipynb").is_file()


# -- packaging: the wheel carries the data ---------------------------------------------------
@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    return fresh_clone(tmp_path_factory.mktemp("clone") / "k360")


@pytest.fixture(scope="module")
def wheel(clone, tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, clone], cwd=clone)
    (whl,) = dist.glob("k360-*.whl")
    return whl


def test_wheel_contains_the_data_and_the_notebooks(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for source, packaged in BUNDLED.items():
            files = [p for p in sorted((ROOT / source).iterdir()) if p.is_file()]
            if source == "notebooks":
                files = [p for p in files if p.suffix == ".ipynb"]
            assert files, source
            for path in files:
                name = f"{packaged}/{path.name}"
                assert name in names, f"{name} is missing from {wheel.name}"
                assert zf.read(name) == path.read_bytes(), f"{name} differs from {source}"
        assert "k360lib/widgets/share/voila/templates/k360/index.html.j2" in names
        assert any(n.startswith("k360lib/messages/") and n.endswith(".json") for n in names)
        assert not any(n.startswith(("data/", "notebooks/", "tests/")) for n in names)


# -- the Binder environment -------------------------------------------------------------------
def clean_env(home: Path, venv: Path | None = None) -> dict[str, str]:
    """The environment of a new Binder user: no k360/Jupyter settings of this machine."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("K360_", "JUPYTER_", "VIRTUAL_ENV", "PYTHON"))
    }
    cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env.update(HOME=str(home), PIP_CACHE_DIR=cache, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(venv)
    return env


@pytest.fixture(scope="module")
def binder_env(clone, tmp_path_factory):
    """Build the environment; return ``(clone, venv, env, seconds per step)``."""
    version = pinned_python()
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = sys.executable if here == version else shutil.which(f"python{version}")
    if python is None:
        unavailable(f"binder/runtime.txt pins Python {version}, which is not installed here")
    base = tmp_path_factory.mktemp("binder")
    home, venv = base / "home", base / "venv"
    home.mkdir()
    timings = {}
    t0 = time.monotonic()
    run([python, "-m", "venv", venv], cwd=base, env=clean_env(home))
    timings["venv"] = time.monotonic() - t0
    env = clean_env(home, venv)
    t0 = time.monotonic()
    run(
        [venv / "bin" / "python", "-m", "pip", "install", "-r", "binder/requirements.txt"],
        cwd=clone,
        env=env,
        timeout=1500,
    )
    timings["pip install"] = time.monotonic() - t0
    # settings already in the environment are kept (postBuild merges)
    (venv / "etc" / "jupyter").mkdir(parents=True, exist_ok=True)
    (venv / "etc" / "jupyter" / "jupyter_server_config.json").write_text(
        json.dumps(PRIOR_SETTINGS), encoding="utf-8"
    )
    t0 = time.monotonic()
    out = run([clone / "binder" / "postBuild"], cwd=clone, env=env)
    timings["postBuild"] = time.monotonic() - t0
    assert "k360: Voilà template and server settings installed" in out
    print(
        "\nBinder environment built in " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
    )
    return clone, venv, env, timings


def test_binder_env_has_a_regular_install(binder_env):
    clone, venv, env, _ = binder_env
    code = (
        "import k360lib, k360lib.bundled as b, json;"
        "from k360lib.atlas.demo import demo_data_dir;"
        "from k360lib.game.scenario import scenario_dir;"
        "from k360lib.responsibility.catalog import default_catalog_dir;"
        "from k360lib.serve import notebooks_dir;"
        "print(json.dumps([k360lib.__file__, str(b.source_checkout()), str(demo_data_dir()),"
        " str(scenario_dir()), str(default_catalog_dir()), str(notebooks_dir())]))"
    )
    out = run([venv / "bin" / "python", "-c", code], cwd=venv, env=env).strip().splitlines()[-1]
    module, checkout, *folders = json.loads(out)
    assert Path(module).is_relative_to(venv), "k360lib is installed in the venv, not editable"
    assert checkout == "None"
    for folder in folders:
        assert "_bundle" in folder and Path(folder).is_dir(), folder
    # the demo city loads from the packaged files (not regenerated)
    code = (
        "from k360lib.atlas.demo import demo_atlas, demo_data_dir;"
        "from k360lib.game.scenario import load_scenario;"
        "from k360lib.responsibility import load_catalog;"
        "a = demo_atlas(); load_scenario('default'); load_catalog();"
        "print(len(a.areas), (demo_data_dir() / 'areas.geojson').is_file())"
    )
    out = run([venv / "bin" / "python", "-c", code], cwd=venv, env=env)
    assert out.strip().splitlines()[-1] == "24 True"
    # postBuild put the template and the settings into the environment
    assert (venv / "share/jupyter/voila/templates/k360/index.html.j2").is_file()
    settings = json.loads((venv / "etc/jupyter/jupyter_server_config.json").read_text())
    ours = json.loads((BINDER / "jupyter_server_config.json").read_text())
    assert settings["Other"] == PRIOR_SETTINGS["Other"]
    assert settings["ServerApp"]["tornado_settings"] == {
        "keep": 1,
        **ours["ServerApp"]["tornado_settings"],
    }
    for section in ("MappingKernelManager", "VoilaConfiguration"):
        assert settings[section] == ours[section]


@pytest.fixture(scope="module")
def chromium(browser):
    """The e2e suite's session-wide Chromium (one Playwright per process: a second
    ``sync_playwright()`` inside the first one's event loop is refused)."""
    return browser


def kernel_pythons(server_pid: int) -> list[str]:
    """Executables of the ipykernel processes below ``server_pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [server_pid]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            todo.append(child)
            try:
                argv = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(b"ipykernel" in a for a in argv):
                found.append(argv[0].decode())
    return found


def open_start_then_atlas(browser, server, start: str, name: str, while_open=None) -> None:
    """Open the start page, check it, follow the atlas link and check the atlas.

    ``while_open(server)`` runs while the atlas page is still open.
    """
    from k360lib.i18n import t

    session = harness().BrowserSession(browser, name)
    try:
        page = session.open(server, start, ready=".k360-start .k360-start-link", timeout=RENDER_S)
        assert page.inner_text(".k360-start h2.k360-title") == t("start.title", "de")
        link = page.locator(".k360-start-app[data-app='atlas'] a.k360-start-link")
        with page.expect_navigation(wait_until="commit", timeout=RENDER_S * 1000):
            link.click()
        atlas_url = server.url_for(start.replace("00_start", "01_sozialraum_atlas"))
        assert page.url == atlas_url + "?lang=de"  # the start page passes its language on
        session.wait_rendered(RENDER_S, ready=".k360-atlas-explorer h2.k360-title")
        assert "Wiesenfurt an der Aue" in page.inner_text(".k360-atlas-explorer h2.k360-title")
        if while_open is not None:
            while_open(server)
        problems = session.problems()  # no CDN request, no uncaught page error
        assert not problems, "\n".join(problems)
    except BaseException:
        print(session.diagnostics())
        raise
    finally:
        session.screenshot()
        session.close()


@pytest.mark.e2e
@pytest.mark.timeout(2400)
def test_binder_start_page_opens_the_atlas(binder_env, chromium, tmp_path):
    """Binder's server: Jupyter server + Voilà extension at ``/voila/render/notebooks/...``."""
    clone, venv, env, timings = binder_env
    server = harness().VoilaServer(
        lambda port: [
            str(venv / "bin" / "jupyter-server"),
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={clone}",
            *(["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root; Binder does not
        ],
        clone,
        tmp_path / "jupyter-server.log",
        env=env,
        cwd=clone,
    )
    # a folder server: pages are /voila/render/<path relative to the repository>
    server.start(timeout=120)
    try:
        started = time.monotonic()

        def kernels_run_in_the_venv(server):
            pythons = kernel_pythons(server.proc.pid)
            assert pythons and all(Path(p).is_relative_to(venv) for p in pythons), pythons

        open_start_then_atlas(
            chromium,
            server,
            "notebooks/00_start.ipynb",
            "binder_start_page_atlas",
            while_open=kernels_run_in_the_venv,
        )
        log = server.log_path.read_text(encoding="utf-8", errors="replace")
        assert "Culling kernels with idle durations > 900 seconds" in log, log[-3000:]
        print(
            f"\nBinder test: environment {sum(timings.values()):.0f} s "
            f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}), "
            f"browser part {time.monotonic() - started:.0f} s"
        )
    finally:
        server.stop()


@pytest.mark.e2e
@pytest.mark.timeout(2400)
def test_k360_serve_from_a_regular_install(binder_env, chromium, tmp_path):
    """``k360 serve`` of the installed package, run outside the repository: bundled notebooks."""
    _, venv, env, _ = binder_env
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    bundle = Path(
        run(
            [venv / "bin" / "python", "-c", "import k360lib.serve as s; print(s.notebooks_dir())"],
            cwd=outside,
            env=env,
        )
        .strip()
        .splitlines()[-1]
    )
    assert bundle.is_relative_to(venv) and (bundle / "00_start.ipynb").is_file()
    server = harness().VoilaServer(
        lambda port: [str(venv / "bin" / "k360"), "serve", "--no-browser", "--port", str(port)],
        bundle,
        tmp_path / "k360-serve.log",
        env=env,
        cwd=outside,
    )
    server.start(timeout=120)
    try:
        log = server.log_path.read_text(encoding="utf-8", errors="replace")
        assert f"http://127.0.0.1:{server.port}/voila/render/00_start.ipynb" in log
        open_start_then_atlas(chromium, server, "00_start.ipynb", "installed_k360_serve_atlas")
    finally:
        server.stop()
