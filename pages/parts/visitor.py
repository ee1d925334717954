"""Try it yourself, Streamlit side: the visitor's stars in session state, star rows, lists.

The visitor's ratings are ``{product ID: stars 1..5}`` in session state, the one truth: every
star widget is seeded from it on each run and writes back on change, so a product shows the
same stars in the search results and in "your ratings", and nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st

from pages.parts import query, runs
from pages.parts.layout import md_escape
from recsys_core.app import views

if TYPE_CHECKING:  # torch: only once a run is loaded
    from recsys_core.runs import Run, RunRecord

#: Session-state keys: the ratings, and a line saying where they came from.
RATINGS = "tryit_ratings"
SOURCE = "tryit_source"
FILE, FILE_ERROR = "tryit_file", "tryit_file_error"
#: Star widgets: one key per product and list.
FOUND, MINE = "tryit_found_", "tryit_mine_"


def ratings() -> dict[str, int]:
    """The visitor's ``{product ID: stars}`` (empty at first)."""
    return st.session_state.setdefault(RATINGS, {})


# -- the run, ready for visitors ----------------------------------------------------------------


@st.cache_resource(max_entries=4, show_spinner="Getting the model ready for new visitors…")
def _ready(path: str, mtime: float) -> Run:
    # ``mtime`` in the key: a replaced run folder is prepared again.
    from recsys_core.topn import fold_in

    run = runs.load_run(path, mtime)
    # A visitor with no known product builds the run's fold-in prior (1-2 s on a large
    # catalogue); fold_in keeps it with the model, which this cache keeps alive: clicks are fast.
    fold_in(run, pd.DataFrame({"user": ["warm-up"], "item": ["\0"], "rating": [run.rating_max]}))
    return run


def ready_run(record: RunRecord) -> Run:
    """The saved run of ``record``, loaded once and prepared for fold-in once."""
    path = Path(record.path)
    return _ready(str(path), path.stat().st_mtime)


@st.cache_data(max_entries=4, show_spinner=False)
def _catalogue(path: str, mtime: float, _run: Run) -> pd.DataFrame:
    return views.catalogue(_run)


def catalogue(record: RunRecord, run: Run) -> pd.DataFrame:
    """The run's products, most rated first (cached per run)."""
    path = Path(record.path)
    return _catalogue(str(path), path.stat().st_mtime, run)


def product_names(products: pd.DataFrame) -> dict[str, str]:
    if "name" not in products.columns:
        return {}
    return dict(zip(products["item"], products["name"], strict=True))


# -- callbacks ----------------------------------------------------------------------------------


def _rated(key: str, item: str) -> None:
    value = st.session_state.get(key)
    if value is None:
        ratings().pop(item, None)
    else:
        ratings()[item] = int(value) + 1


def start_from_customer(run: Run, frame: pd.DataFrame | None, tries: int = 10) -> None:
    """Replace the ratings by a random real customer's training ratings (a presenter's start).

    Prefers a customer who liked at least two products (four stars or more): suggestions are
    explained by what one liked, so a customer who liked nothing would show few reasons.
    """
    rng = np.random.default_rng()
    for _ in range(tries):
        user = views.random_customer(run, rng)
        if user is None:
            return
        stars, estimated = views.customer_stars(run, user, frame)
        if sum(s >= 4 for s in stars.values()) >= 2:
            break
    st.session_state[RATINGS] = stars
    how = (
        "stars as the model guesses them: their data set is not on this server"
        if estimated
        else "their stars"
    )
    st.session_state[SOURCE] = f"Started from customer {user}'s {len(stars)} ratings ({how})."


def stars_from_link(text: str | None, products: pd.DataFrame) -> None:
    """The stars a link gives (``stars=<product>:5,…``) become the ratings; parts that are not
    1 to 5 stars for a product of this model are left out, and the line above the ratings
    says how many."""
    if not text:
        return
    stars, refused = query.parse_stars(text)
    catalogue = set(products["item"].astype(str))
    known = {item: given for item, given in stars.items() if item in catalogue}
    refused += len(stars) - len(known)
    st.session_state[RATINGS] = known
    left_out = f" ({refused} left out: not 1 to 5 stars for a product of this model)" if refused else ""
    st.session_state[SOURCE] = f"Ratings from the link you opened: {len(known)}{left_out}."


def clear() -> None:
    st.session_state[RATINGS] = {}
    st.session_state.pop(SOURCE, None)


def load_file(run: Run) -> None:
    """Ratings saved earlier (any file the loader reads), the first person's, as stars.

    An ``on_change`` callback of the uploader, so the stars show in the same run; a file that
    cannot be read leaves the ratings as they were and a message in :data:`FILE_ERROR`.
    """
    from recsys_core.data import load_ratings
    from recsys_core.errors import RecsysError

    upload = st.session_state.get(FILE)
    st.session_state.pop(FILE_ERROR, None)
    if upload is None:
        return
    try:
        frame = load_ratings(upload, visitors=True).frame
    except RecsysError as exc:
        st.session_state[FILE_ERROR] = str(exc)
        return
    first = frame[frame["user"] == frame["user"].iloc[0]]
    st.session_state[RATINGS] = {
        str(item): views.rating_to_stars(r, run.rating_min, run.rating_max)
        for item, r in zip(first["item"], first["rating"], strict=True)
    }
    st.session_state[SOURCE] = f"Loaded {len(first)} rating(s) from {upload.name}."


# -- drawing ------------------------------------------------------------------------------------


def star_row(item: str, label: str, detail: str, prefix: str) -> None:
    """A product's name and details beside five stars tied to the visitor's ratings."""
    key = prefix + item
    given = ratings().get(item)
    st.session_state[key] = None if given is None else given - 1
    # Five stars need 128 px: at 1280 px they fit their column in "your ratings" (an expander).
    text, stars = st.columns([9, 11], vertical_alignment="center")
    text.markdown(f"**{md_escape(label)}**  \n:gray[{md_escape(detail)}]")
    with stars:
        st.feedback("stars", key=key, on_change=_rated, args=(key, item))


def product_detail(row: pd.Series) -> str:
    """``"Headphones · 365 ratings"``; the ID only where the product has no name to go by."""
    category = str(row.get("category", "") or "")
    named = bool(str(row.get("name", "") or ""))
    parts = [category, "" if named else f"ID {row['item']}", f"{int(row['ratings']):,} ratings"]
    return " · ".join(p for p in parts if p)


def suggestion_lines(
    table: pd.DataFrame,
    names: dict[str, str],
    run: Run,
    *,
    who: str = "you",
    key: str = "tryit_suggestions",
    marks: Mapping[str, str] | None = None,
    match: bool = False,
) -> None:
    """Numbered suggestions, each with its "because you liked …" line under the name.

    ``marks`` adds a note to some products (``{item: "rated next"}``); ``match`` shows each
    one's match (:func:`recsys_core.topn.recommend`'s chance relative to the top suggestion).
    Under the list, a note when products rated low raised suggestions (not a reason, but it counted).
    """
    whose = "your" if who == "you" else "their"
    with st.container(key=key):
        for row in table.itertuples(index=False):
            why = views.because_line(row.because, names, run.rating_min, run.rating_max, who=who)
            # No single liked rating adds to it: the list follows the ratings as a whole.
            why = why or f"from {whose} ratings as a whole"
            category = str(getattr(row, "category", "") or "")
            shown = f"match {views.percent(row.match)}" if match else ""
            detail = " · ".join(p for p in (category, shown, (marks or {}).get(str(row.item), ""), why) if p)
            label = views.product_label(str(row.item), names)
            st.markdown(f"**{row.rank}. {md_escape(label)}**  \n:gray[{md_escape(detail)}]")
    note = views.low_rating_note(
        list(table.get("low_rated", [])), names, run.rating_min, run.rating_max, who=who
    )
    if note:
        st.caption(md_escape(note))


def popular_lines(popular: pd.DataFrame, names: dict[str, str], rated: dict[str, int]) -> None:
    """The most popular products, the same for everyone; those the visitor rated are marked."""
    with st.container(key="tryit_popular"):
        for row in popular.itertuples(index=False):
            mark = " · you rated it" if str(row.item) in rated else ""
            label = views.product_label(str(row.item), names)
            st.markdown(f"**{row.rank}. {md_escape(label)}**  \n:gray[{int(row.count):,} ratings{mark}]")


def ratings_csv(low: float, high: float) -> bytes:
    """The visitor's ratings as ``user,item,rating`` (what ``recsys recommend --new-users`` reads)."""
    from recsys_core.app import to_safe_csv

    return to_safe_csv(views.visitor_frame(ratings(), low, high))
