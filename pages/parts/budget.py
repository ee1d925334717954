"""The Train page's word on what a run will take here, before Start: time per pass and memory,
and, when the recipe would not fit in this computer's memory or would take hours, the recipe that
fits, one click away."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from pages.parts import state
from recsys_core.app import views
from recsys_core.errors import RecsysError

if TYPE_CHECKING:
    from recsys_core.config import TrainConfig
    from recsys_core.training import Suggestion

#: Session key of "Try it anyway" (Start stays off for a recipe that does not fit until it is ticked).
FORCE = "budget_force"


def _switch(offer: Suggestion) -> None:
    """Put the offered recipe in the settings: its preset (with its oversampling) and its values."""
    if offer.preset is not None and offer.preset != state.kept("preset"):
        state.set_kept("preset", offer.preset)
        state.choose_preset()
    for name in state.SETTINGS:
        state.set_kept(name, getattr(offer.config, name))
    st.session_state.pop(FORCE, None)


def note(
    overview: views.Overview, class_counts: dict[float, int] | None, config: TrainConfig | None, running: bool
) -> bool:
    """Draw the estimate of ``config`` on the data of ``overview`` (training split:
    ``class_counts``); ``False``
    when the recipe does not fit and "Try it anyway" is not ticked (Start stays off)."""
    if running or config is None or not class_counts:
        return True
    try:
        shown = views.budget_note(views.training_shape(overview, class_counts), config)
    except RecsysError:
        return True  # the settings' own messages say what is wrong
    if shown.level == "info":
        st.caption(shown.text)
        return True
    draw = st.error if shown.level == "error" else st.warning
    draw(shown.text, icon=":material/memory:" if shown.level == "error" else ":material/schedule:")
    if shown.offer is not None:
        st.button(
            f"Switch to {shown.offer.label}",
            on_click=_switch,
            args=(shown.offer,),
            icon=":material/swap_horiz:",
            key="budget_switch",
        )
    if shown.level != "error":
        return True
    return st.checkbox(
        "Try it anyway", key=FORCE, help="The estimate may be wrong; training may run out of memory."
    )
