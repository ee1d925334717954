"""Where suggestions sit on the popularity curve: each list's share per slice of the catalogue
(most rated first) next to the slices' share of all ratings, as a frame and its chart."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from recsys_core.charts._style import BLUE, GREEN, GREY, ORANGE


def bucket_label(bucket: int, n_buckets: int) -> str:
    """``(1, 10) -> "top 10 %"``, ``(3, 10) -> "20–30 %"``: a rank bucket as a share of the catalogue."""
    lo, hi = 100 * (bucket - 1) / n_buckets, 100 * bucket / n_buckets
    return f"top {hi:g} %" if bucket == 1 else f"{lo:g}–{hi:g} %"


def popularity_chart_data(profiles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Long frame ``bucket, label, series, share`` of :func:`recsys_core.metrics.popularity_profile`s.

    One series per list (its share of suggestions per bucket) and ``"all ratings"`` (the
    buckets' share of the training ratings, from the first profile) as the reference.
    """
    rows = []
    for i, (name, profile) in enumerate(profiles.items()):
        n = len(profile)
        for row in profile.itertuples(index=False):
            label = bucket_label(int(row.bucket), n)
            if i == 0:
                rows.append(
                    {
                        "bucket": row.bucket,
                        "label": label,
                        "series": "all ratings",
                        "share": row.ratings_share,
                    }
                )
            rows.append(
                {"bucket": row.bucket, "label": label, "series": name, "share": row.recommendation_share}
            )
    return pd.DataFrame(rows, columns=["bucket", "label", "series", "share"])


def popularity_chart(data: pd.DataFrame) -> alt.Chart:
    """:func:`popularity_chart_data`: share of suggestions per popularity bucket, per list, next
    to the buckets' share of all ratings (grey)."""
    series = list(dict.fromkeys(data["series"]))
    return _share_bars(
        data,
        "label",
        "series",
        x_title="Products, from most to least rated (share of the catalogue)",
        y_title="Share",
        colours=[GREY, BLUE, ORANGE, GREEN][: len(series)],
        tooltip=["label:N", "series:N", alt.Tooltip("share:Q", format=".1%")],
        legend=alt.Legend(orient="top", labelLimit=360),
        height=280,
    )


def popularity_mix_chart(mix: pd.DataFrame) -> alt.Chart:
    """Share of each of one customer's lists per popularity slice of the catalogue (the frame of
    ``recsys_core.app.views.popularity_mix``: ``list, bucket, slice, share``)."""
    lists = list(dict.fromkeys(mix["list"]))
    return _share_bars(
        mix,
        "slice",
        "list",
        x_title="Products, from the most rated tenth to the least rated",
        y_title="Share of the list",
        colours=[BLUE, GREY][: len(lists)],
        tooltip=["list:N", alt.Tooltip("slice:N", title="products"), alt.Tooltip("share:Q", format=".0%")],
        legend=alt.Legend(orient="top"),
        height=220,
        mark=alt.MarkDef(type="bar", cornerRadiusTopLeft=2, cornerRadiusTopRight=2),
    )


def _share_bars(
    data: pd.DataFrame,
    x: str,
    series: str,
    *,
    x_title: str,
    y_title: str,
    colours: list[str],
    tooltip: list[str | alt.Tooltip],
    legend: alt.Legend,
    height: int,
    mark: alt.MarkDef | None = None,
) -> alt.Chart:
    """Grouped bars: the ``share`` of each ``series`` per popularity slice ``x``, slices in
    ``bucket`` order (most rated first), series in their order of appearance."""
    names = list(dict.fromkeys(data[series]))
    slices = data.drop_duplicates("bucket").sort_values("bucket")[x].tolist()
    chart = alt.Chart(data).mark_bar() if mark is None else alt.Chart(data, mark=mark)
    return chart.encode(
        x=alt.X(f"{x}:N", title=x_title, sort=slices, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset(f"{series}:N", sort=names),
        y=alt.Y("share:Q", title=y_title, axis=alt.Axis(format="%")),
        color=alt.Color(
            f"{series}:N", title=None, sort=names, scale=alt.Scale(domain=names, range=colours), legend=legend
        ),
        tooltip=tooltip,
    ).properties(height=height)
