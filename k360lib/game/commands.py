"""Commands: what a player or the facilitator may ask the game to do.

A :class:`Command` is a request; the engine checks it against the current
state (:func:`k360lib.game.engine.decide`) and, if it is allowed, turns it
into one event. Build commands with the helpers below.

Player commands (act as the session's own role)
    :func:`propose`, :func:`cosign`, :func:`cofund`, :func:`amend`,
    :func:`withdraw`, :func:`vote`, :func:`stop_funding`, :func:`take_over`,
    :func:`note`
Facilitator commands
    :func:`advance`, :func:`rewind`, :func:`draw_card`, :func:`choose_card`,
    :func:`undo`, :func:`rotate_roles`, :func:`lock`

Examples
--------
>>> from k360lib.game import commands as C
>>> C.propose("familienzentrum", "SR15", shares={"jugendamt": 1.0}).type
'propose'
>>> C.vote({"P1": "yes"}).params
{'ballots': {'P1': 'yes'}}
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = [
    "COMMANDS",
    "FACILITATOR_COMMANDS",
    "PLAYER_COMMANDS",
    "Command",
    "advance",
    "amend",
    "choose_card",
    "cofund",
    "cosign",
    "draw_card",
    "lock",
    "note",
    "propose",
    "rewind",
    "rotate_roles",
    "stop_funding",
    "take_over",
    "undo",
    "vote",
    "withdraw",
]


@dataclass(frozen=True)
class Command:
    """A request to the game.

    Attributes
    ----------
    type : str
        One of :data:`COMMANDS`.
    params : dict
        The command's parameters.
    role : str, optional
        The role to act as. A player session fills in its own role and
        refuses any other; the facilitator sets it in hot-seat mode.
    command_id : str, optional
        Idempotency key: a retried command with the same key is applied once.
    expected_version : int, optional
        The version the command was decided on; when set, a stale write is
        refused instead of being re-checked against the newer state.
    """

    type: str
    params: dict = field(default_factory=dict)
    role: str | None = None
    command_id: str | None = None
    expected_version: int | None = None

    def with_(self, **changes) -> Command:
        """Return a copy with some attributes changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """Return the command as JSON-able data."""
        return {
            "type": self.type,
            "params": dict(self.params),
            "role": self.role,
            "command_id": self.command_id,
            "expected_version": self.expected_version,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Command:
        """Rebuild a command from :meth:`to_dict` output."""
        return cls(
            type=str(data["type"]),
            params=dict(data.get("params") or {}),
            role=data.get("role"),
            command_id=data.get("command_id"),
            expected_version=data.get("expected_version"),
        )


#: Commands of players (and of the facilitator acting for a role in hot-seat mode).
PLAYER_COMMANDS: tuple[str, ...] = (
    "propose",
    "cosign",
    "cofund",
    "amend",
    "withdraw",
    "vote",
    "stop_funding",
    "take_over",
    "note",
)
#: Commands only the facilitator may send.
FACILITATOR_COMMANDS: tuple[str, ...] = (
    "advance",
    "rewind",
    "draw_card",
    "choose_card",
    "undo",
    "rotate_roles",
    "lock",
)
COMMANDS: tuple[str, ...] = PLAYER_COMMANDS + FACILITATOR_COMMANDS


def propose(
    measure: str,
    area: str,
    shares: dict[str, float] | None = None,
    partners: list[str] | tuple[str, ...] = (),
    note: str = "",
    **kw,
) -> Command:
    """Propose ``measure`` in ``area`` with a financing plan ``{funder: share}`` (sum 1).

    Without ``shares`` the proposing role pays everything. ``partners`` are
    the roles invited to co-sign. The proposing role becomes the lead.
    """
    params = {"measure": measure, "area": area, "partners": list(partners), "note": note}
    if shares is not None:
        params["shares"] = dict(shares)
    return Command("propose", params, **kw)


def cosign(proposal: str, **kw) -> Command:
    """Co-sign a proposal: join it as a partner (counts for cooperation)."""
    return Command("cosign", {"proposal": proposal}, **kw)


def cofund(proposal: str, share: float | None = None, **kw) -> Command:
    """Pledge a share (0 … 1) of a proposal's cost (default: the share the lead asked for)."""
    params: dict = {"proposal": proposal}
    if share is not None:
        params["share"] = share
    return Command("cofund", params, **kw)


def amend(
    proposal: str,
    area: str | None = None,
    shares: dict[str, float] | None = None,
    partners: list[str] | None = None,
    note: str | None = None,
    **kw,
) -> Command:
    """Change an open proposal (lead only): area, financing plan, invited partners or note.

    A new area clears co-signatures and other roles' pledges; a changed share
    clears that role's pledge.
    """
    changes: dict = {}
    if area is not None:
        changes["area"] = area
    if shares is not None:
        changes["shares"] = dict(shares)
    if partners is not None:
        changes["partners"] = list(partners)
    if note is not None:
        changes["note"] = note
    return Command("amend", {"proposal": proposal, "changes": changes}, **kw)


def withdraw(proposal: str, **kw) -> Command:
    """Withdraw an open proposal (lead only); pledges are released."""
    return Command("withdraw", {"proposal": proposal}, **kw)


def vote(ballots: dict[str, str], **kw) -> Command:
    """Cast votes ``{proposal: "yes" | "no" | "abstain"}`` (roles with votes, phase Beschluss)."""
    return Command("vote", {"ballots": dict(ballots)}, **kw)


def stop_funding(measure: str, **kw) -> Command:
    """Stop funding a running measure the role co-funds (the measure stops; providers lose trust)."""
    return Command("stop_funding", {"measure": measure}, **kw)


def take_over(measure: str, **kw) -> Command:
    """Take over the share of a running measure whose funding programme has ended."""
    return Command("take_over", {"measure": measure}, **kw)


def note(text: str, prompt: int | None = None, **kw) -> Command:
    """Add a note of the role (e.g. an answer to a reflection prompt)."""
    return Command("note", {"text": text, "prompt": prompt}, **kw)


def advance(**kw) -> Command:
    """Go to the next phase (from the last phase: the next round, after the last round: end)."""
    return Command("advance", {}, **kw)


def rewind(**kw) -> Command:
    """Go back one phase within the round (undoes the decision when leaving *Wirkung*)."""
    return Command("rewind", {}, **kw)


def draw_card(**kw) -> Command:
    """Draw an event card at random (seeded; the draw is logged), phase Lage."""
    return Command("draw_card", {}, **kw)


def choose_card(card: str, **kw) -> Command:
    """Play a chosen event card, phase Lage."""
    return Command("choose_card", {"card": card}, **kw)


def undo(**kw) -> Command:
    """Undo the last event that is still in effect."""
    return Command("undo", {}, **kw)


def rotate_roles(shift: int = 1, **kw) -> Command:
    """Rotate roles between seats (phase Lage before any proposal, or Reflexion)."""
    return Command("rotate_roles", {"shift": shift}, **kw)


def lock(locked: bool = True, **kw) -> Command:
    """Lock (or unlock) player submissions."""
    return Command("lock", {"locked": bool(locked)}, **kw)
