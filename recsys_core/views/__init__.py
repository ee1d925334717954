"""What the app shows, as plain data: sentences in plain words and frames ready for charts.

Grouped by concept (the dataset and what it can do, the class balance, model quality and its
story, the training history, saved runs and their names, one customer, column guesses); the
pages call these and draw the result. Plain Python and pandas only, so everything here is
testable without a browser. Nothing here imports Streamlit, nor torch at import time.
"""

from recsys_core.views._balance import balance_sentence, class_mix
from recsys_core.views._columns import MULTIPLIER_RANGE, guess_columns, multiplier_problem, rating_problem
from recsys_core.views._customers import category_mix, example_users, run_user_counts, user_history
from recsys_core.views._dataset import Overview, TailStats, dataset_overview, long_tail, rating_distribution
from recsys_core.views._history import EpochRecord, history_frame, loss_chart_data, quality_chart_data
from recsys_core.views._ladder import (
    LADDER_MEASURES,
    LADDER_METHODS,
    best_classic,
    ladder_chart_data,
    ladder_scores,
    skipped_sentences,
)
from recsys_core.views._names import closest_preset, dataset_label, run_name, unique_labels
from recsys_core.views._quality import (
    Metrics,
    classification_sentences,
    confusion_frame,
    ranking_sentence,
    threshold_chart_data,
)
from recsys_core.views._readiness import Readiness, data_readiness, holdout_words, split_advice
from recsys_core.views._runs import COMPARED_MEASURES, compare_chart_data, run_dataset, run_row, runs_table
from recsys_core.views._story import compare_tradeoffs, headline_sentence, tradeoff_sentence
from recsys_core.views._text import multipliers_text, percent, stars

__all__ = [
    "COMPARED_MEASURES",
    "LADDER_MEASURES",
    "LADDER_METHODS",
    "MULTIPLIER_RANGE",
    "EpochRecord",
    "Metrics",
    "Overview",
    "Readiness",
    "TailStats",
    "balance_sentence",
    "best_classic",
    "category_mix",
    "class_mix",
    "classification_sentences",
    "closest_preset",
    "compare_chart_data",
    "compare_tradeoffs",
    "confusion_frame",
    "data_readiness",
    "dataset_label",
    "dataset_overview",
    "example_users",
    "guess_columns",
    "headline_sentence",
    "history_frame",
    "holdout_words",
    "ladder_chart_data",
    "ladder_scores",
    "long_tail",
    "loss_chart_data",
    "multiplier_problem",
    "multipliers_text",
    "percent",
    "quality_chart_data",
    "ranking_sentence",
    "rating_distribution",
    "rating_problem",
    "run_dataset",
    "run_name",
    "run_row",
    "run_user_counts",
    "runs_table",
    "skipped_sentences",
    "split_advice",
    "stars",
    "threshold_chart_data",
    "tradeoff_sentence",
    "unique_labels",
    "user_history",
]
