"""The Planspiel debrief (Auswertung): what happened in a game, and the report the city keeps.

:func:`debrief` turns a game — a :class:`~k360lib.game.engine.Game`, a
:class:`~k360lib.game.session.GameSession`, a
:class:`~k360lib.game.state.GameState` or its event list — into a
:class:`Debrief` with

- **trajectories**: every model indicator and the need score per round and
  Sozialraum (round 0 = the base year), and the shared outcome per round;
- **before/after**: values per area at the base year and after the last
  round, and maps of both and of the change;
- **decision log per role**: proposals, co-signing, co-funding, amendments,
  withdrawals, votes, stopped and taken-over funding — with the phase and
  round they were made in, and whether the facilitator undid them;
- **network**: who co-funded with whom — an edge between two participants
  (lead or funder, plus partners who co-signed) of a started measure; its
  amount is the money both put into their joint measures at the decision
  (``(share_a + share_b) × (invest + running cost)`` of the first year),
  so an edge of 0 means they worked together without money;
- **goals vs outcome**: each role's private goal (progress per round) next
  to the shared score;
- **reflection**: prompts in the classic debrief structure
  (feelings → what happened → analysis → transfer to our city), with the
  scenario's own prompts placed in their stage, facts from the game to talk
  about, and the players' notes.

Exports: :meth:`Debrief.to_html` (one standalone page: inline SVG maps and
charts, inline CSS, no script, no external request; every player text
escaped by the template engine) and :meth:`Debrief.to_xlsx` (openpyxl; texts
that look like formulas are stored as text).

No UI library is imported here.

Examples
--------
>>> from k360lib.game import play_game
>>> d = debrief(play_game("kurz", "cooperative", seed=3), geometry=False)
>>> [r for r, _ in d.series("need_mean")]
[0, 1, 2]
>>> d.network().edges[0].amount > 0
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k360lib.i18n import normalize_lang, t
from k360lib.report.debrief_svg import (
    CHANGE_COLORS,
    NEED_COLORS,
    SERIES_COLORS,
    AreaShapes,
    bars_svg,
    line_chart_svg,
    map_svg,
    network_svg,
)

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.game.events import Event
    from k360lib.game.state import GameState

__all__ = [
    "DECISION_TYPES",
    "SECTIONS",
    "TEMPLATE",
    "NEED",
    "SHARED_FIELDS",
    "STAGES",
    "Debrief",
    "Decision",
    "Edge",
    "Network",
    "area_rings",
    "debrief",
    "effective_events",
    "finished_games",
    "rings_from_map_document",
    "stored_map_document",
    "sanitize_cell",
]

#: the need score, shown like an indicator (``higher = more need``)
NEED = "need"
#: shared outcome fields per round
SHARED_FIELDS = ("need_mean", "equity_gap", "reach", "shared_score")
#: the report's sections (template blocks), in order
SECTIONS = ("summary", "trajectories", "maps", "decisions", "network", "goals", "reflection")
#: the report template (package data in ``k360lib/report/templates``)
TEMPLATE = "auswertung.html.j2"
#: the four stages of the debrief (message keys ``debrief.stage.<id>``)
STAGES = ("feelings", "happened", "analysis", "transfer")
#: event types that are a role's decision
DECISION_TYPES = (
    "proposal_made",
    "proposal_cosigned",
    "proposal_cofunded",
    "proposal_amended",
    "proposal_withdrawn",
    "votes_cast",
    "funding_stopped",
    "measure_taken_over",
)
#: generic prompts per stage (message keys ``debrief.prompt.<stage>.<i>``)
_GENERIC_PROMPTS = {"feelings": 3, "happened": 3, "analysis": 3, "transfer": 3}
#: words that place a scenario's own prompt in a stage (checked in this order)
_STAGE_WORDS = (
    ("feelings", ("gefühl", "emotion", "feel", "ärger", "gefreut")),
    ("happened", ("passiert", "happened")),
    ("transfer", ("transfer", "kommune", "municipality", "mitnehmen", "take back")),
    ("analysis", ("analyse", "analysis", "warum", "why", "logik", "logic")),
)
#: sector colours of the network (Okabe–Ito)
_SECTOR_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _fmt(v: float | None, decimals: int = 1, lang: str = "de") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    text = f"{v:,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def _pct(v: float | None, lang: str, decimals: int = 0) -> str:
    if v is None:
        return "–"
    return f"{_fmt(100 * v, decimals, lang)} %"


def _unit(unit: str, lang: str) -> str:
    """Translate the atlas' German unit words (``je 1.000``, ``Personen``) for ``lang``."""
    de = t("debrief.unit.per", "de")
    if unit.startswith(de + " "):
        number = unit[len(de) + 1 :]
        if lang == "en":
            number = number.replace(".", ",")
        unit = f"{t('debrief.unit.per', lang)} {number}"
    if unit == t("debrief.unit.persons", "de"):
        unit = t("debrief.unit.persons", lang)
    return unit


def sanitize_cell(value: Any) -> tuple[Any, bool]:
    """Return ``(value, as_text)``: strings that Excel would run as a formula must stay text."""
    if isinstance(value, str):
        return value, value[:1] in ("=", "+", "-", "@") and len(value) > 1
    if isinstance(value, float) and not math.isfinite(value):
        return None, False
    return value, False


def effective_events(state: GameState) -> list[tuple[Event, bool, int, str]]:
    """Return ``(event, undone, round, phase)`` for every event of ``state``, as :func:`~k360lib.game.state.fold` sees them.

    ``undone`` says whether the facilitator undid the event; ``round`` and
    ``phase`` are where the game stood when the event was made.
    """
    events = state.events
    stack: list[int] = []
    undone: set[int] = set()
    for e in events:
        if e.type == "event_undone":
            target = int(e.payload["target"])
            if stack and stack[-1] == target:
                undone.add(stack.pop())
        elif e.type != "game_created":
            stack.append(e.version)
    phases = list(state.rules.phases)
    rounds = int(state.scenario.rounds)
    rnd, idx, ended = 1, 0, False
    out = []
    for e in events:
        phase = "ende" if ended else phases[idx]
        is_undone = e.version in undone
        out.append((e, is_undone, rnd, phase))
        if is_undone or ended:
            continue
        if e.type == "phase_advanced":
            if idx + 1 < len(phases):
                idx += 1
            elif rnd < rounds:
                rnd, idx = rnd + 1, 0
            else:
                ended = True
        elif e.type == "phase_rewound":
            idx = max(0, idx - 1)
    return out


def area_rings(state: GameState, geometry: Any = None) -> dict | None:
    """Return ``{area_id: polygons of (lon, lat) rings}`` for the game's areas, or ``None``.

    Parameters
    ----------
    state : GameState
        The game (its world names the areas).
    geometry : optional
        ``None`` (default): the scenario's own atlas (the demo city or an
        atlas folder) when it has the game's areas; a live map document
        (``str``, the store artifact ``map/live/<lang>.html`` of the game,
        see :func:`rings_from_map_document`); a
        :class:`~k360lib.maps.geometry.MapGeometry`, an
        :class:`~k360lib.atlas.model.Atlas` or a ``{area_id: rings}`` dict;
        ``False``: no geometry (the maps become a schematic grid).
    """
    if geometry is False:
        return None
    ids = list(state.world.area_ids)
    if isinstance(geometry, str):
        rings = rings_from_map_document(geometry)
        found = {a: rings[a] for a in ids if rings and rings.get(a)}
        if len(found) >= max(1, len(ids) // 2):
            return found
        geometry = None
    try:
        if geometry is None:
            from k360lib.game.world import _load_atlas

            geometry = _load_atlas(state.scenario)
        if isinstance(geometry, dict):
            rings = {str(k): v for k, v in geometry.items()}
        else:
            from k360lib.maps.geometry import MapGeometry, map_geometry

            geo = geometry if isinstance(geometry, MapGeometry) else map_geometry(geometry)
            rings = {str(a): geo.rings(i) for i, a in enumerate(geo.area_ids)}
    except Exception:  # noqa: BLE001 - no geometry means a schematic map, never a broken report
        return None
    found = {a: rings[a] for a in ids if a in rings and rings[a]}
    if len(found) < max(1, len(ids) // 2):
        return None
    return found


def rings_from_map_document(document: str) -> dict | None:
    """Return ``{area_id: polygons}`` from a live map document (``AtlasMap.live_document``), or ``None``.

    The game's map document (stored with the game by the facilitator's app)
    carries the city's simplified outlines as shared arcs
    (``k360map.init(map, {"topo": …, "ids": …})``); this reads them back, so
    the debrief draws the city the game was played on.
    """
    import json

    from k360lib.maps.geometry import MapGeometry

    start = document.find("k360map.init(")
    if start < 0:
        return None
    brace = document.find("{", start)
    if brace < 0:
        return None
    try:
        config, _end = json.JSONDecoder().raw_decode(document, brace)
        topo, ids = config["topo"], [str(a) for a in config["ids"]]
        geo = MapGeometry(tuple(ids), dict(topo), (0.0, 0.0, 0.0, 0.0), 0.0, "none")
        return {a: geo.rings(i) for i, a in enumerate(ids)}
    except (ValueError, KeyError, TypeError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# data classes
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """One decision of a role (an entry of the decision log)."""

    version: int
    round: int
    phase: str
    role: str
    actor: str
    type: str
    ts: str
    payload: dict
    undone: bool = False


@dataclass
class Edge:
    """Two participants of joint measures and the money they put in together."""

    source: str
    target: str
    amount: float = 0.0
    measures: list[str] = field(default_factory=list)
    cofunded: int = 0


@dataclass
class Network:
    """Who co-funded with whom: ``nodes`` (funder ids) and ``edges``."""

    nodes: list[str]
    edges: list[Edge]
    funded: dict[str, float]

    def edge(self, a: str, b: str) -> Edge | None:
        """Return the edge between ``a`` and ``b`` (either direction) or ``None``."""
        for e in self.edges:
            if {e.source, e.target} == {a, b}:
                return e
        return None


# ---------------------------------------------------------------------------------------------
# the debrief
# ---------------------------------------------------------------------------------------------
def _state_of(game: Any) -> GameState:
    from k360lib.game.state import GameState, fold

    if isinstance(game, GameState):
        return game
    st = getattr(game, "state", None)
    if isinstance(st, GameState):
        return st
    if isinstance(game, list | tuple):
        return fold(list(game))
    raise TypeError(
        "debrief() needs a Game, GameSession, GameState or a list of events, "
        f"not {type(game).__name__}"
    )


def debrief(game: Any, *, geometry: Any = None, meta: dict | None = None) -> Debrief:
    """Return the :class:`Debrief` of a game (see the module docstring).

    Parameters
    ----------
    game : Game, GameSession, GameState or list of Event
        The game to debrief (running games too: what happened so far).
    geometry : optional
        Area outlines for the maps (see :func:`area_rings`); ``False`` draws
        a schematic grid.
    meta : dict, optional
        Shown in the report's header (e.g. ``{"game_code": "ABC234"}``).
    """
    state = _state_of(game)
    return Debrief(state, area_rings(state, geometry), dict(meta or {}))


class Debrief:
    """The debrief of one game: data views, SVG pictures and the exports.

    Build it with :func:`debrief`. Texts come in the language asked for; the
    data views (``trajectories``, ``decisions``, ``network`` …) are
    language-neutral.
    """

    def __init__(self, state: GameState, rings: dict | None = None, meta: dict | None = None):
        self.state = state
        self.meta = dict(meta or {})
        w = state.world
        self.world = w
        self.rounds = [int(h["round"]) for h in state.history]
        self.indicators = [NEED, *w.indicators]
        if rings:
            self.shapes = AreaShapes(rings)
        else:
            self.shapes = AreaShapes.grid(list(w.area_ids), list(w.districts))
        self._events = effective_events(state)
        self._contexts: dict[str, dict] = {}

    # -- labels ----------------------------------------------------------------------------------
    def role_label(self, role: str, lang: str | None = None) -> str:
        """Name of a role or funding programme."""
        rules = self.state.rules
        if role in rules.roles:
            return rules.roles[role].label(lang)
        prog = self.state.programmes.get(role)
        if prog is not None:
            card = rules.cards.get(prog.get("card"))
            for eff in getattr(card, "effects", []):
                if getattr(eff, "type", "") == "programme" and eff.id == role:
                    return eff.name.get(lang)
        return str(role)

    def role_short(self, role: str) -> str:
        """Short name (e.g. ``JA``) of a role; programmes get ``€``."""
        r = self.state.rules.roles.get(role)
        if r is None:
            return "€"
        return r.short or r.id[:3].upper()

    def indicator_label(self, indicator: str, lang: str | None = None) -> str:
        """Label of an indicator (or of the need score), with its unit."""
        lang = normalize_lang(lang)
        if indicator == NEED:
            return t("debrief.need", lang)
        label = self.world.labels.get(indicator, {}).get(lang) or indicator
        unit = _unit(self.world.units.get(indicator) or "", lang)
        return f"{label} ({unit})" if unit else label

    def measure_label(self, measure: str, lang: str | None = None) -> str:
        """Name of a measure type."""
        m = self.state.rules.measures.get(measure)
        return m.label(lang) if m is not None else str(measure)

    def area_label(self, area: str) -> str:
        """Name of a Sozialraum."""
        try:
            return self.world.area_name(area)
        except KeyError:
            return str(area)

    def polarity(self, indicator: str) -> float:
        """+1 when higher means more need, −1 when less, 0 when neutral."""
        if indicator == NEED:
            return 1.0
        return float(self.world.polarity[self.world.indicator_index(indicator)])

    def title(self, lang: str | None = None) -> str:
        """Return the scenario's title."""
        return self.state.scenario.title.get(lang)

    # -- trajectories ------------------------------------------------------------------------------
    def value(self, round_index: int, area: str, indicator: str) -> float | None:
        """Value of ``indicator`` in ``area`` after history entry ``round_index`` (0 = base year)."""
        h = self.state.history[round_index]
        a = self.world.area_index(area)
        if indicator == NEED:
            v = h["need"][a]
        else:
            v = h["values"][a][self.world.indicator_index(indicator)]
        return None if v is None or not math.isfinite(v) else float(v)

    def trajectory(self, indicator: str, area: str | None = None) -> list[tuple[int, float | None]]:
        """``[(round, value)]`` of one area, or of the mean over areas with a value (``area=None``)."""
        out = []
        for i, rnd in enumerate(self.rounds):
            if area is not None:
                out.append((rnd, self.value(i, area, indicator)))
                continue
            vals = [self.value(i, a, indicator) for a in self.world.area_ids]
            vals = [v for v in vals if v is not None]
            out.append((rnd, sum(vals) / len(vals) if vals else None))
        return out

    def trajectories(self) -> list[dict]:
        """Long table: ``round, area_id, area, indicator, value`` for every area and indicator."""
        rows = []
        for i, rnd in enumerate(self.rounds):
            for area in self.world.area_ids:
                for ind in self.indicators:
                    rows.append(
                        {
                            "round": rnd,
                            "area_id": area,
                            "area": self.area_label(area),
                            "indicator": ind,
                            "value": self.value(i, area, ind),
                        }
                    )
        return rows

    def series(self, name: str) -> list[tuple[int, float]]:
        """``[(round, value)]`` of a shared outcome (see :data:`SHARED_FIELDS`)."""
        return [(int(h["round"]), float(h[name])) for h in self.state.history]

    def before_after(self, indicator: str = NEED) -> list[dict]:
        """Per area: ``before`` (base year), ``after`` (last round), ``change`` and ``better``."""
        pol = self.polarity(indicator)
        last = len(self.rounds) - 1
        rows = []
        for area in self.world.area_ids:
            b = self.value(0, area, indicator)
            a = self.value(last, area, indicator)
            ch = None if a is None or b is None else a - b
            rows.append(
                {
                    "area_id": area,
                    "area": self.area_label(area),
                    "before": b,
                    "after": a,
                    "change": ch,
                    "better": None if ch is None or not pol else -pol * ch,
                    "measures": self.measures_in(area),
                }
            )
        return rows

    def measures_in(self, area: str) -> int:
        """Return the number of measures started in ``area``."""
        return sum(1 for m in self.state.measures.values() if m.area == area)

    # -- decisions -----------------------------------------------------------------------------------
    def decisions(self, role: str | None = None, include_undone: bool = True) -> list[Decision]:
        """Return the decision log (of one role), in order; undone entries are marked."""
        out = []
        for e, undone, rnd, phase in self._events:
            if e.type not in DECISION_TYPES or e.role is None:
                continue
            if role is not None and e.role != role:
                continue
            if undone and not include_undone:
                continue
            out.append(
                Decision(e.version, rnd, phase, e.role, e.actor, e.type, e.ts, e.payload, undone)
            )
        return out

    def describe(self, d: Decision, lang: str | None = None) -> str:
        """Return a decision as a sentence (plain text; escape it for HTML)."""
        lang = normalize_lang(lang)
        p = d.payload
        prop = self.state.proposals.get(p.get("proposal", ""))
        params: dict[str, Any] = {"proposal": p.get("proposal", "")}
        if prop is not None:
            params["measure"] = self.measure_label(prop.measure, lang)
            params["area"] = self.area_label(prop.area)
        if d.type == "proposal_made":
            params["measure"] = self.measure_label(p["measure"], lang)
            params["area"] = self.area_label(p["area"])
            params["shares"] = self._shares(p.get("shares", {}), lang)
            params["partners"] = (
                ", ".join(self.role_label(r, lang) for r in p.get("partners", [])) or "–"
            )
        elif d.type in ("proposal_cofunded", "measure_taken_over"):
            params["share"] = _pct(float(p.get("share", 0)), lang)
        elif d.type == "proposal_amended":
            ch = p.get("changes", {})
            parts = []
            if "area" in ch:
                parts.append(t("debrief.log.change_area", lang, area=self.area_label(ch["area"])))
            if "shares" in ch:
                parts.append(
                    t("debrief.log.change_shares", lang, shares=self._shares(ch["shares"], lang))
                )
            if "partners" in ch:
                names = ", ".join(self.role_label(r, lang) for r in ch["partners"]) or "–"
                parts.append(t("debrief.log.change_partners", lang, partners=names))
            if "note" in ch:
                parts.append(t("debrief.log.change_note", lang))
            params["changes"] = "; ".join(parts) or "–"
        elif d.type == "votes_cast":
            params["ballots"] = ", ".join(
                # i18n-dynamic: ballots yes/no/abstain, checked by the engine
                f"{pid} {t(f'debrief.ballot.{b}', lang)}"
                for pid, b in p.get("ballots", {}).items()
            )
        elif d.type == "funding_stopped":
            m = self.state.measures.get(p.get("measure", ""))
            if m is not None:
                params["measure"] = self.measure_label(m.measure, lang)
                params["area"] = self.area_label(m.area)
        if d.type == "measure_taken_over":
            m = self.state.measures.get(p.get("measure", ""))
            if m is not None:
                params["measure"] = self.measure_label(m.measure, lang)
                params["area"] = self.area_label(m.area)
        # i18n-dynamic: one of DECISION_TYPES (filtered in decisions())
        return t(f"debrief.log.{d.type}", lang, **params)

    def decision_note(self, d: Decision) -> str:
        """Return the player's free text of a decision (proposal note or amended note), else ``""``."""
        if d.type == "proposal_made":
            return str(d.payload.get("note") or "")
        if d.type == "proposal_amended":
            return str(d.payload.get("changes", {}).get("note") or "")
        return ""

    def outcome(self, d: Decision, lang: str | None = None) -> str:
        """Return what became of the proposal a decision is about (approved 5:2, rejected …)."""
        lang = normalize_lang(lang)
        prop = self.state.proposals.get(d.payload.get("proposal", ""))
        if prop is None:
            return ""
        res = prop.result or {}
        # i18n-dynamic: proposal statuses of the engine (open, withdrawn, approved, rejected, unfunded)
        text = t(f"debrief.status.{prop.status}", lang)
        if res.get("yes") is not None and prop.status in ("approved", "rejected", "unfunded"):
            text += f" ({res.get('yes')}:{res.get('no')})"
        if res.get("reason"):
            # i18n-dynamic: game.rule.* reasons written by rules.run_decision
            text += " – " + t(str(res["reason"]), lang)
        return text

    def _shares(self, shares: dict, lang: str) -> str:
        return ", ".join(
            f"{self.role_short(f)} {_pct(float(v), lang)}"
            for f, v in shares.items()
            if float(v) > 0
        )

    # -- network --------------------------------------------------------------------------------------
    def network(self) -> Network:
        """Who co-funded with whom (see the module docstring for the amount)."""
        rules = self.state.rules
        nodes = list(self.state.roles) + [p for p in self.state.programmes]
        edges: dict[tuple[str, str], Edge] = {}
        funded: dict[str, float] = {n: 0.0 for n in nodes}
        for m in sorted(self.state.measures.values(), key=lambda x: x.number):
            meas = rules.measures[m.measure]
            volume = meas.invest + meas.cost
            shares = dict(m.funders)
            for f, s in shares.items():
                funded[f] = funded.get(f, 0.0) + s * volume
            people = list(dict.fromkeys([m.lead, *m.partners, *shares]))
            for i, a in enumerate(people):
                for b in people[i + 1 :]:
                    key = tuple(sorted((a, b)))
                    e = edges.get(key)
                    if e is None:
                        e = edges[key] = Edge(key[0], key[1])
                    money = (shares.get(a, 0.0) + shares.get(b, 0.0)) * volume
                    if shares.get(a, 0.0) > 0 and shares.get(b, 0.0) > 0:
                        e.cofunded += 1
                    e.amount += money
                    e.measures.append(m.id)
        for n in list(funded):
            if n not in nodes:
                nodes.append(n)
        ordered = sorted(edges.values(), key=lambda e: (-e.amount, e.source, e.target))
        return Network(nodes, ordered, funded)

    # -- goals --------------------------------------------------------------------------------------
    def goals(self) -> list[dict]:
        """Per role: goal type, value, target, progress and achieved (last round) and progress per round."""
        rows = []
        last = self.state.history[-1]["roles"]
        for r in self.state.roles:
            g = last.get(r, {})
            rows.append(
                {
                    "role": r,
                    "goal_type": self.state.rules.roles[r].goal.type,
                    "value": g.get("goal_value"),
                    "target": g.get("goal_target"),
                    "progress": g.get("goal_progress", 0.0),
                    "achieved": bool(g.get("goal_achieved", False)),
                    "spent": sum(
                        h["roles"].get(r, {}).get("spent", 0.0) for h in self.state.history[1:]
                    ),
                    "by_round": [
                        (int(h["round"]), h["roles"].get(r, {}).get("goal_progress"))
                        for h in self.state.history
                    ],
                }
            )
        return rows

    def goal_text(self, role: str, lang: str | None = None) -> str:
        """Return the role's private goal as written in the scenario."""
        return self.state.rules.roles[role].goal.text.get(lang)

    # -- reflection ---------------------------------------------------------------------------------
    def stage_of_prompt(self, index: int) -> str:
        """Return the debrief stage of the scenario's reflection prompt ``index``."""
        prompts = self.state.scenario.reflection
        if index is None or not 0 <= int(index) < len(prompts):
            return "happened"
        text = " ".join((prompts[int(index)].get(lg) or "").lower() for lg in ("de", "en"))
        for stage, words in _STAGE_WORDS:
            if any(w in text for w in words):
                return stage
        return "analysis"

    def facts(self, lang: str | None = None) -> dict[str, list[str]]:
        """Facts from the game to discuss, per stage (``happened`` and ``analysis``)."""
        lang = normalize_lang(lang)
        s = self.state
        first, last = s.history[0], s.history[-1]
        happened = [
            t(
                "debrief.fact.proposals",
                lang,
                n=len(s.proposals),
                approved=sum(1 for p in s.proposals.values() if p.status == "approved"),
                running=len(s.active_measures()),
            ),
            t(
                "debrief.fact.shared",
                lang,
                score=_fmt(last["shared_score"], 1, lang),
                need0=_fmt(first["need_mean"], 2, lang),
                need1=_fmt(last["need_mean"], 2, lang),
                gap0=_fmt(first["equity_gap"], 2, lang),
                gap1=_fmt(last["equity_gap"], 2, lang),
                reach=_pct(last["reach"], lang, 1),
            ),
        ]
        goals = self.goals()
        happened.append(
            t(
                "debrief.fact.goals",
                lang,
                k=sum(1 for g in goals if g["achieved"]),
                n=len(goals),
            )
        )
        if s.cards:
            titles = ", ".join(
                s.rules.cards[c["card"]].title.get(lang)
                for c in s.cards
                if c["card"] in s.rules.cards
            )
            happened.append(t("debrief.fact.cards", lang, cards=titles))
        net = self.network()
        money = [e for e in net.edges if e.amount > 0]
        if money:
            e = money[0]
            happened.append(
                t(
                    "debrief.fact.top_pair",
                    lang,
                    a=self.role_label(e.source, lang),
                    b=self.role_label(e.target, lang),
                    amount=_fmt(e.amount, 0, lang),
                    currency=s.scenario.currency,
                    n=len(e.measures),
                )
            )
        linked = {x for e in net.edges for x in (e.source, e.target)}
        alone = [r for r in s.roles if r not in linked]
        if alone:
            happened.append(
                t(
                    "debrief.fact.alone",
                    lang,
                    roles=", ".join(self.role_label(r, lang) for r in alone),
                )
            )
        analysis = []
        rows = [r for r in self.before_after(NEED) if r["better"] is not None]
        if rows:
            best = max(rows, key=lambda r: r["better"])
            if best["better"] > 1e-9:
                analysis.append(
                    t(
                        "debrief.fact.best_area",
                        lang,
                        area=best["area"],
                        before=_fmt(best["before"], 2, lang),
                        after=_fmt(best["after"], 2, lang),
                    )
                )
            neediest = sorted(rows, key=lambda r: -(r["before"] or 0))[: max(3, len(rows) // 4)]
            empty = [r["area"] for r in neediest if not r["measures"]]
            if empty:
                analysis.append(t("debrief.fact.needy_empty", lang, areas=", ".join(empty)))
            crowded = max(self.world.area_ids, key=self.measures_in)
            if self.measures_in(crowded) > 1:
                analysis.append(
                    t(
                        "debrief.fact.crowded",
                        lang,
                        area=self.area_label(crowded),
                        n=self.measures_in(crowded),
                    )
                )
        achieved = [g for g in goals if g["achieved"]]
        if achieved and last["shared_score"] <= 0:
            analysis.append(t("debrief.fact.goals_vs_shared", lang))
        return {"happened": happened, "analysis": analysis}

    def stages(self, lang: str | None = None) -> list[dict]:
        """Return the four debrief stages: ``id, title, intro, prompts, facts, notes``."""
        lang = normalize_lang(lang)
        facts = self.facts(lang)
        out = []
        for st in STAGES:
            # i18n-dynamic: stages of STAGES, indices below _GENERIC_PROMPTS
            prompts = [t(f"debrief.prompt.{st}.{i}", lang) for i in range(_GENERIC_PROMPTS[st])]
            own = [
                p.get(lang)
                for i, p in enumerate(self.state.scenario.reflection)
                if self.stage_of_prompt(i) == st
            ]
            out.append(
                {
                    "id": st,
                    # i18n-dynamic: stages of STAGES
                    "title": t(f"debrief.stage.{st}", lang),
                    # i18n-dynamic: stages of STAGES
                    "intro": t(f"debrief.stage.{st}.intro", lang),
                    "prompts": own
                    + [p for p in prompts if not any(p.lower() in o.lower() for o in own)],
                    "scenario_prompts": own,
                    "facts": facts.get(st, []),
                    "notes": [
                        {
                            **n,
                            "role_label": self.role_label(n["role"], lang) if n.get("role") else "",
                        }
                        for n in self.notes()
                        if n["stage"] == st
                    ],
                }
            )
        return out

    def notes(self) -> list[dict]:
        """Return the roles' notes: ``round, phase, role, prompt, stage, text``."""
        out = []
        for n in self.state.notes:
            out.append({**n, "stage": self.stage_of_prompt(n.get("prompt"))})
        return out

    def prompt_text(self, index: int | None, lang: str | None = None) -> str:
        """Text of the scenario's reflection prompt ``index`` (``""`` when none)."""
        prompts = self.state.scenario.reflection
        if index is None or not 0 <= int(index) < len(prompts):
            return ""
        return prompts[int(index)].get(lang)

    # -- pictures -------------------------------------------------------------------------------------
    def round_ticks(self, lang: str) -> list[tuple[int, str]]:
        """X-axis ticks: ``Basis`` for round 0, then the round numbers."""
        return [(r, t("debrief.base_short", lang) if r == 0 else str(r)) for r in self.rounds]

    def decimals(self, indicator: str) -> int:
        """Decimals to show for an indicator."""
        if indicator == NEED:
            return 2
        unit = self.world.units.get(indicator, "")
        return 0 if unit in ("Personen", "persons", "Anzahl") else 1

    def indicator_chart(
        self, indicator: str, areas: list[str] | None = None, lang: str | None = None
    ) -> str:
        """SVG line chart: the mean over areas (black) and the given areas (colours)."""
        lang = normalize_lang(lang)
        series = [
            {
                "label": t("debrief.city_mean", lang),
                "points": self.trajectory(indicator),
                "color": "#000000",
                "width": 2.5,
            }
        ]
        for i, a in enumerate(areas or []):
            series.append(
                {
                    "label": self.area_label(a),
                    "points": self.trajectory(indicator, a),
                    "color": SERIES_COLORS[1 + i % (len(SERIES_COLORS) - 1)],
                    "width": 1.6,
                    "dash": i >= len(SERIES_COLORS) - 1,
                }
            )
        return line_chart_svg(
            series,
            title=self.indicator_label(indicator, lang),
            x_label=t("debrief.round", lang),
            x_ticks=self.round_ticks(lang),
            decimals=self.decimals(indicator),
            lang=lang,
            data={"indicator": indicator},
        )

    def shared_chart(self, name: str, lang: str | None = None) -> str:
        """SVG line chart of one shared outcome per round."""
        lang = normalize_lang(lang)
        pts = self.series(name)
        if name == "reach":
            pts = [(r, 100 * v) for r, v in pts]
        return line_chart_svg(
            [{"label": "", "points": pts, "color": "#0072B2", "width": 2.5}],
            # i18n-dynamic: fields of SHARED_FIELDS
            title=t(f"debrief.shared.{name}", lang),
            x_label=t("debrief.round", lang),
            x_ticks=self.round_ticks(lang),
            decimals=1 if name in ("shared_score", "reach") else 2,
            lang=lang,
            width=260,
            height=180,
            data={"series": name},
        )

    def focus_areas(self, n: int = 4) -> list[str]:
        """Areas with the most measures started (ties: higher base need first)."""
        need0 = {r["area_id"]: r["before"] or 0.0 for r in self.before_after(NEED)}
        ids = [a for a in self.world.area_ids if self.measures_in(a)]
        ids.sort(key=lambda a: (-self.measures_in(a), -need0[a]))
        return ids[:n]

    def _classes(self, indicator: str) -> list[float]:
        vals = [
            v
            for r in self.before_after(indicator)
            for v in (r["before"], r["after"])
            if v is not None
        ]
        if not vals:
            return []
        vals.sort()
        k = len(NEED_COLORS)
        return [vals[min(len(vals) - 1, int(len(vals) * i / k))] for i in range(1, k)]

    def maps(self, indicator: str = NEED, lang: str | None = None, uid: str = "") -> dict[str, str]:
        """Return ``{"before": svg, "after": svg, "change": svg}`` maps of ``indicator``.

        Before and after share one classification (quantiles of both), so a
        colour means the same value on both; dark = more need. The change map
        is signed by polarity: blue = better, red = worse.
        """
        lang = normalize_lang(lang)
        rows = self.before_after(indicator)
        pol = self.polarity(indicator)
        breaks = self._classes(indicator)
        dec = self.decimals(indicator)
        colors = list(NEED_COLORS if pol >= 0 else NEED_COLORS[::-1])
        uid = uid or indicator

        def klass(v):
            if v is None:
                return None
            return colors[sum(1 for b in breaks if v > b)]

        legend = []
        edges = [None, *breaks, None]
        for i in range(len(breaks) + 1):
            lo, hi = edges[i], edges[i + 1]
            if lo is None and hi is None:
                text = t("debrief.map.all", lang)
            elif lo is None:
                text = f"≤ {_fmt(hi, dec, lang)}"
            elif hi is None:
                text = f"> {_fmt(lo, dec, lang)}"
            else:
                text = f"{_fmt(lo, dec, lang)} – {_fmt(hi, dec, lang)}"
            legend.append((text, colors[i]))
        legend.append((t("debrief.map.missing", lang), None))
        label = self.indicator_label(indicator, lang)
        out = {}
        for which, key in (("before", "before"), ("after", "after")):
            tips = {
                r["area_id"]: f"{r['area']}: {_fmt(r[key], dec, lang)}"
                + (
                    f" · {t('debrief.map.measures', lang)}: {r['measures']}"
                    if which == "after" and r["measures"]
                    else ""
                )
                for r in rows
            }
            round_text = (
                t("debrief.map.before", lang, year=self.world.year)
                if which == "before"
                else t("debrief.map.after", lang, round=self.rounds[-1])
            )
            out[which] = map_svg(
                self.shapes,
                {r["area_id"]: klass(r[key]) for r in rows},
                title=f"{label} – {round_text}",
                tooltips=tips,
                legend=legend,
                markers={r["area_id"]: r["measures"] for r in rows} if which == "after" else None,
                marker_label=t("debrief.map.measures", lang),
                uid=f"{uid}-{which}",
                data={"indicator": indicator, "which": which},
            )
        better = [abs(r["better"]) for r in rows if r["better"] is not None]
        scale = max(better) if better else 0.0

        def change_color(r):
            b = r["better"]
            if b is None:
                return None if r["change"] is None else CHANGE_COLORS[2]
            if scale <= 1e-12 or abs(b) <= scale * 0.05:
                return CHANGE_COLORS[2]
            if b > 0:
                return CHANGE_COLORS[4] if b > scale / 2 else CHANGE_COLORS[3]
            return CHANGE_COLORS[0] if -b > scale / 2 else CHANGE_COLORS[1]

        tips = {
            r[
                "area_id"
            ]: f"{r['area']}: {_fmt(r['before'], dec, lang)} → {_fmt(r['after'], dec, lang)}"
            for r in rows
        }
        out["change"] = map_svg(
            self.shapes,
            {r["area_id"]: change_color(r) for r in rows},
            title=f"{label} – {t('debrief.map.change', lang)}",
            tooltips=tips,
            legend=[
                (t("debrief.map.much_better", lang), CHANGE_COLORS[4]),
                (t("debrief.map.better", lang), CHANGE_COLORS[3]),
                (t("debrief.map.same", lang), CHANGE_COLORS[2]),
                (t("debrief.map.worse", lang), CHANGE_COLORS[1]),
                (t("debrief.map.much_worse", lang), CHANGE_COLORS[0]),
                (t("debrief.map.missing", lang), None),
            ],
            uid=f"{uid}-change",
            data={"indicator": indicator, "which": "change"},
        )
        return out

    def network_svg(self, lang: str | None = None) -> str:
        """SVG of the co-funding network."""
        lang = normalize_lang(lang)
        net = self.network()
        sectors = list(
            dict.fromkeys(self.state.rules.sector.get(n, "programme") for n in net.nodes)
        )
        cur = self.state.scenario.currency

        def color(n):
            sec = self.state.rules.sector.get(n, "programme")
            return _SECTOR_COLORS[sectors.index(sec) % len(_SECTOR_COLORS)]

        nodes = [
            {
                "id": n,
                "label": self.role_label(n, lang),
                "short": self.role_short(n),
                "color": color(n),
            }
            for n in net.nodes
        ]
        edges = [
            {
                "source": e.source,
                "target": e.target,
                "amount": e.amount,
                "measures": e.measures,
                "short_label": f"{_fmt(e.amount, 0, lang)} {cur}" if e.amount > 0 else "",
            }
            for e in net.edges
        ]

        def amount_label(e):
            return t(
                "debrief.net.edge",
                lang,
                a=self.role_label(e["source"], lang),
                b=self.role_label(e["target"], lang),
                amount=_fmt(e["amount"], 0, lang),
                currency=cur,
                n=len(e["measures"]),
            )

        return network_svg(
            nodes, edges, title=t("debrief.net.title", lang), amount_label=amount_label
        )

    def goals_svg(self, lang: str | None = None) -> str:
        """SVG bars: each role's goal progress after the last round."""
        lang = normalize_lang(lang)
        rows = [
            {
                "label": self.role_label(g["role"], lang),
                "value": g["progress"],
                "text": _pct(g["progress"], lang) + (" ✓" if g["achieved"] else ""),
                "color": "#009E73" if g["achieved"] else "#E69F00",
            }
            for g in self.goals()
        ]
        return bars_svg(rows, title=t("debrief.goals.bars", lang))

    # -- exports ---------------------------------------------------------------------------------------
    def context(self, lang: str | None = None) -> dict:
        """Everything the HTML template needs, in ``lang`` (plain values; the template escapes)."""
        lang = normalize_lang(lang)
        s = self.state
        first, last = s.history[0], s.history[-1]
        cur = s.scenario.currency
        shared_rows = []
        for name in SHARED_FIELDS:
            fmt = (
                (lambda v: _pct(v, lang, 1))
                if name == "reach"
                else (lambda v, n=name: _fmt(v, 1 if n == "shared_score" else 2, lang))
            )
            shared_rows.append(
                {
                    # i18n-dynamic: fields of SHARED_FIELDS
                    "label": t(f"debrief.shared.{name}", lang),
                    "values": [fmt(h[name]) for h in s.history],
                }
            )
        decisions = []
        for r in s.roles:
            entries = [
                {
                    "round": d.round,
                    "phase": t(f"game.phase.{d.phase}", lang),
                    "text": self.describe(d, lang),
                    "note": self.decision_note(d),
                    "outcome": self.outcome(d, lang) if d.type == "proposal_made" else "",
                    "undone": d.undone,
                    "time": d.ts[11:16] if len(d.ts) >= 16 else d.ts,
                }
                for d in self.decisions(r)
            ]
            decisions.append({"role": r, "label": self.role_label(r, lang), "entries": entries})
        net = self.network()
        edges = [
            {
                "a": self.role_label(e.source, lang),
                "b": self.role_label(e.target, lang),
                "amount": f"{_fmt(e.amount, 0, lang)} {cur}",
                "n": len(e.measures),
                "cofunded": e.cofunded,
                "measures": ", ".join(e.measures),
            }
            for e in net.edges
        ]
        goals = [
            {
                "label": self.role_label(g["role"], lang),
                "text": self.goal_text(g["role"], lang),
                "value": _fmt(
                    g["value"], 2 if g["goal_type"] in ("indicator", "budget_left") else 0, lang
                ),
                "target": _fmt(
                    g["target"], 2 if g["goal_type"] in ("indicator", "budget_left") else 0, lang
                ),
                "progress": [_pct(p, lang) for _, p in g["by_round"]],
                "achieved": g["achieved"],
                "spent": f"{_fmt(g['spent'], 0, lang)} {cur}",
            }
            for g in self.goals()
        ]
        focus = self.focus_areas()
        charts = [self.indicator_chart(ind, focus, lang) for ind in self.indicators]
        change_maps = [
            self.maps(ind, lang, uid=f"c{i}")["change"]
            for i, ind in enumerate(self.world.indicators)
        ]
        notes = [
            {
                "round": n["round"],
                "role": self.role_label(n["role"], lang) if n.get("role") else "–",
                "prompt": self.prompt_text(n.get("prompt"), lang),
                "text": n["text"],
            }
            for n in self.notes()
        ]
        ba = [
            {
                "area": r["area"],
                "area_id": r["area_id"],
                "before": _fmt(r["before"], 2, lang),
                "after": _fmt(r["after"], 2, lang),
                "change": _fmt(r["change"], 2, lang),
                "measures": r["measures"],
            }
            for r in sorted(self.before_after(NEED), key=lambda r: -(r["before"] or -1e9))
        ]
        return {
            "lang": lang,
            # i18n-dynamic: the template's literal keys (debrief.*), checked by test_debrief
            "t": lambda key, **kw: t(key, lang, **kw),
            "title": self.title(lang),
            "city": self.world.atlas_name,
            "game_id": s.game_id,
            "meta": self.meta,
            # i18n-dynamic: game status running/ended of the engine
            "status": t(f"debrief.game_status.{s.status}", lang),
            "rounds_played": len(self.rounds) - 1,
            "rounds_total": s.scenario.rounds,
            "base_year": self.world.year,
            "history_rounds": [
                t("debrief.base_short", lang) if r == 0 else str(r) for r in self.rounds
            ],
            "shared_rows": shared_rows,
            "shared_charts": [self.shared_chart(n, lang) for n in SHARED_FIELDS],
            "score": _fmt(last["shared_score"], 1, lang),
            "need0": _fmt(first["need_mean"], 2, lang),
            "need1": _fmt(last["need_mean"], 2, lang),
            "focus": [self.area_label(a) for a in focus],
            "charts": charts,
            "maps": self.maps(NEED, lang, uid="need"),
            "change_maps": change_maps,
            "schematic": self.shapes.schematic,
            "before_after": ba,
            "decisions": decisions,
            "network_svg": self.network_svg(lang),
            "edges": edges,
            "goals": goals,
            "goals_svg": self.goals_svg(lang),
            "stages": self.stages(lang),
            "notes": notes,
            "cards": [
                {
                    "round": c["round"],
                    "title": s.rules.cards[c["card"]].title.get(lang),
                    "text": s.rules.cards[c["card"]].text.get(lang),
                }
                for c in s.cards
                if c["card"] in s.rules.cards
            ],
        }

    def _template_context(self, lang: str | None = None, **overrides) -> dict:
        from markupsafe import Markup

        lang = normalize_lang(lang)
        if lang not in self._contexts:
            ctx = self.context(lang)
            for key in ("shared_charts", "charts", "change_maps"):
                ctx[key] = [Markup(svg) for svg in ctx[key]]
            ctx["maps"] = {k: Markup(v) for k, v in ctx["maps"].items()}
            for key in ("network_svg", "goals_svg"):
                ctx[key] = Markup(ctx[key])
            self._contexts[lang] = ctx
        return {**self._contexts[lang], **overrides}

    def to_html(self, path: str | Path | None = None, lang: str | None = None) -> str:
        """Return (and optionally write) the standalone HTML report.

        The page has inline CSS and inline SVG only: no script, no image or
        font file, no link to another site — it opens offline from a file or
        an e-mail attachment. Every text from players and scenario authors
        is escaped by the template engine (autoescape); the SVG pictures are
        built here with every text escaped.
        """
        text = _template().render(**self._template_context(lang))
        if path is not None:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        return text

    def section_html(self, name: str, lang: str | None = None, **overrides) -> str:
        """Return one section of the report as HTML (what the debrief app shows in a tab).

        Parameters
        ----------
        name : {"summary", "trajectories", "maps", "decisions", "network", "goals", "reflection"}
            The section.
        lang : str, optional
            Language.
        **overrides
            Replace context values, e.g. ``decisions=[...]`` of one role
            (see :meth:`context`).
        """
        if name not in SECTIONS:
            raise ValueError(f"unknown section {name!r}; expected one of {', '.join(SECTIONS)}")
        tmpl = _template()
        ctx = tmpl.new_context(self._template_context(lang, **overrides))
        return "".join(tmpl.blocks[name](ctx))

    def sheets(self, lang: str | None = None) -> dict[str, tuple[list[str], list[list]]]:
        """Return the workbook's sheets: ``{name: (header, rows)}`` (see :meth:`to_xlsx`)."""
        from k360lib.game import export as X

        lang = normalize_lang(lang)
        s = self.state

        def sheet(name):
            # i18n-dynamic: sheet names used in sheets() only
            return t(f"debrief.sheet.{name}", lang)

        def col(name):
            # i18n-dynamic: column names used in sheets() only
            return t(f"debrief.col.{name}", lang)

        out: dict[str, tuple[list[str], list[list]]] = {}
        summary = [
            [t("debrief.col.title", lang), self.title(lang)],
            [t("debrief.col.city", lang), self.world.atlas_name],
            [t("debrief.col.game", lang), s.game_id],
            *([[k, str(v)] for k, v in self.meta.items()]),
            # i18n-dynamic: game status running/ended of the engine
            [t("debrief.col.status", lang), t(f"debrief.game_status.{s.status}", lang)],
            [t("debrief.col.rounds", lang), len(self.rounds) - 1],
            [t("debrief.col.base_year", lang), self.world.year],
        ]
        out[sheet("summary")] = ([col("field"), col("value")], summary)
        out[sheet("shared")] = (
            # i18n-dynamic: fields of SHARED_FIELDS
            [col("round"), *[t(f"debrief.shared.{n}", lang) for n in SHARED_FIELDS]],
            [[int(h["round"]), *[float(h[n]) for n in SHARED_FIELDS]] for h in s.history],
        )
        out[sheet("trajectories")] = (
            [
                col("round"),
                col("area_id"),
                col("area"),
                col("indicator"),
                col("label"),
                col("value"),
            ],
            [
                [
                    r["round"],
                    r["area_id"],
                    r["area"],
                    r["indicator"],
                    self.indicator_label(r["indicator"], lang),
                    r["value"],
                ]
                for r in self.trajectories()
            ],
        )
        ba_rows = []
        for ind in self.indicators:
            for r in self.before_after(ind):
                ba_rows.append(
                    [
                        r["area_id"],
                        r["area"],
                        ind,
                        self.indicator_label(ind, lang),
                        r["before"],
                        r["after"],
                        r["change"],
                        r["measures"],
                    ]
                )
        out[sheet("before_after")] = (
            [
                col("area_id"),
                col("area"),
                col("indicator"),
                col("label"),
                col("before"),
                col("after"),
                col("change"),
                col("measures"),
            ],
            ba_rows,
        )
        out[sheet("decisions")] = (
            [
                col("version"),
                col("round"),
                col("phase"),
                col("role"),
                col("type"),
                col("decision"),
                col("note"),
                col("outcome"),
                col("undone"),
                col("time"),
            ],
            [
                [
                    d.version,
                    d.round,
                    t(f"game.phase.{d.phase}", lang),
                    self.role_label(d.role, lang),
                    d.type,
                    self.describe(d, lang),
                    self.decision_note(d),
                    self.outcome(d, lang) if d.type == "proposal_made" else "",
                    d.undone,
                    d.ts,
                ]
                for d in self.decisions()
            ],
        )
        net = self.network()
        out[sheet("network")] = (
            [
                col("source"),
                col("target"),
                col("source_label"),
                col("target_label"),
                col("amount"),
                col("measures"),
                col("cofunded"),
                col("measure_ids"),
            ],
            [
                [
                    e.source,
                    e.target,
                    self.role_label(e.source, lang),
                    self.role_label(e.target, lang),
                    round(e.amount, 6),
                    len(e.measures),
                    e.cofunded,
                    ", ".join(e.measures),
                ]
                for e in net.edges
            ],
        )
        out[sheet("goals")] = (
            [
                col("role"),
                col("label"),
                col("goal"),
                col("value"),
                col("target_value"),
                col("progress"),
                col("achieved"),
                col("spent"),
                *[f"{col('progress')} {r}" for r in self.rounds],
            ],
            [
                [
                    g["role"],
                    self.role_label(g["role"], lang),
                    self.goal_text(g["role"], lang),
                    g["value"],
                    g["target"],
                    g["progress"],
                    g["achieved"],
                    g["spent"],
                    *[p for _, p in g["by_round"]],
                ]
                for g in self.goals()
            ],
        )
        prompt_rows = []
        for st in self.stages(lang):
            for p in st["prompts"]:
                prompt_rows.append([st["title"], col("prompt"), p])
            for f in st["facts"]:
                prompt_rows.append([st["title"], col("fact"), f])
        out[sheet("reflection")] = ([col("stage"), col("kind"), col("text")], prompt_rows)
        out[sheet("notes")] = (
            [col("round"), col("phase"), col("role"), col("stage"), col("prompt"), col("text")],
            [
                [
                    n["round"],
                    t(f"game.phase.{n['phase']}", lang),
                    self.role_label(n["role"], lang) if n.get("role") else "",
                    # i18n-dynamic: stages of STAGES
                    t(f"debrief.stage.{n['stage']}", lang),
                    self.prompt_text(n.get("prompt"), lang),
                    n["text"],
                ]
                for n in self.notes()
            ],
        )
        for name, frame in (
            ("proposals", X.proposals_table(s, lang)),
            ("measures", X.measures_table(s, lang)),
            ("rounds", X.long_table(s)),
        ):
            out[sheet(name)] = (
                [str(c) for c in frame.columns],
                frame.astype(object).where(frame.notna(), None).values.tolist(),
            )
        return out

    def to_xlsx(self, path: str | Path | None = None, lang: str | None = None) -> bytes:
        """Return (and optionally write) the Excel workbook (see :meth:`sheets` for its sheets)."""
        import io

        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        wb.remove(wb.active)
        for name, (header, rows) in self.sheets(lang).items():
            ws = wb.create_sheet(name[:31])
            ws.append(header)
            for c in ws[1]:
                c.font = Font(bold=True)
            for i, row in enumerate(rows, start=2):
                for j, v in enumerate(row, start=1):
                    value, as_text = sanitize_cell(v)
                    if isinstance(value, list | dict | tuple):
                        value = str(value)
                    cell = ws.cell(row=i, column=j, value=value)
                    if as_text:
                        cell.data_type = "s"
            ws.freeze_panes = "A2"
            for j, h in enumerate(header, start=1):
                letter = ws.cell(row=1, column=j).column_letter
                ws.column_dimensions[letter].width = min(60, max(10, len(str(h)) + 2))
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
        if path is not None:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return data


_TEMPLATE: list = []


def _template():
    """Return the report template (loaded once per process)."""
    if _TEMPLATE:
        return _TEMPLATE[0]
    try:
        import jinja2
    except ImportError as exc:  # pragma: no cover - jinja2 is a dependency of k360
        raise ImportError("the debrief report needs jinja2: pip install jinja2") from exc
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("k360lib.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    _TEMPLATE.append(env.get_template(TEMPLATE))
    return _TEMPLATE[0]


def stored_map_document(store, game_id: str) -> str | None:
    """Return the game's live map document from the store (any language), or ``None``.

    Facilitator apps store it with the game (artifact ``map/live/<lang>.html``);
    :func:`area_rings` reads the city's outlines from it.
    """
    from k360lib.game import store as S

    get = getattr(store, "artifact", None)
    if get is None:
        return None
    pattern = getattr(S, "ARTIFACT_MAP_DOC", "map/live/{lang}.html")
    for lang in ("de", "en"):
        try:
            doc = get(game_id, pattern.format(lang=lang))
        except Exception:  # noqa: BLE001 - an old store without artifacts: no stored map
            return None
        if doc:
            return doc
    return None


def finished_games(store, limit: int = 50) -> list[dict]:
    """Return the finished games of a store (newest first): its ``games()`` rows.

    A game counts as finished when its last event ends it (``phase_advanced``
    to ``ende``); only the last event of each game is read.
    """
    out = []
    for g in store.games()[:limit]:
        head = int(g.get("head") or 0)
        if head < 2:
            continue
        last = store.events(g["game_id"], since=head - 1)
        if last and last[-1].type == "phase_advanced" and last[-1].payload.get("to") == "ende":
            out.append(dict(g))
    return out
