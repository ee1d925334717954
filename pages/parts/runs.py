"""Saved runs for the pages: the registry of the runs folder and models loaded once per session.

A run folder that cannot be read never hides the others: :func:`list_runs` returns the good runs
only, :func:`broken_runs` the others (each with the reason), and :func:`show_broken_runs` lists
those in a small box of their own, the reason as plain text, with a Delete button each.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pages.parts import query, state
from pages.parts.layout import plain
from recsys_core.errors import RecsysError
from recsys_core.settings import runs_dir

if TYPE_CHECKING:  # the registry and runs pull in torch: imported when a page needs them
    from streamlit.delta_generator import DeltaGenerator

    from recsys_core.runs import Run, RunRecord, RunRegistry

#: Session-state key of the last Delete's outcome (shown on the next run of the page).
_DELETED = "broken_run_deleted"


def registry() -> RunRegistry:
    from recsys_core.runs import RunRegistry

    return RunRegistry(runs_dir())


def _all_runs() -> list[RunRecord]:
    """Every run folder, broken ones included; a runs folder that cannot be listed at all
    becomes an error message, not a crash."""
    try:
        return registry().list(include_broken=True)
    except (RecsysError, OSError) as exc:
        st.error(plain(exc), icon=":material/error:")
        return []


def list_runs() -> list[RunRecord]:
    """The runs that can be opened, newest first (broken folders are left out: see
    :func:`broken_runs`)."""
    return [r for r in _all_runs() if not r.broken]


def broken_runs() -> list[RunRecord]:
    """Run folders that cannot be read, each with the reason in ``problem``, newest first."""
    try:
        return [r for r in registry().list(include_broken=True) if r.broken]
    except (RecsysError, OSError):
        return []  # :func:`list_runs` already says why the folder cannot be listed


def _delete_broken(run_id: str) -> None:
    try:
        registry().delete([run_id])
    except (RecsysError, OSError) as exc:
        st.session_state[_DELETED] = ("error", f"Could not delete {run_id}: {exc}")
    else:
        st.session_state[_DELETED] = ("ok", f"Deleted {run_id}.")


def show_broken_runs() -> None:
    """A small box listing the run folders that cannot be opened, why, and a Delete button each.

    Draws nothing when every run is fine. Names and reasons come from the files: shown as plain
    text, never as Markdown.
    """
    outcome = st.session_state.pop(_DELETED, None)
    if outcome is not None:
        (st.error if outcome[0] == "error" else st.toast)(plain(outcome[1]))
    broken = broken_runs()
    if not broken:
        return
    with st.container(border=True):
        st.markdown(
            f"**{len(broken)} saved run(s) cannot be opened** and are left out of the lists",
            help="A run folder that was damaged, copied in incompletely or cannot be read. The other "
            "runs are not affected; delete these or repair their files.",
        )
        for record in broken:
            row = st.columns([5, 1], vertical_alignment="center")
            with row[0]:
                st.text(f"{record.name}: {record.problem}")
            row[1].button(
                "Delete",
                key=f"delete_broken_{record.run_id}",
                on_click=_delete_broken,
                args=(record.run_id,),
                icon=":material/delete:",
                help="Removes this folder from the runs folder.",
            )


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_run(path: str, mtime: float) -> Run:
    # ``mtime`` is part of the cache key: a run folder replaced on disk is loaded again.
    from recsys_core.runs import load_run as _load

    return _load(Path(path))


def load_run_record(record: RunRecord) -> Run:
    path = Path(record.path)
    return load_run(str(path), path.stat().st_mtime)


def run_from_link(records: list[RunRecord], key: str) -> None:
    """The run a link names (``run=<id>``) becomes the page's run, if it is a saved run."""
    linked = query.from_link("run")
    if linked in {r.run_id for r in records}:
        state.set_kept(key, linked)


def pick_run(records: list[RunRecord], key: str, container: DeltaGenerator) -> RunRecord:
    """A select box of saved runs in ``container`` (kept across pages under ``key``); it starts
    on the run trained last in this session, else the newest."""
    by_id = {r.run_id: r for r in records}
    labels = {r.run_id: f"{r.name} · {r.created_at[:16].replace('T', ' ')}" for r in records}
    if state.kept(key) not in by_id:
        last = st.session_state.get(state.LAST_RUN)
        state.set_kept(key, last if last in by_id else records[0].run_id)
    run_id = container.selectbox(
        "Model (saved run)", list(by_id), format_func=labels.get, **state.bind(key, records[0].run_id)
    )
    return by_id[run_id]
