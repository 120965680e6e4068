"""Planspiel scenarios: the schema (pydantic v2), the YAML loader and the cross-reference checks.

A scenario is one YAML file in ``data/scenarios/`` (or anywhere else): the
setting, the atlas it is played on, the roles with their cards, budgets,
staff, mandates and votes, the measures catalog, the event cards, the number
of rounds, the phase sequence, the committee's voting rule, the parameters of
the impact model and the scoring weights. Player-facing texts are either a
plain string (used in both languages) or a mapping ``{de: ..., en: ...}``.

Every mistake is reported with its path in the file and, where the YAML
parser knows it, the line and column::

    Datei „mein.yaml“, Zeile 42, Spalte 13, roles[2].budget: muss ≥ 0 sein

Examples
--------
>>> from k360lib.game.scenario import load_scenario
>>> sc = load_scenario("default")
>>> sc.rounds, len(sc.roles) >= 6, sc.phase_ids[0]
(3, True, 'lage')
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
)

from k360lib.game.errors import ScenarioError, ScenarioIssue
from k360lib.game.stored_scenario import ScenarioLookups, StoredScenario, scenario_hash
from k360lib.i18n import normalize_lang

__all__ = [
    "BUILTIN_SCENARIOS",
    "OPTIONAL_PHASES",
    "PHASES",
    "REQUIRED_PHASES",
    "Card",
    "Committee",
    "Goal",
    "Measure",
    "ModelParams",
    "Phase",
    "Role",
    "Scenario",
    "Scoring",
    "Text",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
    "scenario_dir",
]

#: The phases of a round, in this order.
PHASES: tuple[str, ...] = ("lage", "planung", "verhandlung", "beschluss", "wirkung", "reflexion")
#: Phases every scenario must have.
REQUIRED_PHASES: tuple[str, ...] = ("lage", "planung", "beschluss", "wirkung")
#: Phases a short scenario may leave out (co-signing then happens in ``planung``).
OPTIONAL_PHASES: tuple[str, ...] = ("verhandlung", "reflexion")

#: Names of the scenarios shipped in ``data/scenarios/``.
BUILTIN_SCENARIOS: dict[str, str] = {
    "default": "klausurtagung.yaml",
    "klausurtagung": "klausurtagung.yaml",
    "short": "kurzspiel.yaml",
    "kurz": "kurzspiel.yaml",
    "kurzspiel": "kurzspiel.yaml",
}

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
NonNeg = Annotated[float, Field(ge=0)]


def scenario_dir() -> Path:
    """Return the folder of the shipped scenarios (``<repo>/data/scenarios``)."""
    from k360lib.bundled import bundled_dir  # source checkout or installed package

    return bundled_dir("scenarios")


def builtin_scenarios() -> dict[str, Path]:
    """Return ``{name: path}`` of the shipped scenarios (aliases included)."""
    return {name: scenario_dir() / file for name, file in BUILTIN_SCENARIOS.items()}


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _text_before(value: Any) -> Any:
    if isinstance(value, str):
        return {"de": value}
    return value


class _Text(_Model):
    """A player-facing text in German and (optionally) English."""

    de: str
    en: str | None = None

    def get(self, lang: str | None = None) -> str:
        """Return the text in ``lang`` (English falls back to German)."""
        if normalize_lang(lang) == "en" and self.en:
            return self.en
        return self.de


#: A text: a plain string (both languages) or ``{de: ..., en: ...}``.
Text = Annotated[_Text, BeforeValidator(_text_before)]


def _phase_before(value: Any) -> Any:
    if isinstance(value, str):
        return {"id": value}
    return value


class _Phase(_Model):
    """One phase of a round: its id, an optional time box and an instruction."""

    id: str
    minutes: Annotated[int, Field(ge=0)] | None = None
    text: Text | None = None


Phase = Annotated[_Phase, BeforeValidator(_phase_before)]


class RoleCard(_Model):
    """The card a role group reads: situation, logic of action, interests."""

    situation: Text
    logic: Text
    interests: Text


class Focus(_Model):
    """Areas a role cares about (its constituency, neighbourhood or home base)."""

    areas: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)


class _GoalBase(_Model):
    text: Text


class GoalMeasuresIn(_GoalBase):
    """At least ``min`` measures started in the given areas/districts."""

    type: Literal["measures_in"]
    areas: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    min: Annotated[int, Field(ge=1)] = 1


class GoalLead(_GoalBase):
    """Lead at least ``min`` measures that start."""

    type: Literal["lead"]
    min: Annotated[int, Field(ge=1)] = 1


class GoalPartner(_GoalBase):
    """Be partner or co-funder of at least ``min`` measures led by others."""

    type: Literal["partner"]
    min: Annotated[int, Field(ge=1)] = 1


class GoalKinds(_GoalBase):
    """At least ``min`` measures of the given kinds start (anywhere, by anyone)."""

    type: Literal["kinds"]
    kinds: list[str]
    min: Annotated[int, Field(ge=1)] = 1


class GoalIndicator(_GoalBase):
    """The mean of ``indicator`` over the areas improves by at least ``min_improvement`` units."""

    type: Literal["indicator"]
    indicator: str
    min_improvement: Annotated[float, Field(gt=0)]
    areas: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)


class GoalBudgetLeft(_GoalBase):
    """Leave at least ``min_share`` of the role's budget over the game unspent."""

    type: Literal["budget_left"]
    min_share: Annotated[float, Field(ge=0, le=1)]


Goal = Annotated[
    GoalMeasuresIn | GoalLead | GoalPartner | GoalKinds | GoalIndicator | GoalBudgetLeft,
    Field(discriminator="type"),
]


class Role(_Model):
    """A role group: card, sector, budget line, staff, mandate, votes and private goal."""

    id: Id
    name: Text
    short: str | None = None
    sector: Id
    provider: bool = False
    optional: bool = False
    budget: NonNeg
    staff: NonNeg
    votes: Annotated[int, Field(ge=0)] = 0
    mandate: list[str] = Field(default_factory=list)
    focus: Focus = Field(default_factory=Focus)
    card: RoleCard
    goal: Goal

    def label(self, lang: str | None = None) -> str:
        """Return the role's name in ``lang``."""
        return self.name.get(lang)


class Measure(_Model):
    """A measure of the catalog.

    ``effects`` maps indicator ids to the change per year of operation at
    standard strength (in the indicator's unit; the sign is the direction,
    e.g. ``language_support: -3`` lowers the share by 3 percentage points).
    """

    id: Id
    name: Text
    description: Text
    kind: Id
    cost: NonNeg
    invest: NonNeg = 0.0
    staff: NonNeg = 0.0
    reach: Annotated[int, Field(ge=0)] = 0
    target_group: Text | None = None
    life_phases: list[str] = Field(default_factory=list)
    effects: dict[str, float] = Field(default_factory=dict)
    delay: Annotated[int, Field(ge=0)] = 0
    duration: Annotated[int, Field(ge=1)] | None = None
    coordinates: bool = False
    lead: list[str] | None = None
    partners: list[str] | None = None

    def label(self, lang: str | None = None) -> str:
        """Return the measure's name in ``lang``."""
        return self.name.get(lang)


class _EffectBase(_Model):
    pass


class EffectBudget(_EffectBase):
    """Change budgets by ``amount`` (T€) or ``percent``; this round or permanently."""

    type: Literal["budget"]
    roles: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    amount: float | None = None
    percent: float | None = None
    permanent: bool = False


class EffectStaff(_EffectBase):
    """Change staff capacity (full-time equivalents) for this round or permanently."""

    type: Literal["staff"]
    roles: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    amount: float
    permanent: bool = False


class EffectIndicator(_EffectBase):
    """Change indicators in an area (``area``: an id, ``random``, ``top_need``, ``district:<id>``, ``all``).

    ``children`` adds children (and, by the area's current share, children in need).
    """

    type: Literal["indicator"]
    area: str
    changes: dict[str, float] = Field(default_factory=dict)
    children: Annotated[int, Field(ge=0)] = 0
    top: Annotated[float, Field(gt=0, le=1)] = 0.25


class EffectTrust(_EffectBase):
    """Change the trust of provider roles (0 … 1)."""

    type: Literal["trust"]
    roles: list[str] = Field(default_factory=list)
    change: float


class EffectProgramme(_EffectBase):
    """A funding programme: a budget per round for some rounds, with conditions."""

    type: Literal["programme"]
    id: Id
    name: Text
    budget: NonNeg
    rounds: Annotated[int, Field(ge=1)] = 1
    kinds: list[str] = Field(default_factory=list)
    max_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    min_sectors: Annotated[int, Field(ge=1)] = 1
    need_top: Annotated[float, Field(gt=0, le=1)] = 1.0


CardEffect = Annotated[
    EffectBudget | EffectStaff | EffectIndicator | EffectTrust | EffectProgramme,
    Field(discriminator="type"),
]


class Card(_Model):
    """An event card (Ereigniskarte): a text and its effects."""

    id: Id
    title: Text
    text: Text
    effects: list[CardEffect] = Field(default_factory=list)
    rounds: list[Annotated[int, Field(ge=1)]] | None = None
    weight: Annotated[float, Field(gt=0)] = 1.0


class Committee(_Model):
    """The committee vote: which majority passes a proposal and what a tie means.

    ``majority``: ``simple`` — more yes than no votes (abstentions do not
    count); ``absolute`` — more yes votes than half of all votes. ``tie``:
    ``rejected`` — a tie rejects (the rule of German municipal codes), or
    ``chair`` — the chair's vote decides a tie.
    """

    name: Text | None = None
    majority: Literal["simple", "absolute"] = "simple"
    tie: Literal["rejected", "chair"] = "rejected"
    chair: str | None = None


class Scoring(_Model):
    """Weights of the shared outcome (see :func:`k360lib.game.rules.shared_score`)."""

    need: NonNeg = 1.0
    equity: NonNeg = 1.0
    reach: NonNeg = 0.5
    need_ref: Annotated[float, Field(gt=0)] = 0.1
    equity_ref: Annotated[float, Field(gt=0)] = 0.2


class ModelParams(_Model):
    """Parameters of the impact model (see :mod:`k360lib.game.rules`)."""

    targeting: NonNeg = 0.5
    targeting_min: NonNeg = 0.25
    targeting_max: Annotated[float, Field(gt=0)] = 2.0
    cooperation: NonNeg = 0.25
    cooperation_max: Annotated[float, Field(ge=1)] = 1.75
    ignore_sectors: list[str] = Field(default_factory=list)
    partner_staff: NonNeg = 0.1
    ramp_years: Annotated[int, Field(ge=1)] = 2
    crowding: Annotated[float, Field(ge=0, le=1)] = 0.5
    trust_loss: Annotated[float, Field(ge=0, le=1)] = 0.25
    trust_floor: Annotated[float, Field(ge=0, le=1)] = 0.5
    min_children: NonNeg = 50
    equity_quantile: Annotated[float, Field(gt=0, le=0.5)] = 0.25
    children_indicator: str = "pop_u18"
    in_need_indicator: str = "sgb2_u15"


class NeedIndexSpec(_Model):
    """Which indicators form the need index, with their weights (normalised to sum 1)."""

    weights: dict[str, NonNeg]
    year: int | None = None


class Scenario(ScenarioLookups, _Model):
    """A whole Planspiel scenario (see the module docstring)."""

    id: Id
    version: Annotated[int, Field(ge=1)] = 1
    title: Text
    setting: Text
    atlas: str = "demo"
    currency: str = "T€"
    rounds: Annotated[int, Field(ge=1, le=12)]
    phases: list[Phase]
    cards_per_round: Annotated[int, Field(ge=0)] = 1
    roles: list[Role]
    measures: list[Measure]
    cards: list[Card] = Field(default_factory=list)
    committee: Committee = Field(default_factory=Committee)
    need_index: NeedIndexSpec
    model: ModelParams = Field(default_factory=ModelParams)
    scoring: Scoring = Field(default_factory=Scoring)
    reflection: list[Text] = Field(default_factory=list)

    _source: Path | None = PrivateAttr(default=None)
    _hash: str | None = PrivateAttr(default=None)
    _dict: dict | None = PrivateAttr(default=None)

    # -- lookups ---------------------------------------------------------------
    @property
    def phase_ids(self) -> list[str]:
        """The phase ids in order."""
        return [p.id for p in self.phases]

    @property
    def source(self) -> Path | None:
        """The file the scenario was loaded from (``None`` when built from a dict)."""
        return self._source

    def to_dict(self) -> dict:
        """Return the scenario as plain JSON-able data (what a game's first event stores).

        The dict is computed once and shared: treat it as read-only.
        """
        if self._dict is None:
            self._dict = self.model_dump(mode="json", exclude_none=True)
        return self._dict

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict` (identifies the scenario)."""
        if self._hash is None:
            self._hash = _hash_dict(self.to_dict())
        return self._hash

    @classmethod
    def from_dict(cls, data: dict, *, file: str | Path | None = None, text: str | None = None):
        """Validate ``data`` (as read from YAML) and run the cross-reference checks.

        Raises
        ------
        ScenarioError
            Listing every problem with its path (and line/column when ``text``
            is the YAML source).
        """
        return _validate(data, file=file, text=text)


_hash_dict = scenario_hash  # one definition for validated and stored scenarios


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_scenario(text: str, *, file: str | Path | None = None) -> Scenario:
    """Parse and validate a scenario from YAML ``text``.

    Parameters
    ----------
    text : str
        The YAML source.
    file : str or Path, optional
        Shown in error messages and used to resolve a relative ``atlas`` path.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Malformed YAML (with line and column) or an invalid scenario (with
        the path of every problem).
    """
    fname = None if file is None else str(file)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError(
            [
                ScenarioIssue(
                    "",
                    "game.scenario.yaml",
                    {"problem": str(problem)},
                    line=None if mark is None else mark.line + 1,
                    column=None if mark is None else mark.column + 1,
                )
            ],
            file=fname,
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            [ScenarioIssue("", "game.scenario.not_mapping", {"kind": type(data).__name__})],
            file=fname,
        )
    sc = _validate(data, file=fname, text=text)
    if file is not None:
        sc._source = Path(file)
    return sc


def load_scenario(source: str | Path | Scenario = "default") -> Scenario:
    """Load a scenario by built-in name (``default``, ``kurz``) or from a YAML file.

    Parameters
    ----------
    source : str, Path, Scenario or StoredScenario
        A name from :data:`BUILTIN_SCENARIOS`, a path to a ``.yaml`` file, or
        an already loaded scenario (returned as is; also a game's stored one,
        ``state.scenario`` — see :mod:`k360lib.game.stored_scenario`).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the file does not exist, is not valid YAML or not a valid
        scenario; the message names the file, the path and the line.
    """
    if isinstance(source, (Scenario, StoredScenario)):
        return source
    key = str(source).strip()
    if key.lower() in BUILTIN_SCENARIOS:
        return _load_builtin(BUILTIN_SCENARIOS[key.lower()])
    path = Path(key)
    if not path.is_file():
        raise ScenarioError(
            [
                ScenarioIssue(
                    "",
                    "game.scenario.not_found",
                    {"name": key, "known": ", ".join(sorted(set(BUILTIN_SCENARIOS)))},
                )
            ],
            file=key,
        )
    return parse_scenario(path.read_text(encoding="utf-8"), file=path)


@lru_cache(maxsize=8)
def _load_builtin(filename: str) -> Scenario:
    path = scenario_dir() / filename
    return parse_scenario(path.read_text(encoding="utf-8"), file=path)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
_PYDANTIC_KEYS = {
    "missing": "game.scenario.missing",
    "extra_forbidden": "game.scenario.extra",
    "greater_than_equal": "game.scenario.ge",
    "greater_than": "game.scenario.gt",
    "less_than_equal": "game.scenario.le",
    "less_than": "game.scenario.lt",
    "string_pattern_mismatch": "game.scenario.pattern",
    "string_too_long": "game.scenario.too_long",
    "literal_error": "game.scenario.literal",
    "union_tag_invalid": "game.scenario.tag",
    "union_tag_not_found": "game.scenario.tag_missing",
    "int_type": "game.scenario.int",
    "int_parsing": "game.scenario.int",
    "int_from_float": "game.scenario.int",
    "float_type": "game.scenario.number",
    "float_parsing": "game.scenario.number",
    "bool_type": "game.scenario.bool",
    "bool_parsing": "game.scenario.bool",
    "string_type": "game.scenario.string",
    "list_type": "game.scenario.list",
    "dict_type": "game.scenario.mapping",
    "model_type": "game.scenario.mapping",
    "model_attributes_type": "game.scenario.mapping",
}


def _fmt_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _pydantic_issue(err: dict) -> ScenarioIssue:
    typ = err.get("type", "")
    ctx = err.get("ctx") or {}
    key = _PYDANTIC_KEYS.get(typ, "game.scenario.value")
    params: dict[str, Any] = {"detail": err.get("msg", "")}
    if typ in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next(iter(ctx.values()), "")
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        params["limit"] = limit
    elif typ == "string_pattern_mismatch":
        params["pattern"] = ctx.get("pattern", "")
    elif typ == "string_too_long":
        params["limit"] = ctx.get("max_length", "")
    elif typ in ("literal_error", "union_tag_invalid"):
        params["expected"] = ctx.get("expected_tags") or ctx.get("expected", "")
        if typ == "union_tag_invalid":
            params["value"] = ctx.get("tag", "")
    if typ == "extra_forbidden":
        params["field"] = err["loc"][-1] if err.get("loc") else ""
    if "input" in err and typ not in ("missing", "extra_forbidden"):
        params.setdefault("value", _short(err["input"]))
    loc = tuple(
        p for p in err.get("loc", ()) if p not in ("function-before[_text_before(), _Text]",)
    )
    return ScenarioIssue(_fmt_path(_clean_loc(loc)), key, params)


def _clean_loc(loc: tuple) -> tuple:
    # pydantic puts the union tag (``budget``) and validator names into the location; drop them
    out = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and ("(" in part or "[" in part):
            continue
        if (
            isinstance(part, str)
            and i > 0
            and isinstance(loc[i - 1], int)
            and i >= 2
            and loc[i - 2] in ("effects",)
            and part in _EFFECT_TAGS
        ):
            continue
        if isinstance(part, str) and part in _GOAL_TAGS and i > 0 and loc[i - 1] == "goal":
            continue
        out.append(part)
    return tuple(out)


_EFFECT_TAGS = {"budget", "staff", "indicator", "trust", "programme"}
_GOAL_TAGS = {"measures_in", "lead", "partner", "kinds", "indicator", "budget_left"}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validate(data: dict, *, file=None, text: str | None = None) -> Scenario:
    fname = None if file is None else str(file)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        issues = [_pydantic_issue(e) for e in err.errors(include_url=False)]
        raise ScenarioError(_with_positions(issues, text), file=fname) from None
    issues = cross_check(sc)
    if issues:
        raise ScenarioError(_with_positions(issues, text), file=fname)
    return sc


def cross_check(sc: Scenario) -> list[ScenarioIssue]:
    """Check references between the parts of a scenario; return every problem found.

    Checked: unique ids; the phase sequence (required phases present, known
    ids, canonical order, no repeats); roles named in measures' lead/partner
    rules, cards, the committee and goals exist; mandate and goal kinds exist
    among the measures; every measure has a possible lead; at least one role
    votes; at least two roles play by default; weights are not all zero.
    """
    issues: list[ScenarioIssue] = []
    add = issues.append

    def dup(items, what):
        seen: dict[str, int] = {}
        for i, obj in enumerate(items):
            if obj.id in seen:
                add(ScenarioIssue(f"{what}[{i}].id", "game.scenario.duplicate_id", {"id": obj.id}))
            seen.setdefault(obj.id, i)

    dup(sc.roles, "roles")
    dup(sc.measures, "measures")
    dup(sc.cards, "cards")

    # phases
    ids = sc.phase_ids
    for i, pid in enumerate(ids):
        if pid not in PHASES:
            add(
                ScenarioIssue(
                    f"phases[{i}]",
                    "game.scenario.unknown_phase",
                    {"phase": pid, "known": ", ".join(PHASES)},
                )
            )
    for req in REQUIRED_PHASES:
        if req not in ids:
            add(
                ScenarioIssue(
                    "phases",
                    "game.scenario.missing_phase",
                    {"phase": req, "required": ", ".join(REQUIRED_PHASES)},
                )
            )
    known = [p for p in ids if p in PHASES]
    if len(set(known)) != len(known):
        add(ScenarioIssue("phases", "game.scenario.phase_twice", {}))
    elif known != [p for p in PHASES if p in known]:
        add(ScenarioIssue("phases", "game.scenario.phase_order", {"order": " → ".join(PHASES)}))

    role_ids = [r.id for r in sc.roles]
    role_set = set(role_ids)
    sectors = {r.sector for r in sc.roles}
    kinds = {m.kind for m in sc.measures}
    known_roles = ", ".join(role_ids)

    def check_roles(values, path):
        for j, rid in enumerate(values):
            if rid not in role_set:
                add(
                    ScenarioIssue(
                        f"{path}[{j}]",
                        "game.scenario.unknown_role",
                        {"role": rid, "known": known_roles},
                    )
                )

    def check_kinds(values, path):
        for j, kind in enumerate(values):
            if kind not in kinds:
                add(
                    ScenarioIssue(
                        f"{path}[{j}]",
                        "game.scenario.unknown_kind",
                        {"kind": kind, "known": ", ".join(sorted(kinds))},
                    )
                )

    def check_sectors(values, path):
        for j, s in enumerate(values):
            if s not in sectors:
                add(
                    ScenarioIssue(
                        f"{path}[{j}]",
                        "game.scenario.unknown_sector",
                        {"sector": s, "known": ", ".join(sorted(sectors))},
                    )
                )

    for i, r in enumerate(sc.roles):
        check_kinds(r.mandate, f"roles[{i}].mandate")
        if r.goal.type == "kinds":
            check_kinds(r.goal.kinds, f"roles[{i}].goal.kinds")

    for i, m in enumerate(sc.measures):
        if m.lead is not None:
            check_roles(m.lead, f"measures[{i}].lead")
        if m.partners is not None:
            check_roles(m.partners, f"measures[{i}].partners")
        leads = [r for r in sc.roles if m.kind in r.mandate and (m.lead is None or r.id in m.lead)]
        if not leads and (m.lead is None or all(x in role_set for x in m.lead)):
            add(ScenarioIssue(f"measures[{i}]", "game.scenario.no_lead", {"measure": m.id}))
        for ind, v in m.effects.items():
            if not math.isfinite(v):
                add(ScenarioIssue(f"measures[{i}].effects.{ind}", "game.scenario.number", {}))

    for i, c in enumerate(sc.cards):
        for j, e in enumerate(c.effects):
            path = f"cards[{i}].effects[{j}]"
            if e.type in ("budget", "staff", "trust"):
                check_roles(e.roles, f"{path}.roles")
            if e.type in ("budget", "staff"):
                check_sectors(e.sectors, f"{path}.sectors")
            if e.type == "budget" and (e.amount is None) == (e.percent is None):
                add(ScenarioIssue(path, "game.scenario.amount_or_percent", {}))
            if e.type == "programme":
                check_kinds(e.kinds, f"{path}.kinds")
                if e.id in role_set:
                    add(ScenarioIssue(f"{path}.id", "game.scenario.duplicate_id", {"id": e.id}))
        if c.rounds:
            for j, rnd in enumerate(c.rounds):
                if rnd > sc.rounds:
                    add(
                        ScenarioIssue(
                            f"cards[{i}].rounds[{j}]",
                            "game.scenario.round_out_of_range",
                            {"round": rnd, "rounds": sc.rounds},
                        )
                    )

    if sc.committee.tie == "chair":
        if sc.committee.chair is None:
            add(ScenarioIssue("committee.chair", "game.scenario.chair_missing", {}))
        elif sc.committee.chair not in role_set:
            add(
                ScenarioIssue(
                    "committee.chair",
                    "game.scenario.unknown_role",
                    {"role": sc.committee.chair, "known": known_roles},
                )
            )
    if not any(r.votes > 0 for r in sc.roles if not r.optional):
        add(ScenarioIssue("roles", "game.scenario.no_votes", {}))
    if len(sc.default_roles()) < 2:
        add(ScenarioIssue("roles", "game.scenario.too_few_roles", {}))
    check_sectors(sc.model.ignore_sectors, "model.ignore_sectors")
    if sc.model.targeting_min > sc.model.targeting_max:
        add(ScenarioIssue("model.targeting_min", "game.scenario.min_above_max", {}))
    if not sc.need_index.weights:
        add(ScenarioIssue("need_index.weights", "game.scenario.empty", {}))
    elif sum(sc.need_index.weights.values()) <= 0:
        add(ScenarioIssue("need_index.weights", "game.scenario.zero_weights", {}))
    s = sc.scoring
    if s.need + s.equity + s.reach <= 0:
        add(ScenarioIssue("scoring", "game.scenario.zero_weights", {}))
    return issues


# ---------------------------------------------------------------------------
# positions in the YAML source
# ---------------------------------------------------------------------------
def _parse_path(path: str) -> list:
    parts: list = []
    for chunk in path.replace("]", "").split("."):
        if not chunk:
            continue
        name, *idx = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in idx)
    return parts


def _with_positions(issues: list[ScenarioIssue], text: str | None) -> list[ScenarioIssue]:
    if not text:
        return issues
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:  # pragma: no cover - text was parsed before
        return issues
    out = []
    for issue in issues:
        node = _find_node(root, _parse_path(issue.path))
        if node is None:
            out.append(issue)
        else:
            mark = node.start_mark
            out.append(
                ScenarioIssue(
                    issue.path, issue.key, issue.params, line=mark.line + 1, column=mark.column + 1
                )
            )
    return out


def _find_node(node, parts: list):
    """Walk the composed YAML tree along ``parts``; return the deepest node found."""
    if node is None:
        return None
    for part in parts:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            nxt = None
            for k, v in node.value:
                if getattr(k, "value", None) == part:
                    nxt = v
                    break
            if nxt is None:
                return node
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node
