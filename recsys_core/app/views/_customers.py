"""One customer as a run knows them: who to try first, what they rated, the categories of lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recsys_core.topn import with_products

if TYPE_CHECKING:  # a run's module pulls in torch; these helpers only read its arrays
    from recsys_core.runs import Run


#: Ratings of the customer the Recommend page opens with: enough to show a taste, few enough
#: that their whole history fits beside the suggestions.
TYPICAL_RATINGS = (10, 30)


def example_users(
    counts: pd.Series, n: int = 8, min_ratings: int = 3, typical: tuple[int, int] = TYPICAL_RATINGS
) -> list[str]:
    """A handful of users with several ratings, to try first on the Recommend page.

    ``counts`` is ratings per user (indexed by user id). The first is a customer with a
    ``typical`` number of ratings (the one nearest the middle of that range, when any has), so
    the page opens on a history one can read at a glance; the others are spread over the
    activity range (not only the most active), preferring users with at least ``min_ratings``.
    Deterministic.
    """
    rich = counts[counts >= min_ratings]
    if rich.empty:
        rich = counts[counts > 0]
    if rich.empty:
        return []
    rich = rich.sort_values(ascending=False, kind="stable")
    positions = np.unique(np.linspace(0, len(rich) - 1, num=min(n, len(rich))).round().astype(int))
    spread = [str(u) for u in rich.index[positions]]
    low, high = typical
    band = rich[(rich >= low) & (rich <= high)]
    if band.empty:
        return spread
    first = str((band - (low + high) / 2).abs().sort_values(kind="stable").index[0])
    return [first, *[u for u in spread if u != first]][: max(n, 1)]


def run_user_counts(run: Run) -> pd.Series:
    """Ratings per user known to a run (train + validation + test pairs), most active first."""
    codes = np.concatenate([np.asarray(run.seen_users), np.asarray(run.test_users)])
    counts = np.bincount(codes, minlength=run.n_users)
    series = pd.Series(counts, index=pd.Index(run.id_map.users, dtype=object).astype(str), name="ratings")
    return series.sort_values(ascending=False, kind="stable")


def user_history(run: Run, user: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
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
        _join_dataset(history, frame, str(user))
    with_products(run, history, codes)
    if "timestamp" in history.columns and history["timestamp"].notna().any():
        history = history.sort_values("timestamp", ascending=False, kind="stable")
    return history[
        ["item", "rating", *[c for c in history.columns if c not in ("item", "rating")]]
    ].reset_index(drop=True)


def _join_dataset(history: pd.DataFrame, frame: pd.DataFrame, user: str) -> None:
    """Fill the stars (and times) of ``history`` in place from the dataset rows of ``user``."""
    mine = frame.loc[frame["user"] == user]
    if not len(mine):
        return
    extra = [c for c in ("rating", "timestamp") if c in mine.columns]
    mine = mine.drop_duplicates("item", keep="last").set_index("item")[extra]
    joined = mine.reindex(history["item"])
    history["rating"] = history["rating"].fillna(pd.Series(joined["rating"].to_numpy(), index=history.index))
    if "timestamp" in joined.columns:
        history["timestamp"] = joined["timestamp"].to_numpy()


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
