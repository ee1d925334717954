"""RecSys Explorer: train, tune and demo a recommender on product ratings.

Run with ``make run`` (or ``streamlit run app.py``). This entry script only sets up the frame:
page config, navigation over the pages in ``pages/`` and a sidebar status; each page
collects input, calls ``recsys_core`` and draws what comes back.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pages.parts import datasets, jobs, layout, query
from recsys_core.app import TrainingJob
from recsys_core.errors import RecsysError
from recsys_core.settings import check_environment

#: The browser tab's icon, a file served by the app itself: a Material icon or an emoji would be
#: fetched from a font or image server, which an offline demo cannot reach.
ICON = str(Path(__file__).resolve().parent / ".streamlit" / "icon.png")

st.set_page_config(page_title="RecSys Explorer", page_icon=ICON, layout="wide")
try:  # a mistyped RECSYS_* setting is named here, before any page needs it
    check_environment()
except RecsysError as exc:
    st.error(f"The app cannot start: {layout.plain(exc)} Ask whoever runs this server to fix it.")
    st.stop()

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page("pages/balance.py", title="Balance", icon=":material/balance:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/recommend.py", title="Recommend", icon=":material/recommend:"),
    st.Page("pages/tryit.py", title="Try it yourself", icon=":material/touch_app:"),
]
current = st.navigation(pages)
# Before any page: a reload or a shared link brings back the data set, recipe and multipliers.
query.restore()


def job_status(slot: DeltaGenerator) -> None:
    """Whether the server runs a job now, in ``slot``; empty when none does."""
    running = jobs.running()  # the server's, whoever started it
    if running is None:
        slot.empty()
        return
    # Drawn once per page visit: no live figures here (they would go stale).
    where = "a model is training; follow it on **Train**"
    if not isinstance(running, TrainingJob):
        where = "a sweep is running; follow it on **Balance**"
    slot.info(f"On this server {where}.", icon=":material/hourglass_top:")


with st.sidebar:
    st.markdown("### RecSys Explorer")
    st.caption("Learns what customers like from their ratings and suggests products they have not seen.")
    # Drawn before the page: a note left from the last run would otherwise stay on screen (greyed)
    # until the page had finished, long after the training it speaks of.
    status = st.empty()
    job_status(status)
try:
    current.run()
finally:
    # After the page (which may st.stop()): its title shows before the sidebar's figures need
    # the data, and the URL follows what the page's callbacks changed.
    query.write()
    with st.sidebar:
        st.markdown(layout.dataset_line(datasets.dataset()))
    job_status(status)  # a job the page started or saw finish
