"""How a model was trained: the class mix before and after oversampling, and the loss and
validation quality per epoch, as frames and the Altair charts that draw them."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias

import altair as alt
import numpy as np
import pandas as pd

from recsys_core.charts._style import BLUE, GREY, ORANGE, stars

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


#: The learning curves, one chart each: key -> (title, how to read it). The validation curve is
#: the measure that picks the epoch the run keeps: NDCG@10 for the softmax objective (the trainer
#: judges epochs by 1 - NDCG@10), the validation loss for the others.
CURVES: dict[str, tuple[str, str]] = {
    "train_loss": ("Training loss", "How far the model is from what it learns; lower is better."),
    "val_ndcg": (
        "Validation NDCG@10: picks the epoch",
        "How high the held-back product sits in each customer's top 10; higher is better.",
    ),
    "val_loss": ("Validation loss: picks the epoch", "The loss on ratings set aside; lower is better."),
    "val_auc": (
        "Validation AUC of the predicted rating",
        "How often a liked product is rated above a disliked one (50 % = coin flip); higher is better.",
    ),
}


def judged_by_ndcg(objective: str) -> bool:
    """Whether the trainer of ``objective`` picks its epoch by validation NDCG@10 (the softmax
    one, whose history holds ``1 - NDCG@10`` as ``val_loss``) rather than the validation loss."""
    return objective == "softmax"


def curve_keys(objective: str) -> list[str]:
    """The learning curves of a run of ``objective``, in order: training loss, the measure that
    picks the epoch, the rating's AUC (keys of :data:`CURVES`)."""
    return ["train_loss", "val_ndcg" if judged_by_ndcg(objective) else "val_loss", "val_auc"]


def chosen_epoch(history: Sequence[EpochRecord]) -> int | None:
    """The epoch training keeps: the first with the lowest validation loss (for the softmax
    objective ``1 - NDCG@10``, so the highest NDCG@10), or the lowest training loss without
    validation, as the trainers pick it; ``None`` without a finite figure."""
    frame = history_frame(history)
    for column in ("val_loss", "train_loss"):
        values = frame[column].to_numpy()
        if np.isfinite(values).any():
            return int(frame["epoch"].iloc[int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))])
    return None


def learning_curve_data(
    history: Sequence[EpochRecord], objective: str, chosen: int | None = None
) -> pd.DataFrame:
    """Long frame ``epoch, curve, value, chosen`` of :func:`curve_keys` (``curve`` a key of
    :data:`CURVES`); ``chosen`` marks the kept epoch (``None``: :func:`chosen_epoch`).

    The softmax trainer records ``1 - NDCG@10`` as its validation loss: drawn here as NDCG@10.
    """
    frame = history_frame(history)
    frame["val_ndcg"] = 1.0 - frame["val_loss"]
    keys = curve_keys(objective)
    long = frame.melt(id_vars="epoch", value_vars=keys, var_name="curve", value_name="value").dropna()
    kept = chosen_epoch(history) if chosen is None else chosen
    long["chosen"] = long["epoch"] == kept
    return long.reset_index(drop=True)


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


def _curve_scale(key: str) -> alt.Scale:
    """Shares from 0 (NDCG) or from a coin flip (AUC), so a change of 0.001 never looks like a
    cliff; losses keep their own range (their level means nothing on its own)."""
    if key == "val_ndcg":
        return alt.Scale(zero=True, nice=True)
    if key == "val_auc":
        return alt.Scale(domain=[0.5, 1.0])
    return alt.Scale(zero=False)


def learning_curve_chart(frame: pd.DataFrame, key: str, *, titled: bool = True) -> alt.LayerChart:
    """One learning curve of :func:`learning_curve_data` (``key`` in :data:`CURVES`) over the
    epochs, with the kept epoch marked by a dashed line and a label; ``titled=False`` leaves the
    title to the page around it (the report's figure caption).

    The chart filters ``frame`` itself, so its spec does not depend on the data: the app sends
    only new rows while training.
    """
    title = CURVES[key][0]
    share = key in ("val_ndcg", "val_auc")
    # Losses of any size read plainly ("130", "0.52"), never "130.000" or "1.3e+2".
    y_format = ".0%" if key == "val_auc" else ".2f" if key == "val_ndcg" else ",.4~g"
    base = alt.Chart(frame).transform_filter(alt.datum.curve == key)
    x = alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1, format="d"))
    line = base.mark_line(point=True, strokeWidth=2.5, color=GREY if key == "train_loss" else BLUE).encode(
        x=x,
        y=alt.Y("value:Q", title=None, scale=_curve_scale(key), axis=alt.Axis(format=y_format)),
        tooltip=[
            alt.Tooltip("epoch:Q", title="Epoch"),
            alt.Tooltip("value:Q", title=title.split(":")[0], format=".1%" if share else ".4f"),
        ],
    )
    kept = base.transform_filter(alt.datum.chosen)
    rule = kept.mark_rule(color=ORANGE, strokeDash=[5, 3], strokeWidth=2).encode(x=x)
    label = kept.mark_text(align="left", dx=4, dy=-6, color="#92400e", fontSize=11).encode(
        x=x, y=alt.Y("value:Q"), text=alt.value("kept")
    )
    chart = (line + rule + label).properties(height=220)
    if not titled:
        return chart
    return chart.properties(
        # Wrapped, never cut: a column of the Train page is about 360 px wide at 1280. How to
        # read each curve (CURVES) goes beside the chart: a subtitle would squeeze the plot.
        title=alt.Title(wrap(title, 40), anchor="start", fontSize=13, limit=0),
    )


def wrap(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` characters (a chart title in several lines)."""
    return textwrap.wrap(text, width) or [""]
