"""Every customer's top 10 as a CSV download, built block by block with a progress bar."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

if TYPE_CHECKING:
    from recsys_core.runs import Run

#: Largest number of customers the app builds the file for (about 80 MB of CSV); beyond it,
#: the command line writes Parquet without holding everything in memory.
MAX_CUSTOMERS = 200_000
#: Suggestions per customer in the file.
TOP_N = 10
#: Session-state key: ``(run_id, csv bytes, rows)`` of the file last built.
_BUILT = "everyone_top_csv"
#: Customers per block: a handful of progress steps on the demo data, bounded memory on large runs.
_BLOCK = 2048


def build_csv(run: Run, n: int = TOP_N, on_block: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    """Formula-safe CSV bytes of every customer's top ``n`` (user, rank, item, score, match) and its
    number of rows; ``on_block(customers_done)`` is called after each block."""
    from recsys_core.app import to_safe_csv
    from recsys_core.topn import recommend_all  # torch: only when asked for

    blocks = []
    done = 0
    for block in recommend_all(run, n, chunk_size=_BLOCK):
        blocks.append(block)
        done = min(done + _BLOCK, run.n_users)
        if on_block is not None:
            on_block(done)
    columns = ["user", "rank", "item", "score", "match"]
    frame = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=columns)
    return to_safe_csv(frame), len(frame)


def _build(run: Run, run_id: str) -> None:
    bar = st.progress(0.0, text="Working out every customer's top 10…")
    total = max(run.n_users, 1)

    def step(done: int) -> None:
        bar.progress(done / total, text=f"Working out every customer's top 10… {done:,} of {run.n_users:,}")

    data, rows = build_csv(run, TOP_N, step)
    bar.empty()
    st.session_state[_BUILT] = (run_id, data, rows)


def everyone_download(run: Run, run_id: str, folder: Path | None) -> None:
    """A button that builds every customer's top 10 for ``run``, then the download button.

    Runs with more than :data:`MAX_CUSTOMERS` customers get the command that writes the file
    instead (streamed to Parquet, resumable).
    """
    if run.n_users > MAX_CUSTOMERS:
        st.caption(
            f"This model knows {run.n_users:,} customers: too many for a download here. This "
            "command writes every customer's top 10 to a file:"
        )
        where = shlex.quote(str(folder)) if folder is not None else "RUN_FOLDER"
        st.code(f"recsys recommend {where} --all-users --out top.parquet", language="bash")
        return
    built = st.session_state.get(_BUILT)
    if (built is None or built[0] != run_id) and st.button(
        f"Prepare every customer's top {TOP_N} ({run.n_users:,} customers)",
        icon=":material/list_alt:",
        help="Suggests 10 products each customer has not rated yet, for all customers at once "
        "(for e-mails or an offline test). The file has one row per suggestion: customer, rank, "
        "product, score and match (the chance relative to the customer's top suggestion).",
    ):
        _build(run, run_id)
        built = st.session_state[_BUILT]
    if built is not None and built[0] == run_id:
        st.download_button(
            f"Download every customer's top {TOP_N} (CSV)",
            data=built[1],
            file_name=f"top{TOP_N}-{run_id}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            help=f"{built[2]:,} rows. Cells that a spreadsheet would read as a formula are made text.",
        )
