"""Exports of a game: the event log as JSON, tidy (long) and wide tables, an Excel workbook.

- :func:`events_json` — the complete log (replayable with :func:`events_from_json`).
- :func:`long_table` — one row per ``round, role, field`` with its ``value``
  (``role`` is ``shared`` for the shared outcome); round 0 is the base year.
- :func:`wide_table` — one row per game, columns ``round.role.field``
  (e.g. ``3.jugendamt.spent``, ``3.shared.equity_gap``), like oTree's wide export.
- :func:`area_table`, :func:`proposals_table`, :func:`measures_table`,
  :func:`notes_table` — details for the debrief.
- :func:`to_xlsx` — all of the above as one workbook.

pandas is imported inside the functions (the engine itself does not need it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from k360lib.game.events import Event
from k360lib.i18n import normalize_lang

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.game.state import GameState

__all__ = [
    "ROLE_FIELDS",
    "SHARED_FIELDS",
    "area_table",
    "events_from_json",
    "events_json",
    "long_table",
    "measures_table",
    "notes_table",
    "proposals_table",
    "to_xlsx",
    "wide_table",
]

#: Fields per role and round in :func:`long_table` / :func:`wide_table`.
ROLE_FIELDS = (
    "budget",
    "spent",
    "staff",
    "staff_used",
    "trust",
    "proposals",
    "approved",
    "led_running",
    "partner_in",
    "votes_yes",
    "votes_no",
    "goal_value",
    "goal_target",
    "goal_progress",
    "goal_achieved",
)
#: Shared fields per round (role ``shared``).
SHARED_FIELDS = (
    "need_mean",
    "equity_gap",
    "reach",
    "reached",
    "in_need",
    "shared_score",
    "active_measures",
    "started",
)


def events_json(events: list[Event], path: str | Path | None = None, indent: int | None = 1) -> str:
    """Return (and optionally write) the event log as a JSON array."""
    text = json.dumps([e.to_dict() for e in events], ensure_ascii=False, indent=indent)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text


def events_from_json(source: str | Path) -> list[Event]:
    """Read an event log written by :func:`events_json` (a path or the JSON text)."""
    text = str(source)
    if not text.lstrip().startswith("["):
        text = Path(source).read_text(encoding="utf-8")
    return [Event.from_dict(d) for d in json.loads(text)]


def _role_rows(state: GameState) -> dict[tuple[int, str], dict]:
    """Per (round, role): the counts that are not in the history."""
    out: dict[tuple[int, str], dict] = {}
    for rnd in range(1, state.round + 1):
        for r in state.roles:
            out[(rnd, r)] = {
                "proposals": 0,
                "approved": 0,
                "votes_yes": 0,
                "votes_no": 0,
            }
    for p in state.proposals.values():
        row = out.get((p.round, p.lead))
        if row is not None:
            row["proposals"] += 1
            row["approved"] += p.status == "approved"
        for r, b in p.votes.items():
            row = out.get((p.round, r))
            if row is not None and b in ("yes", "no"):
                row[f"votes_{b}"] += 1
    for (rnd, r), row in out.items():
        running = [
            m
            for m in state.measures.values()
            if m.start_round <= rnd
            and (m.stopped_round is None or m.stopped_round > rnd)
            and (m.end_round is None or m.end_round >= rnd)
        ]
        row["led_running"] = sum(1 for m in running if m.lead == r)
        row["partner_in"] = sum(1 for m in running if m.lead != r and r in m.roles)
    return out


def long_table(state: GameState) -> pd.DataFrame:
    """Return the tidy table ``game_id, round, role, field, value`` (see the module docstring)."""
    import pandas as pd

    extra = _role_rows(state)
    rows = []
    for res in state.history:
        rnd = res["round"]
        for f in SHARED_FIELDS:
            rows.append((rnd, "shared", f, res.get(f)))
        for r in state.roles:
            v = dict(res["roles"].get(r, {}))
            v.update(extra.get((rnd, r), {}))
            for f in ROLE_FIELDS:
                if f in v:
                    val = v[f]
                    rows.append((rnd, r, f, float(val) if isinstance(val, bool) else val))
    df = pd.DataFrame(rows, columns=["round", "role", "field", "value"])
    df.insert(0, "game_id", state.game_id)
    return df


def wide_table(state: GameState) -> pd.DataFrame:
    """Return one row for the game with columns ``round.role.field`` (plus id columns)."""
    import pandas as pd

    long = long_table(state)
    row: dict = {
        "game_id": state.game_id,
        "scenario": state.scenario.id,
        "seed": state.seed,
        "version": state.version,
        "status": state.status,
    }
    for rnd, role, f, v in long[["round", "role", "field", "value"]].itertuples(index=False):
        row[f"{rnd}.{role}.{f}"] = v
    return pd.DataFrame([row])


def area_table(state: GameState, lang: str | None = None) -> pd.DataFrame:
    """Return per round and area: the need score and the model's indicator values."""
    import pandas as pd

    w = state.world
    rows = []
    for res in state.history:
        for a, area in enumerate(w.area_ids):
            row = {
                "round": res["round"],
                "area_id": area,
                "name": w.names[a],
                "district": w.districts[a],
                "need": res["need"][a],
            }
            for j, ind in enumerate(w.indicators):
                row[ind] = res["values"][a][j]
            rows.append(row)
    return pd.DataFrame(rows)


def proposals_table(state: GameState, lang: str | None = None) -> pd.DataFrame:
    """Return every proposal with its financing, partners, votes and result."""
    import pandas as pd

    lang = normalize_lang(lang)
    rows = []
    for p in state.proposals.values():
        res = p.result or {}
        rows.append(
            {
                "proposal": p.id,
                "round": p.round,
                "measure": p.measure,
                "measure_label": state.rules.measures[p.measure].label(lang),
                "kind": p.kind,
                "area_id": p.area,
                "lead": p.lead,
                "partners": ", ".join(p.cosigners),
                "shares": json.dumps(p.shares, sort_keys=True),
                "pledges": json.dumps(p.pledges, sort_keys=True),
                "status": p.status,
                "yes": res.get("yes"),
                "no": res.get("no"),
                "abstain": res.get("abstain"),
                "reason": res.get("reason"),
                "note": p.note,
            }
        )
    return pd.DataFrame(rows)


def measures_table(state: GameState, lang: str | None = None) -> pd.DataFrame:
    """Return every started measure: area, lead, partners, funders, rounds, status."""
    import pandas as pd

    lang = normalize_lang(lang)
    rows = []
    for m in state.measures.values():
        rows.append(
            {
                "measure_id": m.id,
                "measure": m.measure,
                "measure_label": state.rules.measures[m.measure].label(lang),
                "kind": m.kind,
                "area_id": m.area,
                "lead": m.lead,
                "partners": ", ".join(m.partners),
                "funders": json.dumps(m.funders, sort_keys=True),
                "start_round": m.start_round,
                "end_round": m.end_round,
                "status": m.status,
                "stopped_round": m.stopped_round,
                "reason": m.reason,
            }
        )
    return pd.DataFrame(rows)


def notes_table(state: GameState) -> pd.DataFrame:
    """Return the roles' notes (reflection answers)."""
    import pandas as pd

    return pd.DataFrame(
        state.notes, columns=["round", "phase", "role", "prompt", "text", "version"]
    )


def _events_frame(events: list[Event]):
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "version": e.version,
                "ts": e.ts,
                "actor": e.actor,
                "role": e.role,
                "type": e.type,
                "payload": json.dumps(e.payload, ensure_ascii=False, sort_keys=True)
                if e.type != "game_created"
                else json.dumps(
                    {"scenario": e.payload["scenario"].get("id"), "seed": e.payload["seed"]}
                ),
                "engine": e.engine,
                "command_id": e.command_id,
            }
            for e in events
        ]
    )


_SHEETS = {
    "de": ("Ergebnis", "Runden", "Sozialräume", "Anträge", "Maßnahmen", "Notizen", "Ereignisse"),
    "en": ("Result", "Rounds", "Areas", "Proposals", "Measures", "Notes", "Events"),
}


def to_xlsx(state: GameState, path: str | Path, lang: str | None = None) -> Path:
    """Write the game as an Excel workbook; return the path.

    Sheets: result (wide, transposed to one field per row), rounds (long),
    areas, proposals, measures, notes, events (the log; the first event
    abridged to scenario id and seed).
    """
    import pandas as pd

    lang = normalize_lang(lang)
    names = _SHEETS[lang]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wide = wide_table(state).T.reset_index()
    wide.columns = ["field", "value"]
    wide["value"] = wide["value"].astype(str)
    frames = [
        wide,
        long_table(state),
        area_table(state, lang),
        proposals_table(state, lang),
        measures_table(state, lang),
        notes_table(state),
        _events_frame(state.events),
    ]
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in zip(names, frames):
            df.to_excel(xw, sheet_name=name, index=False)
            _text_not_formula(xw.sheets[name])
    return path


def _text_not_formula(ws) -> None:
    """Keep player text such as ``=HYPERLINK(...)`` a string: openpyxl would store a formula."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
