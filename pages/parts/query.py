"""The working state in the URL: data set, recipe and multipliers, so a reload keeps them and a
what-if state is a link one can send (``?data=<key>&recipe=notebook&mult=1:2.5,2:3``).

Each page adds its own what-if (:func:`show`): the runs compared on Compare (``a=<run>&b=<run>``),
the run and customer on Recommend (``run=<run>&customer=<id>``), the run and the stars given on
Try it yourself (``run=<run>&stars=<product>:5,<product>:4``). A link's values are taken once by
the page they belong to (:func:`from_link`), which checks them; what it refuses is not used, so
the URL written after the page leaves it out.

Uploads themselves are kept on disk by content (``pages.parts.datasets.keep``); the URL names them.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

import streamlit as st

from pages.parts import datasets, state
from recsys_core.config import PRESETS

RESTORED = "query_restored"
URL_STATE = "url_state"
#: Session-state keys: the link's page values not taken yet; this run's page values.
LINK = "query_link"
PAGE = "query_page"
#: The page values a link may carry.
PAGE_KEYS = ("a", "b", "run", "customer", "stars")


def _parse_multipliers(text: str) -> dict[float, float]:
    factors = {}
    for part in text.split(","):
        rating, _, factor = part.partition(":")
        try:
            factors[float(rating)] = float(factor)
        except ValueError:
            continue  # a hand-edited link: ignore what cannot be read
    return factors


def restore() -> None:
    """Once per session: take the data set, recipe and multipliers from the URL."""
    if st.session_state.get(RESTORED):
        return
    st.session_state[RESTORED] = True
    params = st.query_params
    st.session_state[LINK] = {name: params[name] for name in PAGE_KEYS if params.get(name)}
    recipe = params.get("recipe")
    if recipe in PRESETS:
        state.set_kept("preset", recipe)
        state.apply_preset()
    for rating, factor in _parse_multipliers(params.get("mult", "")).items():
        state.set_kept(state.mult_name(rating), factor)
    key = params.get("data")
    if key and key != "demo":
        found = datasets.from_file_key(key)
        if found is None:
            st.session_state["link_note"] = (
                "The data set in this link is no longer kept on this server; showing the demo data."
            )
        else:
            st.session_state[state.DATASET] = found


def from_link(name: str) -> str | None:
    """The link's value of ``name`` (``a``, ``customer`` …), once: afterwards the page's own
    choices rule. The page checks it before using it."""
    return st.session_state.get(LINK, {}).pop(name, None)


def show(**values: str | None) -> None:
    """This page's what-if, written into the URL after the page has run (``None``: left out)."""
    st.session_state[PAGE] = {name: str(value) for name, value in values.items() if value}


def stars_text(stars: dict[str, int]) -> str:
    """``B001:5,B002:4``: product IDs as written, other characters than letters, digits and
    ``_.-~`` percent-escaped (so a comma or colon in an ID cannot break the list)."""
    return ",".join(f"{quote(str(item), safe='')}:{int(given)}" for item, given in stars.items())


def parse_stars(text: str) -> tuple[dict[str, int], int]:
    """The ``{product: stars}`` of :func:`stars_text`, and how many parts were not 1 to 5 stars."""
    stars, refused = {}, 0
    for part in filter(None, text.split(",")):
        item, _, given = part.rpartition(":")
        if item and given.strip() in {"1", "2", "3", "4", "5"}:
            stars[unquote(item)] = int(given)
        else:
            refused += 1
    return stars, refused


def url_params(file_key: str | None, preset: str, multipliers: dict[float, float]) -> dict[str, str]:
    """The query parameters of a working state (the inverse of what :func:`restore` reads)."""
    wanted = {"data": file_key or "demo", "recipe": preset}
    if multipliers:
        wanted["mult"] = ",".join(f"{r:g}:{f:g}" for r, f in sorted(multipliers.items()))
    return wanted


def write() -> None:
    """Put the current data set, recipe, multipliers and the page's what-if into the URL."""
    preset = str(state.kept("preset") or state.DEFAULT_PRESET)
    wanted = url_params(datasets.dataset().file_key, preset, state.kept_multipliers())
    wanted.update(st.session_state.pop(PAGE, {}))
    # Written on every run, even when unchanged: a move to another page clears the browser's URL
    # after the server read it, so "unchanged" would leave the new page without its link.
    st.query_params.from_dict(wanted)
