"""Compare: every saved run side by side, to see which settings and multipliers pay off."""

from __future__ import annotations

import streamlit as st

from pages import _charts as charts
from pages import _layout as layout
from pages import _runs as runs
from pages._state import LAST_RUN
from recsys_core import views
from recsys_core.errors import RecsysError
from recsys_core.settings import runs_dir

layout.intro(
    "Compare",
    "Every training run is saved. Compare their settings and test results here to see which recipe "
    "and which oversampling work best; delete the ones you no longer need.",
)

records = runs.list_runs()
if not records:
    st.info(
        "No saved runs yet. Train one on the **Train** page; it appears here when it finishes.",
        icon=":material/info:",
    )
    st.stop()

table = views.runs_table(records)
st.caption(f"{len(table)} saved run(s) in `{runs_dir()}`, newest first.")

# -- at a glance ---------------------------------------------------------------------------------
# Runs may share a name: number them so every run keeps its own bars and row.
labels = {
    run_id: f"{i + 1}. {name}" for i, (run_id, name) in enumerate(zip(table["id"], table["run"], strict=True))
}
label_order = list(labels.values())
long = views.compare_chart_data(table)
long["label"] = long["id"].map(labels)
quality = long[long["measure"].isin(charts.QUALITY_MEASURES)]
hits = long[long["measure"].isin(["hit rate", "popular hit rate"])]

left, right = st.columns([3, 2])
with left:
    st.markdown("**Test quality per run** (higher is better)")
    st.altair_chart(charts.run_quality_chart(quality, label_order), width="stretch")
with right:
    st.markdown("**Finds the next product** (top-10 hit rate vs most popular)")
    if hits.empty:
        st.caption("No ranking figures in these runs.")
    else:
        st.altair_chart(charts.run_hits_chart(hits, label_order), width="stretch")

# -- the table -------------------------------------------------------------------------------------
shown = table.assign(run=label_order)
st.dataframe(
    shown.drop(columns=["id"]),
    hide_index=True,
    width="stretch",
    column_config={
        "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
        "precision": st.column_config.NumberColumn(format="percent"),
        "recall": st.column_config.NumberColumn(format="percent"),
        "AUC": st.column_config.NumberColumn(format="percent"),
        "guessing precision": st.column_config.NumberColumn(format="percent"),
        "hit rate": st.column_config.NumberColumn(format="percent"),
        "popular hit rate": st.column_config.NumberColumn(format="percent"),
        "learning rate": st.column_config.NumberColumn(format="%.4f"),
        "train ratings": st.column_config.NumberColumn(format="localized"),
    },
)


# -- delete ----------------------------------------------------------------------------------------
def _delete() -> None:
    chosen = st.session_state.get("delete_choice") or []
    try:
        deleted = runs.registry().delete(chosen)
    except RecsysError as exc:
        st.session_state["delete_message"] = ("error", str(exc))
        return
    if st.session_state.get(LAST_RUN) in chosen:
        st.session_state.pop(LAST_RUN, None)
    st.session_state["delete_choice"] = []
    st.session_state["delete_message"] = ("ok", f"Deleted {deleted} run(s).")


with st.expander("Delete runs"):
    st.multiselect("Runs to delete", list(labels), format_func=labels.get, key="delete_choice")
    st.button(
        "Delete selected runs",
        on_click=_delete,
        disabled=not st.session_state.get("delete_choice"),
        icon=":material/delete:",
    )
message = st.session_state.pop("delete_message", None)
if message:
    (st.error if message[0] == "error" else st.toast)(message[1])
