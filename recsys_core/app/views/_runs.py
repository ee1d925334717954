"""Saved runs side by side: one table row per run and the frame of the comparison chart."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from recsys_core.app.views._text import multipliers_text
from recsys_core.runs import dataset_label

if TYPE_CHECKING:  # the registry pulls in torch; these helpers only read a record's fields
    from recsys_core.runs import RunRecord, RunSummary

#: Test figures shown per run in the comparison chart (columns of :func:`runs_table`).
COMPARED_MEASURES = ["precision", "recall", "AUC", "hit rate", "popular hit rate"]


def run_row(record: RunRecord) -> dict[str, object]:
    """One row of the runs table: settings, multipliers, metrics and time of a saved run.

    ``record`` is a :class:`~recsys_core.runs.RunRecord` (or anything with its attributes):
    ``run_id, name, created_at, config`` (``TrainConfig.to_dict()``), ``metrics``, ``summary``
    (a :class:`~recsys_core.runs.RunSummary`).
    """
    config = dict(record.config or {})
    metrics = dict(record.metrics or {})
    summary = record.summary
    ranking = metrics.get("ranking") or {}
    created = pd.to_datetime(record.created_at, errors="coerce", utc=True)
    multipliers = {float(k): float(v) for k, v in (config.get("multipliers") or {}).items()}
    stages = summary.stage_seconds
    return {
        "run": record.name,
        "id": record.run_id,
        "data set": run_dataset(summary)[0],
        "created": created.tz_convert(None) if pd.notna(created) else pd.NaT,
        "minutes": sum(float(v) for v in stages.values()) / 60 if stages else None,
        # Threshold-free and ranking measures first; precision and recall depend on the threshold.
        "AUC": metrics.get("roc_auc"),
        "hit rate": (ranking.get("model") or {}).get("hit_rate_at_k"),
        "popular hit rate": (ranking.get("popularity") or {}).get("hit_rate_at_k"),
        "precision": metrics.get("precision"),
        "recall": metrics.get("recall"),
        "guessing precision": metrics.get("trivial_precision"),
        "oversampling": multipliers_text(multipliers),
        "epochs": config.get("epochs"),
        "best epoch": summary.best_epoch,
        "profile size": config.get("embedding_dim"),
        "ratings per step": config.get("batch_size"),
        "learning rate": config.get("learning_rate"),
        "threshold": config.get("threshold"),
        "goal": config.get("objective"),
        "train ratings": summary.train_after_rebalance,
    }


def run_dataset(summary: RunSummary) -> tuple[str, str | None]:
    """``(name, key)`` of the data set a run was trained on.

    The app records a key with the name (the key finds the data again); the command line records
    the file's name only; older runs may record nothing: ``("data not recorded", None)``.
    """
    recorded = summary.dataset
    if recorded is None:
        return dataset_label(None), None
    return dataset_label(recorded.name or None), recorded.key


def runs_table(records: Iterable[RunRecord]) -> pd.DataFrame:
    """:func:`run_row` for every record, as a frame (newest first, as given)."""
    return pd.DataFrame([run_row(r) for r in records])


def compare_chart_data(rows: pd.DataFrame) -> pd.DataFrame:
    """Long frame ``id, run, measure, value`` of precision, recall, AUC and hit rates per run."""
    present = [m for m in COMPARED_MEASURES if m in rows.columns]
    long = rows.melt(id_vars=["id", "run"], value_vars=present, var_name="measure", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long.dropna()
