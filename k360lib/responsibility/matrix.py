"""The responsibility matrix: a RACI-style role per (service, actor), optionally per Sozialraum.

Role codes (:data:`ROLES`):

``A``  accountable — owns the outcome, decides and answers for it (Gesamtverantwortung)
``AR`` accountable *and* carries it out itself (A + R in one actor)
``R``  responsible — carries out the work (Durchführung)
``C``  consulted — is involved before decisions (wird beteiligt)
``I``  informed — is kept informed (wird informiert)

A cell holds at most one code. The city-wide assignment can be overridden per
Sozialraum (area); an override may also *remove* a role in that area.

Examples
--------
>>> from k360lib.responsibility import load_catalog
>>> m = Matrix(load_catalog())
>>> m.set("kindergeld", "familienkasse", "ar")
>>> m.get("kindergeld", "familienkasse")
'AR'
>>> m.set("kindergeld", "jobcenter", "I", area="SR03")
>>> m.get("kindergeld", "jobcenter", area="SR03"), m.get("kindergeld", "jobcenter")
('I', None)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from k360lib.errors import DataError

__all__ = [
    "ACCOUNTABLE_ROLES",
    "NO_ROLE",
    "RESPONSIBLE_ROLES",
    "ROLES",
    "ROLE_ALIASES",
    "Matrix",
    "normalize_role",
]

#: role codes in display order
ROLES: tuple[str, ...] = ("R", "A", "AR", "C", "I")
#: codes that count as accountable
ACCOUNTABLE_ROLES = frozenset({"A", "AR"})
#: codes that count as responsible (carrying out the work)
RESPONSIBLE_ROLES = frozenset({"R", "AR"})
#: code that removes a role in an area override (in files)
NO_ROLE = "-"
#: accepted spellings of the combined role
ROLE_ALIASES: dict[str, str] = {"A/R": "AR", "RA": "AR", "R/A": "AR", "A+R": "AR", "R+A": "AR"}


def normalize_role(value, *, allow_none: bool = False) -> str | None:
    """Return the canonical role code for ``value`` or ``None`` for an empty cell.

    Case and spaces are ignored; ``A/R``, ``RA`` and ``A+R`` mean ``AR``.
    With ``allow_none``, ``"-"`` (explicitly no role) is returned as ``"-"``.

    Raises
    ------
    DataError
        If ``value`` is not a role code (key ``resp.invalid_role``).

    Examples
    --------
    >>> normalize_role(" a/r "), normalize_role(""), normalize_role(None)
    ('AR', None, None)
    """
    if value is None:
        return None
    text = "".join(str(value).split()).upper()
    if text == "":
        return None
    text = ROLE_ALIASES.get(text, text)
    if text in ROLES:
        return text
    if allow_none and text in {NO_ROLE, "–", "—"}:
        return NO_ROLE
    raise DataError(
        "resp.invalid_role",
        value=str(value),
        allowed=", ".join(ROLES) + (f", {NO_ROLE}" if allow_none else ""),
    )


class Matrix:
    """Roles per (service, actor), city-wide and per area.

    Parameters
    ----------
    catalog : Catalog
        Services and actors the matrix may name.
    name : str, optional
        Whose view this is (a person or role group in a workshop).

    Notes
    -----
    Two matrices are equal when they have the same roles and area overrides
    (the name and catalog identity do not count).
    """

    def __init__(self, catalog, name: str = ""):
        self.catalog = catalog
        self.name = str(name or "")
        self._base: dict[tuple[str, str], str] = {}
        self._areas: dict[str, dict[tuple[str, str], str | None]] = {}

    # -- validation -----------------------------------------------------------------
    def _check(self, service: str, actor: str) -> None:
        self.catalog.service(service)  # raises DataError naming the unknown id
        self.catalog.actor(actor)

    # -- editing --------------------------------------------------------------------
    def set(self, service: str, actor: str, role: str | None, area: str | None = None) -> None:
        """Set the role of ``actor`` for ``service`` (``None``/``""`` removes it).

        Parameters
        ----------
        service, actor : str
            Catalog ids.
        role : str or None
            A code of :data:`ROLES` (any case), ``None`` or ``""`` for no role.
        area : str, optional
            Sozialraum id: set an override for this area only. In an area,
            ``None`` means "no role here" even if the city-wide matrix has one;
            use :meth:`reset` to drop an override.

        Raises
        ------
        DataError
            Unknown service, unknown actor or invalid role code.
        """
        self._check(service, actor)
        code = normalize_role(role, allow_none=area is not None)
        if code == NO_ROLE:
            code = None
        key = (service, actor)
        if area is None:
            if code is None:
                self._base.pop(key, None)
            else:
                self._base[key] = code
            return
        area = str(area)
        overrides = self._areas.setdefault(area, {})
        if code == self._base.get(key):
            overrides.pop(key, None)  # same as city-wide: no override needed
        else:
            overrides[key] = code
        if not overrides:
            self._areas.pop(area, None)

    def reset(self, service: str, actor: str, area: str) -> None:
        """Drop the area override of one cell (the city-wide role applies again)."""
        overrides = self._areas.get(str(area))
        if overrides is not None:
            overrides.pop((service, actor), None)
            if not overrides:
                self._areas.pop(str(area), None)

    def clear_area(self, area: str) -> None:
        """Drop all overrides of ``area``."""
        self._areas.pop(str(area), None)

    def clear(self) -> None:
        """Remove every role and override."""
        self._base.clear()
        self._areas.clear()

    def update(self, other: Matrix) -> None:
        """Replace this matrix's content by ``other``'s (same catalog ids required)."""
        self._base = dict(other._base)
        self._areas = {a: dict(o) for a, o in other._areas.items()}

    def copy(self, name: str | None = None) -> Matrix:
        """Return an independent copy (optionally renamed)."""
        m = Matrix(self.catalog, self.name if name is None else name)
        m.update(self)
        return m

    # -- reading --------------------------------------------------------------------
    def get(self, service: str, actor: str, area: str | None = None) -> str | None:
        """Return the role of ``actor`` for ``service`` (in ``area`` if given), or ``None``."""
        key = (service, actor)
        if area is not None:
            overrides = self._areas.get(str(area))
            if overrides is not None and key in overrides:
                return overrides[key]
        return self._base.get(key)

    def is_override(self, service: str, actor: str, area: str | None) -> bool:
        """Return True if the cell has an override in ``area``."""
        return area is not None and (service, actor) in self._areas.get(str(area), {})

    def cells(self, area: str | None = None) -> dict[tuple[str, str], str]:
        """Return the effective ``{(service, actor): role}`` (city-wide, or in ``area``)."""
        out = dict(self._base)
        if area is not None:
            for key, role in self._areas.get(str(area), {}).items():
                if role is None:
                    out.pop(key, None)
                else:
                    out[key] = role
        return out

    def roles_of_service(self, service: str, area: str | None = None) -> dict[str, str]:
        """Return ``{actor: role}`` for ``service``, in catalog actor order."""
        cells = self.cells(area)
        return {a: cells[(service, a)] for a in self.catalog.actor_ids if (service, a) in cells}

    def services_of_actor(self, actor: str, area: str | None = None) -> dict[str, str]:
        """Return ``{service: role}`` for ``actor``, in catalog service order."""
        cells = self.cells(area)
        return {s: cells[(s, actor)] for s in self.catalog.service_ids if (s, actor) in cells}

    def actors_with(self, service: str, roles: Iterable[str], area: str | None = None) -> list[str]:
        """Return actors whose role for ``service`` is one of ``roles``."""
        wanted = set(roles)
        return [a for a, r in self.roles_of_service(service, area).items() if r in wanted]

    @property
    def areas(self) -> list[str]:
        """Areas that have overrides (sorted)."""
        return sorted(self._areas)

    def overrides(self, area: str | None = None) -> dict[str, dict[tuple[str, str], str | None]]:
        """Return the overrides (``None`` role = removed in that area), per area."""
        if area is not None:
            return {str(area): dict(self._areas.get(str(area), {}))}
        return {a: dict(o) for a, o in sorted(self._areas.items())}

    def iter_base(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(service, actor, role)`` of the city-wide matrix in catalog order."""
        cat = self.catalog
        for (s, a), r in sorted(
            self._base.items(),
            key=lambda kv: (cat.service_order(kv[0][0]), cat.actor_order(kv[0][1])),
        ):
            yield s, a, r

    def iter_overrides(self) -> Iterator[tuple[str, str, str, str | None]]:
        """Yield ``(area, service, actor, role or None)`` in area, then catalog order."""
        cat = self.catalog
        for area in sorted(self._areas):
            items = sorted(
                self._areas[area].items(),
                key=lambda kv: (cat.service_order(kv[0][0]), cat.actor_order(kv[0][1])),
            )
            for (s, a), r in items:
                yield area, s, a, r

    def __len__(self) -> int:
        """Return the number of city-wide assignments."""
        return len(self._base)

    @property
    def n_overrides(self) -> int:
        """Number of area overrides."""
        return sum(len(o) for o in self._areas.values())

    def is_empty(self) -> bool:
        """Return True when the matrix has no role at all (city-wide or in an area)."""
        return not self._base and not any(
            r is not None for o in self._areas.values() for r in o.values()
        )

    def diff(self, other: Matrix) -> list[tuple[str | None, str, str, str | None, str | None]]:
        """Return the cells that differ: ``(area or None, service, actor, mine, theirs)``."""
        out = []
        keys = sorted(set(self._base) | set(other._base))
        for s, a in keys:
            mine, theirs = self._base.get((s, a)), other._base.get((s, a))
            if mine != theirs:
                out.append((None, s, a, mine, theirs))
        for area in sorted(set(self._areas) | set(other._areas)):
            mo, to = self._areas.get(area, {}), other._areas.get(area, {})
            for s, a in sorted(set(mo) | set(to)):
                if (s, a) not in mo or (s, a) not in to or mo[(s, a)] != to[(s, a)]:
                    out.append((area, s, a, self.get(s, a, area), other.get(s, a, area)))
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Matrix):
            return NotImplemented
        return self._base == other._base and self._areas == other._areas

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<Matrix{name}: {len(self._base)} roles, {self.n_overrides} area overrides>"

    # -- plain data -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Return the matrix as plain, JSON-ready data (deterministic order)."""
        return {
            "format": "k360-responsibility",
            "version": 1,
            "name": self.name,
            "roles": [{"service": s, "actor": a, "role": r} for s, a, r in self.iter_base()],
            "areas": [
                {"area": area, "service": s, "actor": a, "role": r}
                for area, s, a, r in self.iter_overrides()
            ],
        }

    @classmethod
    def from_dict(cls, data: dict, catalog, *, file: str | None = None) -> Matrix:
        """Build a matrix from :meth:`to_dict` data, validating every entry.

        Raises
        ------
        DataError
            Wrong format, unknown service or actor, invalid role — naming the
            entry (``roles[3]``) and the file if given.
        """
        if not isinstance(data, dict) or data.get("format") != "k360-responsibility":
            raise DataError("resp.io.not_matrix_json", file=file)
        m = cls(catalog, name=str(data.get("name") or ""))
        for section, with_area in (("roles", False), ("areas", True)):
            entries = data.get(section) or []
            if not isinstance(entries, list):
                raise DataError("resp.io.bad_json_entry", file=file, key=section)
            for i, entry in enumerate(entries):
                where = f"{section}[{i}]"
                if not isinstance(entry, dict):
                    raise DataError("resp.io.bad_json_entry", file=file, key=where)
                try:
                    role = entry.get("role")
                    if with_area:
                        m.set(
                            str(entry.get("service")),
                            str(entry.get("actor")),
                            NO_ROLE if role is None else role,
                            area=str(entry.get("area")),
                        )
                    else:
                        m.set(str(entry.get("service")), str(entry.get("actor")), role)
                except DataError as err:
                    err.where.update({"file": file, "key": where} if file else {"key": where})
                    raise
        return m
