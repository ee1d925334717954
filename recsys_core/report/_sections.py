"""The report's sections: each takes a run (and what was computed from it) and returns HTML."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys_core.metrics import (
    RANKING_MAX_USERS,
    beyond_accuracy,
    per_user_ranking,
    popularity_profile,
    sample_distinct,
    sample_users,
    top_lists,
)
from recsys_core.report._svg import bar_chart, line_chart
from recsys_core.topn import build_seen_matrix, popularity_order, recommend, top_popular_unseen

if TYPE_CHECKING:
    from recsys_core.runs import Run

RANKING_LABELS = {
    "hit_rate_at_k": "hit rate",
    "ndcg_at_k": "NDCG",
    "precision_at_k": "precision",
    "recall_at_k": "recall",
}
CLASSIFICATION_KEYS = ("precision", "trivial_precision", "recall", "f1", "roc_auc")
EXAMPLE_CUSTOMERS = 3
Z95 = 1.959964


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table cell (``n/a`` when missing), escaped text otherwise."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.{digits}g}"
    return escape(str(value))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table; cells go through :func:`fmt` (so every string is escaped)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, *parts: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def data_summary(run: Run) -> str:
    split = run.split_summary
    rows = [
        ("customers", run.n_users),
        ("products", run.n_items),
        ("split", split.get("method")),
        ("training ratings", split.get("train")),
        ("training ratings after oversampling", split.get("train_after_rebalance")),
        ("validation ratings", split.get("validation")),
        ("test ratings", split.get("test")),
        ("best epoch", split.get("best_epoch")),
        ("device", split.get("device")),
        ("training time (s)", float(run.duration_seconds)),
    ]
    config = run.config.to_dict()
    config["multipliers"] = ", ".join(f"{k}★×{v:g}" for k, v in config["multipliers"].items()) or "none"
    return section(
        "Data and recipe",
        '<div class="cols">',
        table(["", "value"], rows),
        table(["setting", "value"], sorted(config.items())),
        "</div>",
    )


def class_mix(run: Run) -> str:
    classes = sorted(set(run.class_counts_before) | set(run.class_counts_after))
    groups = [f"{c:g}★" for c in classes]
    before = [float(run.class_counts_before.get(c, 0)) for c in classes]
    after = [float(run.class_counts_after.get(c, 0)) for c in classes]
    chart = bar_chart(
        "Training ratings per class",
        groups,
        {"before": before, "after oversampling": after},
        y_label="ratings",
    )
    rows = [(g, int(b), int(a), a / b if b else None) for g, b, a in zip(groups, before, after, strict=True)]
    return section(
        "Class mix before and after oversampling", chart, table(["class", "before", "after", "×"], rows)
    )


def training_curves(run: Run) -> str:
    history = run.history
    if not history:
        return section("Training curves", "<p>No epoch was recorded.</p>")
    epochs = [float(h.get("epoch", i + 1)) for i, h in enumerate(history)]

    def series(*keys: str) -> dict[str, list[float | None]]:
        return {key.replace("_", " "): [h.get(key) for h in history] for key in keys}

    return section(
        "Training curves",
        line_chart(
            "Loss per epoch", epochs, series("train_loss", "val_loss"), x_label="epoch", y_label="loss"
        ),
        line_chart(
            "Validation metrics per epoch",
            epochs,
            series("val_precision", "val_recall", "val_auc"),
            x_label="epoch",
        ),
    )


def _interval(values: np.ndarray) -> tuple[float, float]:
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean - half, mean + half


def ranked_lists(run: Run, k: int) -> dict[str, Any]:
    """Per-user top-k lists and metrics of the model and the most-popular list, on the sample
    of test users ``evaluate`` ranks (so the means are its numbers)."""
    users = sample_users(run, RANKING_MAX_USERS, run.config.seed)
    relevant = build_seen_matrix(run.test_users, run.test_items, run.n_users, run.n_items)[users]
    order = popularity_order(run.popularity)
    seen = run.seen_matrix()
    popular = [top_popular_unseen(order, users[i : i + 4096], seen, k)[0] for i in range(0, len(users), 4096)]
    lists = {"model": top_lists(run, users, k), "most popular": np.concatenate(popular)}
    return {
        "users": users,
        "lists": lists,
        "values": {name: per_user_ranking(items, relevant, k) for name, items in lists.items()},
    }


def _other_baselines(metrics: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    # Baselines beyond most-popular, when evaluate reports them (a dict of ranking metrics each).
    ranking = metrics.get("ranking") or {}
    return {
        str(name): value
        for name, value in ranking.items()
        if name not in ("model", "popularity") and isinstance(value, Mapping) and "ndcg_at_k" in value
    }


def _se_interval(entry: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    se = entry.get(
        f"{key}_se", (entry.get("se") or {}).get(key) if isinstance(entry.get("se"), Mapping) else None
    )
    value = entry.get(key)
    if se is None or value is None:
        return None
    return float(value) - Z95 * float(se), float(value) + Z95 * float(se)


def accuracy(run: Run, ranked: Mapping[str, Any], k: int) -> str:
    metrics = run.metrics or {}
    keys = list(RANKING_LABELS)
    series = {n: [float(v[key].mean()) for key in keys] for n, v in ranked["values"].items()}
    errors = {n: [_interval(v[key]) for key in keys] for n, v in ranked["values"].items()}
    for name, entry in _other_baselines(metrics).items():
        series[name] = [entry.get(key) for key in keys]
        errors[name] = [_se_interval(entry, key) for key in keys]
    chart = bar_chart(
        f"Top-{k} ranking vs the baselines (95 % intervals)",
        [RANKING_LABELS[key] for key in keys],
        series,
        errors=errors,
    )
    rows = [
        [
            name,
            *(
                f"{s:.4f} ({e[0]:.4f}–{e[1]:.4f})" if s is not None and e else s
                for s, e in zip(vals, errors[name], strict=True)
            ),
        ]
        for name, vals in series.items()
    ]
    parts = [
        f"<p>Over {len(ranked['users']):,} test customers: is the held-out product among the top {k}?</p>",
        chart,
        table(["recommender", *RANKING_LABELS.values()], rows),
    ]
    if metrics:
        parts.append("<h3>Rating classification (test split)</h3>")
        parts.append(
            table(
                ["metric", "value"],
                [(key.replace("_", " "), metrics.get(key)) for key in CLASSIFICATION_KEYS],
            )
        )
    return section("Metrics vs the baselines", *parts)


def beyond(run: Run, ranked: Mapping[str, Any], k: int) -> str:
    categories = (run.product_columns() or {}).get("category")
    measures = {
        name: beyond_accuracy(items, run.popularity, categories, k) for name, items in ranked["lists"].items()
    }
    profiles = {name: popularity_profile(items, run.popularity, k) for name, items in ranked["lists"].items()}
    first = next(iter(profiles.values()))
    groups = [f"{a}–{b}" for a, b in zip(first["rank_from"], first["rank_to"], strict=True)]
    series = {"share of ratings": first["ratings_share"].tolist()}
    series.update(
        {f"{name} recommendations": p["recommendation_share"].tolist() for name, p in profiles.items()}
    )
    chart = bar_chart(
        "Recommendations per product-popularity rank bucket",
        groups,
        series,
        y_label="share",
    )
    header = ["recommender", "coverage", "novelty (bits)", "head share", "category diversity"]
    rows = [[name, *m.values()] for name, m in measures.items()]
    return section(f"Beyond accuracy (top {k})", table(header, rows), chart)


def examples(run: Run, users: np.ndarray, n: int = 5) -> str:
    picked = sample_distinct(users, EXAMPLE_CUSTOMERS, run.config.seed)
    parts = []
    for code in picked:
        user = str(run.id_map.users[int(code)])
        recs = recommend(run, user, n=n)
        columns = [c for c in ("rank", "item", "name", "category", "score") if c in recs.table.columns]
        rows = recs.table[columns].itertuples(index=False, name=None)
        parts.append(f"<h3>Customer {escape(user)}</h3>{table(columns, list(rows))}")
    return section("Example customers' suggestions", *parts)
