"""Reports and exports of the atlas: area profiles, hotspots, tables, the printable profile.

No widgets and no folium here: functions return data frames, bytes or HTML
text. Every value passes the small-number rule (see
:func:`k360lib.report.profile.public_indicators`).
"""

from __future__ import annotations

__all__: list[str] = []
