"""A multiplier sweep as a chart frame: each measure against the multiplier, seeds as spread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Measures drawn per sweep point: plain label -> how to read it from a run's metrics.
SWEEP_MEASURES: dict[str, tuple[str, ...]] = {
    "Precision": ("precision",),
    "Recall": ("recall",),
    "Ranks liked first (AUC)": ("roc_auc",),
    "Top-10 quality (NDCG@10)": ("ranking", "model", "ndcg_at_k"),
    "Catalogue shown (coverage)": ("ranking", "model", "coverage"),
}
#: What each measure means, for the chart's tooltips.
SWEEP_HELP = {
    "Precision": "Of the products the model says a customer will like, the share they liked (moves with the "
    "threshold).",
    "Recall": "Of the products customers liked, the share the model spotted (moves with the threshold).",
    "Ranks liked first (AUC)": "How often a liked product scores above a disliked one "
    "(ROC AUC; 50 % = coin flip).",
    "Top-10 quality (NDCG@10)": "How high the product a customer picks next sits in the top 10 (NDCG@10).",
    "Catalogue shown (coverage)": "Share of all products that appear in at least one customer's top 10.",
}


def _read(metrics: Mapping[str, Any], path: tuple[str, ...]) -> float:
    value: Any = metrics
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def sweep_chart_data(records: Iterable[Mapping[str, Any]], axis: str = "multiplier") -> pd.DataFrame:
    """Long frame ``x, measure, value, low, high, seeds, help``: one row per (setting, measure).

    Parameters
    ----------
    records
        Sweep records (:func:`recsys_core.sweep.run_sweep`): ``seed``, ``metrics`` and the
        ``axis`` value (``multiplier`` or ``scale``).
    axis
        The record key on the x axis.

    Returns
    -------
    pandas.DataFrame
        ``value`` is the mean over seeds, ``low``/``high`` the lowest and highest seed (equal to
        ``value`` with one seed), ``seeds`` how many runs the point has.
    """
    rows = [
        {
            "x": float(r[axis]),
            "seed": r.get("seed"),
            "measure": label,
            "v": _read(r.get("metrics") or {}, path),
        }
        for r in records
        for label, path in SWEEP_MEASURES.items()
    ]
    columns = ["x", "measure", "value", "low", "high", "seeds", "help"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows).dropna(subset=["v"])
    grouped = frame.groupby(["x", "measure"], sort=True)["v"]
    out = grouped.agg(value="mean", low="min", high="max", seeds="count").reset_index()
    out["help"] = out["measure"].map(SWEEP_HELP)
    order = {label: i for i, label in enumerate(SWEEP_MEASURES)}
    out = out.sort_values(["measure", "x"], key=lambda s: s.map(order) if s.name == "measure" else s)
    return out[columns].reset_index(drop=True)


def parse_numbers(text: str) -> list[float]:
    """``"1, 2,4" -> [1.0, 2.0, 4.0]`` (duplicates dropped, order kept); ``[]`` when unreadable."""
    values: list[float] = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            return []
        if not np.isfinite(value):
            return []
        if value not in values:
            values.append(value)
    return values
