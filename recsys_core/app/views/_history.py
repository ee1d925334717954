"""Training history (one record per epoch) as frames for the loss and quality charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # torch-free at run time: the app draws charts before any training
    from recsys_core.training import EpochReport

#: One epoch as the trainer reports it, or as a saved run stores it (``Run.history``).
EpochRecord: TypeAlias = "EpochReport | Mapping[str, float]"

_COLUMNS = ["epoch", "train_loss", "val_loss", "val_precision", "val_recall", "val_auc", "seconds"]


def history_frame(history: Sequence[EpochRecord]) -> pd.DataFrame:
    """Epoch reports (objects or dicts) as a frame: one row per epoch; missing figures are NaN."""
    rows = []
    for report in history:
        get = report.get if isinstance(report, Mapping) else lambda k, r=report: getattr(r, k, np.nan)
        rows.append([get(c) for c in _COLUMNS])
    return pd.DataFrame(rows, columns=_COLUMNS).astype(float)


def loss_chart_data(history: Sequence[EpochRecord]) -> pd.DataFrame:
    """Long frame ``epoch, series ("training"/"validation"), loss`` for the loss chart."""
    frame = history_frame(history)
    long = frame.melt(
        id_vars="epoch", value_vars=["train_loss", "val_loss"], var_name="series", value_name="loss"
    )
    long["series"] = long["series"].map({"train_loss": "training", "val_loss": "validation"})
    return long.dropna()


def quality_chart_data(history: Sequence[EpochRecord]) -> pd.DataFrame:
    """Long frame ``epoch, measure, value`` of validation precision, recall and AUC."""
    frame = history_frame(history)
    names = {"val_precision": "precision", "val_recall": "recall", "val_auc": "AUC"}
    long = frame.melt(id_vars="epoch", value_vars=list(names), var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(names)
    return long.dropna()
