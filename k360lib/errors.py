"""Errors a user can cause, with messages in German and English.

Every error carries a message key (see :mod:`k360lib.i18n`), parameters and an
optional location (file, sheet, cell, row, column, key, area, layer). ``str()``
renders it in the current language; :meth:`K360Error.message` in any language.

Examples
--------
>>> from k360lib.errors import DataError
>>> err = DataError("atlas.io.file_not_found", file="x.csv")
>>> err.message("en")
"file 'x.csv': The file does not exist."
"""

from __future__ import annotations

from k360lib.i18n import t

__all__ = [
    "CRSError",
    "Phrase",
    "DataError",
    "DuplicateKeyError",
    "GeometryError",
    "K360Error",
    "KeyMatchError",
    "ReportError",
    "format_location",
]

#: Location fields in the order they are rendered.
LOCATION_FIELDS: tuple[str, ...] = (
    "file",
    "layer",
    "sheet",
    "cell",
    "row",
    "column",
    "key",
    "area",
)


def format_location(lang: str | None = None, /, **where: object) -> str:
    """Render a location like ``Datei „a.csv“, Zeile 7, Spalte „Wert“``.

    ``None`` values are skipped; unknown fields are ignored.
    """
    parts = [
        t(f"loc.{name}", lang, **{name: where[name]})
        for name in LOCATION_FIELDS
        if where.get(name) is not None
    ]
    return ", ".join(parts)


class Phrase:
    """A message parameter that is itself translated when the message is (e.g. phase names).

    Parameters
    ----------
    *keys : str
        Catalog keys; rendered joined by ``sep``.
    sep : str
        Separator between several phrases.

    Examples
    --------
    >>> from k360lib.errors import K360Error, Phrase
    >>> err = K360Error("game.rule.wrong_phase", command=Phrase("game.command.vote"),
    ...                 phase=Phrase("game.phase.planung"), allowed=Phrase("game.phase.beschluss"))
    >>> err.message("en")
    "'vote' is not possible in the phase 'Planning' (allowed in: Decision)."
    """

    __slots__ = ("keys", "sep")

    def __init__(self, *keys: str, sep: str = ", "):
        self.keys = tuple(keys)
        self.sep = sep

    def render(self, lang: str | None = None) -> str:
        """Return the phrase in ``lang``."""
        # i18n-dynamic: the keys come from the caller (checked where the phrase is made)
        return self.sep.join(t(key, lang) for key in self.keys)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Phrase{self.keys!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.keys, self.sep) == (other.keys, other.sep)

    def __hash__(self) -> int:
        return hash((self.keys, self.sep))


class K360Error(Exception):
    """Base class of all errors a user can cause.

    Parameters
    ----------
    key : str
        Message key in the catalog.
    where : dict, optional
        Location fields (``file``, ``sheet``, ``cell``, ``row``, ``column``,
        ``key``, ``area``, ``layer``).
    **params
        Values filled into the message.
    """

    default_key = "error.generic"

    def __init__(self, key: str | None = None, /, *, where: dict | None = None, **params: object):
        self.key = key or self.default_key
        self.params = params
        # location fields may also be passed as plain keyword arguments
        self.where = {k: params[k] for k in LOCATION_FIELDS if params.get(k) is not None}
        if where:
            self.where.update({k: v for k, v in where.items() if v is not None})
        super().__init__(self.key)

    def message(self, lang: str | None = None) -> str:
        """Return the full message (location first) in ``lang``."""
        params = {k: v.render(lang) if isinstance(v, Phrase) else v for k, v in self.params.items()}
        text = t(self.key, lang, **params)
        loc = format_location(lang, **self.where)
        return f"{loc}: {text}" if loc else text

    def __str__(self) -> str:
        return self.message()


class DataError(K360Error, ValueError):
    """A file or table cannot be read or does not fit the data contract."""


class CRSError(DataError):
    """A coordinate reference system is missing or cannot be used."""


class GeometryError(DataError):
    """Geometries are missing, empty or cannot be repaired."""


class DuplicateKeyError(DataError):
    """Keys that must be unique occur more than once."""


class KeyMatchError(DataError):
    """Table keys cannot be matched to areas."""


class ReportError(DataError):
    """An import finished with errors; ``.report`` holds every finding."""

    def __init__(self, report, /):
        self.report = report
        first = report.errors[0] if report.errors else None
        super().__init__(
            "atlas.report.failed",
            n_errors=len(report.errors),
            first=first.message() if first else "",
        )

    def message(self, lang: str | None = None) -> str:  # noqa: D102
        first = self.report.errors[0].message(lang) if self.report.errors else ""
        return t(self.key, lang, n_errors=len(self.report.errors), first=first)
