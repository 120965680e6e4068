"""Import report: every finding of an import, with level, message and location."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from k360lib.errors import K360Error, ReportError, format_location
from k360lib.i18n import t

__all__ = ["Finding", "ImportReport"]

Level = Literal["error", "warning", "info"]
_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One thing the importer noticed.

    Attributes
    ----------
    level : {"error", "warning", "info"}
        ``error`` stops the import; ``warning`` needs a look; ``info`` is
        what was done (repairs, reprojections, matches).
    key : str
        Message key in the catalog.
    params : dict
        Values for the message.
    where : dict
        Location (file, sheet, cell, row, column, key, area, layer).
    """

    level: Level
    key: str
    params: dict = field(default_factory=dict)
    where: dict = field(default_factory=dict)

    def message(self, lang: str | None = None) -> str:
        """Return the message with its location, in ``lang``."""
        text = t(self.key, lang, **self.params)
        loc = format_location(lang, **self.where)
        return f"{loc}: {text}" if loc else text

    @classmethod
    def from_error(cls, err: K360Error) -> Finding:
        """Turn a raised :class:`K360Error` into an error finding."""
        return cls("error", err.key, dict(err.params), dict(err.where))


@dataclass
class ImportReport:
    """Collects findings of an import; ``ok`` while there is no error.

    Examples
    --------
    >>> r = ImportReport()
    >>> r.info("atlas.tables.read", where={"file": "t.csv"}, n_rows=3, n_cols=2, decimal=",")
    >>> r.ok
    True
    """

    findings: list[Finding] = field(default_factory=list)
    #: structured results for programs (e.g. key matches, proposed mapping)
    data: dict = field(default_factory=dict)

    def add(self, level: Level, key: str, /, *, where: dict | None = None, **params) -> None:
        """Add a finding; location fields may be given in ``where``."""
        self.findings.append(
            Finding(level, key, params, {k: v for k, v in (where or {}).items() if v is not None})
        )

    def error(self, key: str, /, *, where: dict | None = None, **params) -> None:
        """Add an error finding."""
        self.add("error", key, where=where, **params)

    def warning(self, key: str, /, *, where: dict | None = None, **params) -> None:
        """Add a warning finding."""
        self.add("warning", key, where=where, **params)

    def info(self, key: str, /, *, where: dict | None = None, **params) -> None:
        """Add an info finding."""
        self.add("info", key, where=where, **params)

    def extend(self, other: ImportReport) -> None:
        """Append the findings and data of another report."""
        self.findings.extend(other.findings)
        self.data.update(other.data)

    @property
    def errors(self) -> list[Finding]:
        """Findings of level ``error``."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings of level ``warning``."""
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        """``True`` when no finding is an error."""
        return not self.errors

    def raise_if_errors(self) -> None:
        """Raise :class:`ReportError` when the report holds errors."""
        if self.errors:
            raise ReportError(self)

    def messages(
        self, lang: str | None = None, levels: tuple[str, ...] = ("error", "warning", "info")
    ) -> list[str]:
        """Return ``"Level: message"`` lines, errors first."""
        items = sorted(
            (f for f in self.findings if f.level in levels), key=lambda f: _ORDER[f.level]
        )
        return [f"{t('level.' + f.level, lang)}: {f.message(lang)}" for f in items]

    def render(self, lang: str | None = None) -> str:
        """Return the whole report as plain text."""
        return "\n".join(self.messages(lang))

    def to_frame(self, lang: str | None = None):
        """Return the findings as a DataFrame (level, message, file, row, column, key, …)."""
        import pandas as pd

        rows = [
            {"level": f.level, "code": f.key, "message": f.message(lang), **f.where}
            for f in self.findings
        ]
        return pd.DataFrame(rows)
