"""What a data set can and cannot do, said at upload; split failures with advice that works."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from recsys_core.errors import RecsysError

#: Ratings a customer needs for the per-customer hold-out: one to learn from, one to check, one to test.
MIN_PER_CUSTOMER = 3
#: Split methods the app offers, in the order advice tries them.
_METHODS = ("leave-last-out", "random", "temporal")


@dataclass(frozen=True)
class Readiness:
    """Whether a model can be trained and tested on a data set, in one sentence.

    ``level`` is ``"ok"``, ``"warning"`` (works, with a caveat) or ``"error"`` (cannot be trained).
    """

    level: str
    message: str


def data_readiness(frame: pd.DataFrame) -> Readiness:
    """What the data can and cannot do, from the ratings per customer and the rating values."""
    if frame.empty:
        return Readiness("error", "The file has no ratings.")
    per_user = frame["user"].value_counts()
    enough = int((per_user >= MIN_PER_CUSTOMER).sum())
    most = int(per_user.max())
    need = (
        f"a recommender needs at least {MIN_PER_CUSTOMER} ratings per customer for testing "
        "(one to learn from, one to check, one to test)"
    )
    if enough == 0:
        who = f"no customer has more than {most} ratings"
        if most == 1:
            who = "every customer has 1 rating"
        return Readiness(
            "error",
            f"This data cannot train a recommender: {who}, and {need}. Load a file with more ratings "
            "per customer.",
        )
    if frame["rating"].nunique() < 2:
        return Readiness(
            "error",
            f"Every rating is {frame['rating'].iloc[0]:g}: with one rating value there is nothing to tell "
            "liked from not liked. Load a file with different ratings.",
        )
    if enough < 0.5 * len(per_user):
        return Readiness(
            "warning",
            f"Only {enough:,} of {len(per_user):,} customers have {MIN_PER_CUSTOMER} or more ratings; "
            f"{need}, so the test covers those customers only.",
        )
    return Readiness("ok", "Every page now works on this data.")


def holdout_words(method: str | None, has_timestamps: bool = True) -> tuple[str, str]:
    """How a split holds ratings back, in words: ``(column label, sentence)``.

    ``method`` is the resolved split (``Run.summary.method``) or a setting (``auto``).
    Without dates nothing is "next": a random rating is held back.
    """
    if method == "auto":
        method = "leave-last-out" if has_timestamps else "random"
    if method == "leave-last-out":
        return "rated next (held back)", "the last rating of each customer is held back to test it"
    if method == "temporal":
        return "rated later (held back)", "the latest ratings (after a cut-off date) are held back to test it"
    return "held back (random)", "a random rating of each customer is held back to test it"


_ADVICE = re.compile(r"^(Use|Change) ", re.IGNORECASE)


def _without_advice(message: str) -> str:
    """The message's sentences that say what is wrong, without the split it suggests instead."""
    sentences = re.split(r"(?<=[.])\s+(?=[A-Z])", message.strip())
    kept = [s for s in sentences if not _ADVICE.match(s)]
    return " ".join(kept) if kept else message


def split_advice(frame: pd.DataFrame, method: str, seed: int, error: RecsysError) -> str:
    """Replace a failed split's advice with advice that leads somewhere that works.

    Tries the other split methods on ``frame``; names those that work, or says what the data
    lacks when none does (so the advice never sends the user round in a circle).
    """
    from recsys_core.data import split_ratings

    working = []
    for other in _METHODS:
        if other == method:
            continue
        try:
            split_ratings(frame, method=other, seed=seed)
        except RecsysError:
            continue
        working.append(other)
    what = _without_advice(str(error))
    if working:
        names = " or ".join(f"“{m}”" for m in working)
        return f"{what} On this data the {names} split works: choose it under Advanced settings on Train."
    readiness = data_readiness(frame)
    reason = readiness.message
    if readiness.level != "error":
        reason = "No hold-out split works on this data; load more ratings per customer "
        reason += f"(at least {MIN_PER_CUSTOMER})."
    return f"{what} {reason}"
