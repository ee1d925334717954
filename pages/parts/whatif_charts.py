"""Altair chart of the what-if sweep: one measure against the multiplier, with the spread over seeds.

Fed by :func:`recsys_core.app.views.sweep_chart_data`. The other what-if charts (run diffs, the
popularity curve, the baseline ladder) are in :mod:`recsys_core.charts`: the HTML report draws them too.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from recsys_core.charts import BLUE


def sweep_measure_chart(points: pd.DataFrame, measure: str, x_title: str, help_text: str = "") -> alt.Chart:
    """One measure of a sweep against the multiplier: mean over seeds, bars from lowest to highest."""
    data = points[points["measure"] == measure]
    x = alt.X("x:Q", title=x_title, axis=alt.Axis(tickMinStep=0.5))
    tooltip = [
        alt.Tooltip("x:Q", title=x_title),
        alt.Tooltip("value:Q", title="mean over seeds", format=".4f"),
        alt.Tooltip("low:Q", title="lowest seed", format=".4f"),
        alt.Tooltip("high:Q", title="highest seed", format=".4f"),
        alt.Tooltip("seeds:Q", title="runs"),
    ]
    base = alt.Chart(data).encode(x=x)
    line = base.mark_line(point=True, color=BLUE, strokeWidth=2.5).encode(
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)), tooltip=tooltip
    )
    spread = base.mark_errorbar(color=BLUE, ticks=True).encode(y=alt.Y("low:Q", title=None), y2="high:Q")
    # "Top-10 quality (NDCG@10)" on two lines: a narrow chart would cut it to "Top-10 quality (N…".
    name, _, detail = measure.partition(" (")
    lines = [name, f"({detail}"] if detail else [name]
    title = alt.Title(lines, subtitle=help_text, fontSize=13)
    return (spread + line).properties(height=200, title=title)
