"""The class mix of the training split before and after oversampling."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from recsys_core.app.views._text import percent, stars


def class_mix(before: Mapping[float, int], after: Mapping[float, int]) -> pd.DataFrame:
    """Long frame for the before/after grouped bar chart.

    Columns ``rating, label, stage ("before"/"after"), count, share`` (share within its stage).
    """
    rows = []
    for stage, counts in (("before", before), ("after", after)):
        total = max(sum(int(c) for c in counts.values()), 1)
        for rating in sorted(set(before) | set(after)):
            count = int(counts.get(rating, 0))
            rows.append((float(rating), stars(rating), stage, count, count / total))
    return pd.DataFrame(rows, columns=["rating", "label", "stage", "count", "share"])


def balance_sentence(before: Mapping[float, int], after: Mapping[float, int]) -> str:
    """One line saying how much the training split grows and what happens to the top class."""
    total_before = sum(int(c) for c in before.values())
    total_after = sum(int(c) for c in after.values())
    if total_before == 0:
        return "The training split is empty."
    if total_after == total_before:
        return (
            f"The training split has {total_before:,} ratings and is used as it is (every multiplier is 1)."
        )
    top = max(before, key=lambda r: int(before[r]))
    share_before = int(before[top]) / total_before
    share_after = int(after.get(top, 0)) / total_after
    return (
        f"Training grows from {total_before:,} to {total_after:,} ratings "
        f"(+{total_after - total_before:,} copies of existing ratings). "
        f"The most common class, {stars(top)}, drops from {percent(share_before)} to "
        f"{percent(share_after)} of what the model sees."
    )
