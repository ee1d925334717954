"""The report's sections: each takes a run (and what was computed from it) and returns HTML."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys_core import charts
from recsys_core.errors import RecsysError
from recsys_core.metrics import (
    RANKING_MAX_USERS,
    beyond_accuracy,
    interval95,
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
    "hit_rate_at_k": "finds the next product (hit rate)",
    "ndcg_at_k": "ranking quality (NDCG)",
    "precision_at_k": "precision of the list",
    "recall_at_k": "recall of the list",
}
#: The classification measures of the test split, in plain words.
CLASSIFICATION_LABELS = {
    "precision": "precision (of 'will like')",
    "trivial_precision": "precision of guessing 'likes it' for everyone",
    "recall": "recall (liked products spotted)",
    "f1": "F1 (precision and recall together)",
    "roc_auc": "ranks liked above disliked (ROC AUC)",
}
#: A run's settings, in plain words (the technical name in brackets where one is common).
SETTING_LABELS = {
    "embedding_dim": "profile size (embedding size)",
    "batch_size": "ratings per learning step (batch size)",
    "epochs": "passes over the data (epochs)",
    "learning_rate": "learning rate",
    "multipliers": "extra copies of rarer ratings (oversampling)",
    "threshold": "score that means 'will like' (threshold)",
    "positive_rating": "rating that counts as liked (at least)",
    "seed": "random seed",
    "split": "hold-out split",
    "objective": "what the model learns (objective)",
    "negatives": "unrated products sampled per rating (negatives)",
    "device": "device",
    "neighbours": "similar products kept per product (item-kNN blend)",
    "neighbour_shrink": "shrink of product similarity (item-kNN blend)",
}
#: The report's recommenders -> their keys in ``metrics["ranking"]`` (what the ladder chart reads).
RANKING_KEYS = {"this model": "model", "most popular": "popularity"}
EXAMPLE_CUSTOMERS = 3


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table cell (``n/a`` when missing), escaped text otherwise."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return _number(float(value), digits)
    return escape(str(value))


def _number(value: float, digits: int) -> str:
    """Readable at any size: ``20000.0 -> "20,000"``, ``0.00001 -> "0.00001"``, ``0.123456 ->
    "0.1235"``; never ``"2e+04"``."""
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return np.format_float_positional(value, precision=digits, unique=False, fractional=False, trim="-")


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
    settings = [(SETTING_LABELS.get(name, name.replace("_", " ")), value) for name, value in config.items()]
    return section(
        "Data and recipe",
        '<div class="cols">',
        table(["", "value"], rows),
        table(["setting", "value"], settings),
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
    """One chart per quantity (the training loss, the validation measure that picks the kept
    epoch, the predicted rating's AUC), the kept epoch marked: the app's learning curves."""
    history = run.history
    if not history:
        return section("Training curves", "<p>No epoch was recorded.</p>")
    objective = run.config.objective
    frame = charts.learning_curve_data(history, objective, run.summary.best_epoch)
    kept = run.summary.best_epoch
    note = f"<p>The run keeps epoch {kept}, the best on the validation measure.</p>" if kept else ""
    figures = [
        figure(
            charts.CURVES[key][0], frame[frame["curve"] == key], partial(charts.learning_curve_chart, key=key)
        )
        for key in charts.curve_keys(objective)
    ]
    return section("Training curves", note, *figures)


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


def classic_ladder(run: Run, k: int) -> tuple[dict[str, Mapping[str, Any]], str | None]:
    """The run's baseline ladder (most popular, item-kNN, EASE, iALS: fitted on its training split,
    tuned on its validation pairs, read from the run's or the runs folder's cache when there is
    one) and why it is missing (``({}, reason)``: no validation ratings, not enough memory)."""
    from recsys_core.baselines import ladder_for  # scipy, implicit: only when a report is written
    from recsys_core.runs import shared_ladders

    try:
        return ladder_for(run, run.path, k=k, shared=shared_ladders(run.path)), None
    except (RecsysError, MemoryError) as exc:
        return {}, str(exc) or type(exc).__name__


def _se_interval(entry: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    se = entry.get(
        f"{key}_se", (entry.get("se") or {}).get(key) if isinstance(entry.get("se"), Mapping) else None
    )
    value = entry.get(key)
    if se is None or value is None:
        return None
    return interval95(float(value), float(se))


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
    ladder, missing = classic_ladder(run, k)
    rungs = charts.ladder_scores(ranking, ladder)
    rows = [
        [charts.LADDER_METHODS[name], *(_cell(entry, key) for key in RANKING_LABELS)]
        for name, entry in rungs.items()
    ]
    chart = figure(
        f"This model next to classic methods (top {k}, longer is better)",
        charts.ladder_chart_data(ranking, ladder),
        charts.ladder_chart,
        f"Finds the next product: the share of customers whose held-out product is among the {k} "
        "suggestions. Ranking quality: the same, counting a hit near the top of the list more. "
        "The black line on a bar is its 95 % interval; bars whose lines overlap are not clearly "
        "different. item-kNN suggests products liked together with the customer's; EASE and iALS "
        "are strong classic recommenders, each tuned on the validation ratings.",
    )
    parts = [
        f"<p>Over {len(ranked['users']):,} test customers: is the held-out product among the top {k}?</p>",
        chart,
        table(["recommender", *RANKING_LABELS.values()], rows),
    ]
    if missing:
        parts.append(f"<p>The classic methods could not be measured on this run: {escape(missing)}</p>")
    parts += [
        f"<p>{escape(entry['label'])} was left out: {escape(str(entry['skipped']))}</p>"
        for entry in ladder.values()
        if isinstance(entry, Mapping) and entry.get("skipped")
    ]
    if metrics:
        parts.append("<h3>Rating classification (test split)</h3>")
        parts.append(
            table(
                ["measure", "value"],
                [(label, metrics.get(key)) for key, label in CLASSIFICATION_LABELS.items()],
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
