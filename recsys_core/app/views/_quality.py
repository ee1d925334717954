"""How good a trained model is: plain-language sentences and chart frames of the test metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from recsys_core.app.views._text import percent
from recsys_core.charts import stars

#: The JSON-ready metric dicts of :mod:`recsys_core.metrics._evaluation` (numbers, ``None`` and nested dicts).
Metrics = Mapping[str, Any]


def _number(value: float | None) -> float:
    """A metric as float; undefined metrics (``None``) become NaN."""
    return float("nan") if value is None else float(value)


def classification_sentences(metrics: Metrics) -> list[str]:
    """Plain-language reading of precision, recall and AUC against guessing.

    ``metrics`` has the keys of ``recsys_core.metrics.classification_metrics``.
    """
    precision = _number(metrics.get("precision"))
    trivial = _number(metrics.get("trivial_precision"))
    recall = _number(metrics.get("recall"))
    auc = _number(metrics.get("roc_auc"))
    sentences = [
        f"When the model says a customer will like a product, it is right {percent(precision)} of the "
        f"time; guessing 'likes it' for everyone is right {percent(trivial)} of the time.",
        f"Of the products customers really liked, the model spots {percent(recall)}.",
        f"Shown one product a customer liked and one they did not, the model ranks the liked one "
        f"higher {percent(auc)} of the time (a coin flip would manage 50 %).",
    ]
    if np.isfinite(precision) and np.isfinite(trivial):
        verdict = (
            "better than guessing"
            if precision > trivial + 0.005
            else "no better than guessing"
            if precision >= trivial - 0.005
            else "worse than guessing"
        )
        sentences.append(f"In short: at this threshold the model is {verdict}.")
    return sentences


def confusion_frame(confusion: Mapping[str, int], positive_rating: float = 4.0) -> pd.DataFrame:
    """The confusion matrix with plain labels: ``actual, predicted, count, share, text``."""
    liked = f"liked it ({stars(positive_rating)} or more)"
    disliked = f"did not ({'below ' + stars(positive_rating)})"
    said_like = "model: will like"
    said_not = "model: will not"
    cells = [
        (liked, said_like, confusion.get("tp", 0)),
        (liked, said_not, confusion.get("fn", 0)),
        (disliked, said_like, confusion.get("fp", 0)),
        (disliked, said_not, confusion.get("tn", 0)),
    ]
    frame = pd.DataFrame(cells, columns=["actual", "predicted", "count"])
    frame["count"] = frame["count"].astype(np.int64)
    total = max(int(frame["count"].sum()), 1)
    frame["share"] = frame["count"] / total
    frame["text"] = [f"{c:,} ({percent(s)})" for c, s in zip(frame["count"], frame["share"], strict=True)]
    return frame


def threshold_chart_data(curve: pd.DataFrame) -> pd.DataFrame:
    """``threshold_curve`` output (threshold, precision, recall) as a long frame for a line chart."""
    long = curve.melt(
        id_vars="threshold", value_vars=["precision", "recall"], var_name="measure", value_name="value"
    )
    return long.dropna()
