"""Interfaces between actors and the actor network (actors linked by shared services).

Two actors share an *interface* on a service when both have a role in it.
The network has one node per actor with a role and one edge per pair of
actors sharing at least ``min_shared`` services; the edge weight is the
number of shared services.

The layout is a deterministic force-directed (Fruchterman–Reingold) layout:
same network and seed, same picture.

Examples
--------
>>> from k360lib.responsibility import load_catalog
>>> m = load_catalog().default_matrix()
>>> top = interfaces(m, "jugendamt")[0]
>>> top.partner, len(top.services) > 3
('freie_traeger', True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from k360lib.responsibility.matrix import ROLES

__all__ = [
    "Interface",
    "Network",
    "NetworkEdge",
    "NetworkNode",
    "actor_network",
    "interfaces",
    "network_layout",
]


@dataclass(frozen=True)
class Interface:
    """The services two actors share.

    Attributes
    ----------
    actor, partner : str
    services : tuple of (service, actor role, partner role)
    """

    actor: str
    partner: str
    services: tuple[tuple[str, str, str], ...]

    @property
    def n(self) -> int:
        """Number of shared services."""
        return len(self.services)


@dataclass(frozen=True)
class NetworkNode:
    """An actor in the network."""

    actor: str
    sector: str
    n_services: int


@dataclass(frozen=True)
class NetworkEdge:
    """Two actors and the services they share."""

    a: str
    b: str
    services: tuple[str, ...]

    @property
    def weight(self) -> int:
        """Number of shared services."""
        return len(self.services)


@dataclass
class Network:
    """Nodes (actors with a role) and edges (shared services)."""

    nodes: list[NetworkNode]
    edges: list[NetworkEdge]

    def neighbours(self, actor: str) -> list[str]:
        """Actors linked to ``actor``."""
        return [e.b if e.a == actor else e.a for e in self.edges if actor in (e.a, e.b)]

    def node(self, actor: str) -> NetworkNode | None:
        """Return the node of ``actor`` or ``None``."""
        for n in self.nodes:
            if n.actor == actor:
                return n
        return None


def _service_roles(matrix, area, roles, services) -> dict[str, dict[str, str]]:
    wanted = set(roles)
    keep = None if services is None else set(services)
    out: dict[str, dict[str, str]] = {}
    for (s, a), r in matrix.cells(area).items():
        if r in wanted and (keep is None or s in keep):
            out.setdefault(s, {})[a] = r
    return out


def interfaces(
    matrix,
    actor: str,
    area: str | None = None,
    roles: Iterable[str] = ROLES,
    services: Iterable[str] | None = None,
) -> list[Interface]:
    """Return ``actor``'s interfaces: per partner, the services both have a role in.

    Parameters
    ----------
    matrix : Matrix
    actor : str
    area : str, optional
    roles : iterable of str, default all roles
        Only roles of these codes count (for both actors).
    services : iterable of str, optional
        Only these services.

    Returns
    -------
    list of Interface
        Sorted by number of shared services (descending), then catalog order.

    Raises
    ------
    DataError
        If ``actor`` is not in the catalog.
    """
    catalog = matrix.catalog
    catalog.actor(actor)
    by_service = _service_roles(matrix, area, roles, services)
    shared: dict[str, list[tuple[str, str, str]]] = {}
    for sid in catalog.service_ids:
        cell = by_service.get(sid, {})
        if actor not in cell:
            continue
        for partner, role in cell.items():
            if partner != actor:
                shared.setdefault(partner, []).append((sid, cell[actor], role))
    out = [Interface(actor, p, tuple(v)) for p, v in shared.items()]
    return sorted(out, key=lambda i: (-i.n, catalog.actor_order(i.partner)))


def actor_network(
    matrix,
    area: str | None = None,
    roles: Iterable[str] = ROLES,
    min_shared: int = 1,
    services: Iterable[str] | None = None,
) -> Network:
    """Return the actor network of ``matrix``.

    Parameters
    ----------
    matrix : Matrix
    area : str, optional
    roles : iterable of str, default all roles
        Which roles make an actor part of a service.
    min_shared : int, default 1
        Edges need at least this many shared services.
    services : iterable of str, optional
        Only these services.

    Returns
    -------
    Network
        Nodes in catalog order; edges sorted by weight (descending).
    """
    catalog = matrix.catalog
    by_service = _service_roles(matrix, area, roles, services)
    counts: dict[str, int] = {}
    pairs: dict[tuple[str, str], list[str]] = {}
    for sid in catalog.service_ids:
        actors = sorted(by_service.get(sid, {}), key=catalog.actor_order)
        for a in actors:
            counts[a] = counts.get(a, 0) + 1
        for i, a in enumerate(actors):
            for b in actors[i + 1 :]:
                pairs.setdefault((a, b), []).append(sid)
    nodes = [
        NetworkNode(a, catalog.actor(a).sector, counts[a]) for a in catalog.actor_ids if a in counts
    ]
    edges = [
        NetworkEdge(a, b, tuple(svc))
        for (a, b), svc in pairs.items()
        if len(svc) >= max(1, min_shared)
    ]
    edges.sort(key=lambda e: (-e.weight, catalog.actor_order(e.a), catalog.actor_order(e.b)))
    return Network(nodes, edges)


def network_layout(
    network: Network,
    method: str = "circle",
    seed: int = 0,
    iterations: int = 300,
    sector_order: tuple[str, ...] | None = None,
) -> dict[str, tuple[float, float]]:
    """Place the nodes of ``network``; same input, same picture.

    Parameters
    ----------
    network : Network
    method : {"circle", "force"}, default "circle"
        ``circle``: nodes on a circle, grouped by sector (readable even when
        almost every actor shares a service with every other).
        ``force``: a force-directed (Fruchterman–Reingold) layout started from
        the circle with seeded jitter; unconnected actors are put in a row at
        the bottom.
    seed : int, default 0
        Seed of the :class:`numpy.random.Generator` (force layout only).
    iterations : int, default 300
        Iterations of the force layout.
    sector_order : tuple of str, optional
        Order of the sectors around the circle; default :data:`~k360lib.responsibility.catalog.SECTORS`.

    Returns
    -------
    dict
        ``{actor: (x, y)}`` with coordinates in ``[0, 1]``.

    Raises
    ------
    ValueError
        If ``method`` is unknown.
    """
    import numpy as np

    from k360lib.responsibility.catalog import SECTORS

    if method not in {"circle", "force"}:
        raise ValueError(f"unknown layout method {method!r}; expected 'circle' or 'force'")
    order = list(sector_order or SECTORS)
    nodes = sorted(
        enumerate(network.nodes),
        key=lambda p: (order.index(p[1].sector) if p[1].sector in order else len(order), p[0]),
    )
    ids = [n.actor for _, n in nodes]
    n = len(ids)
    if n == 0:
        return {}
    if n == 1:
        return {ids[0]: (0.5, 0.5)}
    angles = -math.pi / 2 + np.linspace(0, 2 * math.pi, n, endpoint=False)
    circle = np.column_stack([np.cos(angles), np.sin(angles)]) * 0.5 + 0.5
    if method == "circle":
        return {
            a: (round(float(circle[i, 0]), 4), round(float(circle[i, 1]), 4))
            for i, a in enumerate(ids)
        }

    linked = {a for e in network.edges for a in (e.a, e.b)}
    core = [a for a in ids if a in linked]
    loose = [a for a in ids if a not in linked]
    out: dict[str, tuple[float, float]] = {}
    if core:
        rng = np.random.default_rng(seed)
        m = len(core)
        ang = -math.pi / 2 + np.linspace(0, 2 * math.pi, m, endpoint=False)
        pos = np.column_stack([np.cos(ang), np.sin(ang)]) * 0.4 + 0.5
        pos += rng.normal(0, 0.01, size=pos.shape)
        index = {a: i for i, a in enumerate(core)}
        weights = np.zeros((m, m))
        for e in network.edges:
            i, j = index[e.a], index[e.b]
            weights[i, j] = weights[j, i] = e.weight
        weights = weights / weights.max()
        k = 0.9 * math.sqrt(1.0 / m)
        temperature = 0.1
        for _ in range(iterations):
            delta = pos[:, None, :] - pos[None, :, :]
            dist = np.maximum(np.sqrt((delta**2).sum(axis=-1)), 1e-3)
            np.fill_diagonal(dist, 1.0)
            force = (k * k) / dist - np.where(weights > 0, dist * dist / k * weights, 0.0)
            force = force / dist
            np.fill_diagonal(force, 0.0)
            disp = (delta * force[:, :, None]).sum(axis=1)
            disp += (0.5 - pos) * 2.0  # gravity keeps the picture compact
            length = np.maximum(np.sqrt((disp**2).sum(axis=1)), 1e-9)
            pos += disp / length[:, None] * np.minimum(length, temperature)[:, None]
            temperature = max(temperature * 0.985, 0.002)
        lo, hi = pos.min(axis=0), pos.max(axis=0)
        span = np.where(hi - lo > 1e-9, hi - lo, 1.0)
        top = 0.85 if loose else 1.0
        pos = (pos - lo) / span
        pos[:, 1] *= top
        out.update(
            {a: (round(float(pos[i, 0]), 4), round(float(pos[i, 1]), 4)) for a, i in index.items()}
        )
    for i, a in enumerate(loose):
        x = (i + 1) / (len(loose) + 1) if core else (i + 0.5) / len(loose)
        out[a] = (round(x, 4), 1.0 if core else 0.5)
    return out
