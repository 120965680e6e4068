"""The prevention chain (Präventionskette): who carries a child through the life phases.

For every life phase the chain lists its services, the services without a
responsible actor (gaps) and, per actor (a *lane*), the services in which the
actor has a role. Between two consecutive phases it describes the hand-off:

- **continuing** actors carry responsibility (``A``, ``AR`` or ``R``) in both phases;
- **leaving** actors carry it only in the earlier phase, **entering** ones only in the later;
- a leaving actor is **linked** when it is at least consulted or informed in a
  service of the later phase (the information travels with the family);
- the hand-off is **coordinated** when a coordinating actor has a role in both phases.

Hand-offs exist only between consecutive phases that both have services in
scope. Status: ``break`` when no actor continues; ``weak`` when some leaving actor is
not linked and the hand-off is not coordinated; otherwise ``ok``.

Examples
--------
>>> from k360lib.responsibility import load_catalog
>>> chain = prevention_chain(load_catalog().default_matrix())
>>> [p.phase for p in chain.phases][:3]
['pregnancy', '0-3', '3-6']
>>> len(chain.handoffs)
6
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from k360lib.responsibility.catalog import PHASES
from k360lib.responsibility.matrix import ACCOUNTABLE_ROLES, RESPONSIBLE_ROLES

__all__ = ["ACTIVE_ROLES", "Chain", "Handoff", "PhaseView", "prevention_chain"]

#: roles that carry responsibility for a family in a phase
ACTIVE_ROLES = ACCOUNTABLE_ROLES | RESPONSIBLE_ROLES
_ROLE_STRENGTH = {"A": 4, "AR": 5, "R": 3, "C": 2, "I": 1}


@dataclass
class PhaseView:
    """One life phase of the chain.

    Attributes
    ----------
    phase : str
    services : list of str
        Services of the phase (display order).
    gaps : list of str
        Services of the phase without a responsible actor.
    lanes : dict
        ``{actor: {service: role}}`` for every actor with a role in the phase.
    """

    phase: str
    services: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    lanes: dict[str, dict[str, str]] = field(default_factory=dict)

    def active(self) -> set[str]:
        """Actors carrying responsibility (``A``/``AR``/``R``) in this phase."""
        return {a for a, svc in self.lanes.items() if any(r in ACTIVE_ROLES for r in svc.values())}

    def strongest(self, actor: str) -> str | None:
        """Return the actor's strongest role in this phase (``AR`` > ``A`` > ``R`` > ``C`` > ``I``)."""
        roles = self.lanes.get(actor, {}).values()
        return max(roles, key=lambda r: _ROLE_STRENGTH[r]) if roles else None


@dataclass
class Handoff:
    """The transition between two consecutive life phases."""

    from_phase: str
    to_phase: str
    continuing: list[str]
    leaving: list[str]
    entering: list[str]
    linked: list[str]
    coordinated: bool
    status: str

    @property
    def unlinked(self) -> list[str]:
        """Leaving actors that have no role at all in the later phase."""
        return [a for a in self.leaving if a not in self.linked]


@dataclass
class Chain:
    """The prevention chain of a matrix (city-wide or for one area)."""

    phases: list[PhaseView]
    handoffs: list[Handoff]
    actors: list[str]
    area: str | None = None

    def phase(self, phase: str) -> PhaseView:
        """Return the view of ``phase``."""
        for p in self.phases:
            if p.phase == phase:
                return p
        raise KeyError(phase)


def prevention_chain(
    matrix, area: str | None = None, services: Iterable[str] | None = None
) -> Chain:
    """Build the prevention chain of ``matrix``.

    Parameters
    ----------
    matrix : Matrix
    area : str, optional
        Sozialraum; default city-wide.
    services : iterable of str, optional
        Only these services (e.g. one target group); default all.

    Returns
    -------
    Chain
        Phases in life order (services without a phase do not appear),
        hand-offs between consecutive phases, and the actors with any role in
        display order.
    """
    catalog = matrix.catalog
    ids = list(catalog.service_ids if services is None else services)
    cells = matrix.cells(area)
    phases: list[PhaseView] = []
    for phase in PHASES:
        view = PhaseView(phase)
        for sid in ids:
            if phase not in catalog.service(sid).phases:
                continue
            view.services.append(sid)
            responsible = False
            for aid in catalog.actor_ids:
                role = cells.get((sid, aid))
                if role is None:
                    continue
                view.lanes.setdefault(aid, {})[sid] = role
                responsible = responsible or role in RESPONSIBLE_ROLES
            if not responsible:
                view.gaps.append(sid)
        phases.append(view)
    coordinating = {a.id for a in catalog.actors if a.coordinating}
    handoffs = []
    for before, after in zip(phases, phases[1:]):
        if not before.services or not after.services:
            continue  # a phase without services in scope: nothing is handed over
        act_b, act_a = before.active(), after.active()
        order = catalog.actor_order
        continuing = sorted(act_b & act_a, key=order)
        leaving = sorted(act_b - act_a, key=order)
        entering = sorted(act_a - act_b, key=order)
        linked = [a for a in leaving if a in after.lanes]
        coordinated = bool(coordinating & set(before.lanes) & set(after.lanes))
        if not continuing:
            status = "break"
        elif len(linked) < len(leaving) and not coordinated:
            status = "weak"
        else:
            status = "ok"
        handoffs.append(
            Handoff(
                before.phase,
                after.phase,
                continuing,
                leaving,
                entering,
                linked,
                coordinated,
                status,
            )
        )
    involved = {a for p in phases for a in p.lanes}
    actors = [a for a in catalog.actor_ids if a in involved]
    return Chain(phases, handoffs, actors, area=area)
