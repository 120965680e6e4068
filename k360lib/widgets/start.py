"""The start page of ``k360 serve``: every app with one sentence and a link.

The links are relative to the start page (``01_sozialraum_atlas.ipynb?lang=de``:
the app opens in the language chosen here, see
:func:`k360lib.widgets.shell.lang_from_query`), so
they work wherever Voilà serves the ``notebooks/`` folder: ``k360 serve``
(``/voila/render/00_start.ipynb``), a Binder link
(``/user/<id>/voila/render/notebooks/00_start.ipynb``) or a JupyterHub.

Examples
--------
>>> page = StartPage("en")
>>> [app.notebook for app in APPS][:2]
['01_sozialraum_atlas.ipynb', '02_zustaendigkeiten.ipynb']
>>> "href='01_sozialraum_atlas.ipynb?lang=en'" in page.html
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as W

from k360lib.i18n import normalize_lang, t

__all__ = ["APPS", "START_CLASS", "START_NOTEBOOK", "StartApp", "StartPage"]

#: CSS class of the start page (end-to-end tests look for ``.k360-start``)
START_CLASS = "k360-start"
#: the start page's own notebook
START_NOTEBOOK = "00_start.ipynb"


@dataclass(frozen=True)
class StartApp:
    """One app on the start page.

    Attributes
    ----------
    key : str
        Message keys ``start.app.<key>.title`` and ``start.app.<key>.text``.
    notebook : str
        Notebook file in ``notebooks/`` (the link target).
    section : str
        ``"atlas"`` (data and responsibilities) or ``"game"`` (Planspiel).
    css : str or None
        Root CSS class the app's container carries (for tests and styling);
        ``None`` where the app does not promise one.
    """

    key: str
    notebook: str
    section: str
    css: str | None = None


#: every app, in the order of the notebooks
APPS: tuple[StartApp, ...] = (
    StartApp("atlas", "01_sozialraum_atlas.ipynb", "atlas", "k360-atlas-explorer"),
    StartApp("responsibility", "02_zustaendigkeiten.ipynb", "atlas", "k360-responsibility-board"),
    StartApp("facilitator", "03_spielleitung.ipynb", "game", "k360-fac"),
    StartApp("player", "04_mitspielen.ipynb", "game", "k360-player-app"),
    StartApp("debrief", "05_auswertung.ipynb", "game", "k360-debrief"),
    StartApp("import", "06_eigene_daten.ipynb", "atlas", "k360-import-app"),
)
_SECTIONS = ("atlas", "game")

_CSS = """<style>
.k360-start { max-width: 60rem; font-size: 15px; line-height: 1.45; }
.k360-start h2 { margin: 0.2em 0 0.3em; }
.k360-start h3 { margin: 1.2em 0 0.4em; font-size: 1.05em; color: #444; }
.k360-start-apps { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr));
  gap: 0.8rem; }
.k360-start-app { border: 1px solid #ccd; border-radius: 6px; padding: 0.7rem 0.9rem;
  background: #fafaff; }
.k360-start-app h4 { margin: 0 0 0.3em; font-size: 1.05em; }
.k360-start-app p { margin: 0 0 0.5em; }
.k360-start-app a { color: #1f5fa8; }
.k360-start-note { color: #555; }
</style>"""


class StartPage:
    """Links to every k360 app, one sentence each.

    Parameters
    ----------
    lang : str, optional
        UI language; default the current one (``$K360_LANG`` or German).

    Attributes
    ----------
    container : ipywidgets.VBox
        What the notebook shows.
    html : str
        The page's HTML (links relative to the start notebook).
    """

    def __init__(self, lang: str | None = None):
        self.lang = lang = normalize_lang(lang)
        self.html = _page_html(lang)
        self._page = W.HTML(self.html)
        self.container = W.VBox([self._page])
        self.container.add_class(START_CLASS)


def _data_note(lang: str) -> str:
    from k360lib.atlas.source import data_dir

    folder = data_dir()
    if folder is not None:
        return t("start.data_user", lang, path=str(folder))
    from k360lib.atlas.demo import DEMO_NAME

    return t("start.data_demo", lang, city=DEMO_NAME)


def _page_html(lang: str) -> str:
    esc = html.escape
    parts = [
        _CSS,
        f"<h2 class='k360-title'>{esc(t('start.title', lang))}</h2>",
        f"<p>{esc(t('start.intro', lang))}</p>",
        f"<p class='k360-start-note'>{esc(_data_note(lang))}</p>",
    ]
    for section in _SECTIONS:
        parts.append(f"<h3>{esc(t(f'start.section.{section}', lang))}</h3>")
        parts.append("<div class='k360-start-apps'>")
        for app in (a for a in APPS if a.section == section):
            href = esc(f"{app.notebook}?lang={lang}", quote=True)
            title = esc(t(f"start.app.{app.key}.title", lang))
            parts.append(
                f"<div class='k360-start-app' data-app='{esc(app.key)}'>"
                f"<h4><a class='k360-start-link' href='{href}'>{title}</a></h4>"
                f"<p>{esc(t(f'start.app.{app.key}.text', lang))}</p>"
                f"<a class='k360-start-open' href='{href}' aria-label='{title}'>"
                f"{esc(t('start.open', lang))} →</a>"
                "</div>"
            )
        parts.append("</div>")
    return "\n".join(parts)
