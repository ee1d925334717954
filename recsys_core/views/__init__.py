"""What the app shows, as plain data: sentences in plain words and frames ready for charts.

Grouped by concept (the dataset, the class balance, model quality, the training history, saved
runs, one customer); the pages call these and draw the result. Plain Python and pandas only, so
everything here is testable without a browser. Nothing here imports Streamlit, nor torch at
import time.
"""

from recsys_core.views._balance import balance_sentence, class_mix
from recsys_core.views._customers import category_mix, example_users, run_user_counts, user_history
from recsys_core.views._dataset import Overview, TailStats, dataset_overview, long_tail, rating_distribution
from recsys_core.views._history import EpochRecord, history_frame, loss_chart_data, quality_chart_data
from recsys_core.views._quality import (
    Metrics,
    classification_sentences,
    confusion_frame,
    ranking_sentence,
    threshold_chart_data,
)
from recsys_core.views._runs import COMPARED_MEASURES, compare_chart_data, run_row, runs_table
from recsys_core.views._text import multipliers_text, percent, stars

__all__ = [
    "COMPARED_MEASURES",
    "EpochRecord",
    "Metrics",
    "Overview",
    "TailStats",
    "balance_sentence",
    "category_mix",
    "class_mix",
    "classification_sentences",
    "compare_chart_data",
    "confusion_frame",
    "dataset_overview",
    "example_users",
    "history_frame",
    "long_tail",
    "loss_chart_data",
    "multipliers_text",
    "percent",
    "quality_chart_data",
    "ranking_sentence",
    "rating_distribution",
    "run_row",
    "run_user_counts",
    "runs_table",
    "stars",
    "threshold_chart_data",
    "user_history",
]
