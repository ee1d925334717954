"""Compare's ladder: the chosen run against most popular, item-kNN, EASE and iALS, in one chart
and one sentence. The classic methods are fitted once per run and cached in its folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from pages import _whatif_charts as charts
from recsys_core import views
from recsys_core.errors import RecsysError
from recsys_core.ladder import LADDER_FILE, ladder_for

if TYPE_CHECKING:
    from recsys_core.registry import RunRecord
    from recsys_core.runs import Run


def run_ladder(record: RunRecord, run: Run) -> tuple[dict[str, dict[str, Any]] | None, str | None]:
    """``(ladder, None)`` or ``(None, why)``; fits the ladder (with a spinner) when not cached."""
    folder = Path(record.path)
    if (folder / LADDER_FILE).exists():
        try:
            return ladder_for(run, folder), None
        except RecsysError as exc:
            return None, str(exc)
    seconds = views.ladder_wait_seconds(len(run.training_pairs()[0]))
    with st.spinner(
        f"Fitting the classic methods to compare (once per run, about {seconds} s)…",
        show_time=True,
    ):
        try:
            return ladder_for(run, folder), None
        except RecsysError as exc:
            return None, str(exc)


def ladder_section(record: RunRecord, run: Run) -> None:
    """The ladder chart and its sentence for one saved run."""
    ranking = (record.metrics or {}).get("ranking") or {}
    model = ranking.get("model")
    if not model:
        st.info("This run has no ranking figures (its test split was empty).", icon=":material/info:")
        return
    ladder, why = run_ladder(record, run)
    if ladder is None:
        st.info(why, icon=":material/info:")
        return
    k = int(ranking.get("k", 10))
    sentence = views.ladder_sentence(model, ladder, k=k)
    if sentence:
        st.markdown(f"#### {sentence}")
    data = views.ladder_chart_data(model, ladder)
    columns = st.columns(len(views.LADDER_MEASURES))
    for column, (key, measure) in zip(columns, views.LADDER_MEASURES.items(), strict=True):
        column.markdown(f"**{measure}**", help=_HELP[key])
        column.altair_chart(charts.ladder_chart(data, measure), width="stretch")
    st.caption(
        "Each classic method is fitted on this run's training ratings and tuned on its validation "
        "ratings, then tested exactly like the model. The black bars show the 95 % range of each "
        "figure (±1.96 standard errors): bars that overlap are within the noise."
    )
    for line in views.ladder_skipped(ladder):
        st.caption(f"Not shown: {line}")


_HELP = {
    "hit_rate_at_k": "Share of customers whose next product is among the 10 suggestions (hit rate@10).",
    "ndcg_at_k": "Like the hit rate, but a hit near the top of the 10 counts more (NDCG@10).",
}
