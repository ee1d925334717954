"""What the ladder is fitted on: a run's split as plain arrays, and its fingerprint.

The classic methods never see the model: their figures depend on the training, validation and
test pairs, the catalogue, the products' categories, ``k`` and the seeded user sample only. So
two runs trained on the same data with the same split method and seed share one ladder whatever
their recipe, and :func:`split_fingerprint` names it. A :class:`LadderSplit` is built from a
saved run (:meth:`LadderSplit.of_run`) or, while a model trains, from the prepared data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recsys_core.data import PreparedData, item_categories, product_columns, validation_start

if TYPE_CHECKING:
    import pandas as pd

    from recsys_core.runs import Run

#: Bumped when the fingerprint's recipe (or the ladder's) changes, so older caches are refitted.
FINGERPRINT_VERSION = 1


@dataclass(frozen=True, eq=False)
class LadderSplit:
    """One split's pairs as item and user codes, with what the scores are measured against.

    Attributes
    ----------
    user_ids, item_ids
        The catalogue in code order (the id map's users and items).
    train_users, train_items, val_users, val_items, test_users, test_items
        The training pairs (before oversampling), the validation and the test pairs.
    popularity
        Training ratings per item (the beyond-accuracy metrics' popularity).
    categories
        Each item code's category, or ``None`` without categories.
    seed
        The run's seed: it draws the user sample.
    """

    user_ids: Sequence[str]
    item_ids: Sequence[str]
    train_users: np.ndarray
    train_items: np.ndarray
    val_users: np.ndarray
    val_items: np.ndarray
    test_users: np.ndarray
    test_items: np.ndarray
    popularity: np.ndarray
    categories: np.ndarray | None
    seed: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.user_ids), len(self.item_ids)

    @classmethod
    def of_run(cls, run: Run) -> LadderSplit:
        """The split ``run`` was trained and tested on."""
        train_users, train_items = run.training_pairs()
        val_users, val_items = run.validation_pairs()
        return cls(
            user_ids=run.id_map.users,
            item_ids=run.id_map.items,
            train_users=train_users,
            train_items=train_items,
            val_users=val_users,
            val_items=val_items,
            test_users=run.test_users,
            test_items=run.test_items,
            popularity=run.popularity,
            categories=run.item_categories(),
            seed=int(run.config.seed),
        )

    @classmethod
    def of_prepared(cls, prepared: PreparedData, seed: int, products: pd.DataFrame | None) -> LadderSplit:
        """The split a training is about to train on (what its saved run's :meth:`of_run` gives)."""
        # As the saved run counts them (its summary's validation size), so both give one split.
        start = validation_start(len(prepared.seen_users), prepared.split_summary["validation"])
        columns = None if products is None else product_columns(products, prepared.id_map.items)
        return cls(
            user_ids=prepared.id_map.users,
            item_ids=prepared.id_map.items,
            train_users=prepared.seen_users[:start],
            train_items=prepared.seen_items[:start],
            val_users=prepared.seen_users[start:],
            val_items=prepared.seen_items[start:],
            test_users=prepared.test_users,
            test_items=prepared.test_items,
            popularity=prepared.popularity,
            categories=item_categories(columns),
            seed=int(seed),
        )


def split_fingerprint(split: LadderSplit, k: int, max_users: int | None) -> str:
    """SHA-256 (64 hex digits) of everything the ladder's figures of ``split`` depend on.

    The catalogue's ids in code order, the training, validation and test pairs, the popularity,
    the categories, the seed, ``k`` and ``max_users`` (and :data:`FINGERPRINT_VERSION`). Each
    part is prefixed with its name and length, so no two different splits hash the same bytes.
    """
    digest = hashlib.sha256(f"ladder-split v{FINGERPRINT_VERSION}".encode())
    header = f"k={int(k)};max_users={max_users};seed={int(split.seed)}"
    update = digest.update
    _part(update, "header", header.encode())
    for name, ids in (("users", split.user_ids), ("items", split.item_ids)):
        _strings(update, name, ids)
    pairs = {
        "train_users": split.train_users,
        "train_items": split.train_items,
        "val_users": split.val_users,
        "val_items": split.val_items,
        "test_users": split.test_users,
        "test_items": split.test_items,
        "popularity": split.popularity,
    }
    for name, codes in pairs.items():
        _part(update, name, np.ascontiguousarray(codes, dtype=np.int64).tobytes())
    if split.categories is not None:
        _strings(update, "categories", split.categories)
    return digest.hexdigest()


def _part(update: Callable[[bytes], object], name: str, data: bytes) -> None:
    update(f"\n{name}:{len(data)}:".encode())
    update(data)


def _strings(update: Callable[[bytes], object], name: str, values: Sequence[str] | np.ndarray) -> None:
    # Lengths first, then the text: "a,b" and "a", "b" can never hash alike.
    texts = [str(value).encode("utf-8", "surrogatepass") for value in values]
    _part(update, f"{name}.lengths", np.array([len(t) for t in texts], dtype=np.int64).tobytes())
    _part(update, name, b"".join(texts))
