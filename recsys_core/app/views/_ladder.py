"""The baseline ladder in words: which classic method the headline sentence names, and which
rungs could not run. The ladder's chart and its frame are in :mod:`recsys_core.charts`.
Plain pandas, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping

from recsys_core.app.views._quality import Metrics
from recsys_core.charts import LADDER_MEASURES, LADDER_METHODS, ladder_chart_data

#: The classic methods a model should match (most popular is the floor, not a rival).
CLASSIC_METHODS = ("item_knn", "ease", "ials")


def best_classic(ladder: Mapping[str, Metrics] | None) -> tuple[str, float] | None:
    """``(label, hit rate)`` of the classic method (item-kNN, EASE, iALS) with the best hit rate.

    ``None`` when none of them was fitted (or all were skipped). Ties go to the first in
    :data:`CLASSIC_METHODS` order.
    """
    # The chart's frame already drops skipped rungs and values that are not numbers.
    frame = ladder_chart_data(None, ladder)
    hits = frame[frame["name"].isin(CLASSIC_METHODS) & (frame["measure"] == LADDER_MEASURES["hit_rate_at_k"])]
    if hits.empty:
        return None
    best = hits.loc[hits["value"].idxmax()]
    return str(best["method"]), float(best["value"])


def skipped_sentences(ladder: Mapping[str, Metrics] | None) -> list[str]:
    """``"EASE was left out: <why>"`` for every rung that could not run on this data."""
    return [
        f"{LADDER_METHODS.get(name, name)} was left out: {scores['skipped']}"
        for name, scores in (ladder or {}).items()
        if isinstance(scores, Mapping) and scores.get("skipped")
    ]
