"""How a model was trained: the class mix before and after oversampling, and the loss and
validation quality per epoch, as frames and the Altair charts that draw them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias

import altair as alt
import numpy as np
import pandas as pd

from recsys_core.charts._style import BLUE, GREEN, GREY, ORANGE, stars

if TYPE_CHECKING:  # torch-free at run time: the app draws charts before any training
    from recsys_core.training import EpochReport

#: One epoch as the trainer reports it, or as a saved run stores it (``Run.history``).
EpochRecord: TypeAlias = "EpochReport | Mapping[str, float]"

#: Threshold-free first: AUC does not move with the threshold, precision and recall do.
QUALITY_MEASURES = ["AUC", "precision", "recall"]

_COLUMNS = ["epoch", "train_loss", "val_loss", "val_precision", "val_recall", "val_auc", "seconds"]


# -- frames ------------------------------------------------------------------------------------------


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


# -- charts ------------------------------------------------------------------------------------------


def rating_axis(labels: list[str]) -> alt.X:
    """The x axis of bars per rating class (``"4★"`` …), in the order of ``labels``."""
    return alt.X("label:N", title="Rating", sort=labels, axis=alt.Axis(labelAngle=0, labelFontSize=13))


def class_mix_chart(mix: pd.DataFrame, *, weighted: bool = False) -> alt.LayerChart:
    """Training ratings per class before and after oversampling (:func:`class_mix`), each bar
    labelled with its count and its share of the stage; ``weighted``: after class weights (the
    softmax recipe), the "after" counts being weighted counts."""
    order = ["before", "after"]
    how = "weighting" if weighted else "oversampling"
    labels = mix.drop_duplicates("label").sort_values("rating")["label"].tolist()
    base = alt.Chart(mix).encode(
        x=rating_axis(labels),
        xOffset=alt.XOffset("stage:N", sort=order),
        y=alt.Y(
            "count:Q",
            title="Training ratings (weighted)" if weighted else "Training ratings",
            axis=alt.Axis(format=",.0f"),
        ),
        tooltip=[
            alt.Tooltip("label:N", title="Rating"),
            alt.Tooltip("stage:N", title="When"),
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    bars = base.mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3).encode(
        color=alt.Color(
            "stage:N",
            title=None,
            sort=order,
            scale=alt.Scale(domain=order, range=[GREY, BLUE]),
            legend=alt.Legend(
                orient="top",
                labelFontSize=13,
                labelExpr=f"datum.label == 'before' ? 'before {how}' : 'after {how}'",
            ),
        ),
    )
    # Count above share, both above the bar.
    count = base.mark_text(dy=-17, baseline="bottom", fontSize=11, color="#374151").encode(
        text=alt.Text("count:Q", format=",")
    )
    share = base.mark_text(dy=-4, baseline="bottom", fontSize=11, color="#6b7280").encode(
        text=alt.Text("share:Q", format=".0%")
    )
    return (bars + count + share).properties(height=340)


def _epoch_lines(
    data: pd.DataFrame,
    y: str,
    color: str,
    y_title: str,
    domain: list[str],
    colors: list[str],
    *,
    y_format: str = ".3f",
    zero_one: bool = False,
) -> alt.Chart:
    """One line with points per ``color`` series over the epochs; ``zero_one`` draws shares (0–100 %)."""
    scale = alt.Scale(domain=[0, 1]) if zero_one else alt.Scale(zero=False)
    axis = alt.Axis(format="%") if zero_one else alt.Axis()
    return (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{y}:Q", title=y_title, scale=scale, axis=axis),
            color=alt.Color(
                f"{color}:N",
                title=None,
                scale=alt.Scale(domain=domain, range=colors),
                legend=alt.Legend(orient="top", labelFontSize=12),
            ),
            tooltip=["epoch:Q", f"{color}:N", alt.Tooltip(f"{y}:Q", format=y_format)],
        )
        .properties(height=260)
    )


def loss_chart(long: pd.DataFrame) -> alt.Chart:
    """Training and validation loss per epoch (:func:`loss_chart_data`)."""
    return _epoch_lines(long, "loss", "series", "Error", ["training", "validation"], [GREY, BLUE])


def epoch_quality_chart(long: pd.DataFrame) -> alt.Chart:
    """Validation precision, recall and AUC per epoch (:func:`quality_chart_data`)."""
    return _epoch_lines(long, "value", "measure", "", QUALITY_MEASURES, [GREEN, BLUE, ORANGE], zero_one=True)
