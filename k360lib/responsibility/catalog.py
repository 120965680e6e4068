"""Catalogs of family services (Leistungen) and actors (Akteure), read from CSV.

The catalogs ship in ``data/catalog/`` of a source checkout (see its
``README.md`` for every column). They are plain CSV (UTF-8, comma, quoted
where needed) so that planners can extend them in a spreadsheet.

Vocabularies (ids are stable, labels come from the message catalog):

- life phases :data:`PHASES` — ``pregnancy``, ``0-3``, ``3-6``, ``6-10``,
  ``10-14``, ``14-18``, ``transition`` (to training and work), in life order;
- sectors :data:`SECTORS` — ``administration``, ``politics``, ``providers``,
  ``health``, ``school``, ``federal_agency``;
- levels :data:`LEVELS` — ``Bund``, ``Land``, ``Kommune``;
- target groups :data:`TARGET_GROUPS`.

Examples
--------
>>> cat = load_catalog()
>>> cat.service("kinderzuschlag").legal_basis
'§ 6a BKGG'
>>> cat.actor("familienkasse").sector
'federal_agency'
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t

__all__ = [
    "LEVELS",
    "PHASES",
    "SECTORS",
    "TARGET_GROUPS",
    "Actor",
    "Catalog",
    "Law",
    "Service",
    "default_catalog_dir",
    "load_catalog",
    "phase_label",
    "sector_label",
    "target_group_label",
]

#: life phases in life order (ids)
PHASES: tuple[str, ...] = ("pregnancy", "0-3", "3-6", "6-10", "10-14", "14-18", "transition")
#: sectors of actors (ids)
SECTORS: tuple[str, ...] = (
    "administration",
    "politics",
    "providers",
    "health",
    "school",
    "federal_agency",
)
#: government levels responsible for a service
LEVELS: tuple[str, ...] = ("Bund", "Land", "Kommune")
#: target groups of services (ids)
TARGET_GROUPS: tuple[str, ...] = (
    "families",
    "expectant",
    "parents",
    "children",
    "youth",
    "young_adults",
    "single_parents",
    "low_income",
    "disability",
    "burdened",
    "migrants",
)

SERVICE_COLUMNS: tuple[str, ...] = (
    "id",
    "name_de",
    "name_en",
    "legal_basis",
    "laws",
    "level",
    "phases",
    "target_groups",
    "facility_kinds",
    "accountable",
    "responsible",
    "consulted",
    "informed",
    "description_de",
    "description_en",
)
ACTOR_COLUMNS: tuple[str, ...] = (
    "id",
    "name_de",
    "name_en",
    "short_de",
    "short_en",
    "sector",
    "level",
    "coordinating",
    "description_de",
    "description_en",
)
LAW_COLUMNS: tuple[str, ...] = ("id", "name_de", "name_en", "reference")
#: default-assignment columns of services.csv and the role each one gives
DEFAULT_ROLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("accountable", "A"),
    ("responsible", "R"),
    ("consulted", "C"),
    ("informed", "I"),
)


def phase_label(phase: str, lang: str | None = None) -> str:
    """Return the label of a life phase (``"0-3"`` -> ``"0–3 Jahre"``)."""
    return t(f"resp.phase.{phase}", lang)


def sector_label(sector: str, lang: str | None = None) -> str:
    """Return the label of an actor sector."""
    return t(f"resp.sector.{sector}", lang)


def target_group_label(group: str, lang: str | None = None) -> str:
    """Return the label of a target group."""
    return t(f"resp.target.{group}", lang)


def _split(value: str | None) -> tuple[str, ...]:
    """Split a ``;``-separated list, dropping blanks and surrounding spaces."""
    if not value:
        return ()
    return tuple(p.strip() for p in str(value).split(";") if p.strip())


@dataclass(frozen=True)
class Service:
    """A family benefit or service (Leistung).

    Attributes
    ----------
    id : str
        Stable key.
    name_de, name_en : str
        Names.
    legal_basis : str
        Law and paragraph as cited, e.g. ``"§ 24 Abs. 3 SGB VIII"``.
    laws : tuple of str
        Ids of the laws cited (keys of ``laws.csv``).
    level : str
        ``Bund``, ``Land`` or ``Kommune``: the level primarily responsible for
        guaranteeing the service (see ``data/catalog/README.md``).
    phases : tuple of str
        Life phases (:data:`PHASES`) in life order; may be empty.
    target_groups : tuple of str
        Target groups (:data:`TARGET_GROUPS`).
    facility_kinds : tuple of str
        Atlas facility kinds through which families reach the service
        (empty: not bound to a place, e.g. a cash benefit).
    description_de, description_en : str
        Short descriptions.
    """

    id: str
    name_de: str
    name_en: str
    legal_basis: str
    laws: tuple[str, ...] = ()
    level: str = ""
    phases: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    facility_kinds: tuple[str, ...] = ()
    description_de: str = ""
    description_en: str = ""

    def name(self, lang: str | None = None) -> str:
        """Return the name in ``lang`` (German if no English name)."""
        return (self.name_en or self.name_de) if normalize_lang(lang) == "en" else self.name_de

    def description(self, lang: str | None = None) -> str:
        """Return the description in ``lang`` (German if no English text)."""
        if normalize_lang(lang) == "en":
            return self.description_en or self.description_de
        return self.description_de


@dataclass(frozen=True)
class Actor:
    """An actor (Akteur): an office, provider group, committee or agency.

    Attributes
    ----------
    id : str
        Stable key.
    name_de, name_en : str
        Names.
    short_de, short_en : str
        Abbreviations for narrow table headers.
    sector : str
        One of :data:`SECTORS`.
    level : str
        ``Bund``, ``Land``, ``Kommune`` or ``""`` for non-governmental actors.
    coordinating : bool
        True for actors whose mandate is coordination (network coordination,
        planning); a service with many responsible actors counts as
        coordinated when one of them is accountable or responsible.
    description_de, description_en : str
        Short descriptions.
    """

    id: str
    name_de: str
    name_en: str
    short_de: str = ""
    short_en: str = ""
    sector: str = "administration"
    level: str = ""
    coordinating: bool = False
    description_de: str = ""
    description_en: str = ""

    def name(self, lang: str | None = None) -> str:
        """Return the name in ``lang``."""
        return (self.name_en or self.name_de) if normalize_lang(lang) == "en" else self.name_de

    def short(self, lang: str | None = None) -> str:
        """Return the abbreviation in ``lang`` (falls back to the id)."""
        if normalize_lang(lang) == "en":
            return self.short_en or self.short_de or self.id
        return self.short_de or self.id

    def description(self, lang: str | None = None) -> str:
        """Return the description in ``lang``."""
        if normalize_lang(lang) == "en":
            return self.description_en or self.description_de
        return self.description_de


@dataclass(frozen=True)
class Law:
    """A law cited as legal basis, with a reference where to read it."""

    id: str
    name_de: str
    name_en: str = ""
    reference: str = ""

    def name(self, lang: str | None = None) -> str:
        """Return the name in ``lang``."""
        return (self.name_en or self.name_de) if normalize_lang(lang) == "en" else self.name_de


@dataclass(frozen=True)
class Catalog:
    """Services, actors and laws, plus the typical default assignment.

    Use :func:`load_catalog` to read the bundled catalog; build one directly
    for tests or a municipality's own list.

    Parameters
    ----------
    services : tuple of Service
        In display order.
    actors : tuple of Actor
        In display order.
    laws : tuple of Law, optional
    defaults : tuple of (service_id, actor_id, role), optional
        Typical default assignment (see :meth:`default_matrix`).
    """

    services: tuple[Service, ...]
    actors: tuple[Actor, ...]
    laws: tuple[Law, ...] = ()
    defaults: tuple[tuple[str, str, str], ...] = ()
    _service_index: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _actor_index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for kind, items, index in (
            ("service", self.services, self._service_index),
            ("actor", self.actors, self._actor_index),
        ):
            for i, item in enumerate(items):
                if item.id in index:
                    raise DataError(f"resp.catalog.duplicate_{kind}", key=item.id)
                index[item.id] = i

    # -- lookups ------------------------------------------------------------------
    @property
    def service_ids(self) -> list[str]:
        """Service ids in display order."""
        return [s.id for s in self.services]

    @property
    def actor_ids(self) -> list[str]:
        """Actor ids in display order."""
        return [a.id for a in self.actors]

    def has_service(self, service_id: str) -> bool:
        """Return True if ``service_id`` is in the catalog."""
        return service_id in self._service_index

    def has_actor(self, actor_id: str) -> bool:
        """Return True if ``actor_id`` is in the catalog."""
        return actor_id in self._actor_index

    def service(self, service_id: str) -> Service:
        """Return the service ``service_id``.

        Raises
        ------
        DataError
            If the service is unknown (message names a few known ids).
        """
        try:
            return self.services[self._service_index[service_id]]
        except KeyError:
            raise DataError(
                "resp.unknown_service", service=service_id, known=_known(self.service_ids)
            ) from None

    def actor(self, actor_id: str) -> Actor:
        """Return the actor ``actor_id``.

        Raises
        ------
        DataError
            If the actor is unknown.
        """
        try:
            return self.actors[self._actor_index[actor_id]]
        except KeyError:
            raise DataError(
                "resp.unknown_actor", actor=actor_id, known=_known(self.actor_ids)
            ) from None

    def service_order(self, service_id: str) -> int:
        """Position of a service in display order (unknown ids sort last)."""
        return self._service_index.get(service_id, len(self.services))

    def actor_order(self, actor_id: str) -> int:
        """Position of an actor in display order (unknown ids sort last)."""
        return self._actor_index.get(actor_id, len(self.actors))

    def law(self, law_id: str) -> Law | None:
        """Return the law ``law_id`` or ``None``."""
        for law in self.laws:
            if law.id == law_id:
                return law
        return None

    # -- filters ------------------------------------------------------------------
    def filter_services(
        self,
        phase: str | None = None,
        target_group: str | None = None,
        level: str | None = None,
        place_based: bool | None = None,
    ) -> list[str]:
        """Return ids of services matching every given criterion (display order).

        Parameters
        ----------
        phase : str, optional
            Keep services of this life phase.
        target_group : str, optional
            Keep services for this target group.
        level : str, optional
            Keep services of this level.
        place_based : bool, optional
            ``True``: only services with facility kinds; ``False``: only those without.
        """
        out = []
        for s in self.services:
            if phase and phase not in s.phases:
                continue
            if target_group and target_group not in s.target_groups:
                continue
            if level and s.level != level:
                continue
            if place_based is not None and bool(s.facility_kinds) != place_based:
                continue
            out.append(s.id)
        return out

    def actors_in_sector(self, sector: str | None) -> list[str]:
        """Return ids of actors of ``sector`` (all actors for ``None``)."""
        return [a.id for a in self.actors if not sector or a.sector == sector]

    def services_for_kind(self, kind: str) -> list[str]:
        """Return ids of services reached through facilities of ``kind``."""
        return [s.id for s in self.services if kind in s.facility_kinds]

    def laws_cited(self) -> list[str]:
        """Return the ids of all laws cited by services, in ``laws`` order then first use."""
        cited: list[str] = []
        for s in self.services:
            for law in s.laws:
                if law not in cited:
                    cited.append(law)
        known = [law.id for law in self.laws]
        return sorted(cited, key=lambda x: (known.index(x) if x in known else len(known), x))

    def default_matrix(self, name: str = ""):
        """Return the typical default assignment as a :class:`~k360lib.responsibility.matrix.Matrix`.

        An actor listed both as accountable and responsible gets the combined
        role ``AR``.
        """
        from k360lib.responsibility.matrix import Matrix

        m = Matrix(self, name=name)
        for service_id, actor_id, role in self.defaults:
            m.set(service_id, actor_id, role)
        return m


def _known(ids: list[str], n: int = 12) -> str:
    shown = ", ".join(ids[:n])
    return shown + (", …" if len(ids) > n else "")


def default_catalog_dir() -> Path:
    """Return where a source checkout keeps the bundled catalogs (``<repo>/data/catalog``)."""
    from k360lib.bundled import bundled_dir  # source checkout or installed package

    return bundled_dir("catalog")


def _read_csv(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """Read a catalog CSV: ``(line number, row)`` pairs; checks the header."""
    if not path.is_file():
        raise DataError("resp.catalog.missing_file", file=str(path))
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError("resp.catalog.missing_columns", file=path.name, columns=", ".join(missing))
    rows = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(clean.values()):
            continue
        rows.append((reader.line_num, clean))
    return rows


def _check_vocab(values, allowed, key, file, line, column) -> None:
    for v in values:
        if v not in allowed:
            raise DataError(
                key,
                file=file,
                row=line,
                column=column,
                value=v,
                allowed=", ".join(allowed),
            )


def _check_unique(value: str, seen: set[str], key: str, file: str, line: int) -> None:
    if value in seen:
        raise DataError(key, file=file, row=line, column="id", key=value)
    seen.add(value)


def load_catalog(folder: str | Path | None = None) -> Catalog:
    """Read ``services.csv``, ``actors.csv`` and ``laws.csv`` from ``folder``.

    Parameters
    ----------
    folder : str or Path, optional
        Default: the bundled ``data/catalog`` of a source checkout.

    Returns
    -------
    Catalog

    Raises
    ------
    DataError
        Missing file or column, an unknown life phase, sector, level or target
        group, a default assignment naming an unknown actor, or a duplicate id
        — with file, line and column.
    """
    folder = Path(folder) if folder is not None else default_catalog_dir()
    actors = []
    seen: set[str] = set()
    for line, row in _read_csv(folder / "actors.csv", ACTOR_COLUMNS):
        _check_unique(row["id"], seen, "resp.catalog.duplicate_actor", "actors.csv", line)
        _check_vocab(
            [row["sector"]], SECTORS, "resp.catalog.bad_sector", "actors.csv", line, "sector"
        )
        if row["level"]:
            _check_vocab(
                [row["level"]], LEVELS, "resp.catalog.bad_level", "actors.csv", line, "level"
            )
        actors.append(
            Actor(
                id=row["id"],
                name_de=row["name_de"],
                name_en=row["name_en"],
                short_de=row["short_de"],
                short_en=row["short_en"],
                sector=row["sector"],
                level=row["level"],
                coordinating=row["coordinating"].lower() in {"1", "true", "ja", "yes", "x"},
                description_de=row["description_de"],
                description_en=row["description_en"],
            )
        )
    actor_ids = {a.id for a in actors}
    laws = []
    laws_path = folder / "laws.csv"
    if laws_path.is_file():
        for _line, row in _read_csv(laws_path, LAW_COLUMNS):
            laws.append(Law(row["id"], row["name_de"], row["name_en"], row["reference"]))
    services = []
    defaults: list[tuple[str, str, str]] = []
    seen = set()
    for line, row in _read_csv(folder / "services.csv", SERVICE_COLUMNS):
        _check_unique(row["id"], seen, "resp.catalog.duplicate_service", "services.csv", line)
        phases = _split(row["phases"])
        targets = _split(row["target_groups"])
        _check_vocab(phases, PHASES, "resp.catalog.bad_phase", "services.csv", line, "phases")
        _check_vocab(
            targets, TARGET_GROUPS, "resp.catalog.bad_target", "services.csv", line, "target_groups"
        )
        if row["level"]:
            _check_vocab(
                [row["level"]], LEVELS, "resp.catalog.bad_level", "services.csv", line, "level"
            )
        services.append(
            Service(
                id=row["id"],
                name_de=row["name_de"],
                name_en=row["name_en"],
                legal_basis=row["legal_basis"],
                laws=_split(row["laws"]),
                level=row["level"],
                phases=tuple(p for p in PHASES if p in phases),
                target_groups=targets,
                facility_kinds=_split(row["facility_kinds"]),
                description_de=row["description_de"],
                description_en=row["description_en"],
            )
        )
        roles: dict[str, str] = {}
        for column, role in DEFAULT_ROLE_COLUMNS:
            for actor_id in _split(row[column]):
                if actor_id not in actor_ids:
                    raise DataError(
                        "resp.catalog.bad_default_actor",
                        file="services.csv",
                        row=line,
                        column=column,
                        actor=actor_id,
                    )
                previous = roles.get(actor_id)
                if previous is None:
                    roles[actor_id] = role
                elif {previous, role} == {"A", "R"}:
                    roles[actor_id] = "AR"
                else:
                    raise DataError(
                        "resp.catalog.double_default",
                        file="services.csv",
                        row=line,
                        column=column,
                        actor=actor_id,
                    )
        defaults.extend((row["id"], a, r) for a, r in roles.items())
    return Catalog(tuple(services), tuple(actors), tuple(laws), tuple(defaults))
