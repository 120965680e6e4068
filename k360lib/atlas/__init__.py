"""The atlas data layer: social areas, indicators, facilities (no UI imports)."""

from __future__ import annotations

from k360lib.atlas.model import Atlas
from k360lib.atlas.report import Finding, ImportReport

__all__ = ["Atlas", "Finding", "ImportReport"]
