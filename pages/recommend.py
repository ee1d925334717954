"""Recommend: what a trained model suggests to one customer, next to the most popular products."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import streamlit as st

from pages.parts import charts, datasets, entry, layout, query, runs, state, visitor
from recsys_core.app import to_safe_csv, views
from recsys_core.charts import popularity_mix_chart
from recsys_core.errors import RecsysError

entry.through_app()  # before anything else: a cold deep link reruns through app.py
layout.intro(
    "Recommend",
    "Pick a trained model and a customer: see what they rated, what the model suggests among the "
    "products they have not rated yet, and what a shop without personalisation would show "
    "(the most popular products, the same for everyone).",
)

records = runs.list_runs()
runs.show_broken_runs()
if not records:
    st.info("No trained model yet. Train one on the **Train** page first.", icon=":material/info:")
    st.stop()

runs.run_from_link(records, "rec_run")
record = runs.pick_run(records, "rec_run", st.container())  # a row of its own: long run names fit
top = st.columns([6, 1])
try:
    run = runs.load_run_record(record)
except RecsysError as exc:
    st.error(f"{layout.plain(exc)}\n\nPick another run, or delete this one on **Compare**.")
    st.stop()

counts = views.run_user_counts(run)
examples = views.example_users(counts, n=8)
# Example customers first, then a few thousand of the most active; any other ID can be typed in.
options = list(dict.fromkeys([*examples, *counts.index[:3000]]))
linked = query.from_link("customer")
if linked in counts.index:
    state.set_kept("rec_user", linked)
elif linked:
    st.info(
        f"The customer in this link ({layout.plain(linked)}) is not in this model's data; "
        "showing an example customer.",
        icon=":material/link_off:",
    )
chosen = state.kept("rec_user")
if chosen is None and examples:
    state.set_kept("rec_user", examples[0])
elif chosen is not None and chosen not in options:
    options.insert(0, chosen)  # typed earlier, or from another run: keep showing it
user = top[0].selectbox(
    "Customer (type to search, or paste any customer ID)",
    options,
    accept_new_options=True,
    format_func=lambda u: f"{u} · {int(counts[u])} ratings" if u in counts.index else str(u),
    help="The first entries are example customers with several ratings.",
    **state.bind("rec_user", examples[0] if examples else None),
)
n = top[1].number_input("How many", min_value=1, max_value=100, step=1, **state.bind("rec_n", 10))
user = str(user).strip() if user else None
query.show(run=record.run_id, customer=user)
if not user:
    st.stop()

# The run's own data, whatever is loaded now (another upload would show other customers' stars).
own = datasets.from_record(run.summary.dataset)
from recsys_core.topn import explain_user, popular_items, recommend, similar_items  # noqa: E402  (torch: once a run is loaded)  # noqa: E402

try:
    recs = recommend(run, user, n=int(n))
    popular = popular_items(run, int(n))
except RecsysError as exc:
    st.error(layout.plain(exc))
    st.stop()

history = views.user_history(run, user, None if own is None else own.frame)
rated = set(history["item"])
held_back = set(history.loc[history["held back"], "item"])
NEXT, _ = views.holdout_words(run.summary.method)
picked = "rated next" if NEXT.startswith("rated next") else "held back"

if recs.known_user:
    st.caption(layout.md_escape(recs.message))
else:
    st.warning(layout.md_escape(recs.message), icon=":material/person_off:")

names = visitor.product_names(visitor.catalogue(record, run))
suggested = recs.table.copy()
suggested[NEXT] = suggested["item"].isin(held_back)
reasons = None
if recs.known_user:
    # The customer's real stars where the run's data set is at hand, else the model's estimates.
    stars = None if own is None else own.frame[own.frame["user"] == user]
    reasons = explain_user(run, user, int(n), ratings=stars).table.set_index("item")
    for column in ("because", "low_rated"):
        suggested[column] = [reasons[column].get(item, []) for item in suggested["item"]]
    suggested["why"] = [
        views.because_line(b, names, run.rating_min, run.rating_max, who="they") for b in suggested["because"]
    ]
popular["already rated"] = popular["item"].isin(rated)
hits = int(suggested[NEXT].sum())
if recs.known_user and held_back:
    if hits:
        st.success(
            f"The product this customer {picked} (held back from training) is in the list "
            f"at rank {int(suggested.loc[suggested[NEXT], 'rank'].iloc[0])}.",
            icon=":material/target:",
        )
    else:
        st.caption(f"The product this customer {picked} (held back from training) is not in this list.")


def _similar(suggested: pd.Series, rated: pd.Series) -> None:
    """Customers who like this also like: the products the model sees as nearest to a chosen one."""
    options = list(dict.fromkeys([*suggested.astype(str), *rated.astype(str)]))
    if not options:
        return
    like = st.selectbox(
        "Show products like…",
        options,
        format_func=lambda item: f"{views.product_label(item, names)} ({item})" if names else item,
        help="A suggestion, or a product the customer rated.",
    )
    similar = similar_items(run, like, 5)
    st.caption(f"Customers who like {layout.md_escape(views.product_label(like, names))} also like:")
    st.dataframe(
        similar,
        hide_index=True,
        width="stretch",
        column_order=[c for c in ("name", "category", "similarity", "item") if c in similar.columns],
        column_config={
            "name": st.column_config.TextColumn(width=250),
            "category": st.column_config.TextColumn(width=150),
            "similarity": st.column_config.ProgressColumn(
                "how alike",
                min_value=0.0,
                max_value=1.0,
                format="%.2f",
                width=110,
                help="1 = liked by the same customers in the same way; 0 = unrelated.",
            ),
            "item": st.column_config.TextColumn("product ID", width=100),
        },
    )


def _history_table(history: pd.DataFrame) -> None:
    """What the customer rated, beside the suggestions: product, stars, held back, date."""
    st.subheader("What this customer rated")
    if history.empty:
        st.caption("This customer is not in the model's training data.")
        return
    note = "the held-back one is what the model is tested on"
    if own is None:
        # The run keeps which products were rated, and the stars of the held-back ones only.
        name = views.run_dataset(run.summary)[0]
        note += (
            f". The stars of the other ratings are in the run's data set ({layout.md_escape(name)}), "
            "which is not kept on this server, so only the held-back stars are shown"
        )
    newest = ", newest first" if "timestamp" in history.columns and history["timestamp"].notna().any() else ""
    st.caption(f"{len(history)} rating(s){newest}; {note}.")
    # The product ID only where there are no names, so that the stars stay in view.
    order = ["name" if "name" in history.columns else "item", "rating", "held back"]
    st.dataframe(
        history,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(history), 560),
        column_order=[c for c in order if c in history.columns],
        column_config={
            "rating": st.column_config.NumberColumn("stars", format="%.0f ★", width=50),
            "item": st.column_config.TextColumn("product ID", width=215),
            "name": st.column_config.TextColumn("product", width=215),
            "held back": st.column_config.CheckboxColumn(width=80),
        },
    )


# The suggestions with their reasons under each name, and beside them what the customer rated.
left, right = st.columns([11, 9], gap="medium")
with left:
    st.subheader(
        "Suggested for this customer" if recs.known_user else "Most popular (customer unknown)",
        help=views.match_help(run.config.objective) if recs.known_user else None,
    )
    if recs.known_user:
        guessed = (
            ""
            if own is not None
            else " (stars as the model guesses them: the run's data set is not on this server)"
        )
        st.caption(
            "Best match first. *match*: how the model rates each product against its top suggestion "
            f"(100 %). Under each, the ratings that add most to it{guessed}."
        )
        marks = dict.fromkeys(suggested.loc[suggested[NEXT], "item"].astype(str), f"✓ {NEXT}")
        visitor.suggestion_lines(
            suggested, names, run, who="they", key="rec_suggestions", marks=marks, match=True
        )
    else:
        st.dataframe(
            suggested,
            hide_index=True,
            width="stretch",
            column_order=[c for c in ("rank", "name", "category", "count", "item") if c in suggested.columns],
            column_config={
                "count": st.column_config.NumberColumn("ratings", format="localized", width=90),
                "item": st.column_config.TextColumn("product ID", width=120),
            },
        )
    safe_user = re.sub(r"[^A-Za-z0-9_.-]+", "_", user)[:60] or "customer"
    shown = [c for c in ("rank", "item", "score", "match", "name", "category", NEXT, "why") if c in suggested]
    st.download_button(
        "Download as CSV",
        data=to_safe_csv(suggested[shown]),
        file_name=f"recommendations-{safe_user}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
with right:
    _history_table(history)

_similar(suggested["item"], history["item"])
st.subheader("Most popular products")
order = ["rank", "name", "category", "count", "already rated", "item"]
st.dataframe(
    popular,
    hide_index=True,
    width="stretch",
    column_order=[c for c in order if c in popular.columns],
    column_config={
        "count": st.column_config.NumberColumn("ratings", format="localized", width=90),
        "rank": st.column_config.NumberColumn(width=50),
        "name": st.column_config.TextColumn(width=250),
        "category": st.column_config.TextColumn(width=150),
        "already rated": st.column_config.CheckboxColumn(width=110),
        "item": st.column_config.TextColumn("product ID", width=100),
    },
)
overlap = int(np.isin(suggested["item"], popular["item"]).sum())
st.caption(
    f"{overlap} of the {len(suggested)} suggestions are also among the {len(popular)} most "
    "popular products; the rest are personal."
)

mix = views.category_mix({"rated by the customer": history, "suggested": suggested, "most popular": popular})
if not mix.empty:
    st.subheader("Personal or generic?")
    st.caption(
        "Product categories in the customer's own ratings, in the model's suggestions and in the most "
        "popular list. Suggestions that follow the customer's taste look like the top bar, not the "
        "bottom one."
    )
    st.altair_chart(charts.category_chart(mix), width="stretch")

if recs.known_user:
    st.subheader("Where the suggestions sit among all products")
    st.caption(
        "Every product, from the most rated tenth of the shop to the least rated, and how much of each "
        "list comes from there. Most popular sits all on the left; personal suggestions reach further."
    )
    mix = views.popularity_mix(run, {"suggested": suggested, "most popular": popular})
    st.altair_chart(popularity_mix_chart(mix), width="stretch")
