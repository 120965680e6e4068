"""Tests of k360lib.serve: the Voilà command line and the checks before starting it."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

import k360lib.serve as serve_mod
from k360lib.errors import K360Error
from k360lib.serve import (
    CULL_IDLE_TIMEOUT,
    DEFAULT_NOTEBOOK,
    NO_PREHEAT,
    START_NOTEBOOK,
    TEMPLATE_ROOT,
    kernel_env,
    notebooks_dir,
    page_url,
    resolve_notebook,
    serve,
    voila_command,
)

ATLAS_NOTEBOOK = "01_sozialraum_atlas.ipynb"


def test_default_command():
    cmd = voila_command("nb.ipynb", python="py")
    assert cmd[:4] == ["py", "-m", "k360lib.serve", "nb.ipynb"]
    assert "--port=8866" in cmd
    assert "--Voila.ip=127.0.0.1" in cmd  # this computer only
    assert "--Voila.port_retries=0" in cmd  # a busy port is an error, not a silent switch
    assert f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT}" in cmd
    assert "--MappingKernelManager.cull_interval=60" in cmd
    assert "--MappingKernelManager.cull_connected=False" in cmd
    assert "--VoilaConfiguration.show_tracebacks=False" in cmd
    assert "--template=k360" in cmd
    assert "--no-browser" in cmd
    assert cmd.count("--no-browser") == 1
    assert not any("preheat" in a or "pool_size" in a for a in cmd)  # preheating is opt-in
    # the page's shutdown beacon carries no XSRF token (voila #1458): let it through
    assert "--Voila.tornado_settings={'disable_check_xsrf': True}" in cmd
    assert not any("xsrf" in a for a in voila_command("nb.ipynb", shutdown_on_close=False))


def test_command_options():
    cmd = voila_command(
        Path("a/b.ipynb"),
        port=9001,
        ip="0.0.0.0",
        open_browser=True,
        cull_idle_timeout=0,
        extra_args=["--debug"],
    )
    assert cmd[0] == sys.executable
    assert cmd[3] == str(Path("a/b.ipynb"))
    assert "--port=9001" in cmd and "--Voila.ip=0.0.0.0" in cmd
    assert "--no-browser" not in cmd
    assert "--MappingKernelManager.cull_idle_timeout=0" in cmd
    assert cmd[-1] == "--debug"


def test_plain_voila_without_template():
    cmd = voila_command("nb.ipynb", template=None, python="py")
    assert cmd[:3] == ["py", "-m", "voila"]
    assert not any(a.startswith("--template") for a in cmd)


@pytest.mark.parametrize("port", [0, -1, 70000, "8866", True, 8866.0])
def test_invalid_port(port):
    with pytest.raises(ValueError, match="port"):
        voila_command("nb.ipynb", port=port)


def test_offline_template_exists_without_cdn_links():
    folder = TEMPLATE_ROOT / "voila" / "templates" / "k360"
    assert (folder / "conf.json").is_file()
    text = (folder / "index.html.j2").read_text(encoding="utf-8")
    assert "extends 'lab/index.html.j2'" in text
    body = text.split("-#}", 1)[1]  # after the explanatory comment
    assert "<link" not in body and "cdn" not in body and "http" not in body
    assert "super.super()" in body  # skips the lab block that holds the CDN links


def test_run_voila_puts_template_on_jupyter_path(monkeypatch):
    import voila.app

    seen = {}

    def fake_main():
        seen["argv"] = list(sys.argv)
        seen["path"] = serve_mod.os.environ["JUPYTER_PATH"]
        return 0

    monkeypatch.setattr(voila.app, "main", fake_main)
    monkeypatch.setenv("JUPYTER_PATH", "/other")
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    assert serve_mod.run_voila(["x.ipynb", "--port=1"]) == 0
    assert seen["argv"] == ["voila", "x.ipynb", "--port=1"]
    assert seen["path"].split(serve_mod.os.pathsep) == [str(TEMPLATE_ROOT), "/other"]


def test_resolve_notebook():
    default = resolve_notebook(None)
    assert DEFAULT_NOTEBOOK == START_NOTEBOOK
    assert default.name == START_NOTEBOOK and default.is_file()
    atlas = resolve_notebook("01_sozialraum_atlas")
    assert atlas.name == ATLAS_NOTEBOOK and atlas.is_file()
    assert resolve_notebook(ATLAS_NOTEBOOK) == atlas
    assert resolve_notebook(str(atlas)) == atlas.resolve()
    with pytest.raises(K360Error) as err:
        resolve_notebook("99_nope")
    assert err.value.key == "serve.notebook_not_found"
    assert START_NOTEBOOK in err.value.message("en") and ATLAS_NOTEBOOK in err.value.message("en")


def test_preheat_command_excludes_the_game_notebooks():
    cmd = voila_command("notebooks", preheat=2, python="py")
    assert "--preheat_kernel=True" in cmd and "--pool_size=2" in cmd
    denied = [
        a.split("=", 1)[1] for a in cmd if a.startswith("--VoilaKernelManager.preheat_denylist=")
    ]
    assert denied == list(NO_PREHEAT)
    assert {"03_spielleitung.ipynb", "04_mitspielen.ipynb", "05_auswertung.ipynb"} == set(denied)


def test_page_url():
    assert page_url("127.0.0.1", 8866) == "http://127.0.0.1:8866/voila/render/00_start.ipynb"
    assert page_url("10.0.0.5", 9000, None) == "http://10.0.0.5:9000/"
    assert page_url("h", 1, "a b.ipynb") == "http://h:1/voila/render/a%20b.ipynb"


def test_every_start_page_link_is_a_notebook_name_in_the_served_folder():
    from k360lib.widgets.start import APPS

    names = [app.notebook for app in APPS]
    assert names == sorted(names) and len(set(names)) == 6
    assert all(name.endswith(".ipynb") and "/" not in name for name in names)
    assert (notebooks_dir() / START_NOTEBOOK).is_file()
    assert {"01_sozialraum_atlas.ipynb", "02_zustaendigkeiten.ipynb", "06_eigene_daten.ipynb"} <= {
        p.name for p in notebooks_dir().glob("*.ipynb")
    }


# -- kernel environment: --data, --store, --lang ---------------------------------------
@pytest.fixture(scope="module")
def atlas_folder(tmp_path_factory):
    from k360lib.atlas.demo import demo_atlas

    atlas = demo_atlas()
    atlas.meta["name"] = "Teststadt <b>"
    folder = tmp_path_factory.mktemp("atlas")
    atlas.save(folder)
    return folder


def test_kernel_env_data(atlas_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(atlas_folder.parent)
    env = kernel_env(data=atlas_folder.name)  # relative -> absolute (kernels run elsewhere)
    assert env == {"K360_DATA": str(atlas_folder.resolve())}
    with pytest.raises(K360Error) as err:
        kernel_env(data=tmp_path)
    assert err.value.key == "serve.data_missing"
    assert "areas.geojson" in err.value.message("de") and str(tmp_path) in err.value.message("en")


@pytest.mark.parametrize(
    "store",
    [
        "postgresql://k360:secret@db.example:5432/k360",
        "postgres://db/k360",
        "host=localhost dbname=k360",
        "sqlite:////tmp/games.sqlite3",
    ],
)
def test_kernel_env_store_urls_pass_unchanged(store):
    assert kernel_env(store=store) == {"K360_STORE": store}


def test_kernel_env_store_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert kernel_env(store="games.sqlite3") == {"K360_STORE": str(tmp_path / "games.sqlite3")}
    with pytest.raises(K360Error) as err:
        kernel_env(store=tmp_path / "missing" / "games.sqlite3")
    assert err.value.key == "serve.store_folder_missing"
    assert str(tmp_path / "missing") in err.value.message("en")


def test_kernel_env_lang():
    assert kernel_env(lang="en") == {"K360_LANG": "en"}
    assert kernel_env() == {}
    with pytest.raises(ValueError):
        kernel_env(lang="fr")


def test_store_password_is_not_printed():
    from k360lib.serve import _safe_store_text

    assert _safe_store_text("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert "abc" not in _safe_store_text("host=h dbname=d password=abc")
    assert _safe_store_text("/tmp/games.sqlite3") == "/tmp/games.sqlite3"


class FakePopen:
    calls: list = []

    def __init__(self, cmd, cwd=None, env=None):
        FakePopen.calls.append((cmd, cwd))
        FakePopen.envs.append(env)

    def wait(self, timeout=None):
        return 0


@pytest.fixture
def fake_popen(monkeypatch):
    FakePopen.calls = []
    FakePopen.envs = []
    monkeypatch.setattr(serve_mod.subprocess, "Popen", FakePopen)
    return FakePopen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_url_and_runs_voila(fake_popen, capsys):
    port = free_port()
    assert serve(port=port, open_browser=False) == 0
    out = capsys.readouterr().out
    # the whole folder is served; the address printed is the start page's
    assert f"http://127.0.0.1:{port}/voila/render/{START_NOTEBOOK}" in out
    ((cmd, cwd),) = fake_popen.calls
    assert Path(cmd[3]) == notebooks_dir() and Path(cmd[3]).is_dir()
    assert f"--port={port}" in cmd and "--no-browser" in cmd
    assert "--Voila.ip=127.0.0.1" in cmd
    assert Path(cwd).name == "notebooks"


def test_serve_one_notebook(fake_popen, capsys):
    port = free_port()
    assert serve(port=port, open_browser=False, notebook="01_sozialraum_atlas") == 0
    assert f"http://127.0.0.1:{port}/ " in capsys.readouterr().out.replace("/ (", "/ ")
    assert fake_popen.calls[0][0][3].endswith(ATLAS_NOTEBOOK)


def test_serve_start_page_alone_serves_the_folder(fake_popen, capsys):
    port = free_port()
    assert serve(port=port, open_browser=False, notebook="00_start") == 0
    assert f"{port}/voila/render/{START_NOTEBOOK}" in capsys.readouterr().out
    assert Path(fake_popen.calls[0][0][3]) == notebooks_dir()


def test_serve_passes_data_store_lang_to_the_kernels(fake_popen, capsys, atlas_folder, tmp_path):
    store = tmp_path / "games.sqlite3"
    port = free_port()
    serve(port=port, open_browser=False, data=atlas_folder, store=store, lang="en", preheat=1)
    (env,) = fake_popen.envs
    assert env["K360_DATA"] == str(atlas_folder.resolve())
    assert env["K360_STORE"] == str(store)
    assert env["K360_LANG"] == "en"
    assert env["PATH"] == serve_mod.os.environ["PATH"]  # the rest of the environment is kept
    cmd = fake_popen.calls[0][0]
    assert "--pool_size=1" in cmd
    out = capsys.readouterr().out
    assert "k360 is starting" in out  # printed in the chosen language
    assert str(atlas_folder.resolve()) in out and str(store) in out


def test_serve_bad_arguments_start_nothing(fake_popen, tmp_path):
    for kwargs, key in [
        ({"data": tmp_path}, "serve.data_missing"),
        ({"store": tmp_path / "no" / "x.sqlite3"}, "serve.store_folder_missing"),
        ({"preheat": -1}, "serve.bad_pool_size"),
        ({"preheat": 99}, "serve.bad_pool_size"),
    ]:
        with pytest.raises(K360Error) as err:
            serve(port=free_port(), open_browser=False, **kwargs)
        assert err.value.key == key
    assert fake_popen.calls == []


def test_serve_opens_the_start_page_once_the_server_listens(monkeypatch):
    import threading
    import webbrowser

    opened = []
    done = threading.Event()
    monkeypatch.setattr(webbrowser, "open", lambda url: (opened.append(url), done.set()))
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        port = srv.getsockname()[1]
        url = page_url("127.0.0.1", port)
        serve_mod._open_browser_when_ready(url, "127.0.0.1", port, timeout=30)
        assert not done.wait(0.8)  # nothing listens yet: no browser
        srv.listen()
        assert done.wait(20)
    assert opened == [url]


def test_serve_lan_warns_and_prints_the_address_to_share(fake_popen, capsys, monkeypatch):
    from k360lib.i18n import t

    monkeypatch.setattr(serve_mod, "_lan_address", lambda: "192.168.178.20")
    port = free_port()
    assert serve(port=port, lan=True, open_browser=False) == 0
    out = capsys.readouterr().out
    assert t("cli.serve.lan_warning", None) in out
    assert f"http://192.168.178.20:{port}/voila/render/{START_NOTEBOOK}" in out
    assert "--Voila.ip=0.0.0.0" in fake_popen.calls[0][0]


def test_serve_refuses_a_busy_port(fake_popen):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(K360Error) as err:
            serve(port=port, open_browser=False)
    assert err.value.key == "serve.port_busy"
    assert str(port + 1) in err.value.message("de")
    assert fake_popen.calls == []


def test_cli_serve_reports_errors_without_traceback(fake_popen, capsys):
    from k360lib.cli import main

    assert main(["serve", "--no-browser", "--port", str(free_port()), "--notebook", "99_nope"]) == 2
    err = capsys.readouterr().err
    assert "99_nope" in err and "Traceback" not in err
    assert main(["serve", "--no-browser", "--port", str(free_port())]) == 0
    assert main(["serve", "--no-browser", "--port", str(free_port()), "--preheat", "-2"]) == 2
    assert "--preheat -2" in capsys.readouterr().err


def test_cli_serve_options(fake_popen, atlas_folder, tmp_path):
    from k360lib.cli import main

    argv = ["serve", "--no-browser", "--port", str(free_port()), "--data", str(atlas_folder)]
    argv += ["--store", "postgresql://db/k360", "--lang", "en", "--preheat", "2"]
    assert main(argv) == 0
    env, cmd = fake_popen.envs[-1], fake_popen.calls[-1][0]
    assert env["K360_DATA"] == str(atlas_folder.resolve())
    assert env["K360_STORE"] == "postgresql://db/k360" and env["K360_LANG"] == "en"
    assert "--pool_size=2" in cmd and "--preheat_kernel=True" in cmd
    # the global --lang reaches the kernels too
    assert main(["--lang", "en", "serve", "--no-browser", "--port", str(free_port())]) == 0
    assert fake_popen.envs[-1]["K360_LANG"] == "en"


# -- start page, atlas source, bundled data ----------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
def test_start_page_lists_every_app_with_a_sentence_and_a_link(lang, monkeypatch):
    import re

    from k360lib.i18n import t
    from k360lib.widgets.start import APPS, START_CLASS, StartPage

    monkeypatch.delenv("K360_DATA", raising=False)
    page = StartPage(lang)
    assert START_CLASS in page.container._dom_classes
    for app in APPS:
        title = t(f"start.app.{app.key}.title", lang)
        sentence = t(f"start.app.{app.key}.text", lang)
        assert title and sentence.endswith(".") and sentence.count(". ") == 0  # one sentence
        block = re.search(
            rf"<div class='k360-start-app' data-app='{app.key}'>(.*?)</div>", page.html
        )
        assert block, app.key
        assert f"href='{app.notebook}?lang={lang}'" in block.group(1)
        assert title in block.group(1) and sentence in block.group(1).replace("&#x27;", "'")
    assert "Wiesenfurt an der Aue" in page.html  # says which data the apps show


def test_start_page_names_the_user_atlas_escaped(monkeypatch):
    from k360lib.widgets.start import StartPage

    monkeypatch.setenv("K360_DATA", "/data/<img src=x onerror=alert(1)>")
    html = StartPage("de").html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_default_atlas_reads_k360_data(atlas_folder, tmp_path, monkeypatch):
    from k360lib.atlas.source import default_atlas
    from k360lib.errors import DataError

    monkeypatch.delenv("K360_DATA", raising=False)
    assert default_atlas().meta["fictional"] is True
    monkeypatch.setenv("K360_DATA", str(atlas_folder))
    assert default_atlas().name == "Teststadt <b>"
    monkeypatch.setenv("K360_DATA", str(tmp_path))  # a wrong folder is an error, not the demo
    with pytest.raises(DataError) as err:
        default_atlas()
    assert "areas.geojson" in err.value.message("en")


def test_default_atlas_source_is_a_folder_for_the_fast_start(atlas_folder, tmp_path, monkeypatch):
    from k360lib.atlas.demo import demo_data_dir
    from k360lib.atlas.source import default_atlas_source
    from k360lib.errors import DataError

    monkeypatch.delenv("K360_DATA", raising=False)
    assert default_atlas_source() == demo_data_dir()
    monkeypatch.setenv("K360_DATA", str(atlas_folder))
    assert default_atlas_source() == atlas_folder
    monkeypatch.setenv("K360_DATA", str(tmp_path))
    with pytest.raises(DataError):
        default_atlas_source()


def test_bundled_dirs_in_checkout_and_installed_package(monkeypatch):
    from k360lib import bundled
    from k360lib.atlas.demo import demo_data_dir
    from k360lib.game.scenario import scenario_dir
    from k360lib.responsibility.catalog import default_catalog_dir

    root = Path(bundled.__file__).resolve().parents[1]
    assert demo_data_dir() == root / "data" / "geo"
    assert scenario_dir() == root / "data" / "scenarios"
    assert default_catalog_dir() == root / "data" / "catalog"
    assert notebooks_dir() == root / "notebooks"
    monkeypatch.setattr(bundled, "source_checkout", lambda: None)  # as in an installed wheel
    assert demo_data_dir() == bundled.PACKAGE_BUNDLE / "geo"
    assert scenario_dir() == bundled.PACKAGE_BUNDLE / "scenarios"
    with pytest.raises(ValueError, match="notebooks"):
        bundled.bundled_dir("nope")
