"""Seeded draws over users: which test users are ranked, and bootstrap resamples of them.

Every figure that rests on a sample is reproducible from its seed: ``evaluate``, the baseline
ladder, the run diff and the report rank the same users for the same seed (:func:`sample_distinct`),
and the bootstrap intervals and standard errors come from the same resampling (:func:`bootstrap_weights`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_LIST_CELLS, MAX_RANKED_USERS

#: Cells (replicates x users) of one chunk of the bootstrap index matrix: ~32 MB of int64.
BOOT_CHUNK_CELLS = 1 << 22


def sample_distinct(codes: ArrayLike, max_users: int | None, seed: int) -> np.ndarray:
    """The distinct values of ``codes``, sorted; a seeded random sample of ``max_users`` of them
    (sorted) when there are more (``None``: all).

    Tens of thousands of users pin an average to well under a point, so ranking a sample keeps
    millions of test users to seconds; the same codes and seed always give the same sample.
    """
    if max_users is not None:
        max_users = check_count(max_users, "max_users (test customers ranked)", most=MAX_RANKED_USERS)
    distinct = np.unique(codes)
    if max_users is not None and len(distinct) > max_users:
        rng = np.random.default_rng(seed)
        distinct = np.sort(rng.choice(distinct, size=int(max_users), replace=False))
    return distinct


def check_list_cells(users: int, width: int) -> None:
    """Refuse holding ``users`` top-``width`` lists at once past
    :data:`~recsys_core.limits.MAX_LIST_CELLS` (before they are allocated)."""
    if users * width > MAX_LIST_CELLS:
        raise RecsysError(
            f"Ranking {users:,} customers' top-{width:,} lists would hold {users * width:,} products at "
            f"once (at most {MAX_LIST_CELLS:,}); lower the list length (--k) or rank a sample (--max-users)."
        )


def bootstrap_weights(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Chunks of ``(c, n)`` float64 resampling counts, ``n_boot`` rows in all (seeded).

    Each row counts how often each of the ``n`` units is drawn when ``n`` indices are drawn with
    replacement: an index matrix of ``c x n`` turned into counts by one ``bincount``. The draws
    do not depend on the chunking (numpy draws the index matrix as one stream).
    """
    rng = np.random.default_rng(seed)
    step = max(1, BOOT_CHUNK_CELLS // max(n, 1))
    for start in range(0, n_boot, step):
        c = min(step, n_boot - start)
        index = rng.integers(0, n, size=(c, n))
        flat = (np.arange(c, dtype=np.int64)[:, None] * n + index).ravel()
        yield np.bincount(flat, minlength=c * n).reshape(c, n).astype(np.float64)
