"""The report's run-diff section: plain sentences, the change with its interval, overlap,
exposure and segments, from :func:`recsys_core.metrics.compare_runs`, drawn with the app's charts."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from recsys_core import charts
from recsys_core.metrics import NO_DIFFERENCE, change_verdict
from recsys_core.report._figures import figure
from recsys_core.report._sections import section, table

LABELS = {
    "hit_rate_at_k": "hit rate (finds the held-out product)",
    "hit_rate_liked_at_k": "hit rate on held-out products the customer liked",
    "hit_rate_disliked_at_k": "hit rate on held-out products the customer disliked",
    "ndcg_at_k": "ranking quality (NDCG)",
    "precision_at_k": "precision of the list",
    "recall_at_k": "recall of the list",
    "precision": "precision",
    "recall": "recall",
    "roc_auc": "ranks liked above disliked (ROC AUC)",
}
#: The diff's verdict (the one rule, :func:`recsys_core.metrics.change_verdict`) in a table cell.
VERDICTS = {"higher": "B higher", "lower": "B lower", "same": NO_DIFFERENCE}


def _change(percent: float) -> str:
    """``12.3 -> "12 % higher"``; one decimal below 10 % so a small change never reads "0 %"."""
    size = abs(percent)
    number = f"{size:.0f}" if size >= 9.5 else f"{size:.1f}".rstrip("0").rstrip(".")
    return f"{number} % {'higher' if percent >= 0 else 'lower'}"


def _relative(label: str, m: Mapping[str, Any]) -> str | None:
    """ "B's hit rate is 12 % higher than A's (95 % interval: 4 % higher to 20 % higher)", or
    "no measurable difference" where the interval holds no change."""
    a, delta, ci = m.get("a"), m.get("delta"), m.get("ci95")
    if not a or delta is None or ci is None:
        return None
    mid, lo, hi = (100 * v / a for v in (delta, *ci))
    interval = f"95 % interval: {_change(lo)} to {_change(hi)}"
    if change_verdict(ci) == "same":
        return f"B's {label}: {NO_DIFFERENCE} from A's ({interval})."
    return f"B's {label} is {_change(mid)} than A's ({interval})."


def sentences(diff: Mapping[str, Any]) -> list[str]:
    out = [
        text for key, label in LABELS.items() if (text := _relative(label, diff["metrics"].get(key) or {}))
    ]
    share = diff["overlap"].get("share_changed")
    if share is not None:
        out.append(f"{100 * share:.0f} % of customers see a different top-{diff['k']}.")
    return out


def _rows(metrics: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    return [
        [LABELS.get(name, name), m["a"], m["b"], m["delta"], *(m["ci95"] or (None, None)), _verdict(m)]
        for name, m in metrics.items()
    ]


def _verdict(m: Mapping[str, Any]) -> str:
    return VERDICTS[change_verdict(m.get("ci95"))]


def _charts(diff: Mapping[str, Any]) -> dict[str, str]:
    """The section's figures: the change per measure, the overlap, the exposure and the segments."""
    k = diff["k"]
    return {
        "change": figure(
            "How B differs from A",
            charts.diff_chart_data(diff),
            charts.diff_chart,
            "Each point is B's change against A, as a share of A's value; the bar is its 95 % "
            f"interval from a paired bootstrap over the same {diff['users']:,} test customers. "
            "Green: surely better; red: surely worse; grey: within the noise.",
        ),
        "overlap": figure(
            f"How much of their top-{k} the two lists have in common, per customer",
            charts.overlap_data(diff),
            charts.overlap_chart,
        ),
        "exposure": figure(
            f"Products shown more and less often (times in all customers' top {k})",
            charts.exposure_data(diff),
            charts.exposure_chart,
        ),
        "segments": figure(
            "Who gains: change in finding the next product, per group of customers",
            charts.segment_data(diff),
            charts.segment_chart,
            "Customers split by how many ratings they had before, and by the stars of the rating "
            "they gave next; each bar is the 95 % interval.",
        ),
    }


def diff_section(diff: Mapping[str, Any]) -> str:
    metrics = diff["metrics"]
    overlap = diff["overlap"]
    exposure = diff["exposure"]
    exposure_header = ["item", "name", "times in A's lists", "in B's", "change"]

    def exposure_rows(rows: list[Mapping[str, Any]]) -> list[list[Any]]:
        return [[r["item"], r.get("name", ""), r["a"], r["b"], r["delta"]] for r in rows]

    segment_rows = [
        [
            s["segment"],
            s["users"],
            LABELS.get(key, key),
            m["a"],
            m["b"],
            m["delta"],
            *(m["ci95"] or (None, None)),
            _verdict(m),
        ]
        for s in diff["segments"]
        for key, m in s["metrics"].items()
    ]
    figures = _charts(diff)
    return section(
        "What changed from A to B",
        f"<p>A: {escape(diff['a']['name'])}<br>B: {escape(diff['b']['name'])}</p>",
        "<ul>" + "".join(f"<li>{escape(s)}</li>" for s in sentences(diff)) + "</ul>",
        figures["change"],
        table(["measure", "A", "B", "B − A", "95 % low", "95 % high", "verdict"], _rows(metrics)),
        figures["overlap"],
        f"<p>Mean overlap {overlap['mean_jaccard']:.3f}; identical lists for "
        f"{100 * (overlap['share_identical'] or 0):.0f} % of customers.</p>",
        figures["exposure"],
        "<h3>Products that gained most exposure</h3>",
        table(exposure_header, exposure_rows(exposure["gained"])),
        "<h3>Products that lost most exposure</h3>",
        table(exposure_header, exposure_rows(exposure["lost"])),
        "<h3>Change per customer segment</h3>",
        figures["segments"],
        table(
            ["segment", "customers", "measure", "A", "B", "B − A", "95 % low", "95 % high", "verdict"],
            segment_rows,
        ),
    )
