"""Helpers shared by the ``bench/<name>.py`` modules (``run.py`` skips ``_`` files).

A bench module imports them with ``from _common import fig, summary, write_notebook``
after putting its own folder on ``sys.path``.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def fig(subject, metric, value, unit, n, lo=None, hi=None) -> dict:
    """One printed figure (a row of ``bench/run.py``'s table)."""
    return {
        "subject": subject,
        "metric": metric,
        "value": value,
        "unit": unit,
        "n": n,
        "min": lo,
        "max": hi,
    }


def summary(subject, metric, values, unit, scale=1.0) -> dict:
    """Median, min and max of ``values`` (times ``scale``) as one figure."""
    scaled = [v * scale for v in values]
    return fig(
        subject, metric, statistics.median(scaled), unit, len(scaled), min(scaled), max(scaled)
    )


def write_notebook(path: Path, source: str) -> None:
    """Write a one-cell notebook (what the page-load benchmarks serve with Voilà)."""
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "c1",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb), encoding="utf-8")
