"""A multiplier sweep as a background :class:`~recsys_core.app.Job`: the app's "Sweep" buttons.

The job trains the planned runs of :mod:`recsys_core.sweep` one after the other in its worker
thread, saves each to the runs folder as soon as it finishes (``records`` grows run by run) and
stops between batches when asked: the runs already finished stay saved, the one cut short is
dropped. Like :class:`~recsys_core.app.TrainingJob` it never touches Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from recsys_core.app._jobs import Job, TrainFunction
from recsys_core.settings import runs_dir
from recsys_core.sweep import SweepPoint, SweepRecord, TrainerHooks, run_sweep

if TYPE_CHECKING:  # torch-free at import time, as jobs.py
    import pandas as pd

    from recsys_core.config import TrainConfig
    from recsys_core.data import Ratings
    from recsys_core.runs import DatasetRecord, Run


@dataclass
class SweepJob(Job[list[SweepRecord]]):
    """Train and save one run per planned point, in a worker thread.

    Parameters
    ----------
    ratings
        The ratings every run trains on.
    points
        The planned runs (:func:`recsys_core.sweep.class_points` or ``recipe_points``).
    axis
        What varies: ``"multiplier"`` (one class) or ``"scale"`` (a whole recipe); the key of
        the records' x value.
    products, directory, dataset, train
        As for :class:`~recsys_core.app.TrainingJob`: the product table, the runs folder, the
        ``{"name", "key"}`` of the data set (saved in every run, so Compare groups them with the
        data's other runs) and a ``train``-compatible callable.

    Attributes
    ----------
    records
        The finished runs' sweep records so far (a new list per run: safe to read while running).
    index
        Number of the run in progress (1-based; 0 before the first).
    """

    ratings: Ratings
    points: Sequence[SweepPoint]
    axis: str = "multiplier"
    products: pd.DataFrame | None = None
    directory: Path = field(default_factory=runs_dir)
    dataset: DatasetRecord | None = None
    train: TrainFunction | None = None
    records: list[SweepRecord] = field(default_factory=list)
    index: int = 0

    thread_name = "recsys-sweep"

    @property
    def total(self) -> int:
        return len(self.points)

    @property
    def config(self) -> TrainConfig | None:
        """The recipe of the run in progress (``None`` before the first)."""
        return self.points[self.index - 1].config if 0 < self.index <= self.total else None

    def _train(self) -> Callable[..., Run]:
        """The trainer, wrapped: a fresh history per run and the data set recorded in each run."""
        train = self.train
        if train is None:
            from recsys_core.pipeline import train

        def one_run(ratings: Ratings, config: TrainConfig, **options: object) -> Run:
            self.index += 1
            self.history, self.progress = [], (0, 0, 0)
            run = train(ratings, config, **options)
            if self.dataset is not None:
                run.summary.dataset = self.dataset
            return run

        return one_run

    def _finished(self, record: SweepRecord) -> None:
        self.records = [*self.records, record]

    def execute(self) -> list[SweepRecord]:
        from recsys_core.runs import RunRegistry  # torch: only once something trains

        run_sweep(
            self.ratings,
            self.points,
            RunRegistry(self.directory),
            products=self.products,
            on_run=self._finished,
            should_stop=self.should_stop,
            hooks=TrainerHooks(on_epoch=self.on_epoch, on_progress=self.on_progress),
            train=self._train(),
        )
        return self.records
