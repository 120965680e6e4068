"""Perspectives (Perspektivwechsel): several people fill the matrix as they believe it is.

:func:`compare` puts their matrices side by side. Per cell (service, actor)
that at least one perspective filled, it counts the answers (a role or "no
role") and computes the **agreement**: the share of perspectives giving the
most frequent answer (1.0 = everyone agrees). Disagreements are ranked:

1. lowest agreement first;
2. then cells where someone sees the actor as *accountable* (disagreement
   about who answers for a service matters most);
3. then more distinct answers;
4. then catalog order.

Per service it also lists **accountability conflicts**: the perspectives
name different accountable actors.

Examples
--------
>>> from k360lib.responsibility import load_catalog
>>> cat = load_catalog()
>>> a = cat.default_matrix("Jugendamt")
>>> b = a.copy("Freier Träger")
>>> b.set("kindergeld", "familienkasse", None)
>>> b.set("kindergeld", "jugendamt", "AR")
>>> cmp = compare({"Jugendamt": a, "Freier Träger": b})
>>> [(d.service, d.actor) for d in cmp.disagreements]
[('kindergeld', 'jugendamt'), ('kindergeld', 'familienkasse')]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from k360lib.errors import DataError
from k360lib.responsibility.matrix import ACCOUNTABLE_ROLES

__all__ = ["AccountabilityConflict", "CellComparison", "Comparison", "compare"]

#: the answer "no role" in comparisons
NONE = ""


@dataclass(frozen=True)
class CellComparison:
    """The answers of all perspectives for one (service, actor) cell.

    Attributes
    ----------
    service, actor : str
    answers : tuple of (perspective name, role or "")
    agreement : float
        Share of perspectives giving the most frequent answer.
    modal : str
        The most frequent answer ("" = no role); ties go to the stronger role.
    """

    service: str
    actor: str
    answers: tuple[tuple[str, str], ...]
    agreement: float
    modal: str

    @property
    def distinct(self) -> int:
        """Number of different answers."""
        return len({r for _, r in self.answers})

    @property
    def involves_accountable(self) -> bool:
        """True if some perspective sees the actor as accountable here."""
        return any(r in ACCOUNTABLE_ROLES for _, r in self.answers)

    def answer(self, name: str) -> str:
        """Return the answer of perspective ``name`` ("" = no role)."""
        return dict(self.answers).get(name, NONE)


@dataclass(frozen=True)
class AccountabilityConflict:
    """A service whose accountable actor(s) differ between perspectives."""

    service: str
    accountable: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass
class Comparison:
    """Result of :func:`compare`."""

    names: list[str]
    cells: list[CellComparison]
    disagreements: list[CellComparison]
    accountability_conflicts: list[AccountabilityConflict]
    pairwise: dict[tuple[str, str], float]

    @property
    def overall_agreement(self) -> float:
        """Mean agreement over all cells any perspective filled (1.0 if none)."""
        if not self.cells:
            return 1.0
        return sum(c.agreement for c in self.cells) / len(self.cells)

    def to_rows(self, catalog, lang: str | None = None) -> list[dict]:
        """Disagreements as flat rows (for CSV export), in rank order."""
        rows = []
        for rank, c in enumerate(self.disagreements, start=1):
            row = {
                "rank": rank,
                "service_id": c.service,
                "service": catalog.service(c.service).name(lang),
                "actor_id": c.actor,
                "actor": catalog.actor(c.actor).name(lang),
                "agreement": round(c.agreement, 3),
            }
            for name, role in c.answers:
                row[name] = role or "-"
            rows.append(row)
        return rows


_STRENGTH = {"AR": 5, "A": 4, "R": 3, "C": 2, "I": 1, NONE: 0}


def compare(
    perspectives: Mapping[str, object] | Iterable,
    area: str | None = None,
    services: Iterable[str] | None = None,
) -> Comparison:
    """Compare several matrices of the same catalog.

    Parameters
    ----------
    perspectives : mapping of name -> Matrix, or iterable of Matrix
        Matrices to compare; an iterable uses each matrix's ``name`` (made
        unique). At least one is needed; with one, everything agrees.
    area : str, optional
        Compare the effective roles in this Sozialraum.
    services : iterable of str, optional
        Only these services.

    Returns
    -------
    Comparison

    Raises
    ------
    DataError
        If no matrix is given, or the matrices use different catalogs.
    """
    if isinstance(perspectives, Mapping):
        items = [(str(k), v) for k, v in perspectives.items()]
    else:
        items = []
        seen: set[str] = set()
        for i, m in enumerate(perspectives, start=1):
            name = m.name or f"#{i}"
            base, n = name, 2
            while name in seen:
                name, n = f"{base} ({n})", n + 1
            seen.add(name)
            items.append((name, m))
    if not items:
        raise DataError("resp.persp.none")
    catalog = items[0][1].catalog
    for _, m in items[1:]:
        if m.catalog.service_ids != catalog.service_ids or m.catalog.actor_ids != catalog.actor_ids:
            raise DataError("resp.persp.catalog_mismatch")
    names = [n for n, _ in items]
    keep = None if services is None else set(services)
    cell_maps = [m.cells(area) for _, m in items]
    keys = set()
    for cm in cell_maps:
        keys.update(k for k in cm if keep is None or k[0] in keep)
    ordered = sorted(keys, key=lambda k: (catalog.service_order(k[0]), catalog.actor_order(k[1])))
    n = len(items)
    cells = []
    for s, a in ordered:
        answers = tuple((name, cm.get((s, a), NONE)) for name, cm in zip(names, cell_maps))
        counts = Counter(r for _, r in answers)
        top = max(counts.values())
        modal = max((r for r, c in counts.items() if c == top), key=lambda r: _STRENGTH[r])
        cells.append(CellComparison(s, a, answers, top / n, modal))
    disagreements = [c for c in cells if c.agreement < 1.0]
    disagreements.sort(
        key=lambda c: (
            c.agreement,
            not c.involves_accountable,
            -c.distinct,
            catalog.service_order(c.service),
            catalog.actor_order(c.actor),
        )
    )
    conflicts = []
    service_ids = [s for s in catalog.service_ids if keep is None or s in keep]
    for sid in service_ids:
        acc = tuple(
            (
                name,
                tuple(a for a in catalog.actor_ids if cm.get((sid, a)) in ACCOUNTABLE_ROLES),
            )
            for name, cm in zip(names, cell_maps)
        )
        if len({v for _, v in acc}) > 1:
            conflicts.append(AccountabilityConflict(sid, acc))
    pairwise = {}
    for i, (na, ca) in enumerate(zip(names, cell_maps)):
        for nb, cb in list(zip(names, cell_maps))[i + 1 :]:
            union = [k for k in set(ca) | set(cb) if keep is None or k[0] in keep]
            same = sum(1 for k in union if ca.get(k) == cb.get(k))
            pairwise[(na, nb)] = same / len(union) if union else 1.0
    return Comparison(names, cells, disagreements, conflicts, pairwise)
