"""Altair chart of the what-if sweep: one measure against the multiplier, with the spread over seeds.

Fed by :func:`recsys_core.app.views.sweep_chart_data`. The other what-if charts (run diffs, the
popularity curve, the baseline ladder) are in :mod:`recsys_core.charts`: the HTML report draws them too.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from recsys_core.charts import BLUE, wrap


def sweep_measure_chart(
    points: pd.DataFrame, measure: str, x_title: str, domain: tuple[float, float]
) -> alt.LayerChart:
    """One measure of a sweep against the setting: the mean over seeds, bars of ± one standard
    error, on the y ``domain`` (:func:`recsys_core.app.views.sweep_axis`: never a zoom that turns
    noise into a cliff). The title wraps instead of being cut; what the measure means is in the
    points' tooltips (a subtitle would squeeze the plot)."""
    data = points[points["measure"] == measure]
    x = alt.X("x:Q", title=x_title, scale=alt.Scale(zero=False, padding=12), axis=alt.Axis(tickMinStep=0.5))
    y_scale = alt.Scale(domain=list(domain), nice=False, zero=False)
    tooltip = [
        alt.Tooltip("x:Q", title=x_title),
        alt.Tooltip("value:Q", title="mean over seeds", format=".4f"),
        alt.Tooltip("se:Q", title="standard error", format=".4f"),
        alt.Tooltip("seeds:Q", title="runs"),
        alt.Tooltip("help:N", title="what it is"),
    ]
    y_format = ".0%" if domain[1] - domain[0] > 0.1 else ".1%"
    base = alt.Chart(data).encode(x=x)
    line = base.mark_line(point=True, color=BLUE, strokeWidth=2.5).encode(
        y=alt.Y("value:Q", title=None, scale=y_scale, axis=alt.Axis(format=y_format, tickCount=4)),
        tooltip=tooltip,
    )
    spread = base.mark_errorbar(color=BLUE, ticks=True).encode(
        y=alt.Y("low:Q", title=None, scale=y_scale), y2="high:Q"
    )
    title = alt.Title(wrap(measure, 36), anchor="start", fontSize=13, limit=0)
    return (spread + line).properties(height=200, title=title)
