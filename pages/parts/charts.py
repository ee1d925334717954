"""The app's own Altair charts: one function per chart, fed by the frames of :mod:`recsys_core.app.views`.

The charts the HTML report draws too (class mix, training history, the ladder, run diffs, the
popularity curve) are in :mod:`recsys_core.charts`; the pages import those from there.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from recsys_core.charts import BLUE, GREEN, GREY, ORANGE, QUALITY_MEASURES, rating_axis


def rating_bars(dist: pd.DataFrame) -> alt.Chart:
    labels = dist.sort_values("rating")["label"].tolist()
    base = alt.Chart(dist).encode(
        x=rating_axis(labels),
        y=alt.Y("count:Q", title="Ratings", axis=alt.Axis(format=",.0f")),
        tooltip=[
            alt.Tooltip("label:N", title="Rating"),
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    bars = base.mark_bar(color=BLUE, cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
    text = base.mark_text(dy=-8, color="#374151").encode(text=alt.Text("share:Q", format=".1%"))
    return (bars + text).properties(height=300)


def long_tail_chart(points: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(points)
        .mark_line(color=BLUE, strokeWidth=2.5)
        .encode(
            x=alt.X(
                "share_of_products:Q",
                title="Products, from most to least rated (share of the catalogue)",
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("ratings:Q", title="Ratings per product (log scale)", scale=alt.Scale(type="log")),
            tooltip=[
                alt.Tooltip("rank:Q", title="Product rank", format=","),
                alt.Tooltip("ratings:Q", title="Ratings", format=","),
            ],
        )
        .properties(height=300)
    )


def confusion_chart(cells: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(cells).encode(
        x=alt.X(
            "predicted:N",
            title=None,
            sort=["model: will like", "model: will not"],
            axis=alt.Axis(orient="top", labelAngle=0),
        ),
        y=alt.Y(
            "actual:N",
            title=None,
            sort=cells["actual"].unique().tolist(),
            axis=alt.Axis(labelLimit=240, labelFontSize=12),
        ),
    )
    heat = base.mark_rect(cornerRadius=4).encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=[
            "actual:N",
            "predicted:N",
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    text = base.mark_text(fontSize=15).encode(
        text="text:N",
        color=alt.condition(alt.datum.share > 0.3, alt.value("white"), alt.value("#1f2937")),
    )
    return (heat + text).properties(height=220)


def threshold_chart(long: pd.DataFrame, threshold: float) -> alt.Chart:
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("threshold:Q", title="Threshold (score needed to say 'will like')"),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "measure:N",
                title=None,
                scale=alt.Scale(domain=["precision", "recall"], range=[BLUE, ORANGE]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("threshold:Q", format=".2f"),
                "measure:N",
                alt.Tooltip("value:Q", format=".1%"),
            ],
        )
    )
    marker = pd.DataFrame({"threshold": [threshold], "label": [f"chosen: {threshold:.3g}"]})
    rule = alt.Chart(marker).mark_rule(color="#dc2626", strokeDash=[5, 4]).encode(x="threshold:Q")
    label = (
        alt.Chart(marker)
        .mark_text(align="left", dx=4, color="#dc2626")
        .encode(x="threshold:Q", y=alt.datum(0.04), text="label:N")
    )
    return (lines + rule + label).properties(height=280)


def category_chart(mix: pd.DataFrame) -> alt.Chart:
    """Stacked 100 % bars: category shares of the customer's ratings, the suggestions, the popular list."""
    lists = ["rated by the customer", "suggested", "most popular"]
    return (
        alt.Chart(mix)
        .mark_bar()
        .encode(
            y=alt.Y("list:N", title=None, sort=lists, axis=alt.Axis(labelFontSize=12, labelLimit=200)),
            x=alt.X("share:Q", title=None, stack="normalize", axis=alt.Axis(format="%")),
            color=alt.Color(
                "category:N",
                title=None,
                scale=alt.Scale(scheme="tableau10"),
                legend=alt.Legend(orient="right", labelLimit=220, labelFontSize=12, symbolLimit=0),
            ),
            order=alt.Order("category:N"),
            tooltip=[
                "list:N",
                "category:N",
                alt.Tooltip("count:Q", title="products"),
                alt.Tooltip("share:Q", format=".0%"),
            ],
        )
        # Tall enough for one legend line per category (at most 8 named ones plus "other").
        .properties(height=max(130, 21 * mix["category"].nunique()))
    )


# -- comparing saved runs -----------------------------------------------------------------------

HIT_SERIES = ["model", "most popular"]


def _run_bars(
    data: pd.DataFrame,
    label_order: list[str],
    measures: list[str],
    colors: list[str],
    y_axis: alt.Axis,
    zero_one: bool,
) -> alt.Chart:
    """Horizontal bars, one group per run (``label``) and one bar per ``measure``."""
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=label_order, axis=y_axis),
            yOffset=alt.YOffset("measure:N", sort=measures),
            x=alt.X(
                "value:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]) if zero_one else alt.Undefined,
            ),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=measures,
                scale=alt.Scale(domain=measures, range=colors),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["label:N", "measure:N", alt.Tooltip("value:Q", format=".1%")],
        )
        .properties(height=max(160, 60 * len(label_order)))
    )


def run_quality_chart(quality: pd.DataFrame, label_order: list[str]) -> alt.Chart:
    """Test precision, recall and AUC per run (rows of ``compare_chart_data`` with a ``label``)."""
    return _run_bars(
        quality,
        label_order,
        QUALITY_MEASURES,
        [GREEN, BLUE, ORANGE],
        alt.Axis(labelLimit=320),
        zero_one=True,
    )


def run_hits_chart(hits: pd.DataFrame, label_order: list[str]) -> alt.Chart:
    """Top-k hit rate of each run's model next to the most-popular baseline."""
    named = hits.replace({"measure": {"hit rate": "model", "popular hit rate": "most popular"}})
    return _run_bars(
        named, label_order, HIT_SERIES, [BLUE, GREY], alt.Axis(labels=False, ticks=False), zero_one=False
    )
