"""The server's jobs: at most one training or sweep runs at a time, and every session can find it.

A job belongs to the server, not to the browser tab that started it: a reload or a second tab
opens a new Streamlit session, which finds the running job here and follows it (progress, live
curves, Stop). One at a time because a training already uses every core: a second one beside it
would only slow both down. Never touches Streamlit (the app keeps one board per server process).
"""

from __future__ import annotations

import threading
from typing import TypeVar

from recsys_core.app._jobs import Job

J = TypeVar("J", bound=Job)


class JobBoard:
    """The latest job of each kind (its class), and which one is running.

    Thread-safe: sessions run their scripts in threads of their own, and two of them may press
    Start at the same moment; :meth:`start` decides between them under one lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[type[Job], Job] = {}

    def running(self) -> Job | None:
        """The job running now (of any kind), or ``None`` when the server is free."""
        with self._lock:
            return self._running()

    def _running(self) -> Job | None:
        return next((job for job in self._latest.values() if job.running), None)

    def latest(self, kind: type[J]) -> J | None:
        """The job of class ``kind`` started last on this server, running or finished."""
        with self._lock:
            job = self._latest.get(kind)
        return job if isinstance(job, kind) else None

    def start(self, job: Job, *, background: bool = True) -> Job | None:
        """Start ``job`` unless another one runs; returns that other job when it refuses.

        ``background=False`` runs the job to its end in the calling thread (tests), as
        :meth:`Job.start`. The job is registered before it starts: until then its status is
        ``pending``, which counts as running, so a second caller is refused meanwhile.
        """
        with self._lock:
            busy = self._running()
            if busy is not None:
                return busy
            self._latest[type(job)] = job
        job.start(background=background)
        return None
