"""End-to-end harness: a real Voilà server and headless Chromium behind a network guard.

The pieces are plain classes so the fixtures in ``conftest.py`` stay thin:

- :class:`VoilaServer` starts a Voilà command (``conftest.py`` uses
  ``k360lib.serve.voila_command``) in its own process group on a free localhost port, waits until it answers HTTP and stops it (SIGTERM, wait,
  SIGKILL the group).
- :func:`find_chromium` resolves a browser: Debian's ``/usr/bin/chromium``,
  else Playwright's bundled Chromium if installed, else ``None``.
- :class:`NetworkGuard` routes every request of a browser context; requests to
  non-local hosts are aborted and recorded. A script, stylesheet, font,
  xhr/fetch or document from elsewhere means the app depends on a CDN.
- :class:`BrowserSession` is one context + page with the guard, console and
  page-error capture, screenshots, and Voilà-aware waiting.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

__all__ = [
    "ARTIFACTS",
    "CHROMIUM_ARGS",
    "CRITICAL_RESOURCE_TYPES",
    "DEBIAN_CHROMIUM",
    "BlockedRequest",
    "BrowserSession",
    "NetworkGuard",
    "VoilaServer",
    "find_chromium",
    "free_port",
    "is_ci",
    "is_local_url",
]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: resource types whose loading from a non-local host means a CDN dependency
CRITICAL_RESOURCE_TYPES = frozenset(
    {
        "document",
        "script",
        "stylesheet",
        "font",
        "xhr",
        "fetch",
        "eventsource",
        "websocket",
        "manifest",
    }
)
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_LOCAL_SCHEMES = frozenset({"data", "blob", "about"})

#: seconds the first kernel may take to execute the notebook (imports, data)
RENDER_TIMEOUT_S = 120.0
#: Voilà's text when a cell raised (the traceback is in the server log)
_CELL_ERROR = "There was an error when executing cell"


def is_ci() -> bool:
    """Return True when running under CI (``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def is_local_url(url: str) -> bool:
    """Return True for URLs the app may load: localhost, ``data:``, ``blob:``, ``about:``."""
    parts = urlsplit(url)
    if parts.scheme.lower() in _LOCAL_SCHEMES:
        return True
    return (parts.hostname or "").lower() in _LOCAL_HOSTS


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, n_chars: int = 6000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<no server log: {exc}>"
    return text if len(text) <= n_chars else "…" + text[-n_chars:]


class VoilaServer:
    """A Voilà server in its own process group, logging to a file.

    Parameters
    ----------
    argv_for_port : callable
        ``argv_for_port(port) -> list[str]``: the command for a given port.
    target : Path
        The notebook or folder served (decides the URL layout).
    log_path : Path
        Where stdout/stderr of the server go.
    env : dict, optional
        Extra environment variables (e.g. ``{"K360_LANG": "en"}``); the rest
        is inherited.
    cwd : Path, optional
        Working directory of the server.
    """

    def __init__(self, argv_for_port, target: Path, log_path: Path, *, env=None, cwd=None):
        self._argv_for_port = argv_for_port
        self.target = Path(target)
        self.log_path = Path(log_path)
        self.env = dict(env or {})
        self.cwd = Path(cwd) if cwd else None
        self.port: int | None = None
        self.argv: list[str] = []
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def serves_folder(self) -> bool:
        return self.target.is_dir()

    def url_for(self, notebook: str | None = None, query: str | None = None) -> str:
        """Return the page URL of ``notebook`` (path relative to the served folder)."""
        if self.serves_folder:
            if not notebook:
                url = self.base_url
            else:
                url = self.base_url + "voila/render/" + quote(str(notebook).replace(os.sep, "/"))
        else:
            if notebook not in (None, "", self.target.name):
                raise ValueError(f"this server serves only {self.target.name!r}, not {notebook!r}")
            url = self.base_url
        return url + ("?" + query if query else "")

    def log(self) -> str:
        """Return the tail of the server log."""
        return _tail(self.log_path)

    def start(self, timeout: float = 60.0, attempts: int = 3) -> VoilaServer:
        """Start the server and wait until it answers HTTP.

        A port taken between choosing and binding it (``port_retries=0``)
        is retried with a new port, up to ``attempts`` times.
        """
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            self.argv = list(self._argv_for_port(self.port))
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
            with open(self.log_path, "wb") as log:
                log.write(("$ " + " ".join(self.argv) + "\n").encode())
                log.flush()
                self.proc = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.cwd,
                    start_new_session=True,
                )
            try:
                self._wait_ready(timeout)
                return self
            except _PortTaken:
                self.stop()
                if attempt == attempts:
                    raise RuntimeError(
                        f"Voilà found no free port after {attempts} attempts:\n{self.log()}"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_ready(self, timeout: float) -> None:
        probe = self.base_url + "voila/static/voila.js"  # static: starts no kernel
        deadline = time.monotonic() + timeout
        last_err: Exception | None = None
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                log = self.log()
                if "no available port" in log or "already in use" in log:
                    raise _PortTaken
                raise RuntimeError(
                    f"Voilà exited with code {code} before answering.\n--- server log ---\n{log}"
                )
            try:
                with urllib.request.urlopen(probe, timeout=2) as resp:
                    resp.read(1)
                return
            except urllib.error.HTTPError:
                return  # any HTTP status: the server answers
            except (urllib.error.URLError, OSError) as exc:
                last_err = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"Voilà did not answer {probe} within {timeout:.0f} s ({last_err}).\n"
            f"command: {' '.join(self.argv)}\n--- server log ---\n{self.log()}"
        )

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the process group, wait up to ``grace`` s, then SIGKILL it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        pgid = proc.pid  # start_new_session: the group id is the leader's pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # whatever is left of the group (the server if it ignored SIGTERM, helpers)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


class _PortTaken(Exception):
    pass


def find_chromium(playwright) -> tuple[str | None, dict]:
    """Resolve a Chromium for Playwright.

    Returns
    -------
    (description, launch_kwargs) or (None, {}) when no browser is available.
    Never installs anything.
    """
    if DEBIAN_CHROMIUM.exists():
        return str(DEBIAN_CHROMIUM), {
            "executable_path": str(DEBIAN_CHROMIUM),
            "headless": True,
            "args": list(CHROMIUM_ARGS),
        }
    try:
        bundled = playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - Playwright raises different errors per version
        bundled = None
    if bundled and Path(bundled).exists():
        return f"Playwright's bundled Chromium ({bundled})", {
            "headless": True,
            "args": [a for a in CHROMIUM_ARGS if a != "--headless"],
        }
    return None, {}


@dataclass(frozen=True)
class BlockedRequest:
    """A request to a non-local host that the guard aborted."""

    resource_type: str
    url: str
    frame_url: str = ""

    @property
    def critical(self) -> bool:
        return self.resource_type in CRITICAL_RESOURCE_TYPES

    def __str__(self) -> str:
        where = f" (from {self.frame_url[:80]})" if self.frame_url else ""
        return f"[{self.resource_type}] {self.url}{where}"


@dataclass
class NetworkGuard:
    """Abort and record every request of a context that leaves localhost."""

    blocked: list[BlockedRequest] = field(default_factory=list)

    def install(self, context) -> None:
        context.route("**/*", self._on_route)
        context.route_web_socket(lambda url: not is_local_url(url), self._on_websocket)

    def _on_route(self, route) -> None:
        request = route.request
        if is_local_url(request.url):
            route.continue_()
            return
        try:
            frame_url = request.frame.url
        except Exception:  # noqa: BLE001 - service-worker requests have no frame
            frame_url = ""
        self.blocked.append(BlockedRequest(request.resource_type, request.url, frame_url))
        route.abort("blockedbyclient")

    def _on_websocket(self, ws) -> None:
        # not connecting to the server: the socket never leaves the machine
        self.blocked.append(BlockedRequest("websocket", ws.url))
        ws.close()

    @property
    def critical(self) -> list[BlockedRequest]:
        """Blocked requests that reveal a CDN dependency (not images/tiles)."""
        return [b for b in self.blocked if b.critical]


@dataclass
class ConsoleMessage:
    """One browser console message."""

    type: str
    text: str
    location: str = ""

    def __str__(self) -> str:
        return f"[{self.type}] {self.text}" + (f"  @ {self.location}" if self.location else "")


class BrowserSession:
    """One browser context and page, guarded and observed.

    Parameters
    ----------
    browser : playwright.sync_api.Browser
    name : str
        Used for artifact file names (usually the test's name).
    viewport : dict, optional
    """

    def __init__(self, browser, name: str, *, viewport=None, locale: str = "de-DE"):
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "page"
        self.guard = NetworkGuard()
        self.console: list[ConsoleMessage] = []
        self.page_errors: list[str] = []
        self.server: VoilaServer | None = None
        self.context = browser.new_context(
            viewport=viewport or {"width": 1366, "height": 900}, locale=locale
        )
        self.guard.install(self.context)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)

    # -- observation -------------------------------------------------------
    def _on_console(self, msg) -> None:
        loc = msg.location or {}
        where = f"{loc.get('url', '')}:{loc.get('lineNumber', '')}" if loc.get("url") else ""
        self.console.append(ConsoleMessage(msg.type, msg.text, where))

    def _on_page_error(self, error) -> None:
        stack = getattr(error, "stack", None) or ""
        self.page_errors.append(f"{error}\n{stack}".strip())

    @property
    def console_errors(self) -> list[ConsoleMessage]:
        return [m for m in self.console if m.type == "error"]

    def problems(self) -> list[str]:
        """Return what makes a test fail: CDN requests and uncaught page errors."""
        out = []
        if self.guard.critical:
            out.append(
                "The page requested assets from non-local hosts (a CDN dependency; "
                "the app must work offline):\n  " + "\n  ".join(map(str, self.guard.critical))
            )
        if self.page_errors:
            out.append("Uncaught errors in the page:\n  " + "\n  ".join(self.page_errors))
        return out

    def diagnostics(self) -> str:
        """Return console messages, blocked requests and the server log, for a failure report."""
        parts = [f"page url: {self.page.url if not self.page.is_closed() else '<closed>'}"]
        if self.console:
            parts.append("--- browser console ---\n" + "\n".join(map(str, self.console[-80:])))
        if self.guard.blocked:
            parts.append(
                "--- blocked non-local requests ---\n" + "\n".join(map(str, self.guard.blocked))
            )
        if self.page_errors:
            parts.append("--- page errors ---\n" + "\n".join(self.page_errors))
        if self.server is not None:
            parts.append("--- Voilà server log (tail) ---\n" + self.server.log())
        return "\n\n".join(parts)

    # -- navigation --------------------------------------------------------
    def open(
        self,
        server: VoilaServer,
        notebook: str | None = None,
        *,
        query: str | None = None,
        ready: str | None = None,
        timeout: float = RENDER_TIMEOUT_S,
    ):
        """Open a notebook page and wait until Voilà has rendered it.

        Parameters
        ----------
        server : VoilaServer
        notebook : str, optional
            Path relative to the served folder (``/voila/render/<path>``);
            ``None`` when the server serves one notebook (``/``).
        query : str, optional
            Query string (Voilà passes it to the kernel as ``QUERY_STRING``).
        ready : str, optional
            A selector the app shows once its widgets are on screen.
        timeout : float
            Seconds for the whole render (first kernel start included).

        Returns
        -------
        playwright.sync_api.Page
        """
        self.server = server
        url = server.url_for(notebook, query)
        deadline = time.monotonic() + timeout
        # the response streams while cells execute: do not wait for "load" here
        self.page.goto(url, wait_until="commit", timeout=timeout * 1000)
        self.wait_rendered(max(1.0, deadline - time.monotonic()), ready=ready)
        return self.page

    def wait_rendered(self, timeout: float = RENDER_TIMEOUT_S, *, ready: str | None = None) -> None:
        """Wait for Voilà's spinner to go, fail on cell errors, then wait for ``ready``."""
        deadline = time.monotonic() + timeout

        def remaining_ms() -> float:
            return max(1000.0, (deadline - time.monotonic()) * 1000)

        try:
            self.page.wait_for_selector("#loading", state="detached", timeout=remaining_ms())
            self.page.wait_for_selector("#rendered_cells", state="visible", timeout=remaining_ms())
        except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError
            raise AssertionError(
                f"Voilà did not finish rendering {self.page.url} within {timeout:.0f} s: {exc}\n\n{self.diagnostics()}"
            ) from None
        errors = self.page.locator(f'.jp-OutputArea-output:has-text("{_CELL_ERROR}")')
        if errors.count():
            raise AssertionError(
                f"A notebook cell raised while Voilà rendered {self.page.url}:\n"
                f"{errors.first.inner_text()}\n\n{self.diagnostics()}"
            )
        if ready:
            try:
                self.page.wait_for_selector(ready, state="visible", timeout=remaining_ms())
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(
                    f"The app did not show {ready!r} on {self.page.url} within {timeout:.0f} s: {exc}\n\n"
                    f"visible text:\n{self._visible_text()}\n\n{self.diagnostics()}"
                ) from None

    def _visible_text(self) -> str:
        try:
            return self.page.inner_text("body", timeout=2000)[:3000]
        except Exception as exc:  # noqa: BLE001
            return f"<unavailable: {exc}>"

    # -- artifacts ---------------------------------------------------------
    def screenshot(self, suffix: str = "") -> Path | None:
        """Save a full-page screenshot to ``tests/e2e/artifacts/<name><suffix>.png``."""
        path = ARTIFACTS / f"{self.name}{suffix}.png"
        if self.page.is_closed():
            return None
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            self.page.screenshot(path=str(path), full_page=True, timeout=15000)
        except Exception:  # noqa: BLE001 - a failing screenshot must not hide the test result
            return None
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()
