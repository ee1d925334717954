"""Plausible guesses for the column-mapping boxes, and why an input is refused, in words."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_core.data import columns_by_name

#: Ratings are numbers in a small range: at most this many distinct values, within 0..10.
_RATING_MAX_DISTINCT = 21
_RATING_RANGE = (0.0, 10.0)
#: Oversampling factors the app accepts (copies of a class: 1 = untouched, at most ×50).
MULTIPLIER_RANGE = (1.0, 50.0)
#: Class weights the app accepts for the recommended recipe (softmax): 0 leaves a class out.
WEIGHT_RANGE = (0.0, 50.0)
ROLES = ("user", "item", "rating", "time")


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def rating_problem(values: pd.Series, column: str) -> str | None:
    """Why ``column`` cannot be the rating (``None`` when it can): numbers in a small range only."""
    numbers = _numbers(values.dropna())
    if len(numbers) == 0:
        return None  # nothing to judge by: let the loader decide
    finite = numbers[np.isfinite(numbers)]
    if len(finite) < 0.9 * len(numbers):
        return f"“{column}” is not a rating: it holds words, not numbers (ratings are numbers such as 1–5)."
    low, high = float(finite.min()), float(finite.max())
    if low < _RATING_RANGE[0] or high > _RATING_RANGE[1] or len(np.unique(finite)) > _RATING_MAX_DISTINCT:
        return (
            f"“{column}” is not a rating: it holds numbers from {low:,.0f} to {high:,.0f} (ratings are "
            "a few values in a small range, such as 1–5). Pick the column with the stars."
        )
    return None


def _looks_like_time(values: pd.Series) -> bool:
    numbers = _numbers(values.dropna())
    if len(numbers) and np.isfinite(numbers).all():
        return bool(numbers.min() > 1e8)  # unix seconds (after 1973) or milliseconds
    parsed = pd.to_datetime(values.dropna().astype(str), errors="coerce", format="mixed")
    return bool(len(parsed)) and bool(parsed.notna().mean() > 0.9)


def guess_columns(sample: pd.DataFrame, columns: list[str]) -> dict[str, str | None]:
    """Plausible columns for each role (``user, item, rating, time``); ``None`` where nothing fits.

    A column with a known name (``Kunde``, ``movieId``, ``Sterne`` …, see
    :func:`recsys_core.data.columns_by_name`) is taken first, unless its content says otherwise.
    Then the rating is the first column of numbers in a small range, the time the first of dates
    or large numbers; the customer and the product are the first two remaining columns. A role is
    never guessed from a column that fails its own check (e.g. a Unix time as the rating).
    """
    guess: dict[str, str | None] = dict.fromkeys(ROLES)
    have = [c for c in columns if c in sample.columns]
    fits = {
        "rating": lambda c: c not in have or rating_problem(sample[c], c) is None,
        "time": lambda c: c not in have or _looks_like_time(sample[c]),
    }
    for role, column in columns_by_name(columns).items():
        if fits.get(role, lambda _: True)(column):
            guess[role] = column
    for column in have:
        if column in guess.values():
            continue
        numeric = bool(len(_numbers(sample[column].dropna())))
        if guess["rating"] is None and numeric and rating_problem(sample[column], column) is None:
            guess["rating"] = column
            continue
        if guess["time"] is None and _looks_like_time(sample[column]):
            guess["time"] = column
    rest = [c for c in columns if c not in guess.values()]
    for role in ("user", "item"):
        if guess[role] is None and rest:
            guess[role] = rest.pop(0)
    return guess


#: What each field is called in the mapping's words.
_FIELD_WORDS = {"user": "the customer", "item": "the product", "rating": "the rating"}


def mapping_intro(name: str, columns: list[str], previous: str) -> str:
    """Why the column boxes are shown, in plain words: which fields the names did not give away.

    Never a command-line hint: the boxes are the app's way to say which column is which.
    """
    named = columns_by_name(columns)
    unclear = [words for role, words in _FIELD_WORDS.items() if role not in named]
    if unclear:
        fields = unclear[0] if len(unclear) == 1 else ", ".join(unclear[:-1]) + " and " + unclear[-1]
        what = f"From the column names of {name} we could not tell which column holds {fields}."
    else:
        what = f"Some column names in {name} appear twice, so it is not clear which one to use."
    return (
        f"{what} Our best guesses are filled in below: check them and press **Load with these "
        f"columns**. Until then, {previous} stays loaded."
    )


def multiplier_problem(value: float | None, *, weights: bool = False) -> str | None:
    """Why a class multiplier is refused (``None`` when it is used).

    With ``weights`` (the recommended recipe, which weighs each rating by its class's factor)
    the factor may go down to 0; otherwise it counts copies and starts at 1.
    """
    low, high = WEIGHT_RANGE if weights else MULTIPLIER_RANGE
    if value is None or not np.isfinite(value):
        return "Enter a number."
    if value < low and weights:
        return (
            f"×{value:g} is not used: a weight starts at ×0 (×0 leaves the class out, ×1 keeps it as it is)."
        )
    if value < low:
        return (
            f"×{value:g} is not used: a multiplier adds copies, so it starts at ×{low:g} "
            "(×1 leaves the class as it is). To weigh a class below ×1 (×0 leaves it out), pick "
            "the recommended recipe on **Train**."
        )
    if value > high:
        why = (
            "a heavier weight lets a few ratings drown the rest"
            if weights
            else "more copies only repeat the same ratings"
        )
        return f"×{value:g} is not used: at most ×{high:g} ({why})."
    return None
