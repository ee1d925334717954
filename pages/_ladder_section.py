"""Compare's ladder: the chosen run against most popular, item-kNN, EASE and iALS, in one chart
and one sentence (the same chart as the Train page's results). The classic methods are fitted
once per run and cached in its folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pages import _ladder as ladder_view
from recsys_core.app import views

if TYPE_CHECKING:
    from recsys_core.runs import Run, RunRecord


def ladder_section(record: RunRecord, run: Run) -> None:
    """The ladder chart and its sentence for one saved run."""
    ranking = (record.metrics or {}).get("ranking") or {}
    model = ranking.get("model")
    if not model:
        st.info("This run has no ranking figures (its test split was empty).", icon=":material/info:")
        return
    ladder, missing = ladder_view.fitted_ladder(run, Path(record.path))
    sentence = views.ladder_sentence(model, ladder, k=int(ranking.get("k", 10))) if ladder else None
    if sentence:
        st.markdown(f"#### {sentence}")  # our own words and figures, no names from files
    ladder_view.show_ladder(run, ladder, missing)
    st.caption(
        "Each classic method is fitted on this run's training ratings and tuned on its validation "
        "ratings, then tested exactly like the model. The whiskers show the 95 % range of each "
        "figure (±1.96 standard errors): bars whose whiskers overlap are within the noise."
    )
