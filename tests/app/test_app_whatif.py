"""The what-if tools in the app (AppTest): sweeps on Balance; the ladder, the run diff, the
popularity curve and the report on Compare. Tiny data and one-epoch runs: the pages are under
test, not the models."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from apptest import goto as _goto
from apptest import open_app, upload
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from whatif_runs import small_ratings

import recsys_core as rs
from recsys_core.config import TrainConfig
from recsys_core.runs import RunRegistry
from recsys_core.settings import RUNS_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180
TINY = {"epochs": 1, "embedding_dim": 8, "batch_size": 256}


def _balance_with_tiny_settings(small_csv: bytes) -> AppTest:
    """The app on the small upload, on Balance, with one-epoch runs of a tiny model."""
    at = upload(open_app(timeout=TIMEOUT), "small.csv", small_csv)
    _goto(at, "balance")
    kept = at.session_state["kept"]
    kept.update(TINY)
    at.session_state["kept"] = kept
    return at


def _specs(at: AppTest) -> list[str]:
    """The Vega-Lite specs (JSON text) of the charts on the page."""
    return [chart.proto.spec for chart in at.get("vega_lite_chart")]


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- Balance: sweeps ---------------------------------------------------------------------------


@pytest.mark.slow  # trains two small models through the page
def test_a_class_sweep_saves_its_runs_and_draws_every_measure(runs_dir: Path, small_csv: bytes) -> None:
    at = _balance_with_tiny_settings(small_csv)
    at.session_state["sync_training"] = True  # sweep in the script thread: AppTest cannot poll
    next(t for t in at.text_input if t.label == "Its multipliers").set_value("1, 2").run()
    _click(at, "Sweep this class")
    assert not at.error, [e.value for e in at.error]
    records = RunRegistry(runs_dir).list()
    assert len(records) == 6  # three seeds per setting by default
    assert sorted(r.config["multipliers"].get("1", 1.0) for r in records) == [1.0] * 3 + [2.0] * 3
    assert all(r.config["epochs"] == 1 for r in records)
    assert all(r.summary.dataset_name == "small.csv" for r in records)  # grouped on Compare
    assert any("Sweep finished: 6 runs saved" in s.value for s in at.success)
    specs = [json.loads(spec) for spec in _specs(at)]
    sweep = [spec for spec in specs if '"errorbar"' in json.dumps(spec)]
    titles = [" ".join(spec["title"]["text"]) for spec in sweep]
    for measure in (
        "(hit rate)",
        "when they liked it",
        "disliked it",
        "(AUC)",
        "NDCG@10",
        "coverage",
        "Precision",
    ):
        assert sum(measure in title for title in titles) == 1, (measure, titles)  # one chart each
    # In words, only what moved beyond the noise (the one rule of the error bars).
    assert any(m.value.startswith("From ×1 to ×2: ") for m in at.markdown)
    for spec in sweep:
        assert spec["title"]["limit"] == 0  # wrapped, never cut
        low, high = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
        assert high - low >= 0.05 - 1e-9, spec["title"]  # no zoom into the noise


@pytest.mark.slow  # trains in a worker thread and stops it
def test_stop_ends_a_sweep_and_keeps_the_finished_runs(runs_dir: Path, small_csv: bytes) -> None:
    at = _balance_with_tiny_settings(small_csv)
    next(n for n in at.number_input if n.label == "Seeds").set_value(1).run()
    next(t for t in at.text_input if t.label == "Its multipliers").set_value("1, 2, 3, 4").run()
    _click(at, "Sweep this class")
    job = at.session_state["sweep_job"]
    deadline = time.monotonic() + TIMEOUT
    while not job.records and job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(job.records) >= 1, job.error
    # While it runs the page stays usable and the buttons say so.
    assert next(b for b in at.button if b.label == "Sweep the recipe").disabled
    _click(at, "Stop")
    job.join(TIMEOUT)
    at.run()
    kept = len(job.records)
    assert 1 <= kept < 4
    assert any(f"kept the {kept} finished run(s) of 4" in i.value for i in at.info)
    assert {r.run_id for r in RunRegistry(runs_dir).list()} == {r["run"] for r in job.records}


# -- Compare: the ladder, the diff, the report -----------------------------------------------


@pytest.fixture(scope="module")
def saved_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Two one-epoch runs on the same data and split (a notebook and a fast run), and one on
    other data: ``(runs folder, [notebook id, fast id, other data id])``."""
    folder = tmp_path_factory.mktemp("runs")
    registry = RunRegistry(folder)
    ratings = small_ratings()
    ids = []
    for preset, data in [("notebook", ratings), ("fast", ratings), ("fast", small_ratings(seed=2))]:
        run = rs.train(data, TrainConfig.preset(preset, **TINY), name=f"{preset} run")
        ids.append(registry.save(run).run_id)
    return folder, ids


def _compare(saved_runs: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(RUNS_DIR_ENV, str(saved_runs[0]))
    return _goto(open_app(timeout=TIMEOUT), "compare")


def _pick(at: AppTest, label: str, run_id: str) -> AppTest:
    next(s for s in at.selectbox if s.label == label).set_value(run_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.mark.slow  # fits the classic methods once
def test_compare_shows_the_ladder_the_diff_and_the_report(
    saved_runs: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    deferred: list[Callable[[], bytes]] = []
    original = MediaFileManager.add_deferred

    def capture(self: MediaFileManager, data: Callable[[], bytes], *args: object, **kwargs: object) -> str:
        deferred.append(data)
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    notebook, fast, _ = saved_runs[1]
    at = _compare(saved_runs, monkeypatch)
    _pick(at, "Run", fast)
    assert "as often as a best-seller list" in _text(at) or "than a best-seller list" in _text(at)
    assert "best classic method" in _text(at)
    ladder = [spec for spec in _specs(at) if "this model" in spec and "iALS" in spec]
    # One chart, two panels (finds the next product, ranking quality), each bar with its whiskers.
    assert len(ladder) == 1 and "Finds the next product" in ladder[0] and "Ranking quality" in ladder[0]
    assert '"x2"' in ladder[0] or "x2" in ladder[0]
    assert any(saved_runs[0].rglob("baselines.json"))  # fitted once, cached in the run folder

    _pick(at, "Run", notebook)
    _pick(at, "Compare it with (B)", fast)
    assert not at.warning or all("different splits" not in w.value for w in at.warning)
    text = _text(at)
    assert "B finds the next product" in text and "95 % interval" in text
    assert "customers see a different top-10" in text
    assert any("of its suggestions come from the most-rated" in c.value for c in at.caption)
    button = at.get("download_button")[-1]
    assert button.proto.label == "Download report" and button.proto.deferred_file_id
    html = deferred[-1]().decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "What changed from A to B" in html


@pytest.mark.slow  # fits the classic methods once
def test_compare_refuses_runs_of_different_data(
    saved_runs: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook, _, other = saved_runs[1]
    at = _compare(saved_runs, monkeypatch)
    _pick(at, "Run", notebook)
    _pick(at, "Compare it with (B)", other)
    assert any("different splits" in w.value for w in at.warning)
    assert "B finds the next product" not in _text(at)


# -- the view helpers behind these pages ------------------------------------------------------


def _entry(hit: float, se: float, label: str = "") -> dict[str, object]:
    return {
        "hit_rate_at_k": hit,
        "hit_rate_at_k_se": se,
        "ndcg_at_k": hit / 2,
        "ndcg_at_k_se": se / 2,
        "label": label,
    }


def test_ladder_sentence_claims_a_ratio_only_when_the_whiskers_separate() -> None:
    from recsys_core.app import views

    ladder = {"most_popular": _entry(0.10, 0.005, "most popular"), "ease": _entry(0.16, 0.005, "EASE")}
    model = _entry(0.16, 0.005)
    assert views.ladder_sentence(model, ladder).endswith(
        "1.6× as often as a best-seller list (16.0 % of customers vs 10.0 %); "
        "and about as often as the best classic method, EASE (within the noise)."
    )
    # The demo's case from issue 22: 1.1× apart, whiskers overlapping: no "1.1×".
    close = views.ladder_sentence(_entry(0.212, 0.006), {**ladder, "ease": _entry(0.197, 0.006, "EASE")})
    assert "about as often as the best classic method, EASE (within the noise)" in close
    assert "1.1×" not in close
    assert "; and 1.3× as often as the best classic method, EASE." in views.ladder_sentence(
        _entry(0.21, 0.005), ladder
    )
    assert "; but less often than the best classic method, EASE (16.0 % of customers)." in (
        views.ladder_sentence(_entry(0.12, 0.005), ladder)
    )
    # Before the ladder is fitted, the run's own best-seller figure carries the first half.
    assert views.ladder_sentence(model, {}, popular=ladder["most_popular"]).startswith("Among 10")
    skipped = {**ladder, "ease": {"label": "EASE", "skipped": "too large"}}
    assert "classic" not in views.ladder_sentence(model, skipped)
    frame = views.ladder_chart_data({"model": model, "popularity": ladder["most_popular"]}, ladder)
    assert list(frame.sort_values("order")["method"].unique()) == ["this model", "most popular", "EASE"]
    row = frame[(frame["name"] == "model") & (frame["measure"] == "Finds the next product")].iloc[0]
    assert row["low"] == pytest.approx(0.16 - 1.96 * 0.005) and row["high"] == pytest.approx(
        0.16 + 1.96 * 0.005
    )


def test_diff_sentences_read_like_the_brief() -> None:
    from recsys_core.app import views

    diff = {
        "k": 10,
        "metrics": {
            "hit_rate_at_k": {"a": 0.10, "b": 0.112, "delta": 0.012, "ci95": [0.004, 0.020]},
            "roc_auc": {"a": 0.80, "b": 0.801, "delta": 0.001, "ci95": [-0.002, 0.004]},
        },
        "overlap": {"share_changed": 0.38, "mean_jaccard": 0.7},
        "exposure": {"gained": [], "lost": []},
        "segments": [],
    }
    first, auc, overlap = views.diff_sentences(diff)
    assert first == "B finds the next product 12 % more often than A (95 % interval 4 %–20 %)."
    assert "about as well as" in auc
    assert overlap.startswith("38 % of customers see a different top-10")
    diff["metrics"]["hit_rate_at_k"]["ci95"] = [-0.002, 0.02]
    assert views.diff_sentences(diff)[0] == (
        "B finds the next product about as often as A: no measurable difference "
        "(95 % interval −2 % to +20 %)."
    )
    # A small clear change never reads "0 %"; liked and disliked products get their own line.
    diff["metrics"]["hit_rate_at_k"] = {"a": 0.2, "b": 0.201, "delta": 0.001, "ci95": [0.0002, 0.0018]}
    diff["metrics"]["hit_rate_liked_at_k"] = {"a": 0.2, "b": 0.19, "delta": -0.01, "ci95": [-0.02, -0.004]}
    first, liked, *_ = views.diff_sentences(diff)
    assert first == "B finds the next product 0.5 % more often than A (95 % interval 0.1 %–0.9 %)."
    assert liked.startswith("B finds a next product the customer liked 5 % less often than A")


def test_sweep_chart_data_draws_standard_errors_on_a_wide_enough_axis() -> None:
    from recsys_core.app import views

    def record(m: float, seed: int, precision: float) -> dict[str, object]:
        model = {"ndcg_at_k": 0.05, "ndcg_at_k_se": 0.004, "coverage": 0.3, "hit_rate_liked_at_k": 0.2}
        return {
            "multiplier": m,
            "seed": seed,
            "metrics": {"precision": precision, "ranking": {"model": model}},
        }

    frame = views.sweep_chart_data([record(1, 0, 0.6), record(1, 1, 0.7), record(2, 0, 0.8)])
    first = frame[(frame["measure"] == "Precision") & (frame["x"] == 1)].iloc[0]
    se = 0.0707107 / 2**0.5  # the seeds' standard deviation over the square root of their number
    assert first["value"] == pytest.approx(0.65) and first["se"] == pytest.approx(se, rel=1e-4)
    assert (first["low"], first["high"], first["seeds"]) == (
        pytest.approx(0.65 - se),
        pytest.approx(0.65 + se),
        2,
    )
    one_seed = frame[(frame["measure"] == "Top-10 quality (NDCG@10)") & (frame["x"] == 2)].iloc[0]
    assert one_seed["se"] == pytest.approx(0.004)  # one seed: the run's own, over its customers
    lone = frame[(frame["measure"] == "Precision") & (frame["x"] == 2)].iloc[0]
    assert lone["low"] == lone["high"] == 0.8  # no standard error known: no bar
    assert "Finds it when they liked it" in set(frame["measure"])
    # A 0.001 difference is not drawn as a cliff: the axis spans at least 5 points, within 0-1.
    ndcg = frame[frame["measure"] == "Top-10 quality (NDCG@10)"].assign(
        low=[0.050, 0.051], high=[0.050, 0.051]
    )
    low, high = views.sweep_axis(ndcg)
    assert high - low == pytest.approx(0.05) and low == pytest.approx(0.0255)
    assert views.sweep_axis(ndcg.assign(low=0.001, high=0.002)) == pytest.approx((0.0, 0.05))
    assert views.sweep_axis(ndcg.assign(low=0.99, high=0.995)) == pytest.approx((0.95, 1.0))
    assert views.sweep_axis(ndcg.assign(low=[0.1, 0.5], high=[0.2, 0.6])) == (0.1, 0.6)


def test_sweep_sentence_words_only_changes_beyond_the_noise() -> None:
    from recsys_core.app import views

    def record(m: float, seed: int, precision: float, recall: float) -> dict[str, object]:
        return {"multiplier": m, "seed": seed, "metrics": {"precision": precision, "recall": recall}}

    # Precision moves by 0.001 between seeds' means (noise); recall drops 10 points (clear).
    records = [record(1, s, 0.900 + d, 0.80 + d) for s, d in enumerate((0.0, 0.01, -0.01))]
    records += [record(2, s, 0.901 + d, 0.70 + d) for s, d in enumerate((0.0, 0.01, -0.01))]
    sentence = views.sweep_sentence(views.sweep_chart_data(records))
    assert sentence == "From ×1 to ×2: Recall fell (80.0 % → 70.0 %); no measurable difference in the others."
    same = [r for r in records if r["metrics"].update(recall=0.8) is None]
    assert "no measurable difference in any measure" in views.sweep_sentence(views.sweep_chart_data(same))
    assert views.sweep_sentence(views.sweep_chart_data(records[:3])) is None  # one setting
    assert views.parse_numbers("1, 2,2; 4") == [1.0, 2.0, 4.0] and views.parse_numbers("1, x") == []
