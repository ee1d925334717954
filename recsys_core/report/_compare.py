"""The report's run-diff section: plain sentences, the change with its interval, overlap,
exposure and segments, from :func:`recsys_core.metrics.compare_runs`."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from recsys_core.report._sections import section, table
from recsys_core.report._svg import bar_chart

LABELS = {
    "hit_rate_at_k": "hit rate (finds the held-out product)",
    "ndcg_at_k": "NDCG",
    "precision": "precision",
    "recall": "recall",
    "roc_auc": "ROC AUC",
}


def _change(percent: float) -> str:
    return f"{abs(percent):.0f} % {'higher' if percent >= 0 else 'lower'}"


def _relative(label: str, m: Mapping[str, Any]) -> str | None:
    """ "B's hit rate is 12 % higher than A's (95 % interval: 4 % higher to 20 % higher)"."""
    a, delta, ci = m.get("a"), m.get("delta"), m.get("ci95")
    if not a or delta is None or ci is None:
        return None
    mid, lo, hi = (100 * v / a for v in (delta, *ci))
    return f"B's {label} is {_change(mid)} than A's (95 % interval: {_change(lo)} to {_change(hi)})."


def sentences(diff: Mapping[str, Any]) -> list[str]:
    out = [
        text for key, label in LABELS.items() if (text := _relative(label, diff["metrics"].get(key) or {}))
    ]
    share = diff["overlap"].get("share_changed")
    if share is not None:
        out.append(f"{100 * share:.0f} % of customers see a different top-{diff['k']}.")
    return out


def _rows(metrics: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    return [[name, m["a"], m["b"], m["delta"], *(m["ci95"] or (None, None))] for name, m in metrics.items()]


def diff_section(diff: Mapping[str, Any]) -> str:
    metrics = diff["metrics"]
    names = list(metrics)
    deltas = {"B − A": [metrics[n]["delta"] for n in names]}
    errors = {"B − A": [tuple(metrics[n]["ci95"]) if metrics[n]["ci95"] else None for n in names]}
    overlap = diff["overlap"]
    edges = overlap["histogram"]["edges"]
    bins = [f"{edges[i]:.1f}–{edges[i + 1]:.1f}" for i in range(len(edges) - 1)]
    exposure = diff["exposure"]
    exposure_header = ["item", "name", "times in A's lists", "in B's", "change"]

    def exposure_rows(rows: list[Mapping[str, Any]]) -> list[list[Any]]:
        return [[r["item"], r.get("name", ""), r["a"], r["b"], r["delta"]] for r in rows]

    segment_rows = [
        [s["segment"], s["users"], key, m["a"], m["b"], m["delta"], *(m["ci95"] or (None, None))]
        for s in diff["segments"]
        for key, m in s["metrics"].items()
    ]
    return section(
        "What changed from A to B",
        f"<p>A: {escape(diff['a']['name'])}<br>B: {escape(diff['b']['name'])}</p>",
        "<ul>" + "".join(f"<li>{escape(s)}</li>" for s in sentences(diff)) + "</ul>",
        bar_chart("Change B − A with 95 % paired bootstrap interval", names, deltas, errors=errors),
        table(["metric", "A", "B", "B − A", "95 % low", "95 % high"], _rows(metrics)),
        bar_chart(
            f"Top-{diff['k']} overlap per customer (Jaccard)",
            bins,
            {"customers": [float(c) for c in overlap["histogram"]["counts"]]},
            y_label="customers",
        ),
        f"<p>Mean overlap {overlap['mean_jaccard']:.3f}; identical lists for "
        f"{100 * (overlap['share_identical'] or 0):.0f} % of customers.</p>",
        "<h3>Products that gained most exposure</h3>",
        table(exposure_header, exposure_rows(exposure["gained"])),
        "<h3>Products that lost most exposure</h3>",
        table(exposure_header, exposure_rows(exposure["lost"])),
        "<h3>Change per customer segment</h3>",
        table(["segment", "customers", "metric", "A", "B", "B − A", "95 % low", "95 % high"], segment_rows),
    )
