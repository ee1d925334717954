"""Altair charts of the what-if tools: sweeps, the baseline ladder, run diffs, popularity curve.

One function per chart, fed by the frames of :mod:`recsys_core.app.views`; intervals are drawn as
error bars. Each chart is small and unfaceted, so Streamlit can stretch it to its column.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from pages._charts import BLUE, GREEN, GREY, ORANGE

RED = "#dc2626"


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
    return (spread + line).properties(height=200, title=alt.Title(measure, subtitle=help_text, fontSize=13))


def _change_chart(data: pd.DataFrame, y: str, y_title: str | None, extra: list[alt.Tooltip]) -> alt.Chart:
    """Relative change of B against A per row, with its 95 % interval and a line at no change."""
    order = data[y].tolist()
    verdict = [
        "better" if lo > 0 else "worse" if hi < 0 else "within the noise"
        for lo, hi in zip(data["low"], data["high"], strict=True)
    ]
    base = alt.Chart(data.assign(verdict=verdict)).encode(
        y=alt.Y(f"{y}:N", title=y_title, sort=order, axis=alt.Axis(labelLimit=260, labelFontSize=12))
    )
    tooltip = [
        f"{y}:N",
        alt.Tooltip("change:Q", title="change", format="+.1%"),
        alt.Tooltip("low:Q", title="95 % low", format="+.1%"),
        alt.Tooltip("high:Q", title="95 % high", format="+.1%"),
        "verdict:N",
        *extra,
    ]
    colour = alt.Color(
        "verdict:N",
        scale=alt.Scale(domain=["better", "worse", "within the noise"], range=[GREEN, RED, GREY]),
        legend=None,
    )
    errors = base.mark_errorbar(ticks=True, thickness=2).encode(
        x=alt.X("low:Q", title="B against A", axis=alt.Axis(format="+%")), x2="high:Q", color=colour
    )
    points = base.mark_point(filled=True, size=90).encode(x="change:Q", color=colour, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#6b7280", strokeDash=[4, 3]).encode(x="x:Q")
    return (errors + points + zero).properties(height=max(140, 34 * len(order)))


def diff_chart(data: pd.DataFrame) -> alt.Chart:
    """``views.diff_chart_data``: each measure's change with its paired-bootstrap interval."""
    return _change_chart(data, "measure", None, [])


def segment_chart(data: pd.DataFrame) -> alt.Chart:
    """``views.segment_data``: the hit-rate change per customer segment."""
    return _change_chart(data, "segment", None, [alt.Tooltip("customers:Q", format=",")])


def exposure_chart(data: pd.DataFrame) -> alt.Chart:
    """``views.exposure_data``: times shown in all top-10 lists, gained (green) or lost (orange)."""
    order = data.sort_values("change", ascending=False)["product"].tolist()
    return (
        alt.Chart(data)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=alt.Y("product:N", title=None, sort=order, axis=alt.Axis(labelLimit=300)),
            x=alt.X("change:Q", title="Change in times shown (B − A)"),
            color=alt.Color(
                "direction:N",
                title=None,
                scale=alt.Scale(domain=["gained", "lost"], range=[GREEN, ORANGE]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                "product:N",
                alt.Tooltip("a:Q", title="times in A"),
                alt.Tooltip("b:Q", title="times in B"),
                "change:Q",
            ],
        )
        .properties(height=max(160, 18 * len(order)))
    )


def popularity_chart(data: pd.DataFrame) -> alt.Chart:
    """``views.popularity_chart_data``: share of suggestions per popularity bucket, per run, next
    to the buckets' share of all ratings (grey)."""
    series = list(dict.fromkeys(data["series"]))
    colours = [GREY, BLUE, ORANGE, GREEN][: len(series)]
    labels = data.drop_duplicates("bucket").sort_values("bucket")["label"].tolist()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "label:N",
                title="Products, from most to least rated (share of the catalogue)",
                sort=labels,
                axis=alt.Axis(labelAngle=0),
            ),
            xOffset=alt.XOffset("series:N", sort=series),
            y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color(
                "series:N",
                title=None,
                sort=series,
                scale=alt.Scale(domain=series, range=colours),
                legend=alt.Legend(orient="top", labelLimit=360),
            ),
            tooltip=["label:N", "series:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(height=280)
    )
