"""Session state of the app: its keys, values kept across pages, multipliers and settings.

Streamlit forgets a widget's value when its page is not shown. Kept values live in a plain dict
in session state; a widget gets a key seeded from it and writes back on change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from recsys_core import settings
from recsys_core.app.views import multiplier_problem, multipliers_text
from recsys_core.config import NOTEBOOK_MULTIPLIERS, PRESETS, TrainConfig

#: Session-state keys.
DATASET = "dataset"
JOB = "train_job"
LAST_RUN = "last_run_id"
#: Values kept across pages (a dict in session state) and the prefix of their widgets' keys.
STORE = "kept"
WIDGET = "w_"
#: Set to 1 (or set ``st.session_state["sync_training"] = True``) to train in the page's own
#: thread: AppTest cannot wait for a worker thread. Everything else is the same code path.
SYNC_ENV = settings.SYNC_ENV


# -- kept values -------------------------------------------------------------------------------
# Kept values are whatever a widget holds (numbers, strings, None): ``Any`` is their real type.


def kept(name: str, default: Any = None) -> Any:
    """The kept value ``name`` (``default`` when never set)."""
    return st.session_state.setdefault(STORE, {}).get(name, default)


def set_kept(name: str, value: Any) -> None:
    """Change a kept value and its widget (call before the widget is drawn or from a callback)."""
    st.session_state.setdefault(STORE, {})[name] = value
    st.session_state[WIDGET + name] = value


def _sync(name: str) -> None:
    st.session_state.setdefault(STORE, {})[name] = st.session_state[WIDGET + name]


def bind(
    name: str, default: Any, on_change: Callable[[], None] | None = None
) -> dict[str, str | Callable[[], None]]:
    """``key``/``on_change`` arguments that tie a widget to the kept value ``name``."""
    store = st.session_state.setdefault(STORE, {})
    store.setdefault(name, default)
    # Seed the widget on every run, not only when its key is missing: a key left over from an
    # earlier visit can hold a stale value. The store already holds the latest change (the
    # on_change callback runs before the script), so this never overrides the user.
    st.session_state[WIDGET + name] = store[name]

    def changed() -> None:
        _sync(name)
        if on_change is not None:
            on_change()

    return {"key": WIDGET + name, "on_change": changed}


# -- oversampling multipliers (set on Balance, used on Train) -------------------------------------


def mult_name(rating: float) -> str:
    return f"mult_{float(rating):g}"


def weighs_classes() -> bool:
    """Whether the chosen recipe weighs each rating by its class's multiplier (softmax: 0 or
    more, 0 leaves the class out) instead of copying rows (the other objectives: 1 or more)."""
    ensure_settings()
    return kept("objective") == "softmax"


def multipliers(classes: list[float]) -> dict[float, float]:
    """The Balance page's factors for ``classes`` (1.0 where the user set none or one is refused)."""
    factors = {float(r): float(kept(mult_name(r), 1.0)) for r in classes}
    weights = weighs_classes()
    return {r: (1.0 if multiplier_problem(f, weights=weights) else f) for r, f in factors.items()}


def refused_multipliers(classes: list[float]) -> dict[float, str]:
    """``{rating: why}`` for the factors entered on Balance that are not used."""
    weights = weighs_classes()
    problems = {
        float(r): multiplier_problem(float(kept(mult_name(r), 1.0)), weights=weights) for r in classes
    }
    return {r: why for r, why in problems.items() if why}


def kept_multipliers() -> dict[float, float]:
    """Every factor other than 1 kept in this session, whatever the data's classes."""
    store = st.session_state.setdefault(STORE, {})
    return {
        float(name.removeprefix("mult_")): float(value)
        for name, value in store.items()
        if name.startswith("mult_") and value is not None and float(value) != 1.0
    }


def set_multipliers(values: Mapping[float, float], classes: list[float]) -> None:
    for rating in classes:
        set_kept(mult_name(rating), float(values.get(float(rating), 1.0)))


def notebook_recipe() -> dict[float, float]:
    return dict(NOTEBOOK_MULTIPLIERS)


# -- training settings (set on Train, the split also used on Balance) ----------------------------

#: TrainConfig fields set on the Train page (kept under the same names).
SETTINGS = (
    "epochs",
    "embedding_dim",
    "batch_size",
    "learning_rate",
    "threshold",
    "split",
    "objective",
    "seed",
)
#: The recipe a new session starts with: the best top-N lists (softmax), as ``recsys train``.
DEFAULT_PRESET = "recommended"


def apply_preset() -> None:
    """Fill the advanced settings with the chosen preset's values."""
    config = PRESETS[kept("preset", DEFAULT_PRESET)]
    for name in SETTINGS:
        set_kept(name, getattr(config, name))


def choose_preset() -> None:
    """The recipe's settings and its oversampling (a recipe is both), and a note that says so."""
    apply_preset()
    name = kept("preset", DEFAULT_PRESET)
    recipe = PRESETS[name].multipliers
    for rating in {*kept_multipliers(), *recipe}:
        set_kept(mult_name(rating), float(recipe.get(rating, 1.0)))
    st.session_state["preset_note"] = (
        f"The {name} recipe also sets the oversampling (on **Balance**): {multipliers_text(recipe)}."
    )


def ensure_settings() -> None:
    if kept("preset") is None:
        set_kept("preset", DEFAULT_PRESET)
    if any(kept(name) is None for name in SETTINGS):
        apply_preset()


def current_config(classes: list[float]) -> TrainConfig:
    """The TrainConfig the Train page would start now (raises ``RecsysError`` if invalid)."""
    ensure_settings()
    overrides = {name: kept(name) for name in SETTINGS}
    overrides["multipliers"] = {r: f for r, f in multipliers(classes).items() if f != 1.0}
    return TrainConfig.preset(kept("preset"), **overrides)


def split_setting() -> tuple[str, int]:
    ensure_settings()
    return str(kept("split")), int(kept("seed"))


def sync_training() -> bool:
    return bool(st.session_state.get("sync_training")) or settings.sync_training()
