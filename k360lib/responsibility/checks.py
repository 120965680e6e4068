"""Checks of a responsibility matrix: accountability, gaps, overlaps, phase gaps.

Rules (per service, city-wide or in one Sozialraum):

====================  =======  ==============================================================
kind / key            level    condition
====================  =======  ==============================================================
gap / unassigned      error    nobody has any role
gap / no_responsible  error    roles exist but nobody is responsible (``R`` or ``AR``)
accountability /      error    nobody is accountable (``A`` or ``AR``)
no_accountable
overlap /             error    more than one actor is accountable
several_accountable
overlap /             warning  ``max_responsible`` or more actors are responsible and none of
uncoordinated                  the accountable or responsible actors is a coordinating actor
catalog / no_phase    warning  the service has no life phase (it cannot appear in the
                               prevention chain)
gap / phase_gap       error    a life phase has services, but none of them has a responsible
                               actor
chain / chain_break   warning  no actor carries responsibility in two consecutive life phases
                               (see :mod:`k360lib.responsibility.chain`)
====================  =======  ==============================================================

Errors are what a committee must resolve; warnings ask for a look.

Examples
--------
>>> from k360lib.responsibility import load_catalog
>>> cat = load_catalog()
>>> report = check(cat.default_matrix())
>>> "babylotsen" in report.gap_services
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from k360lib.errors import format_location
from k360lib.i18n import t
from k360lib.responsibility.catalog import PHASES, phase_label
from k360lib.responsibility.matrix import ACCOUNTABLE_ROLES, RESPONSIBLE_ROLES

__all__ = [
    "DEFAULT_MAX_RESPONSIBLE",
    "CheckReport",
    "Issue",
    "check",
    "check_areas",
    "service_status",
]

#: number of responsible actors from which a service needs a coordinating actor
DEFAULT_MAX_RESPONSIBLE = 3
_LEVEL_ORDER = {"error": 0, "warning": 1}


@dataclass(frozen=True)
class Issue:
    """One finding of :func:`check`.

    Attributes
    ----------
    level : {"error", "warning"}
    kind : str
        ``gap``, ``accountability``, ``overlap``, ``catalog`` or ``chain``.
    key : str
        Message key (``resp.check.<name>``).
    service : str or None
        Service id the issue is about.
    phase : str or None
        Life phase the issue is about.
    area : str or None
        Sozialraum (``None``: city-wide).
    actors : tuple of str
        Actors involved (e.g. the several accountable ones).
    params : dict
        Extra message parameters.
    """

    level: str
    kind: str
    key: str
    service: str | None = None
    phase: str | None = None
    area: str | None = None
    actors: tuple[str, ...] = ()
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        """Short name of the rule (the last part of the key)."""
        return self.key.rsplit(".", 1)[-1]

    def message(self, catalog, lang: str | None = None) -> str:
        """Return the message with service, phase and actor names filled in."""
        params = dict(self.params)
        if self.service is not None:
            params["service"] = (
                catalog.service(self.service).name(lang)
                if catalog.has_service(self.service)
                else self.service
            )
        if self.phase is not None:
            params["phase"] = phase_label(self.phase, lang)
        if "from_phase" in params:
            params["from_phase"] = phase_label(str(params["from_phase"]), lang)
        params["actors"] = ", ".join(
            catalog.actor(a).name(lang) if catalog.has_actor(a) else a for a in self.actors
        )
        text = t(self.key, lang, **params)
        loc = format_location(lang, area=self.area)
        return f"{loc}: {text}" if loc else text


@dataclass
class CheckReport:
    """All issues of one scope (city-wide or one area)."""

    issues: list[Issue]
    area: str | None = None
    services: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Issue]:
        """Issues of level ``error``."""
        return [i for i in self.issues if i.level == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of level ``warning``."""
        return [i for i in self.issues if i.level == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    @property
    def gap_services(self) -> list[str]:
        """Services without a responsible actor (unassigned or no ``R``/``AR``)."""
        return [
            i.service
            for i in self.issues
            if i.kind == "gap"
            and i.service is not None
            and i.name in {"unassigned", "no_responsible"}
        ]

    @property
    def phase_gaps(self) -> list[str]:
        """Life phases in which no service has a responsible actor."""
        return [i.phase for i in self.issues if i.name == "phase_gap"]

    @property
    def overlap_services(self) -> list[str]:
        """Services with several accountable actors or uncoordinated responsibility."""
        out: list[str] = []
        for i in self.issues:
            if i.kind == "overlap" and i.service is not None and i.service not in out:
                out.append(i.service)
        return out

    def by_service(self) -> dict[str, list[Issue]]:
        """Issues grouped by service id."""
        out: dict[str, list[Issue]] = {}
        for i in self.issues:
            if i.service is not None:
                out.setdefault(i.service, []).append(i)
        return out

    def counts(self) -> dict[str, int]:
        """Return the number of errors, warnings, gap services and overlap services."""
        return {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "gaps": len(self.gap_services),
            "overlaps": len(self.overlap_services),
            "phase_gaps": len(self.phase_gaps),
        }

    def messages(self, catalog, lang: str | None = None) -> list[str]:
        """Return ``"Level: message"`` lines, errors first."""
        items = sorted(self.issues, key=lambda i: _LEVEL_ORDER[i.level])
        return [f"{t('level.' + i.level, lang)}: {i.message(catalog, lang)}" for i in items]


def service_status(issues: Iterable[Issue]) -> str:
    """Summarise a service's issues as one status for display.

    Returns
    -------
    str
        ``"gap"`` (no responsible actor), ``"error"`` (accountability),
        ``"overlap"`` (several accountable / uncoordinated), ``"warning"``
        (other warnings) or ``"ok"``.
    """
    names = {i.name for i in issues}
    levels = {i.level for i in issues}
    if names & {"unassigned", "no_responsible"}:
        return "gap"
    if "no_accountable" in names:
        return "error"
    if names & {"several_accountable", "uncoordinated"}:
        return "overlap"
    if "warning" in levels:
        return "warning"
    return "ok"


def check(
    matrix,
    area: str | None = None,
    services: Iterable[str] | None = None,
    *,
    max_responsible: int = DEFAULT_MAX_RESPONSIBLE,
    chain: bool = True,
) -> CheckReport:
    """Check ``matrix`` city-wide or in ``area``.

    Parameters
    ----------
    matrix : Matrix
    area : str, optional
        Sozialraum id; default city-wide.
    services : iterable of str, optional
        Only these services (e.g. a filtered view); default all of the catalog.
        Life-phase gaps are judged on these services only.
    max_responsible : int, default 3
        From this many responsible actors, a coordinating actor is expected.
    chain : bool, default True
        Also report breaks of the prevention chain (warnings).

    Returns
    -------
    CheckReport
    """
    catalog = matrix.catalog
    ids = list(catalog.service_ids if services is None else services)
    cells = matrix.cells(area)
    by_service: dict[str, dict[str, str]] = {s: {} for s in ids}
    for (s, a), r in cells.items():
        if s in by_service:
            by_service[s][a] = r
    issues: list[Issue] = []
    has_responsible: dict[str, bool] = {}
    for sid in ids:
        svc = catalog.service(sid)
        roles = by_service[sid]
        acc = [a for a in catalog.actor_ids if roles.get(a) in ACCOUNTABLE_ROLES]
        resp = [a for a in catalog.actor_ids if roles.get(a) in RESPONSIBLE_ROLES]
        has_responsible[sid] = bool(resp)
        if not roles:
            issues.append(Issue("error", "gap", "resp.check.unassigned", sid, area=area))
        else:
            if not resp:
                issues.append(Issue("error", "gap", "resp.check.no_responsible", sid, area=area))
            if not acc:
                issues.append(
                    Issue("error", "accountability", "resp.check.no_accountable", sid, area=area)
                )
        if len(acc) > 1:
            issues.append(
                Issue(
                    "error",
                    "overlap",
                    "resp.check.several_accountable",
                    sid,
                    area=area,
                    actors=tuple(acc),
                    params={"n": len(acc)},
                )
            )
        if len(resp) >= max_responsible and not any(
            catalog.actor(a).coordinating for a in set(acc) | set(resp)
        ):
            issues.append(
                Issue(
                    "warning",
                    "overlap",
                    "resp.check.uncoordinated",
                    sid,
                    area=area,
                    actors=tuple(resp),
                    params={"n": len(resp)},
                )
            )
        if not svc.phases:
            issues.append(Issue("warning", "catalog", "resp.check.no_phase", sid, area=area))
    for phase in PHASES:
        in_phase = [s for s in ids if phase in catalog.service(s).phases]
        if in_phase and not any(has_responsible[s] for s in in_phase):
            issues.append(
                Issue(
                    "error",
                    "gap",
                    "resp.check.phase_gap",
                    phase=phase,
                    area=area,
                    params={"n": len(in_phase)},
                )
            )
    if chain:
        from k360lib.responsibility.chain import prevention_chain

        for h in prevention_chain(matrix, area=area, services=ids).handoffs:
            if h.status == "break":
                issues.append(
                    Issue(
                        "warning",
                        "chain",
                        "resp.check.chain_break",
                        phase=h.to_phase,
                        area=area,
                        params={"from_phase": h.from_phase},
                    )
                )
    return CheckReport(issues, area=area, services=tuple(ids))


def check_areas(
    matrix,
    areas: Iterable[str] | None = None,
    services: Iterable[str] | None = None,
    *,
    max_responsible: int = DEFAULT_MAX_RESPONSIBLE,
) -> dict[str, CheckReport]:
    """Check every area; return only areas whose result differs from city-wide.

    Parameters
    ----------
    matrix : Matrix
    areas : iterable of str, optional
        Area ids; default the areas that have overrides.
    services : iterable of str, optional
        Restrict to these services.
    max_responsible : int, default 3

    Returns
    -------
    dict
        ``{area: CheckReport}`` for areas whose gaps or errors differ from the
        city-wide report (an area without overrides equals city-wide).
    """
    base = check(matrix, services=services, max_responsible=max_responsible, chain=False)
    base_keys = {(i.key, i.service, i.phase) for i in base.issues}
    out = {}
    for area in matrix.areas if areas is None else areas:
        if not matrix.overrides(area).get(str(area)):
            continue
        rep = check(
            matrix, area=area, services=services, max_responsible=max_responsible, chain=False
        )
        if {(i.key, i.service, i.phase) for i in rep.issues} != base_keys:
            out[str(area)] = rep
    return out
