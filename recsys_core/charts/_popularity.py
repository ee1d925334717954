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
