"""Page objects for the Planspiel end-to-end tests: facilitator, player and debrief in Voilà.

Each class wraps one :class:`~tests.e2e.harness.BrowserSession` (its own
browser context, so its own Voilà kernel) and speaks the CSS classes the apps
document in their module docstrings (``k360lib/widgets/facilitator.py``,
``player.py``, ``debrief.py``). Texts are expected through
:func:`k360lib.i18n.t` in the test's UI language.

Timing of a phase change (issue 6: "every screen shows a change made
elsewhere within 2 seconds") is measured in the browser: every player page
gets a ``MutationObserver`` (:func:`arm`) that records ``Date.now()`` when
its phase display shows the new phase; the facilitator's click records
``Date.now()`` in the same JavaScript task as the click. All pages live in
one Chromium process, so the clocks are the same.
"""

from __future__ import annotations

import time

from k360lib.i18n import t

__all__ = [
    "FAC_NOTEBOOK",
    "PLAYER_NOTEBOOK",
    "DEBRIEF_NOTEBOOK",
    "TIMEOUT_MS",
    "Facilitator",
    "Player",
    "open_page",
    "settle",
    "arm",
    "seen_at",
    "toggle",
    "wait_html",
]

FAC_NOTEBOOK = "03_spielleitung.ipynb"
PLAYER_NOTEBOOK = "04_mitspielen.ipynb"
DEBRIEF_NOTEBOOK = "05_auswertung.ipynb"
#: generous: the machine running the suite may be loaded
TIMEOUT_MS = 90_000

# JavaScript: watch the page until an element matching ``selector`` exists
# (and, when given, its text contains ``text``); remember Date.now() then.
_ARM_JS = """
([selector, text, key]) => {
    window[key] = null;
    const hit = () => {
        for (const el of document.querySelectorAll(selector)) {
            if (!text || (el.textContent || "").includes(text)) return true;
        }
        return false;
    };
    const check = () => {
        if (window[key] === null && hit()) {
            window[key] = Date.now();
            obs.disconnect();
        }
    };
    const obs = new MutationObserver(check);
    obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    check();
    return window[key];
}
"""

_CLICK_JS = """
(selector) => {
    const el = document.querySelector(selector);
    if (!el) return null;
    if (el.disabled) return -1;
    const t0 = Date.now();
    el.click();
    return t0;
}
"""


def arm(page, selector: str, text: str | None = None, key: str = "__k360_seen") -> None:
    """Start watching ``page`` for ``selector`` (with ``text``); see :func:`seen_at`."""
    page.evaluate(_ARM_JS, [selector, text, key])


def seen_at(page, key: str = "__k360_seen", timeout_ms: float = TIMEOUT_MS) -> float:
    """Wait until the watch of :func:`arm` fired; return its ``Date.now()`` (ms)."""
    page.wait_for_function(f"() => window[{key!r}] !== null", timeout=timeout_ms)
    return float(page.evaluate(f"() => window[{key!r}]"))


def click_at(page, selector: str) -> float:
    """Click the first element matching ``selector`` from JavaScript; return ``Date.now()`` (ms)."""
    page.wait_for_selector(f"{selector}:not([disabled])", state="visible", timeout=TIMEOUT_MS)
    t0 = page.evaluate(_CLICK_JS, selector)
    if t0 is None or t0 < 0:
        raise AssertionError(f"{selector} is missing or disabled")
    return float(t0)


def toggle(page, container: str, label: str) -> None:
    """Click the button labelled ``label`` of a ToggleButtons widget with class ``container``."""
    page.locator(container).get_by_role("button", name=label, exact=True).click()


def select(page, selector: str, label: str) -> None:
    """Choose ``label`` in an ipywidgets Dropdown (its ``<option>`` values are the labels)."""
    page.locator(selector).select_option(value=label)


def wait_html(page, selector: str, timeout_ms: float = TIMEOUT_MS):
    """Wait until ``selector`` is attached; return the locator of its first match."""
    page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
    return page.locator(selector).first


class Facilitator:
    """The facilitator app (``03_spielleitung.ipynb``) in one browser session."""

    ROOT = ".k360-fac"

    def __init__(self, session, lang: str):
        self.session = session
        self.page = session.page
        self.lang = lang

    # -- start ------------------------------------------------------------------
    def open(self, server, query: str | None = None) -> Facilitator:
        ready = ".k360-fac-game .k360-fac-header" if query else ".k360-fac-start .k360-fac-create"
        open_page(self.session, server, FAC_NOTEBOOK, query, ready)
        return self

    def create(self, scenario: str = "kurz") -> dict:
        """Create a networked game of ``scenario`` in the UI; return ``{seat: player link}``."""
        from k360lib.game.scenario import load_scenario

        page, lang = self.page, self.lang
        sc = load_scenario(scenario)
        label = t(
            "fac.start.scenario_option",
            lang,
            title=sc.title.get(lang),
            roles=len(sc.roles),
            rounds=sc.rounds,
        )
        select(page, ".k360-fac-scenario select", label)
        # the role checkboxes follow the scenario
        first_role = sc.roles[0].id
        page.wait_for_selector(f".k360-fac-role-{first_role}", timeout=TIMEOUT_MS)
        toggle(page, ".k360-fac-mode", t("fac.mode.networked", lang))
        page.locator(".k360-fac-create").click()
        self.wait_phase("lage", 1)
        return self.links()

    # -- header -------------------------------------------------------------------
    def header(self):
        return self.page.locator(".k360-fac-header").first

    def wait_phase(self, phase: str, rnd: int | None = None) -> None:
        sel = f'.k360-fac-header[data-phase="{phase}"]'
        if rnd is not None:
            sel += f'[data-round="{rnd}"]'
        self.page.wait_for_selector(sel, state="attached", timeout=TIMEOUT_MS)

    def version(self) -> int:
        return int(self.header().get_attribute("data-version"))

    def wait_version(self, above: int) -> int:
        self._after(above)
        return self.version()

    def game_code(self) -> str:
        return self.page.locator(".k360-fac-game-code").first.inner_text().strip()

    # -- views -----------------------------------------------------------------------
    def view(self, key: str) -> None:
        toggle(self.page, ".k360-fac-views", t(f"fac.view.{key}", self.lang))
        self.page.wait_for_selector(f".k360-fac-view-{key}", state="visible", timeout=TIMEOUT_MS)

    def links(self) -> dict[str, str]:
        """Open the join view; return ``{seat: player link}``."""
        self.view("join")
        wait_html(self.page, "tr.k360-fac-seat a.k360-fac-join-link")
        rows = self.page.locator("tr.k360-fac-seat")
        out = {}
        for i in range(rows.count()):
            row = rows.nth(i)
            out[row.get_attribute("data-seat")] = row.locator("a.k360-fac-join-link").get_attribute(
                "href"
            )
        return out

    def own_link(self) -> str:
        self.view("join")
        return wait_html(self.page, "a.k360-fac-own-link").get_attribute("href")

    # -- actions -----------------------------------------------------------------------
    def _after(self, version: int) -> None:
        self.page.wait_for_function(
            """(v) => {
                const h = document.querySelector('.k360-fac-header');
                return h && Number(h.getAttribute('data-version')) > v;
            }""",
            arg=version,
            timeout=TIMEOUT_MS,
        )

    def act(self, selector: str) -> float:
        """Click a control button of the control view; wait until the game moved; return click time."""
        self.view("control")
        v = self.version()
        t0 = click_at(self.page, selector)
        self._after(v)
        return t0

    def advance(self) -> float:
        """Advance the phase; return ``Date.now()`` of the click (ms)."""
        return self.act(".k360-fac-advance")

    def draw_card(self) -> str:
        """Draw an event card; return its id (``data-card`` of the revealed card)."""
        self.act(".k360-fac-draw")
        return wait_html(self.page, ".k360-fac-cards .k360-fac-card[data-card]").get_attribute(
            "data-card"
        )

    def choose_card(self, card: str) -> None:
        from k360lib.game.scenario import load_scenario

        title = next(c.title.get(self.lang) for c in load_scenario("kurz").cards if c.id == card)
        self.view("control")
        select(self.page, ".k360-fac-card-choice select", title)
        self.act(".k360-fac-choose")
        wait_html(self.page, f'.k360-fac-cards .k360-fac-card[data-card="{card}"]')

    def undo(self) -> None:
        self.act(".k360-fac-undo")

    def log_text(self) -> str:
        self.view("log")
        return wait_html(self.page, ".k360-fac-log").inner_text()

    def shot(self, name: str) -> None:
        from .harness import ARTIFACTS

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"planspiel_{name}.png"), full_page=True)


class Player:
    """The player app (``04_mitspielen.ipynb``) of one seat in one browser session."""

    STATUS = ".k360-player-status .k360-status"

    def __init__(self, session, lang: str, seat: str):
        self.session = session
        self.page = session.page
        self.lang = lang
        self.seat = seat
        self.dialogs: list[str] = []
        self.page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, server, url: str) -> Player:
        """Open a player link (an absolute URL from the facilitator's join view)."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        notebook = parts.path.split("/voila/render/", 1)[1]
        open_page(self.session, server, notebook, parts.query, self.STATUS)
        return self

    # -- status -------------------------------------------------------------------
    def status(self, attr: str) -> str:
        return self.page.locator(self.STATUS).first.get_attribute(f"data-k360-{attr}")

    def version(self) -> int:
        return int(self.status("version"))

    def phase_selector(self, phase: str, rnd: int | None = None) -> str:
        sel = f'{self.STATUS}[data-k360-phase="{phase}"]'
        return sel + (f'[data-k360-round="{rnd}"]' if rnd is not None else "")

    def wait_phase(self, phase: str, rnd: int | None = None) -> None:
        self.page.wait_for_selector(
            self.phase_selector(phase, rnd), state="attached", timeout=TIMEOUT_MS
        )

    def wait_version(self, above: int) -> int:
        self.page.wait_for_function(
            """([sel, v]) => {
                const s = document.querySelector(sel);
                return s && Number(s.getAttribute('data-k360-version')) > v;
            }""",
            arg=[self.STATUS, above],
            timeout=TIMEOUT_MS,
        )
        return self.version()

    def message(self) -> str:
        return self.page.locator(".k360-player-message").first.inner_text().strip()

    def _act(self, selector: str, done: str | None = None) -> None:
        """Click ``selector``; wait until the game moved and the app says ``done``."""
        v = self.version()
        btn = self.page.locator(selector).first
        btn.wait_for(state="visible", timeout=TIMEOUT_MS)
        wait_enabled(self.page, selector)
        btn.click()
        self.wait_version(v)
        if done is not None:
            self.page.wait_for_selector(
                f'.k360-player-message .k360-msg.k360-ok:has-text("{done}")',
                state="attached",
                timeout=TIMEOUT_MS,
            )

    # -- proposals ---------------------------------------------------------------------
    def proposal_ids(self) -> list[str]:
        return self.page.evaluate(
            """() => [...document.querySelectorAll('.k360-proposals .k360-proposal')]
                .map(el => [...el.classList].find(c => /^k360-proposal-P\\d+$/.test(c)))
                .filter(Boolean).map(c => c.slice('k360-proposal-'.length))"""
        )

    def propose(
        self,
        measure: str,
        area: str,
        shares: dict[str, float] | None = None,
        partners: tuple[str, ...] = (),
        note: str = "",
    ) -> str:
        """Fill and submit the proposal form; return the new proposal's id."""
        from k360lib.game.scenario import load_scenario

        page = self.page
        sc = load_scenario("kurz")
        name = next(m for m in sc.measures if m.id == measure).name.get(self.lang)
        select_containing(page, ".k360-propose-measure select", name)
        select_containing(page, ".k360-propose-area select", f"({area})")
        for funder, pct in (shares or {}).items():
            box = page.locator(f".k360-propose-share-{funder} input")
            box.fill(str(pct))
            box.press("Enter")
        for role in partners:
            page.locator(f".k360-propose-partner-{role} input").check()
        if note:
            page.locator(".k360-propose-note textarea").fill(note)
        before = set(self.proposal_ids())
        self._act(".k360-propose-submit")
        new = wait_until(lambda: set(self.proposal_ids()) - before)
        return sorted(new)[0]

    def row(self, pid: str):
        return self.page.locator(f".k360-proposals .k360-proposal-{pid}").first

    def cofund(self, pid: str, percent: float) -> None:
        box = self.row(pid).locator(".k360-cofund-share input")
        box.fill(str(percent))
        box.press("Enter")
        self._act(
            f".k360-proposal-{pid} .k360-cofund",
            t("player.cofund.done", self.lang, proposal=pid),
        )

    def cosign(self, pid: str) -> None:
        self._act(
            f".k360-proposal-{pid} .k360-cosign",
            t("player.cosign.done", self.lang, proposal=pid),
        )

    def vote(self, ballots: dict[str, str]) -> None:
        # The panel rebuilds its ballots whenever the game changes (another group's vote):
        # a choice not yet submitted is lost then, so choose again until the button is ready.
        for _attempt in range(5):
            for pid, ballot in ballots.items():
                toggle(self.page, f".k360-ballot-{pid}", t(f"player.vote.{ballot}", self.lang))
            try:
                wait_enabled(self.page, ".k360-vote-submit", timeout_ms=10_000)
                break
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError: choose again
                continue
        self._act(".k360-vote-submit", t("player.vote.done", self.lang))

    def note(self, text: str) -> None:
        self.page.locator(".k360-note-text textarea").fill(text)
        self._act(".k360-note-submit", t("player.notes.done", self.lang))
        wait_until(lambda: text in self.notes_text())

    def notes_text(self) -> str:
        return self.page.locator(".k360-note-list").first.inner_text()

    def shot(self, name: str) -> None:
        from .harness import ARTIFACTS

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"planspiel_{name}.png"), full_page=True)


def settle(apps) -> int:
    """Wait until every app's screen shows the newest game version any of them shows; return it.

    A player panel redraws its controls when the game changes, so a test acts
    only on a settled screen (as a person would wait for the update).
    """
    apps = list(apps)
    newest = max(app.version() for app in apps)
    for app in apps:
        if app.version() < newest:
            app.wait_version(newest - 1)
    return newest


def open_page(session, server, notebook: str, query: str | None, ready: str):
    """Open a notebook page; open it once more when its kernel failed to start.

    On a busy machine two kernels starting at once can pick the same TCP port
    (``ZMQError: Address already in use`` in the server log, then "Kernel
    died before replying to kernel_info"); a person would reload the page.
    """
    try:
        return session.open(server, notebook, query=query, ready=ready)
    except AssertionError:
        if "Address already in use" not in server.log():
            raise
    return session.open(server, notebook, query=query, ready=ready)


def wait_enabled(page, selector: str, timeout_ms: float = TIMEOUT_MS) -> None:
    """Wait until the first element matching ``selector`` is not disabled."""
    page.wait_for_function(
        "(sel) => { const el = document.querySelector(sel); return el && !el.disabled; }",
        arg=selector,
        timeout=timeout_ms,
    )


def select_containing(page, selector: str, text: str) -> None:
    """Choose the first option of an ipywidgets Dropdown whose text contains ``text``."""
    page.wait_for_selector(selector, state="visible", timeout=TIMEOUT_MS)
    labels = page.locator(selector).first.evaluate("(el) => [...el.options].map(o => o.value)")
    hits = [label for label in labels if text in label]
    if not hits:
        raise AssertionError(f"no option containing {text!r} in {selector}: {labels}")
    select(page, selector, hits[0])


def wait_until(predicate, timeout: float = TIMEOUT_MS / 1000, interval: float = 0.2):
    """Poll ``predicate()`` until it is truthy; return its value or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)
