"""The charts package: light to import, and every chart's spec accepted by Vega-Lite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recsys_core import charts
from recsys_core.report import chart_svg

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_charts_loads_no_torch_nor_streamlit() -> None:
    code = (
        "import sys; import recsys_core.charts; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'streamlit' not in sys.modules, 'streamlit imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def _diff() -> dict:
    metric = {"a": 0.2, "b": 0.25, "delta": 0.05, "ci95": [0.01, 0.09]}
    return {
        "k": 10,
        "metrics": {"hit_rate_at_k": metric, "ndcg_at_k": {**metric, "ci95": [-0.01, 0.02]}},
        "segments": [
            {
                "kind": "held_out_rating",
                "segment": "5★ held out",
                "users": 40,
                "metrics": {"hit_rate_at_k": metric},
            }
        ],
        "exposure": {
            "gained": [{"item": "p1", "name": "Tea", "a": 1, "b": 30000, "delta": 29999}],
            "lost": [],
        },
        "overlap": {
            "histogram": {"edges": [i / 10 for i in range(11)], "counts": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}
        },
    }


def test_every_chart_renders_with_plain_ticks() -> None:
    history = [
        {
            "epoch": e,
            "train_loss": 1 / e,
            "val_loss": 1.1 / e,
            "val_auc": 0.7,
            "val_precision": 0.6,
            "val_recall": 0.5,
        }
        for e in (1, 2, 3)
    ]
    ranking = {
        "k": 10,
        "model": {"hit_rate_at_k": 0.2, "hit_rate_at_k_se": 0.01, "ndcg_at_k": 0.1},
        "popularity": {"hit_rate_at_k": 0.1, "ndcg_at_k": 0.05},
    }
    profile = pd.DataFrame(
        {"bucket": [1, 2], "ratings_share": [0.7, 0.3], "recommendation_share": [0.9, 0.1]}
    )
    diff = _diff()
    drawn = {
        "class mix": charts.class_mix_chart(
            charts.class_mix({4.0: 25000, 5.0: 40000}, {4.0: 50000, 5.0: 40000})
        ),
        **{
            key: charts.learning_curve_chart(charts.learning_curve_data(history, "softmax"), key)
            for key in charts.curve_keys("softmax")
        },
        "ladder": charts.ladder_chart(charts.ladder_chart_data(ranking, None)),
        "popularity": charts.popularity_chart(charts.popularity_chart_data({"this model": profile})),
        "diff": charts.diff_chart(charts.diff_chart_data(diff)),
        "segments": charts.segment_chart(charts.segment_data(diff)),
        "exposure": charts.exposure_chart(charts.exposure_data(diff)),
        "overlap": charts.overlap_chart(charts.overlap_data(diff)),
    }
    for name, chart in drawn.items():
        svg = chart_svg(chart)
        assert svg.startswith("<svg") and "role-mark" in svg, name
        assert "e+0" not in svg, name  # large counts read "40,000", not "4e+04"
    assert "50,000" in chart_svg(drawn["class mix"])  # the count above the bar
    assert "next product rated 5★" in chart_svg(drawn["segments"])
    assert "Tea (p1)" in chart_svg(drawn["exposure"])


def test_overlap_data_reads_the_histogram_in_percent() -> None:
    frame = charts.overlap_data(_diff())
    assert frame["share"].tolist()[:2] == ["0–10 %", "10–20 %"]
    assert frame["customers"].sum() == 45
    assert charts.overlap_data({"overlap": {}}).empty


def test_learning_curves_one_chart_per_quantity_with_the_kept_epoch() -> None:
    # A softmax run: a loss near 133 and 1 - NDCG@10 near 0.97 must never share an axis.
    history = [
        {"epoch": e, "train_loss": 140 - e, "val_loss": loss, "val_auc": 0.80 + e / 100}
        for e, loss in ((1, 0.975), (2, 0.962), (3, 0.964))
    ]
    assert charts.curve_keys("softmax") == ["train_loss", "val_ndcg", "val_auc"]
    assert charts.curve_keys("hybrid") == ["train_loss", "val_loss", "val_auc"]
    assert charts.chosen_epoch(history) == 2  # the best NDCG@10, as the trainer picks it
    frame = charts.learning_curve_data(history, "softmax")
    ndcg = frame[frame["curve"] == "val_ndcg"]
    assert ndcg["value"].tolist() == pytest.approx([0.025, 0.038, 0.036])
    assert frame[frame["chosen"]]["epoch"].unique().tolist() == [2.0]
    assert charts.learning_curve_data(history, "softmax", chosen=3)["chosen"].sum() == 3
    svg = {key: chart_svg(charts.learning_curve_chart(frame, key)) for key in charts.curve_keys("softmax")}
    assert "Training loss" in svg["train_loss"] and "NDCG@10" not in svg["train_loss"]
    assert "Validation NDCG@10: picks the epoch" in svg["val_ndcg"] and "kept" in svg["val_ndcg"]
    # NDCG drawn from 0: its axis starts at 0.000, not at the lowest value.
    assert ">0.00<" in svg["val_ndcg"]
    assert ">50%<" in svg["val_auc"]  # AUC from a coin flip
    # Without validation the training loss picks the epoch.
    no_val = [{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.0}]
    assert charts.chosen_epoch(no_val) == 2 and charts.chosen_epoch([]) is None


def test_class_mix_chart_names_what_changed_the_counts() -> None:
    # The recommended recipe weighs the classes, the others copy rows: the legend says which.
    mix = charts.class_mix({1.0: 100, 5.0: 900}, {1.0: 0, 5.0: 900})
    copied = json.dumps(charts.class_mix_chart(mix).to_dict())
    weighed = json.dumps(charts.class_mix_chart(mix, weighted=True).to_dict())
    assert "after oversampling" in copied and "weighting" not in copied
    assert "after weighting" in weighed and "oversampling" not in weighed
    assert "Training ratings (weighted)" in weighed
