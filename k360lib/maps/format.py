"""Number formatting for maps: German ``1.234,5`` or English ``1,234.5``.

Builds on :func:`k360lib.atlas.classify.format_number` (which the legend
labels use too) so numbers look the same in legend and tooltip.
"""

from __future__ import annotations

import math

__all__ = ["decimals_for", "format_value", "number_format"]


def number_format(decimals: int) -> str:
    """Return the :meth:`str.format` pattern for ``decimals`` digits with thousands separators.

    Examples
    --------
    >>> number_format(1)
    '{:,.1f}'
    """
    return f"{{:,.{max(0, int(decimals))}f}}"


def decimals_for(values, kind: str | None = None) -> int:
    """Choose decimals that show the values' differences without false precision.

    Counts and capacities get none; values all below 1 in magnitude (ratios
    like 0.42) get two; everything else one.

    Parameters
    ----------
    values : iterable of float
        The values to be shown (NaN ignored).
    kind : str, optional
        Catalog ``kind`` of the indicator.

    Returns
    -------
    int
        Number of decimals.

    Examples
    --------
    >>> decimals_for([1.0, 2.5], "rate"), decimals_for([0.1, 0.42]), decimals_for([3.0], "count")
    (1, 2, 0)
    """
    if kind in ("count", "capacity"):
        return 0
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v))]
    if finite and max(finite) < 1:
        return 2
    return 1


def format_value(
    value: float | None, unit: str | None, lang: str | None = None, decimals: int = 1
) -> str:
    r"""Format ``value`` with its unit, e.g. ``12,3 %`` (non-breaking space before the unit).

    ``None``/NaN give an empty string.

    Examples
    --------
    >>> format_value(1234.5, "Plätze", "de", 1)
    '1.234,5\xa0Plätze'
    >>> format_value(float("nan"), "%", "en")
    ''
    """
    if value is None or not math.isfinite(float(value)):
        return ""
    from k360lib.atlas.classify import format_number  # numpy: not before it is needed

    number = format_number(float(value), number_format(decimals), lang)
    if (
        number.startswith("-")
        and float(number.lstrip("-").replace(",", "").replace(".", "") or 0) == 0
    ):
        number = number[1:]  # no "-0,0"
    unit = (unit or "").strip()
    return f"{number}\u00a0{unit}" if unit else number
