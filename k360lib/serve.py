"""Start the k360 apps in Voilà (``k360 serve``).

:func:`voila_command` builds the command line (pure, testable, reused by the
end-to-end tests); :func:`serve` checks the port, prints the address and runs
Voilà until it is stopped.

Choices and why:

- **the folder, opened at the start page**: ``k360 serve`` serves the whole
  ``notebooks/`` folder (Voilà's folder mode: ``/voila/render/<notebook>``) and
  opens ``00_start.ipynb``, whose relative links lead to every app. The
  address printed and opened is the start page's (Voilà itself would open its
  file list). ``--notebook`` serves one notebook alone (page at ``/``).
- **localhost by default** (``127.0.0.1``): the apps hold a city's data; serving
  a room's network (``0.0.0.0``) needs ``lan=True``, prints the address to share
  (this computer's LAN address) and warns that anyone on the network can open it.
- **settings reach the kernels through the environment**: Voilà starts every
  kernel with the server's environment, so ``--data`` (``K360_DATA``, an atlas
  folder), ``--store`` (``K360_STORE``, SQLite path or PostgreSQL URL) and
  ``--lang`` (``K360_LANG``) are set for the Voilà process only.
- **preheated kernels are optional** (``preheat=N``: Voilà's
  ``--preheat_kernel=True --pool_size=N``): N kernels per notebook run it in
  advance, so a page opens at once. A preheated kernel has started before the
  request, so it never sees the page's query string (``QUERY_STRING``); the
  Planspiel notebooks (:data:`NO_PREHEAT`), whose links carry the game and join
  codes, are therefore on ``VoilaKernelManager.preheat_denylist``.
- **no port retries** (``--Voila.port_retries=0``): Voilà would otherwise move
  to another port silently and the printed/shared address would be wrong; a
  busy port is reported as an error instead.
- **idle-kernel culling** (``--MappingKernelManager.cull_idle_timeout=900``,
  ``cull_interval=60``, ``cull_connected=False``): every browser tab starts a
  kernel. A kernel whose tab was closed is shut down after 15 minutes without
  activity; a kernel with an open tab is never culled, so a workshop group
  that pauses over lunch keeps its state.
- **a closed tab shuts its kernel down at once**: Voilà's page sends a
  ``POST /voila/api/shutdown/<kernel>`` beacon when it is closed or left, but
  a beacon cannot carry Jupyter's XSRF token, so the server refuses it
  (``403 '_xsrf' argument missing``, voila issue #1458) and the kernel lives on
  until culled. ``disable_check_xsrf`` lets the beacon through. Voilà serves
  no authenticated API that XSRF would protect (no token, no login); the only
  cross-site request this admits is shutting down a kernel whose random id the
  other site would have to know.
- **offline template** (``--template=k360``): Voilà's ``lab`` template links
  Font Awesome from a CDN; the ``k360`` template (in
  ``k360lib/widgets/share/voila/templates/k360``) is the same page without
  those links. Voilà finds templates only on the Jupyter data path, so the
  command runs ``python -m k360lib.serve``, which puts that folder on
  ``JUPYTER_PATH`` and then starts Voilà with the given arguments — the
  command line stays self-contained (no environment to pass along).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from k360lib.errors import K360Error
from k360lib.i18n import t

__all__ = [
    "CULL_IDLE_TIMEOUT",
    "CULL_INTERVAL",
    "DEFAULT_NOTEBOOK",
    "DEFAULT_PORT",
    "MAX_POOL_SIZE",
    "NO_PREHEAT",
    "START_NOTEBOOK",
    "TEMPLATE",
    "TEMPLATE_ROOT",
    "notebooks_dir",
    "kernel_env",
    "page_url",
    "resolve_notebook",
    "run_voila",
    "serve",
    "voila_command",
]

DEFAULT_PORT = 8866
#: the start page: links to every app (``k360 serve`` opens it)
START_NOTEBOOK = "00_start.ipynb"
#: what :func:`resolve_notebook` returns for ``None``
DEFAULT_NOTEBOOK = START_NOTEBOOK
#: notebooks that must not get preheated kernels (they read ``QUERY_STRING``)
NO_PREHEAT = ("03_spielleitung.ipynb", "04_mitspielen.ipynb", "05_auswertung.ipynb")
#: most preheated kernels per notebook ``serve`` accepts (each one holds a running app)
MAX_POOL_SIZE = 8
#: seconds a kernel without an open browser tab may stay idle before it is shut down
CULL_IDLE_TIMEOUT = 900
#: seconds between two culling checks
CULL_INTERVAL = 60
#: name of k360's Voilà template (Voilà's "lab" template without CDN links)
TEMPLATE = "k360"
#: Jupyter data folder holding ``voila/templates/k360``
TEMPLATE_ROOT = Path(__file__).resolve().parent / "widgets" / "share"


def notebooks_dir() -> Path:
    """Return the folder of the app notebooks.

    That is ``<repo>/notebooks`` in a source checkout, else the copy shipped
    in the installed package (see :mod:`k360lib.bundled`).

    Raises
    ------
    K360Error
        If the folder is missing (a broken installation).
    """
    from k360lib.bundled import bundled_dir

    folder = bundled_dir("notebooks")
    if not folder.is_dir():
        raise K360Error("serve.no_notebooks", path=str(folder))
    return folder


def resolve_notebook(notebook: str | os.PathLike | None = None) -> Path:
    """Return the path of the notebook to serve.

    Parameters
    ----------
    notebook : str or path-like, optional
        ``None`` for the start page; a file name or stem inside ``notebooks/``
        (``"01_sozialraum_atlas"``); or a path to any notebook.

    Raises
    ------
    K360Error
        If the notebook does not exist.
    """
    if notebook is None:
        return notebooks_dir() / DEFAULT_NOTEBOOK
    path = Path(notebook)
    if path.is_file():
        return path.resolve()
    folder = notebooks_dir()
    for candidate in (folder / path, folder / f"{path}.ipynb"):
        if candidate.is_file():
            return candidate
    available = ", ".join(sorted(p.name for p in folder.glob("*.ipynb")))
    raise K360Error("serve.notebook_not_found", notebook=str(notebook), available=available)


def voila_command(
    notebook: str | os.PathLike,
    *,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    open_browser: bool = False,
    port_retries: int = 0,
    cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
    cull_interval: int = CULL_INTERVAL,
    shutdown_on_close: bool = True,
    show_tracebacks: bool = False,
    template: str | None = TEMPLATE,
    python: str | None = None,
    preheat: int = 0,
    no_preheat: list[str] | tuple[str, ...] = NO_PREHEAT,
    extra_args: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """Return the command line that serves ``notebook`` (a file or folder) with Voilà.

    Parameters
    ----------
    notebook : str or path-like
        Notebook file or folder of notebooks.
    port : int, default 8866
        TCP port.
    ip : str, default "127.0.0.1"
        Address to listen on (``"0.0.0.0"`` for the local network).
    open_browser : bool, default False
        Let Voilà open a browser tab.
    port_retries : int, default 0
        Further ports Voilà may try when ``port`` is busy (0: fail instead).
    cull_idle_timeout, cull_interval : int
        Idle-kernel culling in seconds (see the module docstring); ``0``
        disables culling.
    shutdown_on_close : bool, default True
        Let the page's shutdown beacon through (see the module docstring),
        so leaving a page ends its kernel at once.
    show_tracebacks : bool, default False
        Show Python tracebacks in the page (for development only).
    template : str or None, default "k360"
        Voilà template. With the default the command runs ``python -m
        k360lib.serve`` (Voilà plus k360's offline template, see the module
        docstring); ``None`` runs plain ``python -m voila`` with its default
        template.
    python : str, optional
        Python executable; default :data:`sys.executable`.
    preheat : int, default 0
        Preheated kernels per notebook (``0``: none). Notebooks whose name
        contains an entry of ``no_preheat`` never get one.
    no_preheat : sequence of str, default NO_PREHEAT
        Notebooks that read ``QUERY_STRING`` and so must start their kernel
        on request (``VoilaKernelManager.preheat_denylist``).
    extra_args : sequence of str
        Appended verbatim (e.g. ``["--debug"]``).

    Returns
    -------
    list of str
        Arguments for :func:`subprocess.run`.

    Examples
    --------
    >>> cmd = voila_command("app.ipynb", port=9000, python="python")
    >>> cmd[:4]
    ['python', '-m', 'k360lib.serve', 'app.ipynb']
    >>> "--port=9000" in cmd and "--no-browser" in cmd
    True
    """
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValueError(f"port must be an integer 1..65535, got {port!r}")
    cmd = [
        python or sys.executable,
        "-m",
        "k360lib.serve" if template else "voila",
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={ip}",
        f"--Voila.port_retries={int(port_retries)}",
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
        f"--MappingKernelManager.cull_interval={int(cull_interval)}",
        "--MappingKernelManager.cull_connected=False",
        f"--VoilaConfiguration.show_tracebacks={bool(show_tracebacks)}",
    ]
    if shutdown_on_close:
        cmd.append("--Voila.tornado_settings={'disable_check_xsrf': True}")
    if template:
        cmd.append(f"--template={template}")
    if preheat:
        cmd += ["--preheat_kernel=True", f"--pool_size={int(preheat)}"]
        cmd += [f"--VoilaKernelManager.preheat_denylist={name}" for name in no_preheat]
    if not open_browser:
        cmd.append("--no-browser")
    cmd.extend(extra_args)
    return cmd


def run_voila(argv: list[str] | None = None) -> int:
    """Run Voilà in this process with k360's templates on the Jupyter data path.

    This is what ``python -m k360lib.serve <voila arguments>`` does; use
    :func:`voila_command` to build such a command.

    Parameters
    ----------
    argv : list of str, optional
        Voilà's command-line arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    paths = [
        str(TEMPLATE_ROOT),
        *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep)),
    ]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    from voila.app import main as voila_main

    sys.argv = ["voila", *argv]
    return int(voila_main() or 0)


def _port_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError:
            return False
    return True


def _lan_address() -> str:
    """Best guess of this computer's address on the local network (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("10.255.255.255", 1))
            return sock.getsockname()[0]
    except OSError:
        return socket.gethostname()


def page_url(host: str, port: int, notebook: str | None = START_NOTEBOOK) -> str:
    """Return the address of a page that ``k360 serve`` serves.

    Parameters
    ----------
    host : str
        Host name or address the browser uses.
    port : int
        TCP port.
    notebook : str or None, default START_NOTEBOOK
        Notebook in the served folder (``/voila/render/<notebook>``); ``None``
        when Voilà serves a single notebook (page at ``/``).

    Examples
    --------
    >>> page_url("127.0.0.1", 8866)
    'http://127.0.0.1:8866/voila/render/00_start.ipynb'
    >>> page_url("192.168.1.20", 9000, None)
    'http://192.168.1.20:9000/'
    """
    from urllib.parse import quote

    base = f"http://{host}:{port}/"
    return base + ("voila/render/" + quote(notebook) if notebook else "")


def kernel_env(
    data: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    lang: str | None = None,
) -> dict[str, str]:
    """Check ``--data``/``--store``/``--lang`` and return them as kernel environment variables.

    Parameters
    ----------
    data : str or path-like, optional
        Atlas folder (written by :meth:`k360lib.atlas.model.Atlas.save`);
        becomes the absolute ``K360_DATA``.
    store : str or path-like, optional
        Planspiel store: a PostgreSQL URL (``postgresql://…``) or libpq string
        (``host=… dbname=…``) is passed as is; ``sqlite:///…`` as is; a file
        path becomes absolute (kernels run in the notebooks folder) and its
        folder must exist. Becomes ``K360_STORE``.
    lang : {"de", "en"}, optional
        UI language; becomes ``K360_LANG``.

    Returns
    -------
    dict of str to str
        Only the variables that were given.

    Raises
    ------
    K360Error
        If the atlas folder has no ``areas.geojson`` or the store's folder is
        missing.
    ValueError
        If ``lang`` is not supported.
    """
    from k360lib.atlas.source import DATA_ENV
    from k360lib.i18n import normalize_lang

    env: dict[str, str] = {}
    if data is not None:
        folder = Path(data).expanduser().resolve()
        if not (folder / "areas.geojson").is_file():
            raise K360Error("serve.data_missing", path=str(folder), missing="areas.geojson")
        env[DATA_ENV] = str(folder)
    if store is not None:
        text = str(store).strip()
        if "://" in text or "dbname=" in text:
            env["K360_STORE"] = text
        else:
            path = Path(text).expanduser().resolve()
            if not path.parent.is_dir():
                raise K360Error("serve.store_folder_missing", path=text, folder=str(path.parent))
            env["K360_STORE"] = str(path)
    if lang is not None:
        env["K360_LANG"] = normalize_lang(lang)
    return env


def _safe_store_text(store: str) -> str:
    """Hide a password in a store URL or libpq string before printing it."""
    import re

    text = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", store)
    return re.sub(r"(password=)\S+", r"\1***", text)


def _open_browser_when_ready(url: str, ip: str, port: int, timeout: float = 120.0) -> None:
    """Open ``url`` in the default browser as soon as the server accepts connections."""
    import threading
    import time
    import webbrowser

    probe = "127.0.0.1" if ip in ("0.0.0.0", "") else ip

    def wait_and_open() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((probe, port), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            return
        webbrowser.open(url)

    threading.Thread(target=wait_and_open, daemon=True).start()


def serve(
    port: int = DEFAULT_PORT,
    lan: bool = False,
    open_browser: bool = True,
    notebook: str | os.PathLike | None = None,
    *,
    data: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    lang: str | None = None,
    preheat: int = 0,
) -> int:
    """Serve the k360 apps with Voilà until stopped; return Voilà's exit code.

    Parameters
    ----------
    port : int, default 8866
        TCP port; a busy port is an error (no silent switch to another port).
    lan : bool, default False
        Listen on all network interfaces so other devices in the room can
        connect (prints the address to share and a warning); default is this
        computer only.
    open_browser : bool, default True
        Open the start page (or ``notebook``) in the default browser.
    notebook : str or path-like, optional
        Serve only this notebook (see :func:`resolve_notebook`); default: the
        whole ``notebooks/`` folder, opened at the start page.
    data : str or path-like, optional
        Atlas folder the atlas apps open instead of the demo city.
    store : str or path-like, optional
        Planspiel store: SQLite file path or PostgreSQL URL.
    lang : {"de", "en"}, optional
        UI language of the apps (default ``$K360_LANG`` or German).
    preheat : int, default 0
        Preheated kernels per app (0..:data:`MAX_POOL_SIZE`); never for the
        Planspiel apps (:data:`NO_PREHEAT`).

    Returns
    -------
    int
        Exit code of the Voilà process.

    Raises
    ------
    K360Error
        If the notebooks, the atlas folder or the store's folder are missing,
        the port is busy, ``preheat`` is out of range or Voilà is not
        installed.
    """
    import importlib.util

    if (
        isinstance(preheat, bool)
        or not isinstance(preheat, int)
        or not 0 <= preheat <= MAX_POOL_SIZE
    ):
        raise K360Error("serve.bad_pool_size", value=repr(preheat))
    if notebook is not None and resolve_notebook(notebook) == notebooks_dir() / START_NOTEBOOK:
        notebook = None  # the start page alone would have dead links: serve the folder
    if notebook is None:
        target, page = notebooks_dir(), START_NOTEBOOK
        if not (target / START_NOTEBOOK).is_file():
            raise K360Error("serve.no_notebooks", path=str(target / START_NOTEBOOK))
    else:
        target, page = resolve_notebook(notebook), None
    env = kernel_env(data, store, lang)
    if importlib.util.find_spec("voila") is None:
        raise K360Error("serve.voila_missing")
    ip = "0.0.0.0" if lan else "127.0.0.1"
    if not _port_free(ip, port):
        raise K360Error("serve.port_busy", port=port, next_port=port + 1)
    out_lang = env.get("K360_LANG")
    local_url = page_url("127.0.0.1", port, page)
    print(t("cli.serve.starting", out_lang, url=local_url), flush=True)
    if lan:
        print(t("cli.serve.share", out_lang, url=page_url(_lan_address(), port, page)), flush=True)
        print(t("cli.serve.lan_warning", out_lang), flush=True)
    if "K360_DATA" in env:
        print(t("cli.serve.data", out_lang, path=env["K360_DATA"]), flush=True)
    if "K360_STORE" in env:
        print(t("cli.serve.store", out_lang, store=_safe_store_text(env["K360_STORE"])), flush=True)
    if preheat:
        print(t("cli.serve.preheat", out_lang, n=preheat), flush=True)
    cmd = voila_command(target, port=port, ip=ip, open_browser=False, preheat=preheat)
    if open_browser:
        _open_browser_when_ready(local_url, ip, port)
    cwd = target if target.is_dir() else target.parent
    proc = subprocess.Popen(cmd, cwd=str(cwd), env={**os.environ, **env})
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            return proc.wait()


if __name__ == "__main__":  # pragma: no cover - exercised by the end-to-end tests
    sys.exit(run_voila())
