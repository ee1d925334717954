"""Hold-out splits: train / validation / test, without leaking a (user, item) pair across parts.

``leave-last-out`` is the reference notebook's split: per user, the latest rating is the test
rating and the one before it the validation rating. Everything here is vectorised (no loop per
user), so the full 7.8 M-rating Amazon file splits in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys_core.errors import RecsysError

METHODS = ("auto", "leave-last-out", "random", "temporal")
#: Users need this many ratings before one goes to validation and one to test.
MIN_USER_RATINGS = 3


@dataclass
class Split:
    """The three parts of a hold-out split.

    Attributes
    ----------
    train, validation, test
        Frames with the input's columns, rows in their original order, fresh ``RangeIndex``.
        Every user and item of ``validation`` and ``test`` occurs in ``train``, and no
        (user, item) pair occurs in two parts.
    method
        The method used (``auto`` resolved to ``leave-last-out`` or ``random``).
    dropped_unknown
        Validation and test rows dropped because their user or item is not in ``train``.
    duplicates_dropped
        Repeated (user, item) rows dropped before splitting (the latest was kept).
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    method: str
    dropped_unknown: int = 0
    duplicates_dropped: int = 0

    def __repr__(self) -> str:
        return (
            f"Split(method={self.method!r}, train={len(self.train)}, validation={len(self.validation)}, "
            f"test={len(self.test)}, dropped_unknown={self.dropped_unknown}, "
            f"duplicates_dropped={self.duplicates_dropped})"
        )


def split_ratings(
    frame: pd.DataFrame, method: str = "auto", *, seed: int = 42, test_fraction: float = 0.1
) -> Split:
    """Split ratings into train, validation and test.

    Parameters
    ----------
    frame
        Columns ``user``, ``item``, ``rating`` and optionally ``timestamp`` (datetime64 or
        numbers), as :attr:`recsys_core.data.ratings.Ratings.frame`.
    method
        ``leave-last-out``: per user, the last rating by time goes to test and the one before
        it to validation (ties in time: the later row counts as later); users with fewer than
        3 ratings stay wholly in train. ``random``: the same, with a seeded random choice of
        the two held-out ratings instead of the latest. ``temporal``: one global time cut-off;
        the latest ``test_fraction`` of the ratings go to test and the ``test_fraction``
        before them to validation. ``auto``: ``leave-last-out`` when there is a timestamp
        column, else ``random``.
    seed
        Seeds the ``random`` method.
    test_fraction
        Share of ratings for each of test and validation in the ``temporal`` method.

    Returns
    -------
    Split

    Raises
    ------
    RecsysError
        Unknown method, missing columns or timestamps, or a split that leaves validation or
        test empty (the message says why and what to do instead).
    """
    resolved = _resolve_method(frame, method)
    if len(frame) == 0:
        raise RecsysError("There are no ratings to split: the ratings table is empty.")
    times = _time_keys(frame) if resolved in ("leave-last-out", "temporal") else None

    user_codes, n_users = _factorize(frame, "user")
    item_codes, n_items = _factorize(frame, "item")

    rows = _latest_unique_pairs(user_codes * n_items + item_codes, times)
    duplicates_dropped = len(frame) - len(rows)
    if duplicates_dropped:
        user_codes, item_codes = user_codes[rows], item_codes[rows]
        times = times[rows] if times is not None else None

    if resolved == "temporal":
        part = _temporal_parts(times, test_fraction)
    else:
        if resolved == "random":
            # A random permutation as the "time": unique keys, so no ties to break.
            keys = np.random.default_rng(seed).permutation(len(user_codes)).astype(np.int64)
        else:
            keys = times
        part = _last_two_parts(user_codes, keys, n_users)

    train = part == 0
    known_user = np.bincount(user_codes[train], minlength=n_users) > 0
    known_item = np.bincount(item_codes[train], minlength=n_items) > 0
    held_out = ~train
    unknown = held_out & ~(known_user[user_codes] & known_item[item_codes])
    part[unknown] = -1
    dropped_unknown = int(unknown.sum())

    _check_not_empty(resolved, part, unknown, user_codes, n_users)
    take = rows if duplicates_dropped else np.arange(len(frame))
    return Split(
        train=_rows(frame, take[part == 0]),
        validation=_rows(frame, take[part == 1]),
        test=_rows(frame, take[part == 2]),
        method=resolved,
        dropped_unknown=dropped_unknown,
        duplicates_dropped=duplicates_dropped,
    )


# -- internals -------------------------------------------------------------------------------


def _resolve_method(frame: pd.DataFrame, method: str) -> str:
    if not isinstance(frame, pd.DataFrame):
        raise RecsysError(f"split_ratings needs a pandas DataFrame of ratings, got {type(frame).__name__}.")
    missing = [c for c in ("user", "item", "rating") if c not in frame.columns]
    if missing:
        raise RecsysError(
            f"Cannot split ratings: column(s) {', '.join(missing)} missing (the table has "
            f"{', '.join(map(str, frame.columns)) or 'no columns'}); load the file with load_ratings, "
            "which names the columns user, item, rating and timestamp."
        )
    name = str(method).strip().lower().replace("_", "-")
    if name not in METHODS:
        raise RecsysError(f"Unknown split method {method!r}: choose one of {', '.join(METHODS)}.")
    has_times = "timestamp" in frame.columns
    if name == "auto":
        return "leave-last-out" if has_times else "random"
    if name in ("leave-last-out", "temporal") and not has_times:
        raise RecsysError(
            f"The {name} split orders ratings by time, but these ratings have no timestamp column. "
            "Use the random split, or load a file with a time column (map it with time=<column>)."
        )
    return name


def _time_keys(frame: pd.DataFrame) -> np.ndarray:
    """Timestamps as int64 (datetime units) or float64 (numeric times), for ordering only."""
    times = frame["timestamp"]
    missing = times.isna().to_numpy()
    if missing.any():
        where = np.flatnonzero(missing)[:5] + 1
        raise RecsysError(
            f"The timestamp column has {int(missing.sum()):,} missing value(s) (data rows "
            f"{', '.join(map(str, where))}{', …' if missing.sum() > 5 else ''}); fill or drop them, "
            "or use the random split, which ignores time."
        )
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert(None)
    if pd.api.types.is_datetime64_dtype(times.dtype):
        return times.to_numpy().view(np.int64)
    if pd.api.types.is_numeric_dtype(times.dtype) and not pd.api.types.is_bool_dtype(times.dtype):
        return times.to_numpy(dtype=np.float64)
    raise RecsysError(
        f"The timestamp column holds {times.dtype} values; it needs dates/times or numbers "
        "(e.g. unix seconds). Load the file with load_ratings, which parses times."
    )


def _factorize(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, int]:
    """Codes 0..n-1 (int64) of an id column, and n."""
    values = frame[column]
    missing = values.isna().to_numpy()
    if missing.any():
        where = np.flatnonzero(missing)[:5] + 1
        raise RecsysError(
            f"The {column} column has {int(missing.sum()):,} missing id(s) (data rows "
            f"{', '.join(map(str, where))}); drop those rows before splitting."
        )
    if values.dtype == "str":
        # Arrow's dictionary encoding of Arrow-backed strings is faster than pd.factorize.
        array = pa.array(values.array)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        encoded = pc.dictionary_encode(array)
        return encoded.indices.to_numpy().astype(np.int64), len(encoded.dictionary)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), len(uniques)


def _latest_unique_pairs(pair_keys: np.ndarray, times: np.ndarray | None) -> np.ndarray:
    """Row positions, ascending, keeping the latest row of each (user, item) pair."""
    # Sorting finds repeats several times faster than a hash table at millions of rows.
    ordered = np.sort(pair_keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return np.arange(len(pair_keys))
    order = np.argsort(times, kind="stable") if times is not None else np.arange(len(pair_keys))
    repeated = pd.Series(pair_keys[order]).duplicated(keep="last").to_numpy()
    return np.sort(order[~repeated])


def _last_row_per_user(users: np.ndarray, keys: np.ndarray, rows: np.ndarray, n_users: int) -> np.ndarray:
    """For each user, the row in ``rows`` with the largest (key, row position); -1 if none."""
    best = np.full(n_users, np.iinfo(np.int64).min if keys.dtype.kind == "i" else -np.inf, dtype=keys.dtype)
    np.maximum.at(best, users[rows], keys[rows])
    tied = rows[keys[rows] == best[users[rows]]]
    last = np.full(n_users, -1, dtype=np.int64)
    np.maximum.at(last, users[tied], tied)
    return last


def _last_two_parts(users: np.ndarray, keys: np.ndarray, n_users: int) -> np.ndarray:
    """Part per row (0 train, 1 validation, 2 test): each eligible user's last two by key."""
    counts = np.bincount(users, minlength=n_users)
    part = np.zeros(len(users), dtype=np.int8)
    eligible = np.flatnonzero(counts[users] >= MIN_USER_RATINGS)
    if not len(eligible):
        return part
    last = _last_row_per_user(users, keys, eligible, n_users)
    last = last[last >= 0]
    part[last] = 2
    remaining = eligible[part[eligible] == 0]
    second = _last_row_per_user(users, keys, remaining, n_users)
    part[second[second >= 0]] = 1
    return part


def _temporal_parts(times: np.ndarray, test_fraction: float) -> np.ndarray:
    if not 0.0 < test_fraction < 0.5:
        raise RecsysError(
            f"test_fraction must be between 0 and 0.5 (exclusive), got {test_fraction!r}: the test and "
            "validation parts each take that share of the ratings."
        )
    n = len(times)
    n_test = max(1, math.ceil(n * test_fraction))
    n_held = min(n, 2 * n_test)
    # Cut-offs are times, not row counts: ratings at the same time always land in the same part.
    cut_test, cut_validation = np.partition(times, [n - n_held, n - n_test])[[n - n_test, n - n_held]]
    part = np.zeros(n, dtype=np.int8)
    part[times >= cut_validation] = 1
    part[times >= cut_test] = 2
    empty = [name for code, name in enumerate(("train", "validation", "test")) if not (part == code).any()]
    if empty:
        raise RecsysError(
            f"The temporal split left the {' and '.join(empty)} part empty: the {n:,} ratings' timestamps "
            f"are too few or too alike to cut off {test_fraction:.0%} of them twice. Use the random or "
            "leave-last-out split, or more data."
        )
    return part


def _check_not_empty(
    method: str, part: np.ndarray, unknown: np.ndarray, users: np.ndarray, n_users: int
) -> None:
    n_validation, n_test = int((part == 1).sum()), int((part == 2).sum())
    if n_validation and n_test:
        return
    empty = " and ".join(name for name, n in (("validation", n_validation), ("test", n_test)) if not n)
    if method == "temporal":
        raise RecsysError(
            f"The temporal split left the {empty} part empty: all {int(unknown.sum()):,} ratings after the "
            "cut-off are by users or for products that have no earlier rating, so the model could not "
            "score them. Use the leave-last-out or random split, or more data."
        )
    counts = np.bincount(users, minlength=n_users)
    eligible = int((counts >= MIN_USER_RATINGS).sum())
    if not eligible:
        raise RecsysError(
            f"The {method} split needs users with at least {MIN_USER_RATINGS} ratings (one for test, one for "
            f"validation, the rest to learn from), but none of the {n_users:,} users has that many (the most "
            f"is {int(counts.max())}). Use the temporal split, or load more ratings per user."
        )
    raise RecsysError(
        f"The {method} split left the {empty} part empty: {eligible:,} user(s) have at least "
        f"{MIN_USER_RATINGS} ratings, but all {int(unknown.sum()):,} held-out ratings are for products (or "
        "by users) that occur nowhere else, so the model could not score them. Load more ratings, or keep "
        "only products with a few ratings each (min_item_ratings)."
    )


def _rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    return frame.take(positions).reset_index(drop=True)
