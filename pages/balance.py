"""Balance: how much each rating class counts in training: weights with the recommended recipe
(softmax), extra copies (oversampling) with the others."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.parts import datasets, entry, layout, state
from pages.parts.sweep import sweep_panel
from recsys_core.app import views
from recsys_core.charts import class_mix_chart
from recsys_core.data import oversampling_strategy, weighted_counts
from recsys_core.errors import RecsysError

entry.through_app()  # before anything else: a cold deep link reruns through app.py
# The recommended recipe weighs each rating by its class's multiplier (0 leaves the class out);
# the others copy rows, which can only add.
weights = state.weighs_classes()
layout.intro(
    "Balance",
    "Most ratings are high, so a model can look good by always predicting “likes it”. "
    + (
        "With the recommended recipe, each rating counts by its class's multiplier, in training "
        "only (the test keeps the true mix): 1 counts a class as it is, 2 twice, 0.5 half, and 0 "
        "leaves it out."
        if weights
        else "Oversampling shows the model extra copies of the rarer ratings, in training only (the "
        "test keeps the true mix). A multiplier of 1 leaves a class untouched; 2 doubles it."
    ),
)

ds = datasets.dataset()
split, seed = state.split_setting()
try:
    before = datasets.train_class_counts(ds.key, split, seed, ds.frame)
except RecsysError as exc:
    st.error(layout.plain(views.split_advice(ds.frame, split, seed, exc)), icon=":material/error:")
    st.stop()
classes = sorted(before)


def _recipe() -> None:
    state.set_multipliers(state.notebook_recipe(), classes)


def _reset() -> None:
    state.set_multipliers({}, classes)


st.markdown(f"Training split of {layout.dataset_line(ds)} (split: {split}).")
b1, b2, _ = st.columns([1, 1, 4])
b1.button(
    "Notebook recipe",
    on_click=_recipe,
    type="primary",
    width="stretch",
    help="The reference notebook's factors: 1★ ×2.5, 2★ ×3, 3★ ×2"
    + (" (here as weights)." if weights else "."),
)
b2.button(
    "Reset",
    on_click=_reset,
    width="stretch",
    help="Every class back to ×1 (" + ("every rating counts once)." if weights else "no oversampling)."),
)
missing = [r for r in state.notebook_recipe() if r not in before]
if missing:
    st.caption(
        f"This data has no {', '.join(views.stars(r) for r in missing)} ratings; the recipe leaves those out."
    )

inputs = st.columns(min(len(classes), 10))
refused = state.refused_multipliers(classes)
low, high = views.WEIGHT_RANGE if weights else views.MULTIPLIER_RANGE
for i, rating in enumerate(classes):
    column = inputs[i % len(inputs)]
    # No min/max on the box: the browser would silently clamp; a refused value is explained instead.
    column.number_input(
        f"{views.stars(rating)} ×",
        step=0.5,
        format="%g",
        **state.bind(state.mult_name(rating), 1.0),
        help=f"{before[rating]:,} training ratings of {views.stars(rating)}; from ×{low:g} to ×{high:g}.",
    )
    if rating in refused:
        column.error(refused[rating], icon=":material/error:")

factors = state.multipliers(classes)
try:
    if weights:
        after = weighted_counts(before, factors)
    else:
        strategy = oversampling_strategy(before, factors)
        after = {r: int(strategy.get(r, before[r])) for r in classes}
except RecsysError as exc:
    st.error(layout.plain(exc))
    st.stop()

mix = views.class_mix(before, after)
st.subheader("What the model will see")
st.caption(views.balance_sentence(before, after, weighted=weights))
if weights:
    st.caption(views.WEIGHT_COSTS)
st.altair_chart(class_mix_chart(mix, weighted=weights), width="stretch")

table = pd.DataFrame(
    {
        "Rating": [views.stars(r) for r in classes],
        "Multiplier": [f"×{factors[r]:g}" for r in classes],
        "Before": [before[r] for r in classes],
        "After": [after[r] for r in classes],
    }
)
total_before, total_after = max(sum(before.values()), 1), max(sum(after.values()), 1)
table["Share before"] = table["Before"] / total_before
table["Share after"] = table["After"] / total_after
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "Before": st.column_config.NumberColumn(format="localized"),
        "After": st.column_config.NumberColumn(
            format="localized",
            help="How many ratings the class counts as in training"
            + (" (its ratings × its weight)." if weights else " (with the copies)."),
        ),
        "Share before": st.column_config.NumberColumn(format="percent"),
        "Share after": st.column_config.NumberColumn(format="percent"),
    },
)
st.caption(
    "These settings are used by the next training on the **Train** page. "
    "Try a few and compare the runs on **Compare**."
)

sweep_panel(classes)
