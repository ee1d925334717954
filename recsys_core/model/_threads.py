"""Run a block of torch work on one CPU thread.

The softmax recipe's work is many small operations: a step multiplies a batch of customers by the
catalogue (128 x 64 by 64 x a few thousand), validation and the test metrics rank blocks of a
thousand customers. At that size torch's intra-op threads cost more in synchronisation than they
save, and on a machine whose cores are busy with anything else (the app's own server, another
job) every operation waits for a descheduled thread: measured on the 2-core machine with another
process running, an epoch of the demo data took 16 s with torch's two threads and 0.2 s with one,
validation 0.4 s against 0.09 s; the test metrics at the seed's shape (20,000 customers ranked
over 48,769 products, load average 3) 16.8 s against 8.6 s. One thread also makes the trained
numbers independent of the machine's core count (a parallel reduction sums in an order that
depends on the threads).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import torch

from recsys_core.data.ratings import cpu_count

T = TypeVar("T")


class _Pin:
    """How many callers are inside :func:`one_torch_thread`, and the setting to restore.

    Counted, so that nested or concurrent blocks (two training jobs of the app) restore the
    original setting only when the last one leaves.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved = 1


_PIN = _Pin()


@contextmanager
def one_torch_thread(device: torch.device | str = "cpu") -> Iterator[None]:
    """Within the block torch runs its CPU operations on one thread (nothing changes for a CUDA
    ``device``, whose work is on the GPU); the previous thread count is restored after it."""
    if torch.device(device).type != "cpu":
        yield
        return
    with _PIN.lock:
        if _PIN.depth == 0:
            _PIN.saved = torch.get_num_threads()
            torch.set_num_threads(1)
        _PIN.depth += 1
    try:
        yield
    finally:
        with _PIN.lock:
            _PIN.depth -= 1
            if _PIN.depth == 0:
                torch.set_num_threads(_PIN.saved)


class Lane:
    """One daemon thread running what is submitted to it in order (:func:`second_core`).

    A daemon, unlike ``ThreadPoolExecutor``'s workers: an idle lane never keeps the process
    from ending (the command line skips the interpreter's teardown only when no other
    non-daemon thread is alive).
    """

    def __init__(self, name: str):
        self._queue: queue.SimpleQueue[tuple[Future[object], Callable[[], object]]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn()`` after what is already queued; its future (``cancel()`` works until it
        starts)."""
        future: Future[T] = Future()
        self._queue.put((future, fn))  # type: ignore[arg-type]  # Future is invariant in T
        return future

    def _work(self) -> None:
        torch.set_num_threads(1)  # its torch work on one thread, as the trainer's
        while True:
            future, fn = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            try:
                result = fn()
            except BaseException as exc:  # handed to whoever waits for it
                future.set_exception(exc)
            else:
                future.set_result(result)


_LANE_LOCK = threading.Lock()
_LANE: list[Lane] = []


def second_core() -> Lane:
    """The process's one worker thread for work that runs beside a training on the other core:
    the blend's item similarity, then each epoch's judgement (:mod:`recsys_core.training._judging`).

    One queue, so that they follow each other instead of three threads sharing two cores: on the
    demo data the first epochs trained 1.5-2x slower while the similarity and a judgement ran
    beside them. Its torch operations run on one thread (see :func:`one_torch_thread`).
    """
    with _LANE_LOCK:
        if not _LANE:
            _LANE.append(Lane("second-core"))
        return _LANE[0]


#: Most threads ranking blocks of customers at once (:func:`ranking_threads`): a block's
#: operations are small, and more threads mostly wait for the GIL.
MAX_RANKING_THREADS = 4


def ranking_threads(device: torch.device | str = "cpu") -> int:
    """Threads that rank blocks of customers side by side, each on one torch thread, where a
    run waits for the result (the blend's weight search, the test metrics): the process's CPUs,
    at most :data:`MAX_RANKING_THREADS`; 1 on a GPU, whose blocks queue on the one device."""
    return 1 if torch.device(device).type != "cpu" else min(MAX_RANKING_THREADS, cpu_count())


def side_by_side(fn: Callable[[T], object], items: Sequence[T], threads: int) -> None:
    """``fn(item)`` for every item, on at most ``threads`` threads (in this one, in order, for
    one thread or one item): blocks of customers ranked side by side, each writing its own rows."""
    if threads > 1 and len(items) > 1:
        with ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix="ranking") as pool:
            list(pool.map(fn, items))  # list: an exception in a block is raised here
    else:
        for item in items:
            fn(item)
