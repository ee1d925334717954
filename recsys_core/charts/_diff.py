"""Two runs side by side (:func:`recsys_core.metrics.compare_runs`): each measure's change with
its interval, per customer segment, the products shown more or less often and how much the two
lists overlap, as frames and the Altair charts that draw them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd

from recsys_core.charts._style import BLUE, GREEN, GREY, ORANGE, RED

#: The diff's metrics, plain label first (technical name in brackets), in chart order.
DIFF_MEASURES = {
    "hit_rate_at_k": "finds the next product (hit rate)",
    "hit_rate_liked_at_k": "finds it when liked (hit rate)",
    "hit_rate_disliked_at_k": "finds it when disliked (hit rate)",
    "ndcg_at_k": "ranks it high (NDCG)",
    "roc_auc": "ranks liked first (AUC)",
    "precision": "precision",
    "recall": "recall",
}

#: What :func:`recsys_core.metrics.compare_runs` returns (JSON-ready dicts and lists).
Diff = Mapping[str, Any]

#: A diff entry's ``verdict`` (:func:`recsys_core.metrics.change_verdict`, the one rule) in words
#: and colours; an entry without one is drawn as within the noise.
VERDICT_WORDS = {"higher": "better", "lower": "worse", "same": "within the noise"}


def relative_change(entry: Mapping[str, Any]) -> tuple[float, float, float] | None:
    """``(change, low, high)`` of B against A as shares of A's value (``0.12`` = 12 % more).

    ``None`` when A's value is 0 or unknown, or the interval is undefined.
    """
    a, delta, ci = entry.get("a"), entry.get("delta"), entry.get("ci95")
    if not a or delta is None or not ci:
        return None
    return delta / a, ci[0] / a, ci[1] / a


# -- frames ------------------------------------------------------------------------------------------


def _verdict(entry: Mapping[str, Any]) -> str:
    return VERDICT_WORDS.get(str(entry.get("verdict")), VERDICT_WORDS["same"])


def diff_chart_data(diff: Diff) -> pd.DataFrame:
    """``measure, change, low, high, verdict`` (shares of A's value) per metric with an interval;
    ``verdict`` is the diff's own (better, worse, within the noise)."""
    columns = ["measure", "change", "low", "high", "verdict"]
    rows = []
    for key, label in DIFF_MEASURES.items():
        entry = diff["metrics"].get(key) or {}
        change = relative_change(entry)
        if change is not None:
            rows.append(dict(zip(columns, (label, *change, _verdict(entry)), strict=True)))
    return pd.DataFrame(rows, columns=columns)


def exposure_data(diff: Diff) -> pd.DataFrame:
    """``product, change, a, b, direction``: the products that gained and lost most exposure."""
    rows = []
    for direction in ("gained", "lost"):
        for row in diff["exposure"].get(direction, []):
            name = row.get("name") or ""
            product = f"{name} ({row['item']})" if name else str(row["item"])
            rows.append(
                {
                    "product": product,
                    "change": row["delta"],
                    "a": row["a"],
                    "b": row["b"],
                    "direction": direction,
                }
            )
    return pd.DataFrame(rows, columns=["product", "change", "a", "b", "direction"])


def _segment_label(kind: str, segment: str) -> str:
    if kind == "held_out_rating":
        return f"next product rated {segment.removesuffix(' held out')}"
    return f"customers with {segment}"


def segment_data(diff: Diff) -> pd.DataFrame:
    """``segment, customers, change, low, high, verdict``: B's hit-rate change per customer segment."""
    columns = ["segment", "customers", "change", "low", "high", "verdict"]
    rows = []
    for seg in diff.get("segments", []):
        entry = seg["metrics"].get("hit_rate_at_k") or {}
        change = relative_change(entry)
        if change is not None:
            label = _segment_label(seg["kind"], seg["segment"])
            rows.append(dict(zip(columns, (label, seg["users"], *change, _verdict(entry)), strict=True)))
    return pd.DataFrame(rows, columns=columns)


def overlap_data(diff: Diff) -> pd.DataFrame:
    """``start, share, customers``: how many customers' two lists share each tenth of their products.

    ``share`` reads ``"10–20 %"``; from the Jaccard histogram of the diff's ``overlap``.
    """
    histogram = (diff.get("overlap") or {}).get("histogram") or {}
    edges, counts = histogram.get("edges") or [], histogram.get("counts") or []
    rows = [
        (float(lo), f"{100 * lo:.0f}–{100 * hi:.0f} %", int(count))
        for lo, hi, count in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    return pd.DataFrame(rows, columns=["start", "share", "customers"])


# -- charts ------------------------------------------------------------------------------------------


def _change_chart(
    data: pd.DataFrame, y: str, y_title: str | None, extra: list[alt.Tooltip]
) -> alt.LayerChart:
    """Relative change of B against A per row, with its 95 % interval and a line at no change,
    coloured by the row's ``verdict`` (the diff's one rule, never re-decided here)."""
    order = data[y].tolist()
    base = alt.Chart(data).encode(
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


def diff_chart(data: pd.DataFrame) -> alt.LayerChart:
    """:func:`diff_chart_data`: each measure's change with its paired-bootstrap interval."""
    return _change_chart(data, "measure", None, [])


def segment_chart(data: pd.DataFrame) -> alt.LayerChart:
    """:func:`segment_data`: the hit-rate change per customer segment."""
    return _change_chart(data, "segment", None, [alt.Tooltip("customers:Q", format=",")])


def exposure_chart(data: pd.DataFrame) -> alt.Chart:
    """:func:`exposure_data`: times shown in all top-10 lists, gained (green) or lost (orange)."""
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


def overlap_chart(data: pd.DataFrame) -> alt.Chart:
    """:func:`overlap_data`: customers per share of products their A and B lists have in common."""
    return (
        alt.Chart(data)
        .mark_bar(color=BLUE, cornerRadiusTopLeft=2, cornerRadiusTopRight=2)
        .encode(
            x=alt.X(
                "share:N",
                sort=alt.EncodingSortField("start"),
                title="Products the two lists have in common",
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("customers:Q", title="Customers", axis=alt.Axis(format=",d", tickMinStep=1)),
            tooltip=[alt.Tooltip("share:N", title="in common"), alt.Tooltip("customers:Q", format=",")],
        )
        .properties(height=220)
    )
