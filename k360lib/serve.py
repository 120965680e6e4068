"""Start the k360 apps in Voilà (``k360 serve``).

:func:`voila_command` builds the command line (pure, testable, reused by the
end-to-end tests); :func:`serve` checks the port, prints the address and runs
Voilà until it is stopped.

Choices and why:

- **localhost by default** (``127.0.0.1``): the apps hold a city's data; serving
  a room's network (``0.0.0.0``) needs ``lan=True`` and prints a warning.
- **no port retries** (``--Voila.port_retries=0``): Voilà would otherwise move
  to another port silently and the printed/shared address would be wrong; a
  busy port is reported as an error instead.
- **idle-kernel culling** (``--MappingKernelManager.cull_idle_timeout=900``,
  ``cull_interval=60``, ``cull_connected=False``): every browser tab starts a
  kernel. A kernel whose tab was closed is shut down after 15 minutes without
  activity; a kernel with an open tab is never culled, so a workshop group
  that pauses over lunch keeps its state.
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
    "TEMPLATE",
    "TEMPLATE_ROOT",
    "notebooks_dir",
    "resolve_notebook",
    "run_voila",
    "serve",
    "voila_command",
]

DEFAULT_PORT = 8866
DEFAULT_NOTEBOOK = "01_sozialraum_atlas.ipynb"
#: seconds a kernel without an open browser tab may stay idle before it is shut down
CULL_IDLE_TIMEOUT = 900
#: seconds between two culling checks
CULL_INTERVAL = 60
#: name of k360's Voilà template (Voilà's "lab" template without CDN links)
TEMPLATE = "k360"
#: Jupyter data folder holding ``voila/templates/k360``
TEMPLATE_ROOT = Path(__file__).resolve().parent / "widgets" / "share"


def notebooks_dir() -> Path:
    """Return the ``notebooks/`` folder of the source checkout k360lib runs from.

    Raises
    ------
    K360Error
        If k360lib is not run from a source checkout (the apps are not shipped
        in the wheel yet).
    """
    folder = Path(__file__).resolve().parent.parent / "notebooks"
    if not folder.is_dir():
        raise K360Error("serve.no_notebooks", path=str(folder))
    return folder


def resolve_notebook(notebook: str | os.PathLike | None = None) -> Path:
    """Return the path of the notebook to serve.

    Parameters
    ----------
    notebook : str or path-like, optional
        ``None`` for the atlas app; a file name or stem inside ``notebooks/``
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
    show_tracebacks: bool = False,
    template: str | None = TEMPLATE,
    python: str | None = None,
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
    show_tracebacks : bool, default False
        Show Python tracebacks in the page (for development only).
    template : str or None, default "k360"
        Voilà template. With the default the command runs ``python -m
        k360lib.serve`` (Voilà plus k360's offline template, see the module
        docstring); ``None`` runs plain ``python -m voila`` with its default
        template.
    python : str, optional
        Python executable; default :data:`sys.executable`.
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
    if template:
        cmd.append(f"--template={template}")
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


def serve(
    port: int = DEFAULT_PORT,
    lan: bool = False,
    open_browser: bool = True,
    notebook: str | os.PathLike | None = None,
) -> int:
    """Serve the k360 app(s) with Voilà until stopped; return Voilà's exit code.

    Parameters
    ----------
    port : int, default 8866
        TCP port; a busy port is an error (no silent switch to another port).
    lan : bool, default False
        Listen on all network interfaces so other devices in the room can
        connect (prints a warning); default is this computer only.
    open_browser : bool, default True
        Open the app in the default browser.
    notebook : str or path-like, optional
        Notebook to serve (see :func:`resolve_notebook`); default the atlas app.

    Returns
    -------
    int
        Exit code of the Voilà process.

    Raises
    ------
    K360Error
        If the notebook is missing, the port is busy or Voilà is not installed.
    """
    import importlib.util

    path = resolve_notebook(notebook)
    if importlib.util.find_spec("voila") is None:
        raise K360Error("serve.voila_missing")
    ip = "0.0.0.0" if lan else "127.0.0.1"
    if not _port_free(ip, port):
        raise K360Error("serve.port_busy", port=port, next_port=port + 1)
    host = _lan_address() if lan else "127.0.0.1"
    print(t("cli.serve.starting", None, url=f"http://{host}:{port}/"), flush=True)
    if lan:
        print(t("cli.serve.lan_warning", None), flush=True)
    cmd = voila_command(path, port=port, ip=ip, open_browser=open_browser)
    proc = subprocess.Popen(cmd, cwd=str(path.parent))
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
