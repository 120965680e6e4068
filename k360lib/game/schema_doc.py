"""Generate the scenario schema reference (Markdown) from the pydantic models.

The reference in ``docs/reference/scenario-schema.md`` is written by this
module, never by hand, so it cannot drift from :mod:`k360lib.game.scenario`:
a unit test compares the committed file with :func:`render_schema`.

Run ``python -m k360lib.game.schema_doc`` to rewrite the file after changing
the models, ``--check`` to only compare (exit code 1 when it is out of date).

Field notes come from ``Field(description=...)`` where the models give one,
else from :data:`FIELD_NOTES` below (checked by the tests: every note must
name an existing field).
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from k360lib.game import scenario as S

__all__ = ["FIELD_NOTES", "MODELS", "default_output", "main", "render_schema"]

#: The models in the order of the reference (the root first).
MODELS: tuple[type[BaseModel], ...] = (
    S.Scenario,
    S._Text,
    S._Phase,
    S.Role,
    S.RoleCard,
    S.Focus,
    S.GoalMeasuresIn,
    S.GoalLead,
    S.GoalPartner,
    S.GoalKinds,
    S.GoalIndicator,
    S.GoalBudgetLeft,
    S.Measure,
    S.Card,
    S.EffectBudget,
    S.EffectStaff,
    S.EffectIndicator,
    S.EffectTrust,
    S.EffectProgramme,
    S.Committee,
    S.NeedIndexSpec,
    S.ModelParams,
    S.Scoring,
)

_PUBLIC_NAMES = {"_Text": "Text", "_Phase": "Phase"}

#: Short notes per ``"Model.field"`` for fields without a ``description``.
FIELD_NOTES: dict[str, str] = {
    "Scenario.id": "Identifier of the scenario (stored in every game).",
    "Scenario.version": "Raise it when you change a scenario that games were played with.",
    "Scenario.title": "Shown on the start screen of the game.",
    "Scenario.setting": "The situation read out at the start (Ausgangslage).",
    "Scenario.atlas": "`demo` (the demo city) or the path of an atlas folder (relative to the YAML file).",
    "Scenario.currency": "Unit of all budgets and costs.",
    "Scenario.rounds": "Number of rounds; one round is one budget year.",
    "Scenario.phases": "Phase sequence of a round: a subset of `lage, planung, verhandlung, beschluss, wirkung, reflexion` in this order; `lage, planung, beschluss, wirkung` are required.",
    "Scenario.cards_per_round": "Event cards (Ereigniskarten) drawn in the `lage` phase.",
    "Scenario.roles": "The role groups (3–8 in practice); optional roles play only when chosen.",
    "Scenario.measures": "The measures catalog (Maßnahmenkatalog).",
    "Scenario.cards": "Event cards, drawn with the game's seeded generator.",
    "Scenario.committee": "The voting rule of the committee (Jugendhilfeausschuss).",
    "Scenario.need_index": "Indicators and weights of the need index the impact model targets.",
    "Scenario.model": "Parameters of the impact model.",
    "Scenario.scoring": "Weights of the shared outcome.",
    "Scenario.reflection": "Prompts for the `reflexion` phase and the debrief.",
    "_Text.de": "German text (also used for English when `en` is missing).",
    "_Text.en": "English text.",
    "_Phase.id": "One of the phase ids.",
    "_Phase.minutes": "Suggested time box shown to the facilitator.",
    "_Phase.text": "Instruction shown during the phase.",
    "Role.id": "Identifier used in commands, links and exports.",
    "Role.short": "Short label for narrow screens.",
    "Role.sector": "Sector (e.g. `jugendhilfe`, `gesundheit`, `bildung`, `politik`, `traeger`); planning with roles of other sectors earns the cooperation factor.",
    "Role.provider": "A provider (freier Träger): loses trust when a measure it works on stops for lack of money; low trust weakens its measures.",
    "Role.optional": "Plays only when chosen when the game is created.",
    "Role.budget": "Budget per round.",
    "Role.staff": "Staff capacity (full-time equivalents) per round.",
    "Role.votes": "Votes in the committee.",
    "Role.mandate": "Measure kinds this role may lead.",
    "Role.focus": "Areas the role cares about (used by goals and bots).",
    "Role.card": "The role card (situation, logic of action, interests).",
    "Role.goal": "The role's private goal (one of the goal types below, chosen by `type`).",
    "Measure.kind": "Kind of measure; roles lead the kinds in their mandate.",
    "Measure.cost": "Running cost per round.",
    "Measure.invest": "One-off investment in the first round.",
    "Measure.staff": "Staff needed (full-time equivalents).",
    "Measure.reach": "Families reached per year at standard strength.",
    "Measure.effects": "`{indicator: change per year}` at standard strength, in the indicator's unit.",
    "Measure.delay": "Rounds before a structural measure starts to work.",
    "Measure.duration": "Rounds the measure runs (empty: until the game ends).",
    "Measure.coordinates": "A coordinating measure (e.g. a Präventionskette office): every measure in its area counts as coordinated (no crowding penalty).",
    "Measure.lead": "Only these roles may lead it (default: every role with the kind in its mandate).",
    "Measure.partners": "Only these roles may be partners (default: all).",
    "Card.effects": "What happens (one of the effect types below, chosen by `type`).",
    "Card.rounds": "Rounds in which the card can be drawn (default: all).",
    "Card.weight": "Relative chance of being drawn.",
    "Committee.chair": "Role whose vote decides a tie when `tie: chair`.",
    "NeedIndexSpec.weights": "`{indicator: weight}`; normalised to sum 1.",
    "NeedIndexSpec.year": "Base year (default: the latest year all indicators have).",
    "EffectIndicator.area": "`<area_id>`, `random`, `top_need`, `district:<id>` or `all`.",
    "EffectIndicator.top": "Share of areas counted as `top_need`.",
    "EffectProgramme.max_share": "Largest share of a measure's cost the programme pays.",
    "EffectProgramme.min_sectors": "Sectors that must plan a measure together to qualify.",
    "EffectProgramme.need_top": "Only areas among this share of highest need qualify.",
    "ModelParams.targeting": "Targeting `T = clip(1 + targeting × need, targeting_min, targeting_max)`: bigger effects where need is higher.",
    "ModelParams.targeting_min": "Lower bound of `T`.",
    "ModelParams.targeting_max": "Upper bound of `T`.",
    "ModelParams.cooperation": "Cooperation `C = min(1 + cooperation × (k − 1), cooperation_max)`, `k` = sectors among lead, partners and co-funders.",
    "ModelParams.cooperation_max": "Upper bound of `C`.",
    "ModelParams.ignore_sectors": "Sectors that do not count for `C` (e.g. `politik`).",
    "ModelParams.partner_staff": "Staff (full-time equivalents) each partner needs for the joint work.",
    "ModelParams.ramp_years": "Years until a measure works at full strength (ramp-up `R`).",
    "ModelParams.crowding": "Crowding `D = crowding ** u`, `u` = earlier uncoordinated measures of the same kind in the same area.",
    "ModelParams.trust_loss": "Trust a provider loses when a measure it works on stops.",
    "ModelParams.trust_floor": "Provider trust factor `P = trust_floor + (1 − trust_floor) × mean trust`.",
    "ModelParams.min_children": "Areas with fewer children cannot receive measures.",
    "ModelParams.equity_quantile": "Share of neediest and least needy areas compared by the equity gap.",
    "ModelParams.children_indicator": "Indicator with the number of children per area.",
    "ModelParams.in_need_indicator": "Indicator with the number of children in need (for reach).",
    "Scoring.need": "Weight of the fall of the mean need in the shared score.",
    "Scoring.equity": "Weight of the narrowing of the equity gap.",
    "Scoring.reach": "Weight of the share of children in need reached.",
    "Scoring.need_ref": "Fall of the mean need that earns 100 points.",
    "Scoring.equity_ref": "Narrowing of the equity gap that earns 100 points.",
}


def _name(model: type) -> str:
    return _PUBLIC_NAMES.get(model.__name__, model.__name__)


def _anchor(model: type) -> str:
    return _name(model).lower()


def _constraints(metadata) -> list[str]:
    out = []
    symbols = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    for m in metadata:
        for attr, sym in symbols.items():
            value = getattr(m, attr, None)
            if value is not None:
                out.append(f"{sym} {value:g}" if isinstance(value, float) else f"{sym} {value}")
        if getattr(m, "max_length", None) is not None:
            out.append(f"max. {m.max_length} chars")
        if getattr(m, "min_length", None) is not None:
            out.append(f"min. {m.min_length} items")
        if getattr(m, "pattern", None):
            out.append(f"pattern `{m.pattern}`")
        inner = getattr(m, "metadata", None)
        if isinstance(inner, list):
            out.extend(_constraints(inner))
    return out


def _type(tp) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        base = _type(args[0])
        cons = _constraints(args[1:])
        return f"{base} ({', '.join(cons)})" if cons else base
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        if all(isinstance(a, type) and issubclass(a, BaseModel) for a in parts) and len(parts) > 1:
            return "one of " + ", ".join(_type(a) for a in parts)
        return " or ".join(_type(a) for a in parts)
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"mapping {_type(args[0])} → {_type(args[1])}"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{_name(tp)}](#{_anchor(tp)})"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "see below"
        return f"`{value!r}`".replace("'", '"')
    value = field.default
    if value is PydanticUndefined or value is None:
        return "–"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _doc(model: type) -> str:
    doc = (model.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split()) if doc else ""


def _model_section(model: type[BaseModel]) -> list[str]:
    lines = [f"### {_name(model)}", ""]
    doc = _doc(model)
    if doc:
        lines += [doc, ""]
    if model is S._Text:
        lines += [
            "A text may also be a plain string: `title: Planspiel` is the same as "
            "`title: {de: Planspiel}` (used in both languages).",
            "",
        ]
    if model is S._Phase:
        lines += ["A phase may also be a plain string: `- planung` is `- {id: planung}`.", ""]
    lines += ["| field | type | default | note |", "|---|---|---|---|"]
    for fname, field in model.model_fields.items():
        tp = field.annotation
        cons = _constraints(field.metadata)
        type_text = _type(tp)
        if cons:
            type_text += f" ({', '.join(cons)})"
        if field.discriminator:
            type_text += f", chosen by `{field.discriminator}`"
        note = field.description or FIELD_NOTES.get(f"{model.__name__}.{fname}", "")
        lines.append(
            f"| `{fname}` | {_cell(type_text)} | {_cell(_default(field))} | {_cell(note)} |"
        )
    lines.append("")
    return lines


def render_schema() -> str:
    """Return the scenario schema reference as Markdown (deterministic)."""
    lines = [
        "# Scenario schema reference · Szenario-Schema",
        "",
        "<!-- Generated by `python -m k360lib.game.schema_doc` from k360lib/game/scenario.py."
        " Do not edit by hand. -->",
        "",
        "A Planspiel scenario is one YAML file. This reference lists every key the loader "
        "accepts (`k360lib.game.scenario`); unknown keys are refused, so a typo is reported with "
        "its line and column instead of being ignored. Guides: "
        "[English](../en/data-staff.md#own-scenarios) · "
        "[Deutsch](../de/datenfachleute.md#eigene-szenarien). Complete examples: "
        "[kurzspiel.yaml](../../data/scenarios/kurzspiel.yaml) (60 minutes, 3 roles) and "
        "[klausurtagung.yaml](../../data/scenarios/klausurtagung.yaml) (3 hours, 7–8 roles).",
        "",
        "*Deutsch:* Diese Referenz wird aus den pydantic-Modellen erzeugt und nennt jeden "
        "erlaubten Schlüssel mit Typ, Vorgabewert und Bedeutung.",
        "",
        "## Phases",
        "",
        f"- all phases, in this order: {', '.join(f'`{p}`' for p in S.PHASES)}",
        f"- required: {', '.join(f'`{p}`' for p in S.REQUIRED_PHASES)}",
        f"- optional: {', '.join(f'`{p}`' for p in S.OPTIONAL_PHASES)} "
        "(without `verhandlung`, co-signing happens in `planung`)",
        "",
        "## Shipped scenarios",
        "",
        "| name (`load_scenario(name)`, `--scenario` of `k360 game simulate`/`explain`) | file |",
        "|---|---|",
    ]
    files: dict[str, list[str]] = {}
    for name, file in S.BUILTIN_SCENARIOS.items():
        files.setdefault(file, []).append(f"`{name}`")
    for file, names in files.items():
        lines.append(f"| {', '.join(names)} | [`{file}`](../../data/scenarios/{file}) |")
    lines += [
        "",
        "## Checks beyond the types",
        "",
        " ".join(" ".join((S.cross_check.__doc__ or "").split("\n\n")[1].split()).split()),
        "",
        "## Models",
        "",
    ]
    for model in MODELS:
        lines += _model_section(model)
    return "\n".join(lines).rstrip() + "\n"


def default_output() -> Path:
    """Return the path of the committed reference (``<repo>/docs/reference/scenario-schema.md``)."""
    return Path(__file__).resolve().parents[2] / "docs" / "reference" / "scenario-schema.md"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the reference; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=default_output())
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if outdated")
    args = parser.parse_args(argv)
    text = render_schema()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m k360lib.game.schema_doc")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
