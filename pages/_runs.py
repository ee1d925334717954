"""Saved runs for the pages: the registry of the runs folder and models loaded once per session."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from recsys_core.errors import RecsysError
from recsys_core.settings import runs_dir

if TYPE_CHECKING:  # the registry and runs pull in torch: imported when a page needs them
    from recsys_core.registry import RunRecord, RunRegistry
    from recsys_core.runs import Run


def registry() -> RunRegistry:
    from recsys_core.registry import RunRegistry

    return RunRegistry(runs_dir())


def list_runs() -> list[RunRecord]:
    """Saved runs, newest first; a broken runs folder becomes an error message, not a crash."""
    try:
        return registry().list()
    except RecsysError as exc:
        st.error(str(exc))
        return []


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_run(path: str, mtime: float) -> Run:
    # ``mtime`` is part of the cache key: a run folder replaced on disk is loaded again.
    from recsys_core.runs import load_run as _load

    return _load(Path(path))


def load_run_record(record: RunRecord) -> Run:
    path = Path(record.path)
    return load_run(str(path), path.stat().st_mtime)
