"""Errors of the Planspiel engine (messages in ``k360lib/messages/game.json``).

Every error a player, a facilitator or a scenario author can cause is a
:class:`~k360lib.errors.K360Error` subclass: it carries a message key,
parameters and a location, and renders in German (default) or English.

Examples
--------
>>> from k360lib.game.errors import ScenarioError, ScenarioIssue
>>> err = ScenarioError([ScenarioIssue("roles[2].budget", "game.scenario.ge", {"limit": 0})])
>>> err.message("en")
'roles[2].budget: must be >= 0'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from k360lib.errors import K360Error, format_location
from k360lib.i18n import t

__all__ = [
    "DuplicateCommandError",
    "GameError",
    "NotYourRoleError",
    "RuleViolation",
    "ScenarioError",
    "ScenarioIssue",
    "StaleVersionError",
    "StoreError",
    "UnknownCodeError",
    "UnknownGameError",
]


class GameError(K360Error):
    """Base class of all Planspiel errors."""

    default_key = "game.error"


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem in a scenario file.

    Attributes
    ----------
    path : str
        Where in the file, e.g. ``"roles[2].budget"`` (``""`` = the whole file).
    key : str
        Message key.
    params : dict
        Values filled into the message.
    line, column : int or None
        1-based position in the YAML text, when known.
    """

    path: str
    key: str
    params: dict = field(default_factory=dict)
    line: int | None = None
    column: int | None = None

    def message(self, lang: str | None = None, file: str | None = None) -> str:
        """Return ``<file, line, column>, <path>: <text>`` in ``lang``."""
        loc = format_location(lang, file=file)
        if self.line is not None:
            pos = t("game.loc.line", lang, line=self.line)
            if self.column is not None:
                pos += ", " + t("game.loc.column", lang, column=self.column)
            loc = f"{loc}, {pos}" if loc else pos
        text = t(self.key, lang, **self.params)
        head = ", ".join(p for p in (loc, self.path) if p)
        return f"{head}: {text}" if head else text


class ScenarioError(GameError, ValueError):
    """A scenario file is malformed or inconsistent; ``.issues`` lists every problem.

    ``str()`` shows the first problem (with the count of further ones); use
    :meth:`messages` for all of them.
    """

    default_key = "game.scenario.invalid"

    def __init__(self, issues: list[ScenarioIssue], /, *, file: str | None = None):
        self.issues = list(issues)
        self.file = None if file is None else str(file)
        first = self.issues[0] if self.issues else ScenarioIssue("", "game.scenario.invalid")
        params = {**first.params, "path": first.path, "n_issues": len(self.issues)}
        super().__init__(first.key, where={"file": self.file} if self.file else None, **params)

    @property
    def path(self) -> str:
        """Path of the first issue (e.g. ``"roles[2].budget"``)."""
        return self.issues[0].path if self.issues else ""

    def messages(self, lang: str | None = None) -> list[str]:
        """Return every issue as a message in ``lang``."""
        return [i.message(lang, self.file) for i in self.issues]

    def message(self, lang: str | None = None) -> str:  # noqa: D102
        msgs = self.messages(lang)
        if not msgs:
            return t("game.scenario.invalid", lang)
        if len(msgs) == 1:
            return msgs[0]
        return msgs[0] + " " + t("game.scenario.more", lang, n=len(msgs) - 1)


class RuleViolation(GameError, ValueError):
    """A command is not allowed in the current state; the message says why."""

    default_key = "game.rule.refused"


class NotYourRoleError(RuleViolation):
    """A session tried to act for a role that is not its own."""


class StaleVersionError(GameError):
    """The game changed since the version a command was decided on; re-read and retry.

    Attributes ``expected`` and ``head`` hold the two versions.
    """

    default_key = "game.store.stale"

    def __init__(self, expected: int, head: int):
        self.expected = int(expected)
        self.head = int(head)
        super().__init__("game.store.stale", expected=self.expected, head=self.head)


class DuplicateCommandError(GameError):
    """A command with this idempotency key was already applied (``.version`` says where)."""

    default_key = "game.store.duplicate"

    def __init__(self, command_id: str, version: int):
        self.command_id = command_id
        self.version = int(version)
        super().__init__("game.store.duplicate", command_id=command_id, version=self.version)


class StoreError(GameError):
    """The event store cannot be opened or written."""

    default_key = "game.store.error"


class UnknownGameError(GameError, KeyError):
    """No game with this id or code exists in the store."""

    default_key = "game.store.unknown_game"

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message()


class UnknownCodeError(GameError, KeyError):
    """A join code does not belong to the game."""

    default_key = "game.session.unknown_code"

    def __str__(self) -> str:
        return self.message()
