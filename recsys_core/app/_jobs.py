"""Work that runs in a background thread while the app's page polls it; never touches Streamlit.

A :class:`Job` runs one piece of work in a worker thread and hands it the three hooks every
trainer takes (``on_epoch``, ``on_progress``, ``should_stop``); the page keeps the job in its
session, redraws from ``history`` and ``progress`` while ``running``, and reads ``result`` or
``error`` when it ends. :class:`TrainingJob` trains and saves one run. A sweep of several
trainings is the same kind of job whose work calls the trainer once per configuration with the
same hooks (Stop then ends the sweep).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

from recsys_core.errors import RecsysError
from recsys_core.settings import runs_dir

if TYPE_CHECKING:  # torch-free at import time: the app imports this before anything trains
    import pandas as pd

    from recsys_core.config import TrainConfig
    from recsys_core.data import PreparedData, Ratings
    from recsys_core.runs import DatasetRecord, Run
    from recsys_core.training import EpochReport

T = TypeVar("T")

#: ``pending`` until started, ``running`` in the worker, then ``done`` or ``failed``.
JobStatus = Literal["pending", "running", "done", "failed"]


@dataclass(kw_only=True)
class Job(Generic[T]):
    """One piece of work in a worker thread, with live progress, a stop flag, a result or an error.

    Parameters
    ----------
    work
        Called once in the worker with the job itself, whose :meth:`on_epoch`,
        :meth:`on_progress` and :meth:`should_stop` it passes on to the trainer; what it returns
        becomes ``result``. Subclasses override :meth:`execute` instead.

    Attributes
    ----------
    history, progress
        Epoch reports so far and ``(epoch, batches_done, batches_total)`` of the current epoch.
    status
        See :data:`JobStatus`.
    result, error, details
        What the work returned; or a one-line message for the user and, for an unexpected
        failure, the traceback.
    """

    work: Callable[[Job[T]], T] | None = None
    history: list[EpochReport] = field(default_factory=list)
    progress: tuple[int, int, int] = (0, 0, 0)
    status: JobStatus = "pending"
    result: T | None = None
    error: str | None = None
    details: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = field(default=None, repr=False)
    #: (epoch, time, batches done) of the epoch's first report: the rate the ETA is measured from.
    _epoch_mark: tuple[int, float, int] = field(default=(0, 0.0, 0), repr=False)

    #: Name of the worker thread (shows in thread dumps).
    thread_name = "recsys-job"

    @property
    def running(self) -> bool:
        return self.status in ("pending", "running")

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set() and self.running

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.perf_counter()) - self.started_at

    def start(self, *, background: bool = True) -> Job[T]:
        """Start the work; ``background=False`` runs it to the end in the calling thread (tests)."""
        self.status = "running"
        self.started_at = time.perf_counter()
        if background:
            self._thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)
            self._thread.start()
        else:
            self._work()
        return self

    def stop(self) -> None:
        """Ask the work to stop (a trainer finishes the current batch and keeps its best epoch)."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # The hooks run in the worker thread: they only replace plain values, which the page thread
    # reads whole (a new list per epoch, so a reader never sees one being appended to).
    def on_epoch(self, report: EpochReport) -> None:
        self.history = [*self.history, report]

    def on_progress(self, epoch: int, done: int, total: int) -> None:
        if epoch != self._epoch_mark[0]:
            self._epoch_mark = (int(epoch), time.perf_counter(), int(done))
        self.progress = (int(epoch), int(done), int(total))

    @property
    def epoch_seconds_left(self) -> float | None:
        """Seconds until this epoch's last batch at the rate measured since its first report;
        ``None`` until two reports of the epoch have come in."""
        epoch, since, first = self._epoch_mark
        now_epoch, done, total = self.progress
        if epoch != now_epoch:
            return None
        return seconds_left(time.perf_counter() - since, done - first, total - done)

    def should_stop(self) -> bool:
        return self.stop_event.is_set()

    def execute(self) -> T:
        """The work itself, run in the worker; the default calls ``work`` with this job."""
        if self.work is None:
            raise RecsysError("This job has nothing to do.")
        return self.work(self)

    def _work(self) -> None:
        try:
            self.result = self.execute()
            self.status = "done"
        except RecsysError as exc:
            self.error = str(exc)
            self.status = "failed"
        except Exception as exc:  # shown as one line; the traceback goes into an expander
            self.error = f"Training failed unexpectedly ({type(exc).__name__}: {exc})."
            self.details = traceback.format_exc()
            self.status = "failed"
        finally:
            self.finished_at = time.perf_counter()


def seconds_left(elapsed: float, batches_done: int, batches_left: int) -> float | None:
    """``batches_left`` at the pace of ``batches_done`` in ``elapsed`` seconds (``None`` before
    any batch is measured)."""
    if batches_done <= 0 or elapsed <= 0:
        return None
    return batches_left * elapsed / batches_done


class TrainFunction(Protocol):
    """What :class:`TrainingJob` calls to train: :func:`recsys_core.pipeline.train` or a stand-in."""

    def __call__(
        self,
        ratings: Ratings,
        config: TrainConfig,
        *,
        products: pd.DataFrame | None,
        name: str | None,
        on_epoch: Callable[[EpochReport], None],
        on_progress: Callable[[int, int, int], None],
        should_stop: Callable[[], bool],
    ) -> Run: ...


@dataclass
class TrainingJob(Job["Run"]):
    """Train one run in a worker thread and save it in the runs folder.

    ``stop()`` asks the trainer to finish after the current batch (the best epoch so far is
    kept). When the worker ends, ``run``/``run_id``/``run_path`` or ``error`` are set.

    Parameters
    ----------
    ratings
        The ratings to train on (what ``pipeline.train`` takes).
    config
        The recipe of the run.
    products
        Optional product table (``item, name, category``) saved with the run.
    directory
        Folder of saved runs (a :class:`~recsys_core.runs.RunRegistry` root).
    name
        Display name of the run; ``None`` lets the pipeline name it after its settings.
    train
        ``train``-compatible callable (default :func:`recsys_core.pipeline.train`).
    dataset
        ``{"name": …, "key": …}`` of the data set, saved in the run's split summary so that its
        pages find the run's own data again, whatever is loaded then.
    ladder
        Fit the baseline ladder of the run's split in the background while the model trains
        (into the runs folder's shared cache), with the default ``train`` only.

    Attributes
    ----------
    ladder_thread
        That background fit, once the split exists (``None`` before, or without one).
    """

    ratings: Ratings
    config: TrainConfig
    products: pd.DataFrame | None = None
    directory: Path = field(default_factory=runs_dir)
    name: str | None = None
    train: TrainFunction | None = None
    dataset: DatasetRecord | None = None
    run_id: str | None = None
    run_path: Path | None = None
    ladder: bool = True
    ladder_thread: threading.Thread | None = field(default=None, repr=False)

    thread_name = "recsys-train"

    @property
    def run(self) -> Run | None:
        """The trained and saved run, once the job is done."""
        return self.result

    def execute(self) -> Run:
        # Imported here: the registry and the pipeline pull in torch, which the app loads only
        # when something trains.
        from recsys_core.runs import RunRegistry

        registry = RunRegistry(self.directory)
        hooks = {"on_epoch": self.on_epoch, "on_progress": self.on_progress, "should_stop": self.should_stop}
        train = self.train
        if train is None:
            from recsys_core.pipeline import train

            if self.ladder:  # a stand-in trainer takes the three hooks only
                hooks["on_prepared"] = self._fit_ladder
        run = train(self.ratings, self.config, products=self.products, name=self.name, **hooks)
        if self.dataset is not None:
            run.summary.dataset = self.dataset
        record = registry.save(run)
        self.run_id, self.run_path = record.run_id, record.path
        return run

    def _fit_ladder(self, prepared: PreparedData) -> None:
        # The split exists, the model is about to train: its ladder fits meanwhile, so the results
        # page reads it from the shared cache instead of fitting it after training.
        from recsys_core.app._ladder_warm import fit_in_background
        from recsys_core.baselines import LadderSplit

        split = LadderSplit.of_prepared(prepared, self.config.seed, self.products)
        self.ladder_thread = fit_in_background(split, Path(self.directory))
