"""The baseline ladder: this model next to most popular and the classic methods, each bar with
its 95 % interval, as a frame (:func:`ladder_chart_data`) and the chart that draws it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from recsys_core.charts._style import BLUE, GREY

#: The rungs in the order the chart lists them (name in the ladder -> label on screen).
LADDER_METHODS: dict[str, str] = {
    "model": "this model",
    "most_popular": "most popular",
    "item_knn": "item-kNN",
    "ease": "EASE",
    "ials": "iALS",
}
#: Metric key -> plain measure name (the technical name goes in the chart's tooltip).
LADDER_MEASURES: dict[str, str] = {
    "hit_rate_at_k": "Finds the next product",
    "ndcg_at_k": "Ranking quality",
}
#: Half-width of a 95 % interval in standard errors.
Z_95 = 1.96

LADDER_COLUMNS = ["method", "name", "measure", "metric", "value", "se", "low", "high", "is_model", "order"]

#: A rung's scores as evaluation and the ladder write them (numbers, ``None``, a ``"skipped"`` reason).
Scores = Mapping[str, Any]


def _number(value: object) -> float:
    """A metric as float; ``None``, text and other non-numbers become NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        return float("nan")
    return float(value)


def ladder_scores(ranking: Scores | None, ladder: Mapping[str, Scores] | None) -> dict[str, Scores]:
    """The rungs that have scores: ``{name: metrics}`` in :data:`LADDER_METHODS` order.

    The model comes from ``ranking["model"]``; "most popular" from ``ranking["popularity"]`` (the
    list the headline sentence compares with) or else from the ladder; skipped rungs (EASE on a
    catalogue too large) and unknown names are left out.
    """
    ranking = ranking or {}
    ladder = ladder or {}
    found: dict[str, Scores] = {}
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
    ranking: Scores | None, ladder: Mapping[str, Scores] | None, *, z: float = Z_95
) -> pd.DataFrame:
    """One row per (method, measure) with the value and its error bar, for :func:`ladder_chart`.

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


def ladder_chart(frame: pd.DataFrame) -> alt.FacetChart:
    """Bars of :func:`ladder_chart_data` (one panel per measure) with ±1.96 SE whiskers."""
    methods = frame.sort_values("order")["method"].drop_duplicates().tolist()
    tooltip = [
        alt.Tooltip("method:N", title="Method"),
        alt.Tooltip("metric:N", title="Measure"),
        alt.Tooltip("value:Q", title="Value", format=".4f"),
        alt.Tooltip("low:Q", title="95 % interval from", format=".4f"),
        alt.Tooltip("high:Q", title="to", format=".4f"),
    ]
    y = alt.Y("method:N", title=None, sort=methods, axis=alt.Axis(labelLimit=200))
    bars = (
        alt.Chart()
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=y,
            x=alt.X("value:Q", title=None),
            color=alt.Color(
                "is_model:N", scale=alt.Scale(domain=[True, False], range=[BLUE, GREY]), legend=None
            ),
            tooltip=tooltip,
        )
    )
    whiskers = alt.Chart().mark_rule(color="#111827", strokeWidth=1.5).encode(y=y, x="low:Q", x2="high:Q")
    return (
        alt.layer(bars, whiskers, data=frame)
        .properties(height=max(120, 34 * len(methods)), width=300)
        .facet(column=alt.Column("measure:N", title=None, sort=list(LADDER_MEASURES.values())))
        .resolve_scale(x="independent")
    )
