"""Zuständigkeiten: services × actors × life phases × Sozialräume (no UI imports).

Who is responsible for which family service, in which life phase and area —
and how differently each actor sees it.

- :mod:`~k360lib.responsibility.catalog` — services, actors and laws from ``data/catalog/``;
- :mod:`~k360lib.responsibility.matrix` — RACI-style roles per (service, actor[, area]);
- :mod:`~k360lib.responsibility.checks` — accountability, gaps, overlaps, phase gaps;
- :mod:`~k360lib.responsibility.chain` — the prevention chain and hand-offs between phases;
- :mod:`~k360lib.responsibility.network` — interfaces per actor, actor network, layout;
- :mod:`~k360lib.responsibility.perspectives` — agreement between several people's matrices;
- :mod:`~k360lib.responsibility.coverage` — which services have a facility in/near each area;
- :mod:`~k360lib.responsibility.exchange` — JSON, CSV and the XLSX template;
- :mod:`~k360lib.responsibility.svg` — pictures of the chain and the network.

Only the standard library is imported here; numpy, shapely, geopandas and
openpyxl are imported by the functions that need them.

Examples
--------
>>> from k360lib.responsibility import load_catalog, check
>>> cat = load_catalog()
>>> len(cat.services) >= 60 and len(cat.actors) >= 15
True
>>> report = check(cat.default_matrix())
>>> report.counts()["errors"] > 0  # the default has deliberate gaps
True
"""

from __future__ import annotations

from k360lib.responsibility.catalog import (
    LEVELS,
    PHASES,
    SECTORS,
    TARGET_GROUPS,
    Actor,
    Catalog,
    Law,
    Service,
    load_catalog,
    phase_label,
    sector_label,
    target_group_label,
)
from k360lib.responsibility.chain import Chain, Handoff, PhaseView, prevention_chain
from k360lib.responsibility.checks import CheckReport, Issue, check, check_areas, service_status
from k360lib.responsibility.coverage import Coverage, area_coverage
from k360lib.responsibility.exchange import (
    comparison_csv,
    from_csv,
    from_json,
    from_xlsx,
    read_matrix,
    to_csv,
    to_json,
    to_xlsx,
)
from k360lib.responsibility.matrix import ROLES, Matrix, normalize_role
from k360lib.responsibility.network import (
    Interface,
    Network,
    actor_network,
    interfaces,
    network_layout,
)
from k360lib.responsibility.perspectives import CellComparison, Comparison, compare
from k360lib.responsibility.svg import chain_svg, network_svg

__all__ = [
    "LEVELS",
    "PHASES",
    "ROLES",
    "SECTORS",
    "TARGET_GROUPS",
    "Actor",
    "Catalog",
    "CellComparison",
    "Chain",
    "CheckReport",
    "Comparison",
    "Coverage",
    "Handoff",
    "Interface",
    "Issue",
    "Law",
    "Matrix",
    "Network",
    "PhaseView",
    "Service",
    "actor_network",
    "area_coverage",
    "chain_svg",
    "check",
    "check_areas",
    "compare",
    "comparison_csv",
    "from_csv",
    "from_json",
    "from_xlsx",
    "interfaces",
    "load_catalog",
    "network_layout",
    "network_svg",
    "normalize_role",
    "phase_label",
    "prevention_chain",
    "read_matrix",
    "sector_label",
    "service_status",
    "target_group_label",
    "to_csv",
    "to_json",
    "to_xlsx",
]
