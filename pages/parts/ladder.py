"""The baseline ladder on a page: fit it once per split (with a sentence saying what is happening)
and draw this model next to most popular, item-kNN, EASE and iALS with error bars; Train shows it
under a fresh run's results, Compare (:func:`ladder_section`) for any saved run. The classic
methods are fitted once per split (usually while the model trains) and cached in the runs folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pages.parts.layout import plain
from recsys_core.app import views
from recsys_core.charts import ladder_chart
from recsys_core.errors import RecsysError

if TYPE_CHECKING:
    from recsys_core.runs import Run, RunRecord

FITTING_TEXT = (
    "Measuring four classic methods on the same test (a best-seller list, products liked together, "
    "EASE and iALS), so you can see where this model stands. A few seconds, once per data split…"
)


def fitted_ladder(run: Run, folder: Path | None) -> tuple[dict[str, dict], str | None]:
    """The run's ladder (fitted now, or read from its folder's cache) and why it is missing.

    Returns ``({}, reason)`` when the classic methods cannot be measured on this run (no
    validation ratings to tune them on, not enough memory); the page then shows the model and
    most popular only.
    """
    from recsys_core.baselines import ladder_for  # torch, scipy, implicit: only once a run is shown
    from recsys_core.runs import shared_ladders

    k = int((run.metrics.get("ranking") or {}).get("k", 10))
    note = st.empty()
    try:
        with st.spinner(FITTING_TEXT):
            # The runs folder's cache serves every run of this split (often fitted while it trained).
            ladder = ladder_for(
                run,
                folder,
                k=k,
                on_rung=lambda label: note.caption(f"Now: {label}…"),
                shared=shared_ladders(folder),
            )
            return ladder, None
    except (RecsysError, MemoryError, OSError) as exc:
        return {}, str(exc) or type(exc).__name__
    finally:
        note.empty()


def show_ladder(run: Run, ladder: dict[str, dict], missing: str | None) -> None:
    """The ladder chart of ``run`` (``ladder`` from :func:`fitted_ladder`) with a short legend."""
    frame = views.ladder_chart_data(run.metrics.get("ranking"), ladder)
    if frame.empty:
        return
    st.markdown(
        "**This model next to classic methods** (longer is better)",
        help="Finds the next product: share of customers whose next product is among the 10 "
        "suggestions (hit rate@10). Ranking quality: the same, counting a hit near the top of the "
        "list more (NDCG@10). Whiskers: the 95 % range of the measure (±1.96 standard errors); "
        "bars whose whiskers overlap are not clearly different. item-kNN suggests products liked "
        "together with the customer's; EASE and iALS are strong classic recommenders, each tuned "
        "on the validation ratings.",
    )
    st.altair_chart(ladder_chart(frame), width="content")
    if missing:
        st.caption(f"The classic methods could not be measured on this run: {plain(missing)}")
    for sentence in views.skipped_sentences(ladder):
        st.caption(plain(sentence))


def ladder_section(record: RunRecord, run: Run) -> None:
    """The ladder chart and its sentence for one saved run."""
    ranking = (record.metrics or {}).get("ranking") or {}
    model = ranking.get("model")
    if not model:
        st.info("This run has no ranking figures (its test split was empty).", icon=":material/info:")
        return
    ladder, missing = fitted_ladder(run, Path(record.path))
    sentence = views.ladder_sentence(model, ladder, k=int(ranking.get("k", 10))) if ladder else None
    if sentence:
        st.markdown(f"#### {sentence}")  # our own words and figures, no names from files
    show_ladder(run, ladder, missing)
    st.caption(
        "Each classic method is fitted on this run's training ratings and tuned on its validation "
        "ratings, then tested exactly like the model. The whiskers show the 95 % range of each "
        "figure (±1.96 standard errors): bars whose whiskers overlap are within the noise."
    )
