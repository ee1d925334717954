"""Compare: every saved run side by side, to see which settings and multipliers pay off."""

from __future__ import annotations

import streamlit as st

from pages.parts import charts, datasets, entry, layout, query, runs
from pages.parts.diff_section import diff_section, popularity_section, report_button
from pages.parts.ladder import ladder_section
from pages.parts.state import LAST_RUN
from recsys_core.app import views
from recsys_core.charts import QUALITY_MEASURES
from recsys_core.errors import RecsysError
from recsys_core.settings import runs_dir

entry.through_app()  # before anything else: a cold deep link reruns through app.py
layout.intro(
    "Compare",
    "Every training run is saved. Compare their settings and test results here to see which recipe "
    "and which oversampling work best; delete the ones you no longer need.",
)

records = runs.list_runs()
runs.show_broken_runs()
if not records:
    st.info(
        "No saved runs yet. Train one on the **Train** page; it appears here when it finishes.",
        icon=":material/info:",
    )
    st.stop()

table = views.runs_table(records)
st.caption(f"{len(table)} saved run(s) in `{runs_dir()}`, newest first.")

# A link's runs A and B, used only where they are saved runs on the same data set.
linked = {name: query.from_link(name) for name in ("a", "b")}
linked_set = table.loc[table["id"] == linked["a"], "data set"]
if linked_set.empty or linked["b"] not in (*table.loc[table["data set"] == linked_set.iloc[0], "id"], None):
    linked["b"] = None
if not linked_set.empty:
    st.session_state["whatif_run"] = linked["a"]
    st.session_state["whatif_other"] = None if linked["b"] == linked["a"] else linked["b"]

# Runs on different data are not comparable: one data set at a time (the loaded one first).
names = list(dict.fromkeys(table["data set"]))
current = linked_set.iloc[0] if not linked_set.empty else views.dataset_label(datasets.dataset().name)
if current in names:
    names.insert(0, names.pop(names.index(current)))
chosen = st.selectbox(
    "Data set",
    names,
    help="Runs on different data are not comparable, so the table and charts show one data set at a time.",
)
table = table[table["data set"] == chosen].reset_index(drop=True)


def _short(name: str) -> str:
    # The data set has its own column (and filter): leave it out of the run's label.
    prefix = f"{chosen} · "
    return name[len(prefix) :] if name.startswith(prefix) else name


# Runs may share a name: the time (then a number) tells them apart, so every run keeps its own
# bars and row.
created = table["created"].dt.strftime("%b %d %H:%M").fillna("")
label_list = views.unique_labels([_short(n) for n in table["run"]], created)
labels = dict(zip(table["id"], label_list, strict=True))
long = views.compare_chart_data(table)
long["label"] = long["id"].map(labels)
quality = long[long["measure"].isin(QUALITY_MEASURES)]
hits = long[long["measure"].isin(["hit rate", "popular hit rate"])]

left, right = st.columns([3, 2])
with left:
    st.markdown(
        "**Test quality per run** (higher is better)",
        help="AUC does not depend on the threshold; precision and recall move with it (one rises "
        "when the other falls), so a precision gain with a recall loss is not a better model.",
    )
    st.altair_chart(charts.run_quality_chart(quality, label_list), width="stretch")
with right:
    st.markdown("**Finds the next product** (top-10 hit rate vs a best-seller list)")
    if hits.empty:
        st.caption("No ranking figures in these runs.")
    else:
        st.altair_chart(charts.run_hits_chart(hits, label_list), width="stretch")

for sentence in views.compare_tradeoffs(table, [layout.plain(label) for label in label_list]):
    st.warning(sentence, icon=":material/swap_vert:")

# -- the tables (each fits at 1280 px: results, then settings) --------------------------------
shown = table.assign(run=label_list)
percent = {"format": "percent", "width": 70}
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    column_order=["run", "minutes", "AUC", "hit rate", "popular hit rate", "precision", "recall"],
    column_config={
        "run": st.column_config.TextColumn(width=350),
        "minutes": st.column_config.NumberColumn(format="%.1f", width=65, help="How long it took."),
        "AUC": st.column_config.NumberColumn(
            **percent, help="Ranks a liked product above a disliked one (ROC AUC; 50 % = coin flip)."
        ),
        "hit rate": st.column_config.NumberColumn(
            "finds next", **percent, help="Share of customers whose next product is in the top 10."
        ),
        "popular hit rate": st.column_config.NumberColumn(
            "best-sellers", format="percent", width=95, help="The same for a best-seller list."
        ),
        "precision": st.column_config.NumberColumn(**percent, help="Moves with the threshold."),
        "recall": st.column_config.NumberColumn(**percent, help="Moves with the threshold."),
    },
)
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    column_order=["run", "oversampling", "epochs", "profile size", "ratings per step", "goal"],
    column_config={
        "run": st.column_config.TextColumn(width=350),
        "oversampling": st.column_config.TextColumn("extra copies", width=150),
        "epochs": st.column_config.NumberColumn("passes", width=65),
        "profile size": st.column_config.NumberColumn("profile", width=65, help="The embedding size."),
        "ratings per step": st.column_config.NumberColumn(
            "per step", width=75, help="Ratings per learning step (the batch size)."
        ),
        "goal": st.column_config.TextColumn(width=70, help="What the model was trained for (objective)."),
    },
)


# -- one run against the classic methods, and against a second run -----------------------------
by_id = {record.run_id: record for record in records}
ids = list(table["id"])
st.subheader("Is it any good? Against classic methods, and against another run")
pick = st.container(), st.container()  # one above the other: long run names fit
run_id = pick[0].selectbox(
    "Run",
    ids,
    format_func=labels.get,
    key="whatif_run",
    help="Shown against a best-seller list and three classic recommenders fitted on the same data.",
)
other_id = pick[1].selectbox(
    "Compare it with (B)",
    [None, *(i for i in ids if i != run_id)],
    format_func=lambda i: "no second run" if i is None else labels[i],
    key="whatif_other",
    help="Pick a second run trained on the same data and split to see what changed, customer by customer.",
)
query.show(a=run_id, b=other_id)
record = by_id[run_id]
run = runs.load_run_record(record)
ladder_section(record, run)
other = None
if other_id is not None:
    st.subheader("What changed from A to B")
    if diff_section(record, by_id[other_id], labels):
        other = runs.load_run_record(by_id[other_id])
popularity_section([record] + ([by_id[other_id]] if other is not None else []), labels)
report_button(run, other)


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
    st.multiselect(
        "Runs to delete",
        list(labels),
        format_func=lambda run_id: labels.get(run_id, run_id),
        key="delete_choice",
    )
    st.button(
        "Delete selected runs",
        on_click=_delete,
        disabled=not st.session_state.get("delete_choice"),
        icon=":material/delete:",
    )
message = st.session_state.pop("delete_message", None)
if message:
    (st.error if message[0] == "error" else st.toast)(layout.plain(message[1]))
