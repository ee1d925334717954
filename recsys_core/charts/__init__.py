"""Altair specs of what the app and the report draw, and the frames they draw.

The app shows these charts live (Streamlit renders the spec in the browser); the HTML report
renders the same specs to static SVG, so both read the same. One module per concept: how a model
was trained (class mix, loss and quality per epoch), the baseline ladder, two runs side by side,
and where suggestions sit on the popularity curve. Plain pandas and Altair: importing this
package never imports torch or Streamlit.
"""

from recsys_core.charts._diff import (
    DIFF_MEASURES,
    diff_chart,
    diff_chart_data,
    exposure_chart,
    exposure_data,
    overlap_chart,
    overlap_data,
    relative_change,
    segment_chart,
    segment_data,
)
from recsys_core.charts._ladder import (
    LADDER_COLUMNS,
    LADDER_MEASURES,
    LADDER_METHODS,
    Z_95,
    ladder_chart,
    ladder_chart_data,
    ladder_scores,
)
from recsys_core.charts._popularity import (
    bucket_label,
    popularity_chart,
    popularity_chart_data,
    popularity_mix_chart,
)
from recsys_core.charts._style import BLUE, GREEN, GREY, ORANGE, RED, stars
from recsys_core.charts._training import (
    CURVES,
    QUALITY_MEASURES,
    EpochRecord,
    chosen_epoch,
    class_mix,
    class_mix_chart,
    curve_keys,
    history_frame,
    judged_by_ndcg,
    learning_curve_chart,
    learning_curve_data,
    rating_axis,
    wrap,
)

__all__ = [
    "BLUE",
    "CURVES",
    "DIFF_MEASURES",
    "GREEN",
    "GREY",
    "LADDER_COLUMNS",
    "LADDER_MEASURES",
    "LADDER_METHODS",
    "ORANGE",
    "QUALITY_MEASURES",
    "RED",
    "Z_95",
    "EpochRecord",
    "bucket_label",
    "chosen_epoch",
    "class_mix",
    "class_mix_chart",
    "curve_keys",
    "diff_chart",
    "diff_chart_data",
    "exposure_chart",
    "exposure_data",
    "history_frame",
    "judged_by_ndcg",
    "ladder_chart",
    "ladder_chart_data",
    "ladder_scores",
    "learning_curve_chart",
    "learning_curve_data",
    "overlap_chart",
    "overlap_data",
    "popularity_chart",
    "popularity_chart_data",
    "popularity_mix_chart",
    "rating_axis",
    "relative_change",
    "segment_chart",
    "segment_data",
    "stars",
    "wrap",
]
