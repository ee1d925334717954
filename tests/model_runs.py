"""A :class:`~recsys_core.runs.Run` around a model and the pairs it has seen, with nothing
trained or evaluated: for the tests and benchmarks that only recommend from it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recsys_core.config import TrainConfig
from recsys_core.data import IdMap, item_popularity
from recsys_core.model import NCF
from recsys_core.runs import Run, RunSummary


def model_run(
    model: NCF,
    users: Sequence[str],
    items: Sequence[str],
    seen_users: np.ndarray,
    seen_items: np.ndarray,
    *,
    name: str = "run",
    config: TrainConfig | None = None,
    test: tuple[Sequence[int], Sequence[int], Sequence[float]] = ((), (), ()),
    products: pd.DataFrame | None = None,
) -> Run:
    """A run of ``model`` whose customers and products are called ``users`` and ``items``.

    ``config`` defaults to the ``fast`` preset at the model's embedding size; popularity is
    counted from the seen pairs; ``test`` holds the test pairs' user codes, item codes and
    ratings (none by default); no history, metrics or class counts.
    """
    return Run(
        name=name,
        created_at="2024-01-01T00:00:00+00:00",
        config=config or TrainConfig.preset("fast", embedding_dim=model.embedding_dim),
        id_map=IdMap(users=pd.Index(users, dtype="str"), items=pd.Index(items, dtype="str")),
        model=model,
        history=[],
        class_counts_before={},
        class_counts_after={},
        metrics={},
        summary=RunSummary(),
        seen_users=seen_users,
        seen_items=seen_items,
        test_users=np.asarray(test[0], dtype=np.int64),
        test_items=np.asarray(test[1], dtype=np.int64),
        test_ratings=np.asarray(test[2], dtype=np.float64),
        popularity=item_popularity(seen_items, model.n_items),
        rating_min=1.0,
        rating_max=5.0,
        products=products,
    )
