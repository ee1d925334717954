"""What the app shows, as plain data: sentences in plain words and frames ready for charts.
The frames of the charts the HTML report draws too come from :mod:`recsys_core.charts` and are
re-exported here.

Grouped by concept (the dataset and what it can do, the class balance, model quality and its
story, the training history, saved runs and their names, one customer, a visitor's own ratings,
column guesses); the pages call these and draw the result. Plain Python and pandas only, so
everything here is testable without a browser. Nothing here imports Streamlit, nor torch at import time.
"""

from recsys_core.app.views._balance import WEIGHT_COSTS, balance_sentence
from recsys_core.app.views._budget import BudgetNote, budget_note, training_shape
from recsys_core.app.views._columns import (
    MULTIPLIER_RANGE,
    WEIGHT_RANGE,
    guess_columns,
    mapping_intro,
    multiplier_problem,
    rating_problem,
)
from recsys_core.app.views._customers import category_mix, example_users, run_user_counts, user_history
from recsys_core.app.views._dataset import (
    Overview,
    TailStats,
    dataset_overview,
    long_tail,
    long_tail_sentence,
    rating_distribution,
)
from recsys_core.app.views._diff import diff_sentences
from recsys_core.app.views._ladder import best_classic, skipped_sentences
from recsys_core.app.views._names import unique_labels
from recsys_core.app.views._popularity import popularity_mix, popularity_sentence
from recsys_core.app.views._quality import (
    Metrics,
    classification_sentences,
    confusion_frame,
    threshold_chart_data,
)
from recsys_core.app.views._readiness import Readiness, data_readiness, holdout_words, split_advice
from recsys_core.app.views._runs import (
    COMPARED_MEASURES,
    compare_chart_data,
    run_dataset,
    run_row,
    runs_table,
)
from recsys_core.app.views._story import (
    compare_tradeoffs,
    headline_sentence,
    hit_delta,
    ladder_sentence,
    tradeoff_sentence,
)
from recsys_core.app.views._sweep import (
    SWEEP_MEASURES,
    parse_numbers,
    sweep_axis,
    sweep_chart_data,
    sweep_sentence,
)
from recsys_core.app.views._text import multipliers_text, percent
from recsys_core.app.views._visitor import (
    MAX_QUERY_CHARS,
    MAX_QUERY_WORDS,
    STAR_LEVELS,
    VISITOR,
    because_line,
    catalogue,
    customer_stars,
    low_rating_note,
    match_help,
    product_label,
    query_words,
    random_customer,
    rating_to_stars,
    search_products,
    star_text,
    stars_to_rating,
    visitor_frame,
)

# The chart frames the report draws too live in the library; the pages keep reading them here.
from recsys_core.charts import (
    DIFF_MEASURES,
    LADDER_MEASURES,
    LADDER_METHODS,
    EpochRecord,
    bucket_label,
    class_mix,
    diff_chart_data,
    exposure_data,
    history_frame,
    ladder_chart_data,
    ladder_scores,
    learning_curve_data,
    popularity_chart_data,
    relative_change,
    segment_data,
    stars,
)
from recsys_core.runs import closest_preset, dataset_label, run_name

__all__ = [
    "COMPARED_MEASURES",
    "DIFF_MEASURES",
    "LADDER_MEASURES",
    "LADDER_METHODS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_WORDS",
    "MULTIPLIER_RANGE",
    "STAR_LEVELS",
    "SWEEP_MEASURES",
    "VISITOR",
    "WEIGHT_COSTS",
    "WEIGHT_RANGE",
    "BudgetNote",
    "EpochRecord",
    "Metrics",
    "Overview",
    "Readiness",
    "TailStats",
    "balance_sentence",
    "because_line",
    "best_classic",
    "bucket_label",
    "budget_note",
    "catalogue",
    "category_mix",
    "class_mix",
    "classification_sentences",
    "closest_preset",
    "compare_chart_data",
    "compare_tradeoffs",
    "confusion_frame",
    "customer_stars",
    "data_readiness",
    "dataset_label",
    "dataset_overview",
    "diff_chart_data",
    "diff_sentences",
    "example_users",
    "exposure_data",
    "guess_columns",
    "headline_sentence",
    "history_frame",
    "hit_delta",
    "holdout_words",
    "ladder_chart_data",
    "ladder_scores",
    "ladder_sentence",
    "learning_curve_data",
    "long_tail",
    "long_tail_sentence",
    "low_rating_note",
    "mapping_intro",
    "match_help",
    "multiplier_problem",
    "multipliers_text",
    "parse_numbers",
    "percent",
    "popularity_chart_data",
    "popularity_mix",
    "popularity_sentence",
    "product_label",
    "quality_chart_data",
    "query_words",
    "random_customer",
    "rating_distribution",
    "rating_problem",
    "rating_to_stars",
    "relative_change",
    "run_dataset",
    "run_name",
    "run_row",
    "run_user_counts",
    "runs_table",
    "search_products",
    "segment_data",
    "skipped_sentences",
    "split_advice",
    "star_text",
    "stars",
    "stars_to_rating",
    "sweep_axis",
    "sweep_chart_data",
    "sweep_sentence",
    "threshold_chart_data",
    "tradeoff_sentence",
    "training_shape",
    "unique_labels",
    "user_history",
    "visitor_frame",
]
