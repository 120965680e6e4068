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
    TEMPLATE_ROOT,
    resolve_notebook,
    serve,
    voila_command,
)


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
    assert default.name == DEFAULT_NOTEBOOK and default.is_file()
    assert resolve_notebook("01_sozialraum_atlas") == default
    assert resolve_notebook(DEFAULT_NOTEBOOK) == default
    assert resolve_notebook(str(default)) == default.resolve()
    with pytest.raises(K360Error) as err:
        resolve_notebook("99_nope")
    assert err.value.key == "serve.notebook_not_found"
    assert DEFAULT_NOTEBOOK in err.value.message("en")


class FakePopen:
    calls: list = []

    def __init__(self, cmd, cwd=None):
        FakePopen.calls.append((cmd, cwd))

    def wait(self, timeout=None):
        return 0


@pytest.fixture
def fake_popen(monkeypatch):
    FakePopen.calls = []
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
    assert f"http://127.0.0.1:{port}/" in out
    ((cmd, cwd),) = fake_popen.calls
    assert cmd[3].endswith(DEFAULT_NOTEBOOK) and f"--port={port}" in cmd and "--no-browser" in cmd
    assert "--Voila.ip=127.0.0.1" in cmd
    assert Path(cwd).name == "notebooks"


def test_serve_lan_warns(fake_popen, capsys):
    from k360lib.i18n import t

    assert serve(port=free_port(), lan=True, open_browser=False) == 0
    out = capsys.readouterr().out
    assert t("cli.serve.lan_warning", None) in out
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
