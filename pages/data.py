"""Data: which ratings the recommender learns from (demo data or an upload) and what they look like."""

from __future__ import annotations

import streamlit as st

from pages.parts import charts, datasets, entry, layout
from pages.parts.state import DATASET
from recsys_core.app import views
from recsys_core.data import peek_columns, peek_table
from recsys_core.errors import ColumnsError, RecsysError
from recsys_core.limits import MAX_MIN_RATINGS

entry.through_app()  # before anything else: a cold deep link reruns through app.py

NONE = "— none —"

layout.intro(
    "Data",
    "The ratings the recommender learns from: who rated which product, how many stars, and when.",
)
st.markdown(
    "**What this does, in three steps:** "
    "**1.** Pick the ratings: the demo shop below is ready, or upload your own. "
    "**2.** On **Train**, a model learns what each customer likes from what they rated. "
    "**3.** On **Recommend**, see what it suggests to a customer, next to a best-seller list."
)


def _columns_problem(exc: RecsysError) -> bool:
    """Whether a load failed on the columns (which one is which), so a manual mapping may help."""
    return isinstance(exc, ColumnsError)


def _try_load(name: str, data: bytes, columns: tuple | None) -> None:
    """Load an upload; on failure keep the current dataset and remember the message."""
    state = st.session_state
    for key in ("upload_ok", "upload_warning", "map_problem"):
        state.pop(key, None)
    try:
        ds = datasets.load_ratings_bytes(
            name, data, columns=columns, min_user=state.get("min_user", 1), min_item=state.get("min_item", 1)
        )
    except RecsysError as exc:
        # Without the command line's way out (--columns, --date-format): the app has its own.
        state["upload_error"] = exc.reason
        if columns is None and _columns_problem(exc):
            for role in ("user", "item", "rating", "time"):
                state.pop(f"map_{role}", None)  # choices for another file's columns
            try:
                columns_found = peek_columns(data, name)
            except RecsysError:  # the loader's message already says what is wrong: say nothing more
                state.pop("mapping", None)
            else:
                sample = peek_table(data, name)  # read already by peek_columns: cannot fail now
                guess = views.guess_columns(sample, columns_found)
                state["mapping"] = {"name": name, "columns": columns_found, "guess": guess}
                # Not an error yet: the boxes ask, neutrally; a refused choice is one.
                state.pop("upload_error", None)
        return
    old = datasets.dataset()
    # A product table the user uploaded stays attached; the demo's own table does not.
    state[DATASET] = datasets.with_products(ds, None if old.is_demo else old.products)
    state.pop("upload_error", None)
    state.pop("mapping", None)
    # Messages about the previous data (a failed training, a split error) no longer apply.
    for key in ("train_error", "preset_note"):
        state.pop(key, None)
    readiness = views.data_readiness(ds.frame)
    state["upload_ok"] = (readiness.level, readiness.message)
    kept_note = datasets.keep(ds, data)
    if kept_note:
        state["upload_warning"] = kept_note


# Loading runs in widget callbacks, so the whole page is drawn afterwards with the new data.
def _load_upload() -> None:
    upload = st.session_state.get("upload_ratings")
    if upload is None:  # the file was removed from the uploader: its messages no longer apply
        for key in ("upload_error", "mapping", "upload_ok"):
            st.session_state.pop(key, None)
        return
    st.session_state.pop("mapping", None)
    _try_load(upload.name, upload.getvalue(), None)


def _load_mapped() -> None:
    upload = st.session_state.get("upload_ratings")
    mapping = st.session_state.get("mapping")
    if upload is None or not mapping:
        return
    options = mapping["columns"]
    chosen = [st.session_state.get(f"map_{role}") for role in ("user", "item", "rating", "time")]
    chosen = [None if c in (None, NONE) else c for c in chosen]
    data = upload.getvalue()
    rating = chosen[2]
    if rating is not None:
        sample = peek_table(data, upload.name)
        if rating in sample.columns:
            problem = views.rating_problem(sample[rating], rating)
            if problem:  # refused next to the box, before the loader blames the values
                st.session_state["map_problem"] = problem
                return
    if options and options[0].startswith("column "):  # headerless: the loader takes 1-based positions
        chosen = [None if c is None else str(options.index(c) + 1) for c in chosen]
    _try_load(upload.name, data, tuple(chosen))


def _load_product_table() -> None:
    upload = st.session_state.get("upload_products")
    st.session_state.pop("products_error", None)
    if upload is None:
        return
    try:
        products = datasets.load_products_bytes(upload.name, upload.getvalue())
    except RecsysError as exc:
        st.session_state["products_error"] = str(exc)
        return
    st.session_state[DATASET] = datasets.with_products(datasets.dataset(), products)


def _use_demo() -> None:
    st.session_state[DATASET] = datasets.demo_dataset()
    for key in ("upload_error", "mapping", "upload_ok", "products_error", "train_error", "upload_warning"):
        st.session_state.pop(key, None)


def _use_kept(key: str) -> None:
    found = datasets.from_file_key(key)
    if found is None:
        st.session_state["upload_error"] = "That file is no longer kept; upload it again."
        return
    _use_demo()  # clears the messages about the previous data
    st.session_state[DATASET] = found


def _delete_kept(key: str) -> None:
    datasets.store().delete(key)
    if datasets.dataset().file_key == key:
        _use_demo()


def _mapping_form(mapping: dict) -> None:
    """Select boxes seeded with plausible guesses; a refused choice is explained next to it."""
    options, guess = mapping["columns"], mapping.get("guess") or {}
    with st.form("column_map", border=True):
        st.markdown("**Tell us which column is which**")
        previous = f"the previous data ({layout.plain(datasets.dataset().name)})"
        st.caption(views.mapping_intro(layout.plain(mapping["name"]), options, previous))
        cols = st.columns(4)
        boxes = [("user", "Customer ID"), ("item", "Product ID"), ("rating", "Rating")]
        for col, (role, label) in zip(cols, boxes, strict=False):
            choices = options if guess.get(role) else [NONE, *options]
            pick = guess.get(role) or NONE
            col.selectbox(label, choices, index=choices.index(pick), key=f"map_{role}")
        time_choices = [NONE, *options]
        cols[3].selectbox(
            "Date / time", time_choices, index=time_choices.index(guess.get("time") or NONE), key="map_time"
        )
        if st.session_state.get("map_problem"):
            cols[2].error(layout.plain(st.session_state["map_problem"]), icon=":material/error:")
        elif not guess.get("rating"):
            cols[2].caption("No column looks like ratings (numbers in a small range, such as 1–5).")
        st.form_submit_button("Load with these columns", type="primary", on_click=_load_mapped)


def _kept_files() -> None:
    """Uploads kept on this server (they survive a reload and a restart), with a delete button."""
    kept_files = datasets.store().list()
    if not kept_files:
        return
    with st.expander(f"Files kept on this server ({len(kept_files)})"):
        st.caption("Uploads are kept so that a reload or a shared link finds them again.")
        for entry in kept_files:
            row = st.columns([4, 1, 1], vertical_alignment="center")
            row[0].markdown(f"{layout.plain(entry.name)} · {entry.size / 2**20:,.1f} MB")
            row[1].button("Use", key=f"use_{entry.key}", on_click=_use_kept, args=(entry.key,))
            row[2].button(
                "Delete", key=f"del_{entry.key}", on_click=_delete_kept, args=(entry.key,),
                icon=":material/delete:",
            )  # fmt: skip


ds = datasets.dataset()
if st.session_state.get("link_note"):
    st.info(st.session_state.pop("link_note"), icon=":material/link_off:")
error = st.session_state.get("upload_error")
mapping = st.session_state.get("mapping")

# -- loading -----------------------------------------------------------------------------------
with st.container(border=True):
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown(f"Now showing: {layout.dataset_line(ds)}")
    right.button("Use the demo data", on_click=_use_demo, disabled=ds.is_demo, width="stretch")

    with st.expander("Upload your own ratings", expanded=not ds.is_demo or bool(error)):
        st.caption(
            "One row per rating with a customer ID, a product ID, the rating and (optionally) a date "
            "or Unix time. CSV with or without a header, CSV.gz, Parquet or JSON lines."
        )
        st.file_uploader(
            "Ratings file", type=datasets.UPLOAD_TYPES, key="upload_ratings", on_change=_load_upload
        )
        if error:
            hint = " Pick which column is which below." if mapping else ""
            st.error(
                f"{layout.plain(error)}\n\n{hint} The previous data ({layout.plain(ds.name)}) is "
                "still loaded.",
                icon=":material/error:",
            )
        elif st.session_state.get("upload_ok"):
            level, text = st.session_state["upload_ok"]
            shown = f"Loaded {layout.plain(ds.name)}. {layout.plain(text)}"
            if level == "ok":
                st.success(shown, icon=":material/check_circle:")
            elif level == "warning":
                st.warning(shown, icon=":material/warning:")
            else:
                st.error(shown, icon=":material/block:")
        if st.session_state.get("upload_warning"):
            st.caption(layout.plain(st.session_state["upload_warning"]))
        if mapping and st.session_state.get("upload_ratings") is not None:
            _mapping_form(mapping)
        c1, c2 = st.columns(2)
        c1.number_input(
            "Keep customers with at least … ratings",
            min_value=1,
            max_value=MAX_MIN_RATINGS,
            value=1,
            step=1,
            key="min_user",
            on_change=_load_upload,
            help="Drops customers with fewer ratings (and repeats until stable).",
        )
        c2.number_input(
            "Keep products with at least … ratings",
            min_value=1,
            max_value=MAX_MIN_RATINGS,
            value=1,
            step=1,
            key="min_item",
            on_change=_load_upload,
            help="Drops rarely rated products (and repeats until stable).",
        )
        st.file_uploader(
            "Product table (optional): product ID, name, category",
            type=datasets.UPLOAD_TYPES,
            key="upload_products",
            on_change=_load_product_table,
        )
        if st.session_state.get("products_error"):
            st.error(layout.plain(st.session_state["products_error"]), icon=":material/error:")
    _kept_files()

# -- what the data looks like ------------------------------------------------------------------
frame = ds.frame
info = datasets.overview(ds.key, frame)
m = st.columns([1, 1, 1, 1, 1.4])  # the years ("1999–2014") whole at 1280 px
m[0].metric("Ratings", f"{info['rows']:,}")
m[1].metric("Customers", f"{info['users']:,}")
m[2].metric("Products", f"{info['items']:,}")
m[3].metric(
    "Not yet rated",
    views.percent(info["sparsity"], 2),
    help="Share of customer × product pairs without a rating (the “empty cells” or sparsity of the "
    "ratings matrix). A recommender guesses which of these a customer would like.",
)
if info["time_min"] is not None:
    first, last = info["time_min"], info["time_max"]
    span = f"{first:%Y}" if first.year == last.year else f"{first:%Y}–{last:%Y}"
    m[4].metric("Years", span, help=f"From {first:%Y-%m-%d} to {last:%Y-%m-%d}.")
else:
    m[4].metric("Years", "no dates", help="Without dates the hold-out split is random.")

report = getattr(ds.ratings, "report", None)
dropped = getattr(report, "duplicates_dropped", 0) if report is not None else 0
if dropped:
    st.caption(
        f"{dropped:,} repeated ratings of the same product by the same customer were dropped "
        "(the latest one is kept)."
    )

left, right = st.columns(2)
with left:
    st.subheader("How customers rate")
    dist = datasets.rating_distribution(ds.key, frame)
    top = dist.iloc[int(dist["count"].idxmax())]
    st.caption(
        f"{top['label']} is the most common rating ({views.percent(top['share'])} of all). "
        "When one class dominates, a model can look good by always predicting it; see **Balance**."
    )
    st.altair_chart(charts.rating_bars(dist), width="stretch")
with right:
    st.subheader("Popular and niche products")
    points, tail = datasets.long_tail(ds.key, frame)
    st.caption(f"{views.long_tail_sentence(tail)} Rarely rated products are hard to learn.")
    st.altair_chart(charts.long_tail_chart(points), width="stretch")

with st.expander("First rows"):
    # The words the app uses everywhere: customer and product, not the loader's column names.
    shown = frame.head(200).rename(columns={"user": "customer", "item": "product", "timestamp": "date"})
    st.dataframe(shown, hide_index=True, width="stretch")
if ds.products is not None:
    with st.expander(f"Product table ({len(ds.products):,} products)"):
        st.dataframe(
            ds.products.head(200).rename(columns={"item": "product ID"}), hide_index=True, width="stretch"
        )
