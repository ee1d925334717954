"""Duplicates and the k-core filter, on integer codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from recsys_core.errors import check_count
from recsys_core.limits import MAX_MIN_RATINGS


def k_core(frame: pd.DataFrame, min_user_ratings: int = 1, min_item_ratings: int = 1) -> pd.DataFrame:
    """Keep only users and items with enough ratings, repeating until nothing changes.

    Dropping a sparse item can push a user below the minimum and vice versa, so the filter
    iterates to the fixed point (the "k-core").

    Parameters
    ----------
    frame
        Ratings with ``user`` and ``item`` columns.
    min_user_ratings, min_item_ratings
        The minimum number of ratings every remaining user / item must have.

    Returns
    -------
    pandas.DataFrame
        The surviving rows in their original order, with a fresh ``RangeIndex``.
    """
    check_minimums(min_user_ratings, min_item_ratings)
    users, user_ids = pd.factorize(frame["user"])
    items, item_ids = pd.factorize(frame["item"])
    keep = kcore_mask(users, items, len(user_ids), len(item_ids), min_user_ratings, min_item_ratings)
    return frame.loc[keep].reset_index(drop=True)


def encode_pairs(users: pa.ChunkedArray, items: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Integer codes (order of first appearance) and distinct counts for users and items."""
    # One column after the other: hashing is memory-bound, and two threads measured slower.
    user_codes, n_users = _encode(users)
    item_codes, n_items = _encode(items)
    return user_codes, item_codes, n_users, n_items


def _encode(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    encoded = column.dictionary_encode()
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), 0
    # Arrow shares one dictionary across the chunks of an encoded ChunkedArray.
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in encoded.chunks])
    return codes.astype(np.int64, copy=False), len(encoded.chunk(0).dictionary)


def duplicate_rows(
    user_codes: np.ndarray, item_codes: np.ndarray, n_items: int, times: np.ndarray | None
) -> np.ndarray:
    """Rows to drop so that each (user, item) pair keeps its latest rating (ties: the last row)."""
    key = user_codes * np.int64(max(n_items, 1)) + item_codes
    ordered = np.sort(key)  # sorting beats hashing for millions of int64 keys
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return np.zeros(0, dtype=np.int64)
    repeated = np.unique(repeated)
    slot = np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)
    rows = np.flatnonzero(repeated[slot] == key)
    sort_keys = (rows, key[rows]) if times is None else (rows, times[rows].view(np.int64), key[rows])
    order = rows[np.lexsort(sort_keys)]
    grouped = key[order]
    last_of_pair = np.append(grouped[1:] != grouped[:-1], True)
    return np.sort(order[~last_of_pair])


def kcore_mask(
    users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, min_user: int, min_item: int
) -> np.ndarray:
    """Rows that survive the k-core filter: users and items with fewer ratings dropped until stable."""
    keep = np.ones(len(users), dtype=bool)
    while True:
        user_counts = np.bincount(users[keep], minlength=n_users)
        item_counts = np.bincount(items[keep], minlength=n_items)
        too_few = keep & ((user_counts[users] < min_user) | (item_counts[items] < min_item))
        if not too_few.any():
            return keep
        keep &= ~too_few


def check_minimums(min_user_ratings: int, min_item_ratings: int) -> None:
    """Refuse k-core minimums that are not whole numbers of at least 1."""
    for label, value in (("min_user_ratings", min_user_ratings), ("min_item_ratings", min_item_ratings)):
        check_count(value, f"{label} (1 keeps everything)", most=MAX_MIN_RATINGS)
