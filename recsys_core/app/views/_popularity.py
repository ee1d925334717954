"""Where lists of products sit on the popularity curve: a frame for a small bar chart and a sentence
(the frame of the runs' popularity chart is :func:`recsys_core.charts.popularity_chart_data`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recsys_core.app.views._text import percent
from recsys_core.charts import bucket_label
from recsys_core.metrics import popularity_profile

if TYPE_CHECKING:  # a run's module pulls in torch; this only reads its arrays
    from recsys_core.runs import Run


def popularity_mix(run: Run, lists: Mapping[str, pd.DataFrame], n_buckets: int = 10) -> pd.DataFrame:
    """Share of each list (``{"suggested": frame with item, …}``) per popularity slice.

    The catalogue is ranked most rated first and cut into ``n_buckets`` equal slices.

    Returns
    -------
    pandas.DataFrame
        ``list, bucket (1 = most rated), slice ("0–10 %" …), share``; products the run does not
        know are left out.
    """
    rows = []
    for name, frame in lists.items():
        codes = run.id_map.items.get_indexer(frame["item"].astype(str).to_numpy())
        codes = codes[codes >= 0]
        profile = popularity_profile(
            codes.reshape(1, -1), run.popularity, k=max(len(codes), 1), n_buckets=n_buckets
        )
        share = 100 / len(profile)
        rows.append(
            pd.DataFrame(
                {
                    "list": name,
                    "bucket": profile["bucket"],
                    "slice": [f"{round(share * (b - 1))}–{round(share * b)} %" for b in profile["bucket"]],
                    "share": profile["recommendation_share"].to_numpy(np.float64),
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=["list", "bucket", "slice", "share"])
    return pd.concat(rows, ignore_index=True)


def popularity_sentence(name: str, profile: pd.DataFrame) -> str | None:
    """ "“A”: 62 % of its suggestions come from the most-rated 10 % of products (which get 45 % of
    all ratings)." — ``None`` for an empty profile."""
    if profile.empty:
        return None
    head = profile.iloc[0]
    share = bucket_label(1, len(profile)).removeprefix("top ")
    return (
        f"“{name}”: {percent(float(head['recommendation_share']))} of its suggestions come from the "
        f"most-rated {share} of products (which get {percent(float(head['ratings_share']))} of all ratings)."
    )
