"""Baseline ladders fitted in the background, so the results page finds them ready.

The ladder depends on the training split only (:func:`recsys_core.baselines.split_fingerprint`),
so it can be fitted while the model trains: :class:`~recsys_core.app.TrainingJob` hands the
prepared split to :func:`fit_in_background` as soon as it exists, and the Train page starts
:func:`warm_ladder` for the built-in demo data's default split when it first shows it. Both fill
the runs folder's shared cache (``<runs>/ladders``) through the one cached path,
:func:`recsys_core.baselines.shared_ladder`; the page reading the same split meanwhile waits
for that fit instead of fitting twice. A background fit runs at the lowest CPU priority, so the
training beside it keeps the cores it needs.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch-free at import time, like the rest of the app's jobs
    import pandas as pd

    from recsys_core.baselines import LadderSplit
    from recsys_core.config import TrainConfig
    from recsys_core.data import Ratings

#: The list length of the results page's ladder (the pipeline's ranking k).
LADDER_K = 10
#: Niceness of a background fit's thread (Linux: per thread; elsewhere ignored).
BACKGROUND_NICE = 19

_warmed: set[tuple[str, str, str, int]] = set()
_warmed_guard = threading.Lock()


def fit_in_background(split: LadderSplit, directory: Path) -> threading.Thread:
    """Fit ``split``'s ladder into ``directory``'s shared cache in a daemon thread (started)."""

    def fit() -> None:
        from recsys_core.baselines import LADDERS_DIR, shared_ladder
        from recsys_core.metrics import RANKING_MAX_USERS

        shared_ladder(split, directory / LADDERS_DIR, k=LADDER_K, max_users=RANKING_MAX_USERS)

    return _start(fit, "recsys-ladder")


def warm_ladder(
    ratings: Ratings, products: pd.DataFrame | None, config: TrainConfig, directory: Path, *, key: str
) -> threading.Thread | None:
    """Split ``ratings`` as ``config`` says and fit that split's ladder in the background.

    Once per server for each runs folder, data ``key``, split method and seed: a second call
    returns ``None``. The thread splits the data itself (what training will do first), so the
    page calling this is not held up.
    """
    marker = (str(directory), key, str(config.split), int(config.seed))
    with _warmed_guard:
        if marker in _warmed:
            return None
        _warmed.add(marker)

    def fit() -> None:
        from recsys_core.baselines import LADDERS_DIR, LadderSplit, shared_ladder
        from recsys_core.data import prepare_data
        from recsys_core.metrics import RANKING_MAX_USERS

        prepared = prepare_data(ratings.frame, config)
        split = LadderSplit.of_prepared(prepared, config.seed, products)
        del prepared  # the encoded training set is not needed while the ladder fits
        shared_ladder(split, directory / LADDERS_DIR, k=LADDER_K, max_users=RANKING_MAX_USERS)

    return _start(fit, "recsys-ladder-warm")


def _start(fit: Callable[[], None], name: str) -> threading.Thread:
    def work() -> None:
        _lower_priority()
        # Best effort: a split the ladder cannot be fitted on (no validation ratings, too little
        # memory) or a read-only runs folder is reported by the page when it fits it itself.
        with contextlib.suppress(Exception):
            fit()

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return thread


def _lower_priority() -> None:
    # On Linux a thread is its own scheduling entity, so this thread alone yields to the trainer.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
