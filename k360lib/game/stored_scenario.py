"""A scenario read back from a game's first event, without pydantic (the player's light path).

A game stores its scenario in the ``game_created`` event as the JSON dump of
the validated :class:`~k360lib.game.scenario.Scenario` (defaults included,
``None`` values left out). Validating it again in every kernel that joins the
game costs time and about 10 MiB (pydantic and its schemas); a player kernel
only reads it. :func:`stored_scenario` wraps the stored dict in small
read-only objects with the same attributes and methods as the pydantic models
(``sc.rounds``, ``sc.role(id).budget``, ``sc.measures[0].name.get("en")``,
``sc.phase_ids``, ``sc.hash`` …); a field the dump left out (``None``) reads
as ``None``. Nothing here imports pydantic or yaml.

The field lists below mirror the models in :mod:`k360lib.game.scenario`;
``tests/unit/test_player_memory_path.py`` checks that they match the models
and that a stored scenario reads exactly like the validated one.

Only dicts written by :func:`k360lib.game.engine.create_game` (already
validated) belong here: there is no validation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from k360lib.i18n import normalize_lang

__all__ = ["ScenarioLookups", "StoredScenario", "scenario_hash", "stored_scenario"]


def scenario_hash(data: dict) -> str:
    """SHA-256 of the canonical JSON of a scenario dict (see ``Scenario.hash``)."""
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class _Frozen:
    """A read-only record: ``FIELDS`` from a dict; nested values converted by ``NESTED``."""

    __slots__ = ()
    FIELDS: tuple[str, ...] = ()
    #: field -> converter of the stored value (not called for a missing/None value)
    NESTED: dict[str, Callable[[Any], Any]] = {}

    def __init__(self, data: dict):
        nested = self.NESTED
        for name in self.FIELDS:
            value = data.get(name)
            if value is not None and name in nested:
                value = nested[name](value)
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise TypeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name):
        raise TypeError(f"{type(self).__name__} is read-only")

    def _values(self) -> tuple:
        return tuple(getattr(self, f) for f in self.FIELDS)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self):
        return hash((type(self).__name__, *self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.FIELDS)
        return f"{type(self).__name__}({inner})"

    # read-only, so a copy is the object itself; pickling rebuilds it from its values
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_rebuild, (type(self), self._values()))


def _rebuild(cls: type, values: tuple):
    obj = object.__new__(cls)
    for name, value in zip(cls.FIELDS, values):
        object.__setattr__(obj, name, value)
    return obj


def _record(name: str, fields: str, nested: dict | None = None, **methods) -> type:
    names = tuple(fields.split())
    ns = {"__slots__": names, "FIELDS": names, "NESTED": nested or {}, **methods}
    return type(name, (_Frozen,), ns)


def _list_of(conv: Callable[[Any], Any]) -> Callable[[list], list]:
    return lambda values: [conv(v) for v in values]


def _union(kinds: dict[str, type]) -> Callable[[dict], Any]:
    return lambda data: kinds[data["type"]](data)


def _get(self, lang: str | None = None) -> str:
    """Return the text in ``lang`` (English falls back to German)."""
    if normalize_lang(lang) == "en" and self.en:
        return self.en
    return self.de


def _label(self, lang: str | None = None) -> str:
    """Return the name in ``lang``."""
    return self.name.get(lang)


Text = _record("Text", "de en", get=_get)
_T = {"text": Text}

Phase = _record("Phase", "id minutes text", _T)
RoleCard = _record(
    "RoleCard", "situation logic interests", {"situation": Text, "logic": Text, "interests": Text}
)
Focus = _record("Focus", "areas districts")
GoalMeasuresIn = _record("GoalMeasuresIn", "text type areas districts min", _T)
GoalLead = _record("GoalLead", "text type min", _T)
GoalPartner = _record("GoalPartner", "text type min", _T)
GoalKinds = _record("GoalKinds", "text type kinds min", _T)
GoalIndicator = _record("GoalIndicator", "text type indicator min_improvement areas districts", _T)
GoalBudgetLeft = _record("GoalBudgetLeft", "text type min_share", _T)
_GOALS = {
    "measures_in": GoalMeasuresIn,
    "lead": GoalLead,
    "partner": GoalPartner,
    "kinds": GoalKinds,
    "indicator": GoalIndicator,
    "budget_left": GoalBudgetLeft,
}
Role = _record(
    "Role",
    "id name short sector provider optional budget staff votes mandate focus card goal",
    {"name": Text, "focus": Focus, "card": RoleCard, "goal": _union(_GOALS)},
    label=_label,
)
Measure = _record(
    "Measure",
    "id name description kind cost invest staff reach target_group life_phases effects"
    " delay duration coordinates lead partners",
    {"name": Text, "description": Text, "target_group": Text},
    label=_label,
)
EffectBudget = _record("EffectBudget", "type roles sectors amount percent permanent")
EffectStaff = _record("EffectStaff", "type roles sectors amount permanent")
EffectIndicator = _record("EffectIndicator", "type area changes children top")
EffectTrust = _record("EffectTrust", "type roles change")
EffectProgramme = _record(
    "EffectProgramme",
    "type id name budget rounds kinds max_share min_sectors need_top",
    {"name": Text},
)
_EFFECTS = {
    "budget": EffectBudget,
    "staff": EffectStaff,
    "indicator": EffectIndicator,
    "trust": EffectTrust,
    "programme": EffectProgramme,
}
Card = _record(
    "Card",
    "id title text effects rounds weight",
    {"title": Text, "text": Text, "effects": _list_of(_union(_EFFECTS))},
)
Committee = _record("Committee", "name majority tie chair", {"name": Text})
Scoring = _record("Scoring", "need equity reach need_ref equity_ref")
ModelParams = _record(
    "ModelParams",
    "targeting targeting_min targeting_max cooperation cooperation_max ignore_sectors"
    " partner_staff ramp_years crowding trust_loss trust_floor min_children equity_quantile"
    " children_indicator in_need_indicator",
)
NeedIndexSpec = _record("NeedIndexSpec", "weights year")

#: light class -> name of the pydantic model it mirrors (checked by the tests)
MIRRORS: dict[type, str] = {
    Text: "_Text",
    Phase: "_Phase",
    RoleCard: "RoleCard",
    Focus: "Focus",
    GoalMeasuresIn: "GoalMeasuresIn",
    GoalLead: "GoalLead",
    GoalPartner: "GoalPartner",
    GoalKinds: "GoalKinds",
    GoalIndicator: "GoalIndicator",
    GoalBudgetLeft: "GoalBudgetLeft",
    Role: "Role",
    Measure: "Measure",
    EffectBudget: "EffectBudget",
    EffectStaff: "EffectStaff",
    EffectIndicator: "EffectIndicator",
    EffectTrust: "EffectTrust",
    EffectProgramme: "EffectProgramme",
    Card: "Card",
    Committee: "Committee",
    Scoring: "Scoring",
    ModelParams: "ModelParams",
    NeedIndexSpec: "NeedIndexSpec",
}


class ScenarioLookups:
    """Find roles, measures and cards by id.

    Shared by the pydantic ``Scenario`` and :class:`StoredScenario` (both have
    ``roles``, ``measures`` and ``cards``).
    """

    __slots__ = ()

    def role(self, role_id: str) -> Role:
        """Return the role ``role_id`` (``KeyError`` listing the known ones)."""
        for r in self.roles:
            if r.id == role_id:
                return r
        raise KeyError(f"No role {role_id!r}; known: {', '.join(r.id for r in self.roles)}")

    def measure(self, measure_id: str) -> Measure:
        """Return the measure ``measure_id`` (``KeyError`` listing the known ones)."""
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(
            f"No measure {measure_id!r}; known: {', '.join(m.id for m in self.measures)}"
        )

    def card(self, card_id: str) -> Card:
        """Return the event card ``card_id`` (``KeyError`` listing the known ones)."""
        for c in self.cards:
            if c.id == card_id:
                return c
        raise KeyError(f"No card {card_id!r}; known: {', '.join(c.id for c in self.cards)}")

    def default_roles(self) -> list[str]:
        """Ids of the roles that play unless optional roles are chosen."""
        return [r.id for r in self.roles if not r.optional]


class StoredScenario(ScenarioLookups, _Frozen):
    """A validated scenario read back from its stored dict (see the module docstring)."""

    FIELDS = tuple(
        "id version title setting atlas currency rounds phases cards_per_round roles measures"
        " cards committee need_index model scoring reflection".split()
    )
    __slots__ = (*FIELDS, "_dict", "_hash")
    NESTED = {
        "title": Text,
        "setting": Text,
        "phases": _list_of(Phase),
        "roles": _list_of(Role),
        "measures": _list_of(Measure),
        "cards": _list_of(Card),
        "committee": Committee,
        "need_index": NeedIndexSpec,
        "model": ModelParams,
        "scoring": Scoring,
        "reflection": _list_of(Text),
    }

    def __init__(self, data: dict):
        super().__init__(data)
        object.__setattr__(self, "_dict", data)
        object.__setattr__(self, "_hash", scenario_hash(data))

    def __reduce__(self):
        return (stored_scenario, (self._dict,))

    @property
    def phase_ids(self) -> list[str]:
        """The phase ids in order."""
        return [p.id for p in self.phases]

    @property
    def source(self) -> None:
        """``None``: a stored scenario has no file."""
        return None

    def to_dict(self) -> dict:
        """Return the stored dict (shared: treat it as read-only)."""
        return self._dict

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of the stored dict."""
        return self._hash


def stored_scenario(data: dict) -> StoredScenario:
    """Wrap a scenario dict from a ``game_created`` event (no validation; see the module)."""
    return StoredScenario(data)
