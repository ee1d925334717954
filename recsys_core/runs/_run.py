"""A trained run in memory: :class:`Run`, everything one training produced, and the front door's
methods on it (evaluate, recommend, recommend_new, similar_items, save). The methods are thin: each
calls the one implementation the command line and the app call too."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recsys_core.baselines import ladder_for
from recsys_core.config import TrainConfig
from recsys_core.data import IdMap, Ratings, item_categories, product_columns, validation_start
from recsys_core.errors import RecsysError
from recsys_core.metrics import evaluate_run
from recsys_core.model import NCF, Blend
from recsys_core.runs._summary import RunSummary
from recsys_core.topn import build_seen_matrix, iter_visitor_blocks, recommend, similar_items

__all__ = ["Run"]


@dataclass(eq=False)
class Run:
    """Everything one training run produced: enough to evaluate and recommend without retraining.

    Parameters
    ----------
    name, created_at
        A label for lists and the run's creation time (ISO 8601).
    config
        The recipe that trained it.
    id_map
        User and item ids <-> integer codes.
    model
        The trained :class:`~recsys_core.model.NCF` (best epoch restored).
    history
        One record per epoch. :class:`~recsys_core.training.EpochReport` objects are stored as
        plain dicts, so a fresh run and a loaded one look the same.
    class_counts_before, class_counts_after
        ``{rating: count}`` of the training split before and after oversampling.
    metrics
        Test-split metrics, as returned by :func:`~recsys_core.metrics.evaluate_run`.
    summary
        How the run was made (:class:`RunSummary`: split sizes, best epoch, device, stage times,
        blend, data set); a ``split.json``-style dict is read into one.
    seen_users, seen_items
        Codes of the train + validation pairs: never recommended, never counted as hits.
    test_users, test_items, test_ratings
        The held-out test pairs and their ratings.
    popularity
        Training ratings per item (length ``n_items``): the most-popular baseline.
    rating_min, rating_max
        The rating scale, for turning scores back into stars.
    products
        Optional product table with columns ``item, name, category``.
    duration_seconds
        Wall time of the whole run.
    message
        A note for the user (e.g. "stopped early"), empty when there is nothing to say.
    blend
        The item-kNN blend every top-N list ranks with (:mod:`recsys_core.model._blend`), or ``None``
        for the plain model (``neighbours`` 0, ``β = 0`` chosen, or a run saved before blends).
    """

    name: str
    created_at: str
    config: TrainConfig
    id_map: IdMap
    model: NCF
    history: list[dict[str, Any]]
    class_counts_before: dict[float, int]
    class_counts_after: dict[float, int]
    metrics: dict[str, Any]
    summary: RunSummary
    seen_users: np.ndarray
    seen_items: np.ndarray
    test_users: np.ndarray
    test_items: np.ndarray
    test_ratings: np.ndarray
    popularity: np.ndarray
    rating_min: float
    rating_max: float
    products: pd.DataFrame | None = None
    duration_seconds: float = 0.0
    message: str = ""
    blend: Blend | None = None
    #: The folder the run was saved to or loaded from (``None`` until then): the baseline
    #: ladder is cached there.
    path: Path | None = field(default=None, init=False, repr=False)
    _seen: sp.csr_matrix | None = field(default=None, init=False, repr=False)
    _rated: sp.csr_matrix | None = field(default=None, init=False, repr=False)
    _product_columns: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.summary, Mapping):  # a dict as split.json holds it
            self.summary = RunSummary.from_json(self.summary)
        self.history = [_record(entry) for entry in self.history]
        self.seen_users = np.asarray(self.seen_users, dtype=np.int64)
        self.seen_items = np.asarray(self.seen_items, dtype=np.int64)
        self.test_users = np.asarray(self.test_users, dtype=np.int64)
        self.test_items = np.asarray(self.test_items, dtype=np.int64)
        self.test_ratings = np.asarray(self.test_ratings, dtype=np.float64)
        self.popularity = np.asarray(self.popularity)
        self.class_counts_before = {float(k): int(v) for k, v in self.class_counts_before.items()}
        self.class_counts_after = {float(k): int(v) for k, v in self.class_counts_after.items()}

    @property
    def n_users(self) -> int:
        return self.model.n_users

    @property
    def n_items(self) -> int:
        return self.model.n_items

    def seen_matrix(self) -> sp.csr_matrix:
        """Boolean ``n_users x n_items`` CSR of the train + validation pairs (built once)."""
        if self._seen is None:
            self._seen = build_seen_matrix(self.seen_users, self.seen_items, self.n_users, self.n_items)
        return self._seen

    def validation_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(user codes, item codes) of the validation pairs: the last ``summary.validation``
        seen pairs (the pipeline stores train then validation)."""
        start = validation_start(len(self.seen_users), self.summary.validation)
        return self.seen_users[start:], self.seen_items[start:]

    def training_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(user codes, item codes) of the training pairs, before oversampling."""
        start = validation_start(len(self.seen_users), self.summary.validation)
        return self.seen_users[:start], self.seen_items[:start]

    def rated_matrix(self) -> sp.csr_matrix:
        """Like :meth:`seen_matrix` but with the test pairs too: everything the user has rated."""
        if self._rated is None:
            self._rated = build_seen_matrix(
                np.concatenate([self.seen_users, self.test_users]),
                np.concatenate([self.seen_items, self.test_items]),
                self.n_users,
                self.n_items,
            )
        return self._rated

    def score_pairs(self, users: ArrayLike, items: ArrayLike) -> np.ndarray:
        """Predicted ratings in [0, 1] for (user code, item code) pairs, as float64 numpy.

        These are the model's scores, or its rating head's for a ``hybrid`` run (see
        :meth:`recsys_core.model.NCF.rating_scores`); the classification metrics use them.
        """
        self.model.eval()
        return self.model.score_pairs_chunked(users, items, "rating_scores", dtype=np.float64)

    def test_scores(self) -> np.ndarray:
        """Scores of the test pairs, in the order of :attr:`test_ratings`."""
        return self.score_pairs(self.test_users, self.test_items)

    def history_frame(self) -> pd.DataFrame:
        """The per-epoch history as a table (one row per epoch)."""
        return pd.DataFrame(self.history)

    def item_categories(self) -> np.ndarray | None:
        """Each item code's category (``None`` without a product table or without categories)."""
        return item_categories(self.product_columns())

    def product_columns(self) -> dict[str, np.ndarray] | None:
        """``{"name": ..., "category": ...}`` aligned with item codes, or ``None`` without products.

        Items missing from the product table get empty strings.
        """
        if self.products is None:
            return None
        if self._product_columns is None:
            self._product_columns = product_columns(self.products, self.id_map.items)
        return self._product_columns

    # -- the front door: what people do with a run, each a thin call of the one implementation --

    def evaluate(
        self,
        *,
        k: int = 10,
        max_users: int | None = 20_000,
        baselines: bool = True,
        on_rung: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Test metrics next to the baseline ladder: the object ``recsys evaluate --json`` prints.

        Parameters
        ----------
        k
            List length of the ranking metrics.
        max_users
            Rank a seeded sample of this many test customers (``None``: all of them).
        baselines
            Fit (or read from :attr:`path`'s cache, or the runs folder's for this split)
            most popular, item-kNN, EASE and iALS on the
            run's own training split and add them under ``["ranking"]["baselines"]``, within
            the ladder's time budget (a method that would not finish in it is skipped, saying why).
        on_rung
            Hears each classic method's label as its fit starts (not called for a cached ladder).
        """
        from recsys_core.runs._registry import shared_ladders  # the registry builds on this class

        result = evaluate_run(self, k=k, max_users=max_users)
        if baselines:
            shared = shared_ladders(self.path)
            result["ranking"]["baselines"] = ladder_for(
                self, self.path, k=k, max_users=max_users, shared=shared, on_rung=on_rung
            )
        return result

    def recommend(self, user_id: str, n: int = 10, *, exclude_test: bool = False) -> pd.DataFrame:
        """Top-``n`` products ``user_id`` has not rated, best first: ``rank, item, score, match`` (+
        ``name, category`` with a product table). ``score`` is the model's sigmoid output, as
        before (1.000 for every suggestion of a ``softmax`` run); ``match`` separates the list: the
        chance relative to the first row's (1.0 for it; see
        :func:`recsys_core.topn.recommend`). An unknown customer gets the most popular products;
        ``table.attrs["message"]`` says which list it is, ``attrs["known_user"]`` whether personal."""
        answer = recommend(self, user_id, n, exclude_test=exclude_test)
        table = answer.table
        table.attrs.update(message=answer.message, known_user=answer.known_user)
        return table

    def recommend_new(
        self,
        visitors: pd.DataFrame | Ratings,
        n: int = 10,
        *,
        explain: bool = True,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> pd.DataFrame:
        """Top-``n`` for customers the model never saw, from their ratings (``user, item, rating``),
        folded into the trained model without retraining.

        Returns
        -------
        pandas.DataFrame
            ``user, rank, item, score, match`` (+ ``name, category``), ``because`` (the rated
            products at or above the "likes it" line that add most to each score, and the ones below
            it that raise it by pushing the profile away from them: ``kind`` ``"liked"`` or
            ``"less like"``) and ``low_rated`` (products rated below the line that the model took as
            interest and that raise the suggestion as much as a listed reason), visitors in order
            of first appearance. A
            visitor with no product known to the run gets the most popular products
            (``attrs["fallback"]`` lists them); ``attrs["ignored"]`` counts unknown products per visitor.

        ``progress(label, done, total)`` hears the visitors done, a block of them at a time.
        """
        frame = visitors.frame if isinstance(visitors, Ratings) else visitors
        blocks = list(iter_visitor_blocks(self, frame, n, explain=explain, progress=progress))
        table = pd.concat([block.table for block in blocks], ignore_index=True)
        users = [user for block in blocks for user in block.users]
        fallback = np.concatenate([block.fallback for block in blocks])
        ignored = np.concatenate([block.ignored for block in blocks])
        table.attrs.update(
            fallback=[user for user, back in zip(users, fallback, strict=True) if back],
            ignored=dict(zip(users, ignored.tolist(), strict=True)),
        )
        return table

    def similar_items(self, item_id: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` products whose profiles point most nearly the same way as ``item_id``'s:
        ``item, similarity`` (cosine) (+ ``name, category``), the product itself left out."""
        return similar_items(self, item_id, n)

    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the run to the folder ``directory`` (see :func:`~recsys_core.runs.save_run`)."""
        from recsys_core.runs._folder import save_run  # the folder format builds on this class

        return save_run(self, directory, overwrite=overwrite)


def _record(entry: object) -> dict[str, Any]:
    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return dataclasses.asdict(entry)
    if isinstance(entry, dict):
        return dict(entry)
    raise RecsysError(f"A history entry must be an EpochReport or a dict, not {type(entry).__name__}.")
