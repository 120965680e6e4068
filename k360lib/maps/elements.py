"""Small building blocks of k360 maps: the hatch pattern and script-safe JSON (no folium).

All data that reaches a page is escaped in Python before it is embedded:
JSON embedded in ``<script>`` has ``<``, ``>`` and the line separators
U+2028/U+2029 escaped (:func:`script_json`), so no data can close the script
or inject markup. The browser script (:mod:`k360lib.maps.client`) inserts
data as text.
"""

from __future__ import annotations

import html
import json

__all__ = ["HATCH_ID", "hatch_svg", "script_json"]

#: id of the SVG pattern that fills suppressed areas
HATCH_ID = "k360-hatch"


def script_json(obj) -> str:
    r"""Serialise ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    Examples
    --------
    >>> script_json({"t": "</script><b>"})
    '{"t":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def hatch_svg(background: str = "#d9d9d9", stroke: str = "#8c8c8c") -> str:
    """Return an invisible SVG holding the hatch pattern that fills suppressed areas."""
    bg = html.escape(background, quote=True)
    st = html.escape(stroke, quote=True)
    return (
        '<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false">'
        f'<defs><pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{bg}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{st}" stroke-width="3"/>'
        "</pattern></defs></svg>"
    )
