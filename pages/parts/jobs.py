"""The server's running training or sweep, as the pages see it.

One :class:`~recsys_core.app.JobBoard` per server process (``st.cache_resource``), so a job
outlives the browser session that started it: a reload or a new tab gets a new session, which
attaches to the running job and follows it like the tab that started it. A session keeps the job
it started or watched under its own key, so a finished job's results still reach it.

One job at a time (a training takes every core): while one runs, Start is off on every page and
the page says, in plain words, that it shows the job running now.
"""

from __future__ import annotations

from typing import TypeVar

import streamlit as st

from recsys_core.app import Job, JobBoard, SweepJob, TrainingJob

J = TypeVar("J", bound=Job)

#: Session-state key of the note shown when a Start was refused because another job had begun.
REFUSED = "job_refused"


@st.cache_resource(show_spinner=False)
def board() -> JobBoard:
    """The process's board (shared by every session)."""
    return JobBoard()


def attach(key: str, kind: type[J]) -> J | None:
    """The session's job of class ``kind``: the server's running one when there is one (a reload
    or a new tab finds it here), else the one the session last started or watched."""
    latest = board().latest(kind)
    if latest is not None and latest.running and st.session_state.get(key) is not latest:
        st.session_state[key] = latest
    job = st.session_state.get(key)
    return job if isinstance(job, kind) else None


def start(key: str, job: Job, *, background: bool) -> bool:
    """Start ``job`` for this session, or (when another job began first) watch that one instead;
    whether ``job`` started."""
    st.session_state.pop(REFUSED, None)
    other = board().start(job, background=background)
    if other is None:
        st.session_state[key] = job
        return True
    st.session_state[REFUSED] = (
        "Someone started another job on this server a moment before you, so yours did not start. "
        "One at a time: this page now shows the one running; start yours when it has finished."
    )
    if isinstance(other, type(job)):
        st.session_state[key] = other  # the same kind: this page follows it from now on
    return False


def watching_text(what: str) -> str:
    """What a page says under the ``what`` (“training”, “sweep”) it follows: it may not be ours."""
    return (
        f"This is the {what} running on this server now, started here or in another tab or window: "
        "anyone with the app open sees it and can stop it. One at a time: start another when it "
        "has finished."
    )


def busy_text(job: Job | None) -> str | None:
    """Why Start is off on a page while the server runs ``job``, of the other kind."""
    if isinstance(job, TrainingJob):
        return (
            "A model is training on this server; follow it on **Train**, and start this when it has finished."
        )
    if isinstance(job, SweepJob):
        return (
            "A sweep is running on this server; follow it on **Balance**, and start this when it has "
            "finished."
        )
    return None


def running() -> Job | None:
    """The job running on this server now, whoever started it."""
    return board().running()
