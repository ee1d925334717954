"""A multiplier sweep as a chart frame: each measure against the multiplier, seeds as spread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from recsys_core.app.views._text import percent
from recsys_core.metrics import NO_DIFFERENCE, compare_estimates

#: Measures drawn per sweep point: plain label -> how to read it from a run's metrics. The hit
#: rates on liked and on disliked held-out products come side by side: a multiplier that trades
#: one for the other shows here even when the overall hit rate stays put.
SWEEP_MEASURES: dict[str, tuple[str, ...]] = {
    "Finds the next product (hit rate)": ("ranking", "model", "hit_rate_at_k"),
    "Finds it when they liked it": ("ranking", "model", "hit_rate_liked_at_k"),
    "Finds it when they disliked it": ("ranking", "model", "hit_rate_disliked_at_k"),
    "Top-10 quality (NDCG@10)": ("ranking", "model", "ndcg_at_k"),
    "Ranks liked first (AUC)": ("roc_auc",),
    "Catalogue shown (coverage)": ("ranking", "model", "coverage"),
    "Precision": ("precision",),
    "Recall": ("recall",),
}
#: What each measure means, for the chart's subtitle.
SWEEP_HELP = {
    "Finds the next product (hit rate)": "Share of customers whose next product is in their top 10.",
    "Finds it when they liked it": "The same, for customers whose next product they rated "
    "at or above the “likes it” line.",
    "Finds it when they disliked it": "The same, for customers whose next product they rated "
    "below that line.",
    "Top-10 quality (NDCG@10)": "How high the product a customer picks next sits in the top 10.",
    "Ranks liked first (AUC)": "How often a liked product scores above a disliked one (50 % = coin flip).",
    "Catalogue shown (coverage)": "Share of all products in at least one customer's top 10.",
    "Precision": "Of the products the model says a customer will like, the share they liked "
    "(moves with the threshold).",
    "Recall": "Of the products customers liked, the share the model spotted (moves with the threshold).",
}


def _read(metrics: Mapping[str, Any], path: tuple[str, ...]) -> float:
    value: Any = metrics
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def sweep_chart_data(records: Iterable[Mapping[str, Any]], axis: str = "multiplier") -> pd.DataFrame:
    """Long frame ``x, measure, value, se, low, high, seeds, help``: one row per (setting, measure).

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
        ``value`` is the mean over seeds and ``se`` its standard error: over the seeds when
        there are two or more, else the run's own over its test customers where the measure has
        one (NaN otherwise); ``low``/``high`` are ``value ± se`` (``value`` without a standard
        error); ``seeds`` is how many runs the point has.
    """
    rows = [
        {
            "x": float(r[axis]),
            "measure": label,
            "v": _read(r.get("metrics") or {}, path),
            "own_se": _read(r.get("metrics") or {}, (*path[:-1], f"{path[-1]}_se")),
        }
        for r in records
        for label, path in SWEEP_MEASURES.items()
    ]
    columns = ["x", "measure", "value", "se", "low", "high", "seeds", "help"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows).dropna(subset=["v"])
    grouped = frame.groupby(["x", "measure"], sort=True)
    out = grouped.agg(value=("v", "mean"), spread=("v", "std"), seeds=("v", "count"), own=("own_se", "mean"))
    out = out.reset_index()
    out["se"] = np.where(out["seeds"] > 1, out["spread"] / np.sqrt(out["seeds"]), out["own"])
    known = out["se"].notna()
    out["low"] = np.where(known, out["value"] - out["se"], out["value"])
    out["high"] = np.where(known, out["value"] + out["se"], out["value"])
    out["help"] = out["measure"].map(SWEEP_HELP)
    order = {label: i for i, label in enumerate(SWEEP_MEASURES)}
    out = out.sort_values(["measure", "x"], key=lambda s: s.map(order) if s.name == "measure" else s)
    return out[columns].reset_index(drop=True)


#: The least span of a sweep chart's y axis, for measures that are shares (0–1): five points,
#: so a change of 0.001 between two seeds' means never fills the chart like a cliff.
MIN_SPAN = 0.05


def sweep_axis(points: pd.DataFrame, min_span: float = MIN_SPAN) -> tuple[float, float]:
    """The y domain of one measure's sweep chart: its lowest to highest bar, widened around the
    middle to at least ``min_span`` and kept within 0–1 (every sweep measure is a share)."""
    low = float(np.nanmin(points["low"])) if len(points) else 0.0
    high = float(np.nanmax(points["high"])) if len(points) else 1.0
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    if low < 0.0:
        low, high = 0.0, max(high - low, min_span)
    if high > 1.0:
        low, high = min(low - (high - 1.0), 1.0 - min_span), 1.0
    return max(low, 0.0), min(high, 1.0)


def sweep_sentence(points: pd.DataFrame, setting: str = "×") -> str | None:
    """What the sweep changed beyond the noise, from its first setting to its last, by the one
    rule (:func:`recsys_core.metrics.compare_estimates`: the 95 % intervals must separate):
    ``"From ×1 to ×2: Recall fell (86.7 % → 83.8 %); no measurable difference in the
    others."``; ``None`` with a single setting.

    ``points`` is :func:`sweep_chart_data`'s frame; ``setting`` prefixes the x values.
    """
    settings = sorted(points["x"].unique()) if len(points) else []
    if len(settings) < 2:
        return None
    first, last = settings[0], settings[-1]
    moved, still = [], []
    for measure in SWEEP_MEASURES:
        rows = points[points["measure"] == measure].set_index("x")
        if first not in rows.index or last not in rows.index:
            continue
        a, b = rows.loc[first], rows.loc[last]
        verdict = compare_estimates(a["value"], _se(a["se"]), b["value"], _se(b["se"]))
        if verdict == "same":
            still.append(measure)
        else:
            how = "rose" if verdict == "higher" else "fell"
            moved.append(f"{measure} {how} ({percent(a['value'], 1)} → {percent(b['value'], 1)})")
    head = f"From {setting}{first:g} to {setting}{last:g}: "
    if not moved:
        return head + f"{NO_DIFFERENCE} in any measure (the 95 % intervals overlap)."
    rest = f"; {NO_DIFFERENCE} in the others" if still else ""
    return head + "; ".join(moved) + rest + "."


def _se(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


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
