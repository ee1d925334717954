"""Chart data, plain-language sentences and the background training job behind the app.

Everything here is plain Python / pandas so that it can be tested without a browser; the
Streamlit pages only collect input, call these functions and draw what comes back. Nothing
in this module imports Streamlit.
"""

from __future__ import annotations

import io
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys_core.errors import RecsysError

#: Environment variable that moves the folder holding saved runs (default ``./runs``).
RUNS_DIR_ENV = "RECSYS_RUNS_DIR"


# -- small formatting helpers ------------------------------------------------------------------


def percent(share: float, digits: int = 0) -> str:
    """``0.8612 -> "86 %"`` (the space is the house style of the app's sentences)."""
    if share is None or not np.isfinite(share):
        return "n/a"
    return f"{100 * share:.{digits}f} %"


def _number(value: Any) -> float:
    """A metric as float; undefined metrics (``None``) become NaN."""
    return float("nan") if value is None else float(value)


def stars(rating: float) -> str:
    """``4.0 -> "4★"``, ``3.5 -> "3.5★"``."""
    return f"{float(rating):g}★"


def multipliers_text(multipliers: Mapping[float, float]) -> str:
    """``{1: 2.5, 2: 3} -> "1★ ×2.5, 2★ ×3"``; factors of 1 are left out."""
    parts = [f"{stars(r)} ×{f:g}" for r, f in sorted(multipliers.items()) if float(f) != 1.0]
    return ", ".join(parts) if parts else "none (every class untouched)"


# -- Data page ---------------------------------------------------------------------------------


def dataset_overview(frame: pd.DataFrame) -> dict[str, Any]:
    """Headline figures of a ratings frame (``user``, ``item``, ``rating``[, ``timestamp``]).

    Returns
    -------
    dict
        ``rows, users, items, sparsity`` (share of user × product pairs without a rating),
        ``ratings_per_user`` (mean), ``time_min``/``time_max`` (``pd.Timestamp`` or ``None``).
    """
    rows = len(frame)
    users = int(frame["user"].nunique())
    items = int(frame["item"].nunique())
    cells = users * items
    has_time = "timestamp" in frame.columns and rows > 0
    return {
        "rows": rows,
        "users": users,
        "items": items,
        "sparsity": 1.0 - rows / cells if cells else 1.0,
        "ratings_per_user": rows / users if users else 0.0,
        "time_min": frame["timestamp"].min() if has_time else None,
        "time_max": frame["timestamp"].max() if has_time else None,
    }


def rating_distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Count and share of each rating value, lowest first: ``rating, label, count, share``."""
    counts = frame["rating"].value_counts().sort_index()
    total = max(int(counts.sum()), 1)
    return pd.DataFrame(
        {
            "rating": counts.index.astype(float),
            "label": [stars(r) for r in counts.index],
            "count": counts.to_numpy(dtype=np.int64),
            "share": counts.to_numpy(dtype=float) / total,
        }
    ).reset_index(drop=True)


def long_tail(frame: pd.DataFrame, max_points: int = 400) -> tuple[pd.DataFrame, dict[str, float]]:
    """Ratings per product, most-rated first, thinned to at most ``max_points`` chart points.

    Returns
    -------
    (DataFrame, dict)
        Points ``rank`` (1 = most rated product), ``ratings`` (its count) and ``share_of_products``
        (rank / number of products); the dict holds ``top10_share`` (share of all ratings that
        go to the most-rated 10 % of products), ``single_rating_share`` (share of products with
        exactly one rating), ``median`` and ``max`` ratings per product.
    """
    per_item = np.sort(frame["item"].value_counts().to_numpy())[::-1]
    n = len(per_item)
    if n == 0:
        empty = pd.DataFrame({"rank": [], "ratings": [], "share_of_products": []})
        return empty, {"top10_share": 0.0, "single_rating_share": 0.0, "median": 0.0, "max": 0.0}
    # Log-spaced ranks keep the steep head and the flat tail visible with a few hundred points.
    ranks = np.unique(np.geomspace(1, n, num=min(n, max_points)).round().astype(np.int64))
    points = pd.DataFrame({"rank": ranks, "ratings": per_item[ranks - 1], "share_of_products": ranks / n})
    top = max(1, int(np.ceil(0.1 * n)))
    stats = {
        "top10_share": float(per_item[:top].sum() / per_item.sum()),
        "single_rating_share": float(np.mean(per_item == 1)),
        "median": float(np.median(per_item)),
        "max": float(per_item[0]),
    }
    return points, stats


def peek_columns(data: bytes, name: str, max_bytes: int = 1 << 20) -> list[str]:
    """Column names of an uploaded table, for the column-mapping select boxes.

    Reads only the start of a CSV/JSON-lines file. A CSV whose first row looks like data
    (no header) gets positional names ``column 1, column 2, …`` which the caller maps by
    position.
    """
    lower = name.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return list(pq.read_schema(io.BytesIO(data)).names)
        if lower.endswith(".gz"):
            import gzip

            with gzip.open(io.BytesIO(data)) as handle:
                head = handle.read(max_bytes)
        else:
            head = data[:max_bytes]
        text = head.decode("utf-8", errors="replace")
        if lower.endswith((".jsonl", ".json", ".ndjson")) or text.lstrip().startswith("{"):
            sample = pd.read_json(io.StringIO(text.splitlines()[0]), lines=True)
            return [str(c) for c in sample.columns]
        sample = pd.read_csv(io.StringIO(text), sep=None, engine="python", nrows=20, header=None)
    except Exception as exc:  # any parser failure means "we cannot offer a mapping"
        raise RecsysError(
            f"Could not read the column names of {name}: {exc}. Check that it is a CSV, CSV.gz, "
            "Parquet or JSON-lines file."
        ) from None
    first = [str(v) for v in sample.iloc[0].tolist()]
    looks_like_header = not any(_is_number(v) for v in first)
    if looks_like_header:
        return first
    return [f"column {i + 1}" for i in range(sample.shape[1])]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- Balance page ------------------------------------------------------------------------------


def class_mix(before: Mapping[float, int], after: Mapping[float, int]) -> pd.DataFrame:
    """Long frame for the before/after grouped bar chart.

    Columns ``rating, label, stage ("before"/"after"), count, share`` (share within its stage).
    """
    rows = []
    for stage, counts in (("before", before), ("after", after)):
        total = max(sum(int(c) for c in counts.values()), 1)
        for rating in sorted(set(before) | set(after)):
            count = int(counts.get(rating, 0))
            rows.append((float(rating), stars(rating), stage, count, count / total))
    return pd.DataFrame(rows, columns=["rating", "label", "stage", "count", "share"])


def balance_sentence(before: Mapping[float, int], after: Mapping[float, int]) -> str:
    """One line saying how much the training split grows and what happens to the top class."""
    total_before = sum(int(c) for c in before.values())
    total_after = sum(int(c) for c in after.values())
    if total_before == 0:
        return "The training split is empty."
    if total_after == total_before:
        return (
            f"The training split has {total_before:,} ratings and is used as it is (every multiplier is 1)."
        )
    top = max(before, key=lambda r: int(before[r]))
    share_before = int(before[top]) / total_before
    share_after = int(after.get(top, 0)) / total_after
    return (
        f"Training grows from {total_before:,} to {total_after:,} ratings "
        f"(+{total_after - total_before:,} copies of existing ratings). "
        f"The most common class, {stars(top)}, drops from {percent(share_before)} to "
        f"{percent(share_after)} of what the model sees."
    )


# -- Train page --------------------------------------------------------------------------------


def history_frame(history: Sequence[Any]) -> pd.DataFrame:
    """Epoch reports (objects or dicts) as a frame: one row per epoch."""
    columns = ["epoch", "train_loss", "val_loss", "val_precision", "val_recall", "val_auc", "seconds"]
    rows = []
    for report in history:
        get = report.get if isinstance(report, Mapping) else lambda k, r=report: getattr(r, k, np.nan)
        rows.append([get(c) for c in columns])
    return pd.DataFrame(rows, columns=columns).astype(float)


def loss_chart_data(history: Sequence[Any]) -> pd.DataFrame:
    """Long frame ``epoch, series ("training"/"validation"), loss`` for the loss chart."""
    frame = history_frame(history)
    long = frame.melt(
        id_vars="epoch", value_vars=["train_loss", "val_loss"], var_name="series", value_name="loss"
    )
    long["series"] = long["series"].map({"train_loss": "training", "val_loss": "validation"})
    return long.dropna()


def quality_chart_data(history: Sequence[Any]) -> pd.DataFrame:
    """Long frame ``epoch, measure, value`` of validation precision, recall and AUC."""
    frame = history_frame(history)
    names = {"val_precision": "precision", "val_recall": "recall", "val_auc": "AUC"}
    long = frame.melt(id_vars="epoch", value_vars=list(names), var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(names)
    return long.dropna()


def confusion_frame(confusion: Mapping[str, int], positive_rating: float = 4.0) -> pd.DataFrame:
    """The confusion matrix with plain labels: ``actual, predicted, count, share, text``."""
    liked = f"liked it ({stars(positive_rating)} or more)"
    disliked = f"did not ({'below ' + stars(positive_rating)})"
    said_like = "model: will like"
    said_not = "model: will not"
    cells = [
        (liked, said_like, confusion.get("tp", 0)),
        (liked, said_not, confusion.get("fn", 0)),
        (disliked, said_like, confusion.get("fp", 0)),
        (disliked, said_not, confusion.get("tn", 0)),
    ]
    frame = pd.DataFrame(cells, columns=["actual", "predicted", "count"])
    frame["count"] = frame["count"].astype(np.int64)
    total = max(int(frame["count"].sum()), 1)
    frame["share"] = frame["count"] / total
    frame["text"] = [f"{c:,} ({percent(s)})" for c, s in zip(frame["count"], frame["share"], strict=True)]
    return frame


def threshold_chart_data(curve: pd.DataFrame) -> pd.DataFrame:
    """``threshold_curve`` output (threshold, precision, recall) as a long frame for a line chart."""
    long = curve.melt(
        id_vars="threshold", value_vars=["precision", "recall"], var_name="measure", value_name="value"
    )
    return long.dropna()


def classification_sentences(metrics: Mapping[str, Any]) -> list[str]:
    """Plain-language reading of precision, recall and AUC against guessing.

    ``metrics`` has the keys of ``evaluation.classification_metrics``.
    """
    precision = _number(metrics.get("precision"))
    trivial = _number(metrics.get("trivial_precision"))
    recall = _number(metrics.get("recall"))
    auc = _number(metrics.get("roc_auc"))
    sentences = [
        f"When the model says a customer will like a product, it is right {percent(precision)} of the "
        f"time; guessing 'likes it' for everyone is right {percent(trivial)} of the time.",
        f"Of the products customers really liked, the model spots {percent(recall)}.",
        f"Shown one product a customer liked and one they did not, the model ranks the liked one "
        f"higher {percent(auc)} of the time (a coin flip would manage 50 %).",
    ]
    if np.isfinite(precision) and np.isfinite(trivial):
        verdict = (
            "better than guessing"
            if precision > trivial + 0.005
            else "no better than guessing"
            if precision >= trivial - 0.005
            else "worse than guessing"
        )
        sentences.append(f"In short: at this threshold the model is {verdict}.")
    return sentences


def ranking_sentence(ranking: Mapping[str, Any] | None) -> str | None:
    """Hit rate of the model vs the most-popular baseline, in words; ``None`` without ranking."""
    if not ranking:
        return None
    k = int(ranking.get("k", 10))
    model = _number(ranking["model"].get("hit_rate_at_k"))
    popular = _number(ranking["popularity"].get("hit_rate_at_k"))
    if not (np.isfinite(model) and np.isfinite(popular)):
        return None
    lead = f"Among its top {k} suggestions, the model finds the product the customer rated next"
    if popular > 0:
        return (
            f"{lead} {model / popular:.1f}× as often as recommending the {k} most popular products "
            f"({percent(model, 1)} vs {percent(popular, 1)} of customers)."
        )
    if model > 0:
        return (
            f"{lead} for {percent(model, 1)} of customers, where recommending the {k} most popular "
            "products never does."
        )
    return f"Neither the model's top {k} nor the {k} most popular products found the product rated next."


# -- Compare page ------------------------------------------------------------------------------


def runs_dir() -> Path:
    """Folder of saved runs: ``$RECSYS_RUNS_DIR`` or ``./runs``."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


def run_row(record: Any) -> dict[str, Any]:
    """One row of the runs table: settings, multipliers, metrics and time of a saved run.

    ``record`` is a :class:`~recsys_core.registry.RunRecord` (or anything with its attributes):
    ``run_id, name, created_at, config`` (``TrainConfig.to_dict()``), ``metrics``, ``summary``.
    """
    config = dict(record.config or {})
    metrics = dict(record.metrics or {})
    summary = dict(record.summary or {})
    ranking = metrics.get("ranking") or {}
    created = pd.to_datetime(record.created_at, errors="coerce", utc=True)
    multipliers = {float(k): float(v) for k, v in (config.get("multipliers") or {}).items()}
    return {
        "run": record.name,
        "id": record.run_id,
        "created": created.tz_convert(None) if pd.notna(created) else pd.NaT,
        "precision": metrics.get("precision"),
        "recall": metrics.get("recall"),
        "AUC": metrics.get("roc_auc"),
        "guessing precision": metrics.get("trivial_precision"),
        "hit rate": (ranking.get("model") or {}).get("hit_rate_at_k"),
        "popular hit rate": (ranking.get("popularity") or {}).get("hit_rate_at_k"),
        "oversampling": multipliers_text(multipliers),
        "epochs": config.get("epochs"),
        "best epoch": summary.get("best_epoch"),
        "embedding": config.get("embedding_dim"),
        "batch": config.get("batch_size"),
        "learning rate": config.get("learning_rate"),
        "threshold": config.get("threshold"),
        "objective": config.get("objective"),
        "train ratings": summary.get("train_after_rebalance"),
    }


def runs_table(records: Iterable[Any]) -> pd.DataFrame:
    """:func:`run_row` for every record, as a frame (newest first, as given)."""
    return pd.DataFrame([run_row(r) for r in records])


def compare_chart_data(rows: pd.DataFrame) -> pd.DataFrame:
    """Long frame ``id, run, measure, value`` of precision, recall, AUC and hit rates per run."""
    measures = ["precision", "recall", "AUC", "hit rate", "popular hit rate"]
    present = [m for m in measures if m in rows.columns]
    long = rows.melt(id_vars=["id", "run"], value_vars=present, var_name="measure", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long.dropna()


# -- Recommend page ----------------------------------------------------------------------------


def example_users(counts: pd.Series, n: int = 8, min_ratings: int = 3) -> list[str]:
    """A handful of users with several ratings, to try first on the Recommend page.

    ``counts`` is ratings per user (indexed by user id). Picks users spread over the activity
    range (not only the most active), preferring users with at least ``min_ratings``.
    Deterministic.
    """
    rich = counts[counts >= min_ratings]
    if rich.empty:
        rich = counts[counts > 0]
    if rich.empty:
        return []
    rich = rich.sort_values(ascending=False, kind="stable")
    positions = np.unique(np.linspace(0, len(rich) - 1, num=min(n, len(rich))).round().astype(int))
    return [str(u) for u in rich.index[positions]]


def run_user_counts(run: Any) -> pd.Series:
    """Ratings per user known to a run (train + validation + test pairs), most active first."""
    codes = np.concatenate([np.asarray(run.seen_users), np.asarray(run.test_users)])
    counts = np.bincount(codes, minlength=run.n_users)
    series = pd.Series(counts, index=pd.Index(run.id_map.users, dtype=object).astype(str), name="ratings")
    return series.sort_values(ascending=False, kind="stable")


def user_history(run: Any, user: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """What ``user`` rated, as the run knows it: ``item, rating, timestamp, held back, name, category``.

    The run stores which products a user rated but not the stars of the training pairs; when the
    dataset ``frame`` holds the user, its ratings and times are joined in. ``held back`` marks the
    test product(s) the model never saw. Newest first when times are known.
    """
    code = run.id_map.user_code(str(user))
    if code is None:
        return pd.DataFrame(columns=["item", "rating", "held back"])
    seen = np.asarray(run.seen_items)[np.asarray(run.seen_users) == code]
    test_mask = np.asarray(run.test_users) == code
    test = np.asarray(run.test_items)[test_mask]
    codes = np.concatenate([seen, test])
    items = np.asarray(run.id_map.items, dtype=object)[codes].astype(str)
    history = pd.DataFrame(
        {"item": items, "held back": np.r_[np.zeros(len(seen), bool), np.ones(len(test), bool)]}
    )
    history["rating"] = np.nan
    history.loc[history["held back"].to_numpy(), "rating"] = np.asarray(run.test_ratings)[test_mask]
    if frame is not None and len(frame):
        mine = frame.loc[frame["user"] == str(user)]
        if len(mine):
            extra = [c for c in ("rating", "timestamp") if c in mine.columns]
            mine = mine.drop_duplicates("item", keep="last").set_index("item")[extra]
            joined = mine.reindex(history["item"])
            history["rating"] = history["rating"].fillna(
                pd.Series(joined["rating"].to_numpy(), index=history.index)
            )
            if "timestamp" in joined.columns:
                history["timestamp"] = joined["timestamp"].to_numpy()
    columns = run.product_columns() if hasattr(run, "product_columns") else None
    if columns:
        for name, values in columns.items():
            history[name] = values[codes]
    if "timestamp" in history.columns and history["timestamp"].notna().any():
        history = history.sort_values("timestamp", ascending=False, kind="stable")
    return history[
        ["item", "rating", *[c for c in history.columns if c not in ("item", "rating")]]
    ].reset_index(drop=True)


def category_mix(lists: Mapping[str, pd.DataFrame], top: int = 8) -> pd.DataFrame:
    """Share of each product category per list (``{"rated": frame, "suggested": frame, …}``).

    Frames need a ``category`` column; the ``top`` categories over all lists are kept and the
    rest pooled as "other". Returns ``list, category, share, count``; empty without categories.
    """
    frames = [
        pd.DataFrame({"list": name, "category": frame["category"].fillna("").astype(str)})
        for name, frame in lists.items()
        if "category" in frame.columns and len(frame)
    ]
    if not frames:
        return pd.DataFrame(columns=["list", "category", "share", "count"])
    rows = pd.concat(frames, ignore_index=True)
    rows["category"] = rows["category"].replace("", "unknown")
    keep = rows["category"].value_counts().index[:top]
    rows.loc[~rows["category"].isin(keep), "category"] = "other"
    counts = rows.groupby(["list", "category"], sort=False).size().rename("count").reset_index()
    counts["share"] = counts["count"] / counts.groupby("list")["count"].transform("sum")
    return counts[["list", "category", "share", "count"]]


# -- the background training job ----------------------------------------------------------------


@dataclass
class TrainingJob:
    """A training run in a worker thread, polled by the page; never touches Streamlit.

    The page keeps the job in ``st.session_state`` and redraws from ``history`` and ``progress``
    while ``running``; ``stop()`` asks the trainer to finish after the current batch (the best
    epoch so far is kept). When the worker ends, ``run``/``run_id`` or ``error`` are set.

    Parameters
    ----------
    ratings
        A ``Ratings`` object (what ``pipeline.train_run`` takes).
    config
        The ``TrainConfig`` of the run.
    products
        Optional product table (``item, name, category``) saved with the run.
    directory
        Folder of saved runs (a :class:`~recsys_core.registry.RunRegistry` root).
    name
        Display name of the run; ``None`` lets the pipeline name it after its settings.
    train
        ``train_run``-compatible callable (default :func:`recsys_core.pipeline.train_run`).
    """

    ratings: Any
    config: Any
    products: Any = None
    directory: Path = field(default_factory=runs_dir)
    name: str | None = None
    train: Callable[..., Any] | None = None
    history: list[Any] = field(default_factory=list)
    progress: tuple[int, int, int] = (0, 0, 0)
    status: str = "pending"
    run: Any = None
    run_id: str | None = None
    run_path: Path | None = None
    error: str | None = None
    details: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("pending", "running")

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set() and self.running

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.perf_counter()) - self.started_at

    def start(self, *, background: bool = True) -> TrainingJob:
        """Start training; ``background=False`` runs it to the end in the calling thread (tests)."""
        self.status = "running"
        self.started_at = time.perf_counter()
        if background:
            self._thread = threading.Thread(target=self._work, name="recsys-train", daemon=True)
            self._thread.start()
        else:
            self._work()
        return self

    def stop(self) -> None:
        """Ask the trainer to stop after the current batch."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # The callbacks run in the worker thread: they only replace plain values, which the page
    # thread reads whole (a new list per epoch, so a reader never sees one being appended to).
    def _on_epoch(self, report: Any) -> None:
        self.history = [*self.history, report]

    def _on_progress(self, epoch: int, done: int, total: int) -> None:
        self.progress = (int(epoch), int(done), int(total))

    def _work(self) -> None:
        try:
            from recsys_core.registry import RunRegistry

            train = self.train
            if train is None:
                from recsys_core.pipeline import train_run as train
            registry = RunRegistry(self.directory)
            run = train(
                self.ratings,
                self.config,
                products=self.products,
                name=self.name,
                on_epoch=self._on_epoch,
                on_progress=self._on_progress,
                should_stop=self.stop_event.is_set,
            )
            record = registry.save(run)
            self.run, self.run_id, self.run_path = run, record.run_id, record.path
            self.status = "done"
        except RecsysError as exc:
            self.error = str(exc)
            self.status = "failed"
        except Exception as exc:  # shown as one line; the traceback goes into an expander
            self.error = f"Training failed unexpectedly ({type(exc).__name__}: {exc})."
            self.details = traceback.format_exc()
            self.status = "failed"
        finally:
            self.finished_at = time.perf_counter()
