"""Try it yourself: give stars to a few products and see, at once, what the model suggests."""

from __future__ import annotations

import streamlit as st

from pages.parts import datasets, entry, layout, query, runs, state, visitor
from recsys_core.app import views
from recsys_core.errors import RecsysError

entry.through_app()  # before anything else: a cold deep link reruns through app.py
layout.intro(
    "Try it yourself",
    "Give stars to a few products you know and see what the model would suggest to you, at once and "
    "without training again. Each suggestion says which of your ratings led to it. Nothing is saved "
    "unless you download your ratings.",
)

records = runs.list_runs()
if not records:
    st.info(
        "No trained model yet. Train one first, then come back here to try it on yourself.",
        icon=":material/info:",
    )
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()

top = st.columns([5, 1])
runs.run_from_link(records, "try_run")
record = runs.pick_run(records, "try_run", top[0])
n = int(top[1].number_input("How many", min_value=1, max_value=50, step=1, **state.bind("try_n", 10)))
try:
    run = visitor.ready_run(record)
except RecsysError as exc:
    st.error(f"{layout.plain(exc)}\n\nPick another run, or delete this one on **Compare**.")
    st.stop()

products = visitor.catalogue(record, run)
names = visitor.product_names(products)
own = datasets.from_record(run.summary.dataset)
visitor.stars_from_link(query.from_link("stars"), products)
mine = visitor.ratings()
query.show(run=record.run_id, stars=query.stars_text(mine))

actions = st.columns([9, 5, 6])  # every label whole at 1280 px
actions[0].button(
    "Start from a random real customer's ratings",
    icon=":material/casino:",
    on_click=visitor.start_from_customer,
    args=(run, None if own is None else own.frame),
    help="Fills in the stars one real customer of this data set gave (the ratings the model learned from).",
    width="stretch",
)
actions[1].button("Clear my ratings", icon=":material/delete:", on_click=visitor.clear, width="stretch")
actions[2].download_button(
    "Save these ratings as CSV",
    data=visitor.ratings_csv(run.rating_min, run.rating_max),
    file_name="my-ratings.csv",
    mime="text/csv",
    icon=":material/download:",
    disabled=not mine,
    width="stretch",
)
if st.session_state.get(visitor.SOURCE) and mine:
    st.caption(layout.md_escape(st.session_state[visitor.SOURCE]))

left, right = st.columns([5, 7], gap="large")
with left:
    st.subheader("1. Rate a few products")
    query = st.text_input(
        "Find products by name, category or ID" if names else "Find products by ID",
        placeholder="e.g. headphones" if names else "a product ID",
        key="tryit_query",
        max_chars=views.MAX_QUERY_CHARS,
    )
    found = views.search_products(products, query, limit=8)
    if found.empty:
        st.caption("No product matches. Try another word.")
    elif not query:
        st.caption("The most rated products; type above to find others.")
    for _, row in found.iterrows():
        visitor.star_row(
            row["item"], views.product_label(row["item"], names), visitor.product_detail(row), visitor.FOUND
        )
    with st.expander(f"Your ratings ({len(mine)})", expanded=bool(mine)):
        by_item = products.set_index("item", drop=False)
        for item in list(mine):
            known = item in by_item.index
            detail = visitor.product_detail(by_item.loc[item]) if known else "not a product this model knows"
            visitor.star_row(item, views.product_label(item, names), detail, visitor.MINE)
    with st.expander("Load ratings saved earlier"):
        st.file_uploader(
            "Ratings file (saved here, or any file with customer, product and rating columns)",
            type=datasets.UPLOAD_TYPES,
            key=visitor.FILE,
            on_change=visitor.load_file,
            args=(run,),
        )
        if st.session_state.get(visitor.FILE_ERROR):
            st.error(layout.plain(st.session_state[visitor.FILE_ERROR]))

with right:
    from recsys_core.topn import popular_items, recommend_visitors

    popular = popular_items(run, n)
    personal, generic = st.columns([3, 2])
    with generic:
        st.subheader("Most popular")
        st.caption("What a shop without personalisation shows: the same for everyone.")
        visitor.popular_lines(popular, names, mine)
    with personal:
        if not mine:
            st.subheader("2. Suggested for you")
            st.info(
                "Give stars to a few products on the left, or start from a random real customer's "
                "ratings: your suggestions appear here.",
                icon=":material/star:",
            )
            st.stop()
        answer = recommend_visitors(run, views.visitor_frame(mine, run.rating_min, run.rating_max), n)[0]
        if answer.fallback:
            st.subheader("2. Most popular (nothing to go on yet)")
            st.warning(
                "None of the products you rated is known to this model, so it cannot tell your taste: "
                "here is the most popular list instead.",
                icon=":material/person_off:",
            )
        else:
            st.subheader("2. Suggested for you")
            overlap = int(answer.table["item"].isin(popular["item"]).sum())
            st.caption(
                f"Best match first, among products you have not rated. {overlap} of {len(answer.table)} "
                "are also in the most popular list; the rest follow your stars."
            )
        if answer.ignored:
            st.caption(
                f"{answer.ignored} of your rated products are not known to this model and were left out."
            )
        visitor.suggestion_lines(answer.table, names, run)
