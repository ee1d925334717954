"""Jobs belong to the server (issue 21, item 5): one at a time, and every session finds it.

The board itself, then the pages: a new session (a reload, another tab) follows the server's
training with its progress and Stop, and a Start that comes second follows the first instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from apptest import goto, open_app

from pages.parts import jobs
from pages.parts import state as app_state
from recsys_core.app import Job, JobBoard, SweepJob, TrainingJob
from recsys_core.config import PRESETS
from recsys_core.errors import RecsysError


def _waiting(started: threading.Event) -> Callable[[Job], str]:
    """Work that reports progress, then runs until it is asked to stop."""

    def work(job: Job) -> str:
        job.on_progress(2, 3, 10)
        started.set()
        while not job.should_stop():
            time.sleep(0.01)
        return "stopped"

    return work


def _waiting_trainer(started: threading.Event) -> Callable[..., object]:
    """A stand-in for ``pipeline.train`` that runs until Stop and then fails (it has no run to save)."""

    def train(ratings, config, *, products, name, on_epoch, on_progress, should_stop) -> object:
        on_progress(2, 3, 10)
        started.set()
        while not should_stop():
            time.sleep(0.01)
        raise RecsysError("Stopped by the test.")

    return train


@pytest.fixture
def board() -> Iterator[JobBoard]:
    """The app's board, empty before and after the test (it lives as long as the process)."""
    jobs.board.clear()
    yield jobs.board()
    running = jobs.board().running()
    if running is not None:
        running.stop()
        running.join(10)
    jobs.board.clear()


def test_the_board_runs_one_job_and_hands_the_second_caller_the_running_one() -> None:
    board, started = JobBoard(), threading.Event()
    first = Job(work=_waiting(started))
    assert board.start(first) is None
    assert started.wait(10)
    second = TrainingJob(None, PRESETS["fast"])  # type: ignore[arg-type]
    assert board.start(second) is first
    assert second.status == "pending" and board.latest(TrainingJob) is None
    assert board.running() is first and board.latest(Job) is first
    first.stop()
    first.join(10)
    assert first.status == "done" and board.running() is None
    # Free again: the next job starts, and a finished one stays findable by its kind.
    third = Job(work=lambda job: "done")
    assert board.start(third, background=False) is None
    assert third.result == "done" and board.latest(Job) is third


def test_two_starts_at_the_same_moment_start_exactly_one() -> None:
    board, gate = JobBoard(), threading.Barrier(8)
    started = [threading.Event() for _ in range(8)]
    candidates = [Job(work=_waiting(event)) for event in started]
    refusals: list[Job | None] = [None] * 8

    def press(i: int) -> None:
        gate.wait()
        refusals[i] = board.start(candidates[i])

    threads = [threading.Thread(target=press, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    winners = [job for job, refused in zip(candidates, refusals, strict=True) if refused is None]
    assert len(winners) == 1
    assert all(refused is winners[0] for refused in refusals if refused is not None)
    assert sum(job.status != "pending" for job in candidates) == 1
    winners[0].stop()
    winners[0].join(10)


def test_a_new_session_follows_the_servers_training_and_stops_it(board: JobBoard) -> None:
    started = threading.Event()
    job = TrainingJob(None, PRESETS["fast"], train=_waiting_trainer(started))  # type: ignore[arg-type]
    assert board.start(job) is None  # started in another tab, before this session existed
    assert started.wait(10)
    at = goto(open_app(), "train")
    assert at.session_state[app_state.JOB] is job
    bars = at.get("progress")
    assert len(bars) == 1 and f"Epoch 2 of {PRESETS['fast'].epochs}" in bars[0].proto.text
    assert any("running on this server now" in c.value for c in at.caption)
    buttons = {b.label: b for b in at.button}
    assert buttons["Start training"].disabled and not buttons["Stop"].disabled
    # Balance: the sweep waits too, and says why.
    goto(at, "balance")
    sweeps = [b for b in at.button if b.label in ("Sweep this class", "Sweep the recipe")]
    assert len(sweeps) == 2 and all(b.disabled for b in sweeps)
    assert any("A model is training on this server" in c.value for c in at.caption)
    goto(at, "train")
    next(b for b in at.button if b.label == "Stop").click().run()
    assert job.stop_event.is_set()
    job.join(10)
    assert board.running() is None


def test_a_start_that_comes_second_follows_the_first_instead(board: JobBoard) -> None:
    at = goto(open_app(), "train")
    assert not next(b for b in at.button if b.label == "Start training").disabled
    started = threading.Event()
    other = TrainingJob(None, PRESETS["fast"], train=_waiting_trainer(started))  # type: ignore[arg-type]
    assert board.start(other) is None  # another tab pressed Start first
    assert started.wait(10)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, at.exception
    assert at.session_state[app_state.JOB] is other
    assert board.running() is other and board.latest(SweepJob) is None
    assert any("so yours did not start" in w.value for w in at.warning)
    assert len(at.get("progress")) == 1
