"""Events: the append-only log of a Planspiel (what happened, who did it, when).

Every command that succeeds appends exactly one :class:`Event`. The state of a
game is ``fold(events)`` (see :mod:`k360lib.game.state`), so the log alone is
enough to replay a workshop, undo a step, audit decisions and export results.

Event types and their payload
-----------------------------
==================  =============================================================
``game_created``    scenario (full), world (atlas numbers), seed, roles, seats
``card_drawn``      card, how (``random``/``chosen``), resolved areas per effect
``phase_advanced``  from, to, round (``to`` = ``ende`` when the game ends)
``phase_rewound``   from, to
``proposal_made``   proposal, measure, area, shares, partners, note
``proposal_cosigned``  proposal
``proposal_cofunded``  proposal, share
``proposal_amended``   proposal, changes (area / shares / partners / note)
``proposal_withdrawn`` proposal
``votes_cast``      ballots ``{proposal: yes | no | abstain}``
``funding_stopped`` measure
``measure_taken_over`` measure, share
``note_added``      text, prompt
``submissions_locked`` locked
``roles_rotated``   shift, seat_roles
``event_undone``    target (version), target_type
==================  =============================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = ["ENGINE_VERSION", "EVENT_TYPES", "Event", "dumps", "loads", "utc_now"]

#: Version of the rules engine written into every event (replays can check it).
ENGINE_VERSION = "k360-game/1"

EVENT_TYPES: tuple[str, ...] = (
    "game_created",
    "card_drawn",
    "phase_advanced",
    "phase_rewound",
    "proposal_made",
    "proposal_cosigned",
    "proposal_cofunded",
    "proposal_amended",
    "proposal_withdrawn",
    "votes_cast",
    "funding_stopped",
    "measure_taken_over",
    "note_added",
    "submissions_locked",
    "roles_rotated",
    "event_undone",
)


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with milliseconds (``...Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(payload: dict) -> str:
    """Canonical JSON of a payload (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> dict:
    """Parse a payload written by :func:`dumps`."""
    return json.loads(text)


@dataclass(frozen=True)
class Event:
    """One entry of the log.

    Attributes
    ----------
    version : int
        Position in the game's log (1 = ``game_created``); the game's version
        after this event.
    type : str
        One of :data:`EVENT_TYPES`.
    payload : dict
        What happened (JSON-able).
    actor : str
        Who sent the command: ``facilitator``, ``seat:<id>`` or ``system``.
    role : str or None
        The role acted as (``None`` for facilitator commands).
    ts : str
        UTC timestamp (ISO 8601); not used by the rules.
    engine : str
        :data:`ENGINE_VERSION` of the engine that accepted the command.
    command_id : str or None
        Idempotency key of the command.
    game_id : str
        The game.
    """

    version: int
    type: str
    payload: dict = field(default_factory=dict)
    actor: str = "system"
    role: str | None = None
    ts: str = ""
    engine: str = ENGINE_VERSION
    command_id: str | None = None
    game_id: str = ""

    def to_dict(self) -> dict:
        """Return the event as a JSON-able dict (the payload is shared, not copied)."""
        return {
            "version": self.version,
            "type": self.type,
            "payload": self.payload,
            "actor": self.actor,
            "role": self.role,
            "ts": self.ts,
            "engine": self.engine,
            "command_id": self.command_id,
            "game_id": self.game_id,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Event:
        """Rebuild an event from :meth:`to_dict` output."""
        return cls(
            version=int(data["version"]),
            type=str(data["type"]),
            payload=dict(data.get("payload") or {}),
            actor=str(data.get("actor", "system")),
            role=data.get("role"),
            ts=str(data.get("ts", "")),
            engine=str(data.get("engine", ENGINE_VERSION)),
            command_id=data.get("command_id"),
            game_id=str(data.get("game_id", "")),
        )
