"""Compare's run diff: what changed from run A to run B (with intervals), where each run's
suggestions fall on the popularity curve, and the shareable HTML report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from pages.parts import layout, runs
from recsys_core.app import views
from recsys_core.charts import diff_chart, exposure_chart, popularity_chart, segment_chart
from recsys_core.errors import RecsysError

if TYPE_CHECKING:
    from recsys_core.runs import Run, RunRecord

#: Paired bootstrap replicates of the diff (the CLI's default) and its seed.
N_BOOT, SEED, K = 1000, 0, 10


def _stamp(record: RunRecord) -> tuple[str, float]:
    path = Path(record.path)
    return str(path), (path / "manifest.json").stat().st_mtime


@st.cache_data(max_entries=8, show_spinner="Comparing the two runs customer by customer…")
def _diff(
    a: tuple[str, float], b: tuple[str, float], _run_a: Run, _run_b: Run
) -> tuple[dict[str, object] | None, str | None]:
    # Keyed by the runs' folders and manifest times; a refusal is a result too (cached as text).
    from recsys_core.metrics import compare_runs

    try:
        return compare_runs(_run_a, _run_b, k=K, n_boot=N_BOOT, seed=SEED), None
    except RecsysError as exc:
        return None, str(exc)


@st.cache_data(max_entries=8, show_spinner="Reading where the suggestions fall…")
def _profile(stamp: tuple[str, float], _run: Run) -> pd.DataFrame:
    from recsys_core.metrics import RANKING_MAX_USERS, popularity_profile, sample_users, top_lists

    users = sample_users(_run, RANKING_MAX_USERS, SEED)
    return popularity_profile(top_lists(_run, users, K), _run.popularity, K)


def diff_section(record_a: RunRecord, record_b: RunRecord, labels: dict[str, str]) -> bool:
    """The diff of B against A as sentences and charts; ``False`` when the runs were refused."""
    run_a, run_b = runs.load_run_record(record_a), runs.load_run_record(record_b)
    diff, why = _diff(_stamp(record_a), _stamp(record_b), run_a, run_b)
    if diff is None:
        st.warning(why, icon=":material/block:")
        return False
    a, b = (layout.md_escape(labels[r.run_id]) for r in (record_a, record_b))
    st.markdown(f"**A:** {a}  \n**B:** {b}")
    for sentence in views.diff_sentences(diff):
        st.markdown(f"- {sentence}")
    left, right = st.columns(2)
    with left:
        st.markdown(
            "**How B differs from A**",
            help="Each point is B's change against A; the bar is its 95 % interval from a paired "
            f"bootstrap over the same {diff['users']:,} test customers ({N_BOOT} resamples). Green: "
            "surely better; red: surely worse; grey: within the noise.",
        )
        st.altair_chart(diff_chart(views.diff_chart_data(diff)), width="stretch")
    with right:
        st.markdown(
            "**Who gains: change in finding the next product, per group of customers**",
            help="Customers split by how many ratings they had before (at the median), and by the "
            "stars of the rating they gave next (hit rate per segment, with 95 % intervals).",
        )
        st.altair_chart(segment_chart(views.segment_data(diff)), width="stretch")
    exposure = views.exposure_data(diff)
    if not exposure.empty:
        st.markdown(
            f"**Products shown more and less often** (times in all customers' top {diff['k']})",
            help="How often each product appears across every customer's top-10 list in B minus in A.",
        )
        st.altair_chart(exposure_chart(exposure), width="stretch")
    return True


def popularity_section(records: list[RunRecord], labels: dict[str, str]) -> None:
    """Where each chosen run's suggestions fall on the product popularity curve."""
    profiles = {}
    for record in records:
        run = runs.load_run_record(record)
        profiles[labels[record.run_id]] = _profile(_stamp(record), run)
    st.markdown(
        "**Best-sellers or the long tail?** Share of the suggestions per slice of the catalogue",
        help="Products are ranked from most to least rated and cut into ten equal slices; grey is "
        "each slice's share of all ratings (the popularity curve), the other bars the share of "
        "each run's top-10 suggestions taken from it.",
    )
    st.altair_chart(popularity_chart(views.popularity_chart_data(profiles)), width="stretch")
    for name, profile in profiles.items():
        sentence = views.popularity_sentence(layout.md_escape(name), profile)
        if sentence:
            st.caption(sentence)


def report_button(run: Run, other: Run | None) -> None:
    """ "Download report": the self-contained HTML report, rendered when clicked."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", run.name).strip("-")[:60] or "run"

    def html() -> bytes:
        from recsys_core.report import render_report

        return render_report(run, compare=other, k=K).encode("utf-8")

    st.download_button(
        "Download report",
        data=html,
        file_name=f"report-{name}.html",
        mime="text/html",
        icon=":material/download:",
        on_click="ignore",
        help="One HTML file that opens anywhere, offline: the data, the class mix, training curves, "
        "results against the classic methods" + (", the diff with the second run" if other else "") + ".",
    )
