"""The working state in the URL: data set, recipe and multipliers, so a reload keeps them and a
what-if state is a link one can send (``?data=<key>&recipe=notebook&mult=1:2.5,2:3``).

Uploads themselves are kept on disk by content (``pages.parts.datasets.keep``); the URL names them.
"""

from __future__ import annotations

import streamlit as st

from pages.parts import datasets, state
from recsys_core.config import PRESETS

RESTORED = "query_restored"
URL_STATE = "url_state"


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


def url_params(file_key: str | None, preset: str, multipliers: dict[float, float]) -> dict[str, str]:
    """The query parameters of a working state (the inverse of what :func:`restore` reads)."""
    wanted = {"data": file_key or "demo", "recipe": preset}
    if multipliers:
        wanted["mult"] = ",".join(f"{r:g}:{f:g}" for r, f in sorted(multipliers.items()))
    return wanted


def write() -> None:
    """Put the current data set, recipe and multipliers into the URL (only when they changed)."""
    preset = str(state.kept("preset") or state.DEFAULT_PRESET)
    wanted = url_params(datasets.dataset().file_key, preset, state.kept_multipliers())
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
