"""Baseline ladders fitted in the background, so the results page finds them ready.

The ladder depends on the training split only (:func:`recsys_core.baselines.split_fingerprint`),
so it can be fitted while the model trains: :class:`~recsys_core.app.TrainingJob` hands the
prepared split to :func:`fit_in_background` as soon as it exists, and the Train page starts
:func:`warm_ladder` for the built-in demo data's default split when it first shows it. Both fill
the runs folder's shared cache (``<runs>/ladders``) through the one cached path,
:func:`recsys_core.baselines.shared_ladder`; the page reading the same split meanwhile waits
for that fit instead of fitting twice. A background fit runs at the lowest CPU priority, so the
training beside it keeps the cores it needs. When the process exits, a fit still running stops
at its next grid point (:data:`EXIT_WAIT_SECONDS` at most) rather than being cut off inside
native code, which would abort the interpreter.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
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
#: How long the exiting process waits for a stopped fit to reach its next grid point.
EXIT_WAIT_SECONDS = 30.0

#: What a fit imports (torch through the ladder's top-N code), done before lowering priority:
#: ``(module, name)``; a name of a lazy package face loads the module behind it.
_HEAVY_IMPORTS = (
    ("torch", None),
    ("recsys_core.baselines", "shared_ladder"),
    ("recsys_core.baselines", "LadderSplit"),
    ("recsys_core.data", "prepare_data"),
    ("recsys_core.metrics", "RANKING_MAX_USERS"),
)
_warmed: set[tuple[str, str, int]] = set()
_threads: list[threading.Thread] = []
_guard = threading.Lock()
_exiting = threading.Event()


def fit_in_background(split: LadderSplit, directory: Path) -> threading.Thread:
    """Fit ``split``'s ladder into ``directory``'s shared cache in a daemon thread (started)."""

    return _start(lambda: _fit(split, directory), "recsys-ladder")


def warm_ladder(
    ratings: Ratings, products: pd.DataFrame | None, config: TrainConfig, directory: Path, *, key: str
) -> threading.Thread | None:
    """Split ``ratings`` as ``config`` says and fit that split's ladder in the background.

    Once per server for each data ``key``, split method and seed (a server has one runs
    folder): a second call returns ``None``. The thread splits the data itself (what training
    will do first), so the page calling this is not held up.
    """
    marker = (key, str(config.split), int(config.seed))
    with _guard:
        if marker in _warmed:
            return None
        _warmed.add(marker)

    def fit() -> None:
        from recsys_core.baselines import LadderSplit
        from recsys_core.data import prepare_data

        prepared = prepare_data(ratings.frame, config)
        split = LadderSplit.of_prepared(prepared, config.seed, products)
        del prepared  # the encoded training set is not needed while the ladder fits
        _fit(split, directory)

    return _start(fit, "recsys-ladder-warm")


def _fit(split: LadderSplit, directory: Path) -> None:
    """The one cached fit, with the results page's ``k`` and user sample (so the page finds it)."""
    from recsys_core.baselines import LADDERS_DIR, shared_ladder
    from recsys_core.metrics import RANKING_MAX_USERS

    folder = directory / LADDERS_DIR
    shared_ladder(split, folder, k=LADDER_K, max_users=RANKING_MAX_USERS, should_stop=_exiting.is_set)


def _start(fit: Callable[[], None], name: str) -> threading.Thread:
    def work() -> None:
        # The heavy imports first, at normal priority: at the lowest priority on a busy machine
        # `import torch` can outlast EXIT_WAIT_SECONDS, and a thread cut off inside it at exit
        # leaves torch's finalizers half set up (tracebacks while the interpreter shuts down).
        with contextlib.suppress(Exception):
            for module, name in _HEAVY_IMPORTS:
                loaded = importlib.import_module(module)
                if name is not None:
                    getattr(loaded, name)
        _lower_priority()
        # Best effort: a split the ladder cannot be fitted on (no validation ratings, too little
        # memory) or a read-only runs folder is reported by the page when it fits it itself.
        # Stopped at exit (LadderStopped) likewise: nothing was cached, the next server refits.
        with contextlib.suppress(Exception):
            fit()

    thread = threading.Thread(target=work, name=name, daemon=True)
    with _guard:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()
    return thread


@atexit.register
def _stop_at_exit() -> None:
    # Daemon threads still run while atexit handlers do: each stops at its next grid point.
    _exiting.set()
    with _guard:
        running = list(_threads)
    for thread in running:
        thread.join(EXIT_WAIT_SECONDS)


def _lower_priority() -> None:
    # On Linux a thread is its own scheduling entity, so this thread alone yields to the trainer.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
