"""The baseline ladder as the app shows it: the model next to the classic methods, with error bars.

:func:`ladder_chart_data` turns a run's ``metrics["ranking"]`` and its ladder
(:func:`recsys_core.baselines.ladder_for`) into one long frame for a bar chart with ±1.96 standard
error whiskers; :func:`best_classic` picks the classic method the headline sentence names.
Plain pandas, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys_core.app.views._quality import Metrics

#: The rungs in the order the chart lists them (name in the ladder -> label on screen).
LADDER_METHODS: dict[str, str] = {
    "model": "this model",
    "most_popular": "most popular",
    "item_knn": "item-kNN",
    "ease": "EASE",
    "ials": "iALS",
}
#: The classic methods a model should match (most popular is the floor, not a rival).
CLASSIC_METHODS = ("item_knn", "ease", "ials")
#: Metric key -> plain measure name (the technical name goes in the chart's tooltip).
LADDER_MEASURES: dict[str, str] = {
    "hit_rate_at_k": "Finds the next product",
    "ndcg_at_k": "Ranking quality",
}
#: Half-width of a 95 % interval in standard errors.
Z_95 = 1.96

LADDER_COLUMNS = ["method", "name", "measure", "metric", "value", "se", "low", "high", "is_model", "order"]


def _number(value: object) -> float:
    """A metric as float; ``None``, text and other non-numbers become NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        return float("nan")
    return float(value)


def ladder_scores(ranking: Metrics | None, ladder: Mapping[str, Metrics] | None) -> dict[str, Metrics]:
    """The rungs that have scores: ``{name: metrics}`` in :data:`LADDER_METHODS` order.

    The model comes from ``ranking["model"]``; "most popular" from ``ranking["popularity"]`` (the
    list the headline sentence compares with) or else from the ladder; skipped rungs (EASE on a
    catalogue too large) and unknown names are left out.
    """
    ranking = ranking or {}
    ladder = ladder or {}
    found: dict[str, Metrics] = {}
    for name in LADDER_METHODS:
        if name == "model":
            scores = ranking.get("model")
        elif name == "most_popular":
            scores = ranking.get("popularity") or ladder.get(name)
        else:
            scores = ladder.get(name)
        if isinstance(scores, Mapping) and not scores.get("skipped"):
            found[name] = scores
    return found


def ladder_chart_data(
    ranking: Metrics | None, ladder: Mapping[str, Metrics] | None, *, z: float = Z_95
) -> pd.DataFrame:
    """One row per (method, measure) with the value and its error bar, for the ladder chart.

    Parameters
    ----------
    ranking
        ``run.metrics["ranking"]`` (``model`` and ``popularity`` with ``…_at_k`` and ``…_at_k_se``).
    ladder
        ``{name: {…_at_k, …_at_k_se, "label", …} or {"label", "skipped"}}`` of
        :func:`recsys_core.baselines.ladder_for`; ``None`` or ``{}`` when it is not fitted.
    z
        Standard errors on each side of a bar (1.96: a 95 % interval).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LADDER_COLUMNS`: ``method`` (label on screen), ``name`` (ladder key),
        ``measure`` (plain), ``metric`` (technical, for the tooltip), ``value``, ``se``,
        ``low``/``high`` (the bar's whiskers, clipped at 0; equal to ``value`` when the standard
        error is unknown), ``is_model`` and ``order`` (position in :data:`LADDER_METHODS`).
        Rows without a value are dropped.
    """
    k_value = _number((ranking or {}).get("k"))
    k = int(k_value) if np.isfinite(k_value) else 10
    order = list(LADDER_METHODS)
    rows = []
    for name, scores in ladder_scores(ranking, ladder).items():
        for key, measure in LADDER_MEASURES.items():
            value = _number(scores.get(key))
            if not np.isfinite(value):
                continue
            se = _number(scores.get(f"{key}_se"))
            spread = z * se if np.isfinite(se) else 0.0
            technical = "NDCG" if key == "ndcg_at_k" else "hit rate"
            rows.append(
                {
                    "method": LADDER_METHODS[name],
                    "name": name,
                    "measure": measure,
                    "metric": f"{technical}@{k}",
                    "value": value,
                    "se": se,
                    "low": max(value - spread, 0.0),
                    "high": value + spread,
                    "is_model": name == "model",
                    "order": order.index(name),
                }
            )
    return pd.DataFrame(rows, columns=LADDER_COLUMNS)


def best_classic(ladder: Mapping[str, Metrics] | None) -> tuple[str, float] | None:
    """``(label, hit rate)`` of the classic method (item-kNN, EASE, iALS) with the best hit rate.

    ``None`` when none of them was fitted (or all were skipped).
    """
    best: tuple[str, float] | None = None
    for name in CLASSIC_METHODS:
        scores = (ladder or {}).get(name)
        if not isinstance(scores, Mapping) or scores.get("skipped"):
            continue
        hit = _number(scores.get("hit_rate_at_k"))
        if np.isfinite(hit) and (best is None or hit > best[1]):
            best = (LADDER_METHODS[name], hit)
    return best


def skipped_sentences(ladder: Mapping[str, Metrics] | None) -> list[str]:
    """``"EASE was left out: <why>"`` for every rung that could not run on this data."""
    return [
        f"{LADDER_METHODS.get(name, name)} was left out: {scores['skipped']}"
        for name, scores in (ladder or {}).items()
        if isinstance(scores, Mapping) and scores.get("skipped")
    ]
