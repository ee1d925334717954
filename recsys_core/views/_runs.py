"""Saved runs side by side: one table row per run and the frame of the comparison chart."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from recsys_core.views._text import multipliers_text

if TYPE_CHECKING:  # the registry pulls in torch; these helpers only read a record's fields
    from recsys_core.registry import RunRecord

#: Test figures shown per run in the comparison chart (columns of :func:`runs_table`).
COMPARED_MEASURES = ["precision", "recall", "AUC", "hit rate", "popular hit rate"]


def run_row(record: RunRecord) -> dict[str, object]:
    """One row of the runs table: settings, multipliers, metrics and time of a saved run.

    ``record`` is a :class:`~recsys_core.registry.RunRecord` (or anything with its attributes):
    ``run_id, name, created_at, config`` (``TrainConfig.to_dict()``), ``metrics``, ``summary``.
    """
    config = dict(record.config or {})
    metrics = dict(record.metrics or {})
    summary = dict(record.summary or {})
    ranking = metrics.get("ranking") or {}
    created = pd.to_datetime(record.created_at, errors="coerce", utc=True)
    multipliers = {float(k): float(v) for k, v in (config.get("multipliers") or {}).items()}
    return {
        "run": record.name,
        "id": record.run_id,
        "created": created.tz_convert(None) if pd.notna(created) else pd.NaT,
        "precision": metrics.get("precision"),
        "recall": metrics.get("recall"),
        "AUC": metrics.get("roc_auc"),
        "guessing precision": metrics.get("trivial_precision"),
        "hit rate": (ranking.get("model") or {}).get("hit_rate_at_k"),
        "popular hit rate": (ranking.get("popularity") or {}).get("hit_rate_at_k"),
        "oversampling": multipliers_text(multipliers),
        "epochs": config.get("epochs"),
        "best epoch": summary.get("best_epoch"),
        "embedding": config.get("embedding_dim"),
        "batch": config.get("batch_size"),
        "learning rate": config.get("learning_rate"),
        "threshold": config.get("threshold"),
        "objective": config.get("objective"),
        "train ratings": summary.get("train_after_rebalance"),
    }


def runs_table(records: Iterable[RunRecord]) -> pd.DataFrame:
    """:func:`run_row` for every record, as a frame (newest first, as given)."""
    return pd.DataFrame([run_row(r) for r in records])


def compare_chart_data(rows: pd.DataFrame) -> pd.DataFrame:
    """Long frame ``id, run, measure, value`` of precision, recall, AUC and hit rates per run."""
    present = [m for m in COMPARED_MEASURES if m in rows.columns]
    long = rows.melt(id_vars=["id", "run"], value_vars=present, var_name="measure", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long.dropna()
