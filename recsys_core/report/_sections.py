"""The report's sections: each takes a run (and what was computed from it) and returns HTML."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys_core import charts
from recsys_core.metrics import (
    RANKING_MAX_USERS,
    beyond_accuracy,
    per_user_ranking,
    popularity_profile,
    sample_distinct,
    sample_users,
    top_lists,
)
from recsys_core.report._figures import figure
from recsys_core.topn import build_seen_matrix, popularity_order, recommend, top_popular_unseen

if TYPE_CHECKING:
    from recsys_core.runs import Run

RANKING_LABELS = {
    "hit_rate_at_k": "hit rate",
    "ndcg_at_k": "NDCG",
    "precision_at_k": "precision",
    "recall_at_k": "recall",
}
#: The report's recommenders -> their keys in ``metrics["ranking"]`` (what the ladder chart reads).
RANKING_KEYS = {"this model": "model", "most popular": "popularity"}
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
    summary = run.summary
    rows = [
        ("customers", run.n_users),
        ("products", run.n_items),
        ("split", summary.method),
        ("training ratings", summary.train),
        ("training ratings after oversampling", summary.train_after_rebalance),
        ("validation ratings", summary.validation),
        ("test ratings", summary.test),
        ("best epoch", summary.best_epoch),
        ("device", summary.device),
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
    before, after = run.class_counts_before, run.class_counts_after
    mix = charts.class_mix(before, after)
    chart = figure(
        "Training ratings per rating class",
        mix,
        charts.class_mix_chart,
        "Oversampling adds copies of the rarer ratings, so the model sees them more often.",
    )
    classes = sorted(set(before) | set(after))
    counts = [(charts.stars(c), int(before.get(c, 0)), int(after.get(c, 0))) for c in classes]
    rows = [(label, b, a, a / b if b else None) for label, b, a in counts]
    return section(
        "Class mix before and after oversampling", chart, table(["class", "before", "after", "×"], rows)
    )


def training_curves(run: Run) -> str:
    history = run.history
    if not history:
        return section("Training curves", "<p>No epoch was recorded.</p>")
    return section(
        "Training curves",
        figure(
            "Error per epoch (lower is better)",
            charts.loss_chart_data(history),
            charts.loss_chart,
            "How far the predictions are from the ratings, on the ratings the model learns from "
            "(training) and on ratings set aside to check it (validation).",
        ),
        figure(
            "Quality on the set-aside ratings per epoch (higher is better)",
            charts.quality_chart_data(history),
            charts.epoch_quality_chart,
            "AUC: how often a liked product is ranked above a disliked one. Precision: how often "
            "'will like' is right. Recall: the share of liked products the model spots.",
        ),
    )


def ranked_lists(run: Run, k: int) -> dict[str, Any]:
    """Per-user top-k lists and metrics of the model and the most-popular list, on the sample
    of test users ``evaluate`` ranks (so the means are its numbers)."""
    users = sample_users(run, RANKING_MAX_USERS, run.config.seed)
    relevant = build_seen_matrix(run.test_users, run.test_items, run.n_users, run.n_items)[users]
    order = popularity_order(run.popularity)
    seen = run.seen_matrix()
    popular = [top_popular_unseen(order, users[i : i + 4096], seen, k)[0] for i in range(0, len(users), 4096)]
    lists = {"this model": top_lists(run, users, k), "most popular": np.concatenate(popular)}
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


def _ranking_scores(ranked: Mapping[str, Any], k: int) -> dict[str, Any]:
    """The sample's per-user values as evaluate writes ``metrics["ranking"]`` (the mean and its
    standard error per measure), so the ladder chart reads them as the app reads a saved run."""
    ranking: dict[str, Any] = {"k": k}
    for name, values in ranked["values"].items():
        scores = {}
        for key in RANKING_LABELS:
            per_user = values[key]
            n = len(per_user)
            scores[key] = float(per_user.mean())
            scores[f"{key}_se"] = float(per_user.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
        ranking[RANKING_KEYS[name]] = scores
    return ranking


def _cell(entry: Mapping[str, Any], key: str) -> Any:
    """``"0.1234 (0.1100–0.1368)"``: a measure with its 95 % interval, when it has one."""
    value, interval = entry.get(key), _se_interval(entry, key)
    if value is None or interval is None:
        return value
    return f"{value:.4f} ({interval[0]:.4f}–{interval[1]:.4f})"


def accuracy(run: Run, ranked: Mapping[str, Any], k: int) -> str:
    metrics = run.metrics or {}
    ranking = _ranking_scores(ranked, k)
    others = _other_baselines(metrics)
    entries = {name: ranking[RANKING_KEYS[name]] for name in ranked["values"]} | others
    rows = [[name, *(_cell(entry, key) for key in RANKING_LABELS)] for name, entry in entries.items()]
    chart = figure(
        f"This model next to the most popular products (top {k}, longer is better)",
        charts.ladder_chart_data(ranking, others),
        charts.ladder_chart,
        f"Finds the next product: the share of customers whose held-out product is among the {k} "
        "suggestions. Ranking quality: the same, counting a hit near the top of the list more. "
        "The black line on a bar is its 95 % interval; bars whose lines overlap are not clearly "
        "different.",
    )
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
    chart = figure(
        "Best-sellers or the long tail? Share of the suggestions per slice of the catalogue",
        charts.popularity_chart_data(profiles),
        charts.popularity_chart,
        "Products are ranked from most to least rated and cut into ten equal slices. Grey is each "
        f"slice's share of all ratings; the other bars, the share of each list's top-{k} "
        "suggestions taken from it.",
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
