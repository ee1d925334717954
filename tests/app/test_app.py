"""The Streamlit app without a browser (streamlit.testing.v1.AppTest) and its view helpers."""

from __future__ import annotations

import io
import re
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from apptest import goto as _goto
from apptest import open_app as _app
from apptest import upload as _upload
from streamlit.testing.v1 import AppTest

from recsys_core.app import TrainingJob, views
from recsys_core.data import peek_columns
from recsys_core.errors import RecsysError

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 120


def _rows(csv: bytes) -> int:
    """Ratings in a demo CSV as the loader keeps them (one per customer and product)."""
    from recsys_core.data import load_ratings

    return len(load_ratings(_Named(csv, "x.csv")).frame)


class _Named(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


# -- pages -------------------------------------------------------------------------------------


def test_every_page_renders_on_the_demo_data(runs_dir: Path) -> None:
    from recsys_core.data import generate_demo

    demo = generate_demo().ratings
    at = _app()
    assert [h.value for h in at.title] == ["Data"]
    # The headline figures are those of the demo data, with nothing uploaded.
    assert _metric(at, "Ratings") == f"{len(demo):,}"
    assert _metric(at, "Customers") == f"{demo['user'].nunique():,}"
    assert _metric(at, "Products") == f"{demo['item'].nunique():,}"
    for page, title in [
        ("balance", "Balance"),
        ("train", "Train"),
        ("compare", "Compare"),
        ("recommend", "Recommend"),
        ("data", "Data"),
    ]:
        _goto(at, page)
        assert [h.value for h in at.title] == [title]
        assert not at.error, [e.value for e in at.error]
    # Without runs, Compare and Recommend say what to do instead of failing.
    _goto(at, "compare")
    assert any("No saved runs yet" in i.value for i in at.info)


def _balance_table(at: AppTest) -> pd.DataFrame:
    table = at.dataframe[0].value
    return table.set_index("Rating")


def test_moving_a_multiplier_changes_the_after_count(runs_dir: Path) -> None:
    at = _goto(_app(), "balance")
    table = _balance_table(at)
    assert (table["Before"] == table["After"]).all()  # every factor starts at 1
    before_1 = int(table.loc["1★", "Before"])

    next(n for n in at.number_input if n.label == "1★ ×").set_value(3.0).run()
    table = _balance_table(at)
    assert int(table.loc["1★", "After"]) == round(before_1 * 3)
    assert int(table.loc["5★", "After"]) == int(table.loc["5★", "Before"])

    next(b for b in at.button if b.label == "Notebook recipe").click().run()
    table = _balance_table(at)
    assert int(table.loc["1★", "After"]) == round(before_1 * 2.5)
    assert int(table.loc["2★", "After"]) == round(int(table.loc["2★", "Before"]) * 3)
    assert int(table.loc["3★", "After"]) == round(int(table.loc["3★", "Before"]) * 2)

    # The multipliers survive a visit to another page.
    _goto(at, "data")
    _goto(at, "balance")
    assert next(n for n in at.number_input if n.label == "2★ ×").value == 3.0

    next(b for b in at.button if b.label == "Reset").click().run()
    table = _balance_table(at)
    assert (table["Before"] == table["After"]).all()


def test_a_bad_upload_shows_an_error_and_keeps_the_old_dataset(runs_dir: Path) -> None:
    at = _app()
    rows_before = _metric(at, "Ratings")
    _upload(at, "broken.csv", b"this is not,a ratings file\n\x00\x01,\n")
    assert at.error, "a broken file must produce an error message"
    assert "still loaded" in at.error[0].value
    assert _metric(at, "Ratings") == rows_before


CORPUS = ROOT / "tests" / "fixtures" / "corpus"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("spreadsheet_xlsx.csv", "excel"),
        ("truncated.csv.gz", "gzip"),
        ("broken_line_late.jsonl", "line 75"),
        ("non_numeric_ratings.csv", "rating"),
        ("nan_inf_ratings.csv", "rating"),
    ],
)
def test_hostile_corpus_files_show_a_specific_error_and_keep_the_old_dataset(
    runs_dir: Path, name: str, fragment: str
) -> None:
    at = _app()
    rows_before = _metric(at, "Ratings")
    _upload(at, name, (CORPUS / name).read_bytes())
    assert not at.exception
    assert at.error, f"{name} must produce an error message"
    assert fragment in at.error[0].value.lower()
    assert _metric(at, "Ratings") == rows_before


def test_unrecognised_columns_can_be_mapped_by_hand(runs_dir: Path) -> None:
    frame = pd.DataFrame(
        {
            "who": [f"u{i % 40}" for i in range(400)],
            "what": [f"p{(i * 7) % 90}" for i in range(400)],
            "stars_given": [1 + (i % 5) for i in range(400)],
            "when_ts": [1_300_000_000 + 3600 * i for i in range(400)],
        }
    )
    at = _app()
    _upload(at, "odd.csv", frame.to_csv(index=False).encode())
    if not at.form:  # the loader recognised the columns on its own: nothing to map
        assert _metric(at, "Ratings") == f"{len(frame.drop_duplicates(['who', 'what'])):,}"
        return
    # A question, not an error (issue 22, item 7).
    assert not at.error and any("Tell us which column is which" in m.value for m in at.markdown)
    picks = {"Customer ID": "who", "Product ID": "what", "Rating": "stars_given", "Date / time": "when_ts"}
    for box in at.selectbox:
        if box.label in picks:
            box.set_value(picks[box.label])
    next(b for b in at.button if b.label == "Load with these columns").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _metric(at, "Customers") == "40"


@pytest.mark.slow  # over ~5 s: trains a model through the page and waits for the saved run
def test_one_epoch_of_training_produces_a_saved_run(runs_dir: Path, small_csv: bytes) -> None:
    from recsys_core.runs import RunRegistry

    at = _app()
    _upload(at, "small.csv", small_csv)
    assert not at.error, [e.value for e in at.error]
    assert _metric(at, "Ratings") == f"{_rows(small_csv):,}"

    _goto(at, "balance")
    next(n for n in at.number_input if n.label == "1★ ×").set_value(2.0).run()

    at.session_state["sync_training"] = True  # train in the script thread: AppTest cannot poll
    _goto(at, "train")
    settings = {
        "Epochs (passes over the data)": 1,
        "Profile size": 8,
        "Ratings per learning step": 256,
    }
    for box in at.number_input:
        if box.label in settings:
            box.set_value(settings[box.label])
    at.run()
    # Settings survive a visit to another page.
    _goto(at, "data")
    _goto(at, "train")
    shown = {b.label: b.value for b in at.number_input if b.label in settings}
    assert shown == settings
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]

    records = RunRegistry(runs_dir).list()
    assert len(records) == 1
    config = records[0].config
    assert config["epochs"] == 1 and config["embedding_dim"] == 8 and config["batch_size"] == 256
    assert config["multipliers"] == {"1": 2.0}  # set on the Balance page
    assert any(m.label == "Precision" for m in at.metric)
    text = " ".join(m.value for m in at.markdown)
    assert "When the model says a customer will like a product" in text

    # The run is listed on Compare and answers on Recommend.
    _goto(at, "compare")
    assert at.dataframe[0].value.shape[0] == 1
    _goto(at, "recommend")
    lines = [m.value for m in at.markdown if re.match(r"\*\*\d+\. ", m.value) and "match " in m.value]
    n = next(b for b in at.number_input if b.label == "How many").value
    assert len(lines) == n and len(set(lines)) == n
    assert "match 100 %" in lines[0]
    assert at.get("download_button")

    # A customer the model does not know gets the most popular products, labelled as such.
    # (AppTest cannot type a new option into a select box; set the page's kept choice instead.)
    kept = at.session_state["kept"]
    kept["rec_user"] = "nobody-like-this"
    at.session_state["kept"] = kept
    at.run()
    assert next(b for b in at.selectbox if b.label.startswith("Customer")).value == "nobody-like-this"
    assert any("not in the training data" in w.value for w in at.warning)
    assert len(at.dataframe[0].value) == n

    # Deleting the run on Compare removes it from disk.
    _goto(at, "compare")
    at.multiselect[0].set_value([records[0].run_id]).run()
    next(b for b in at.button if b.label == "Delete selected runs").click().run()
    assert RunRegistry(runs_dir).list() == []
    assert any("No saved runs yet" in i.value for i in at.info)


# -- the background job ------------------------------------------------------------------------


class _FakeRun:
    name = "fake"


def test_training_job_runs_in_a_thread_and_stops_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys_core import runs as registry

    saved: list = []

    class _Registry:
        def __init__(self, root):
            self.root = Path(root)

        def save(self, run):
            saved.append(run)
            return registry.RunRecord("id-1", run.name, "", {}, {}, {}, self.root / "id-1")

    monkeypatch.setattr(registry, "RunRegistry", _Registry)
    started = threading.Event()

    def train(ratings, config, *, products, name, on_epoch, on_progress, should_stop):
        epoch = 0
        while not should_stop():
            epoch += 1
            on_progress(epoch, 1, 2)
            on_epoch({"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 1.0})
            started.set()
            time.sleep(0.01)
        return _FakeRun()

    job = TrainingJob(ratings=None, config=None, directory=tmp_path, train=train).start()
    assert started.wait(5)
    assert job.running
    job.stop()
    job.join(5)
    assert job.status == "done", job.error
    assert job.run_id == "id-1" and saved == [job.run]
    assert len(job.history) >= 1 and job.progress[0] == len(job.history)


def test_training_job_reports_errors_as_messages(tmp_path: Path) -> None:
    def bad(*args, **kwargs):
        raise RecsysError("The ratings have only one class.")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    job = TrainingJob(None, None, directory=tmp_path, train=bad).start(background=False)
    assert job.status == "failed" and job.error == "The ratings have only one class."
    job = TrainingJob(None, None, directory=tmp_path, train=broken).start(background=False)
    assert job.status == "failed" and "ZeroDivisionError" in job.error and "boom" in job.details


# -- view helpers ------------------------------------------------------------------------------


def test_class_mix_shares_and_sentence() -> None:
    before = {1.0: 10, 5.0: 90}
    after = {1.0: 30, 5.0: 90}
    mix = views.class_mix(before, after)
    shares = mix.set_index(["stage", "rating"])["share"]
    assert shares[("before", 5.0)] == pytest.approx(0.9)
    assert shares[("after", 5.0)] == pytest.approx(0.75)
    assert mix.groupby("stage")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    sentence = views.balance_sentence(before, after)
    assert "100 to 120" in sentence and "90 %" in sentence and "75 %" in sentence
    weighed = views.balance_sentence({1.0: 10, 2.0: 20, 5.0: 70}, {1.0: 0, 2.0: 10, 5.0: 70}, weighted=True)
    assert "weighs" in weighed and "copies" not in weighed
    assert "100 ratings count as 80" in weighed and "1★ is left out" in weighed
    assert "70 % to 88 %" in weighed
    both = views.balance_sentence({1.0: 10, 2.0: 20, 5.0: 70}, {1.0: 0, 2.0: 0, 5.0: 70}, weighted=True)
    assert "1★ and 2★ are left out" in both
    assert "each counts once" in views.balance_sentence(before, before, weighted=True)


def test_multiplier_bounds_depend_on_the_recipe() -> None:
    # Weights (the recommended recipe) go down to 0; copies start at 1.
    assert views.multiplier_problem(0.0, weights=True) is None
    assert views.multiplier_problem(0.5, weights=True) is None
    assert "a weight starts at ×0" in views.multiplier_problem(-1.0, weights=True)
    assert "adds copies" in views.multiplier_problem(0.5)
    assert views.multiplier_problem(50.0) is None and views.multiplier_problem(50.0, weights=True) is None
    assert "at most ×50" in views.multiplier_problem(51.0, weights=True)


def test_sentences_compare_with_the_baselines() -> None:
    lines = views.classification_sentences(
        {"precision": 0.86, "trivial_precision": 0.81, "recall": 0.7, "roc_auc": 0.66}
    )
    assert lines[0] == (
        "When the model says a customer will like a product, it is right 86 % of the time; "
        "guessing 'likes it' for everyone is right 81 % of the time."
    )
    assert "better than guessing" in lines[-1]
    undefined = views.classification_sentences({"precision": None, "trivial_precision": 0.8})
    assert "n/a" in undefined[0]


def test_long_tail_and_examples() -> None:
    frame = pd.DataFrame(
        {"user": ["a", "a", "a", "b", "c"], "item": ["x", "y", "x", "x", "z"], "rating": [5.0, 4, 3, 2, 1]}
    )
    points, stats = views.long_tail(frame)
    assert points["ratings"].tolist() == [3, 1, 1]
    assert stats["max"] == 3 and stats["single_rating_share"] == pytest.approx(2 / 3)
    counts = frame["user"].value_counts()
    assert views.example_users(counts, n=2, min_ratings=3) == ["a"]
    assert set(views.example_users(counts, n=3, min_ratings=10)) == {"a", "b", "c"}


def test_category_mix_compares_lists() -> None:
    rated = pd.DataFrame({"category": ["Audio", "Audio", "Cameras", ""]})
    suggested = pd.DataFrame({"category": ["Audio", "Audio", "Audio", "TV"]})
    mix = views.category_mix({"rated": rated, "suggested": suggested}, top=2)
    shares = mix.set_index(["list", "category"])["share"]
    assert shares[("rated", "Audio")] == pytest.approx(0.5)
    assert shares[("suggested", "Audio")] == pytest.approx(0.75)
    # Only the two most frequent categories keep their names; the rest is pooled.
    assert set(mix["category"]) == {"Audio", "Cameras", "other"}
    assert views.category_mix({"rated": pd.DataFrame({"item": ["a"]})}).empty


def test_peek_columns_headerless_and_header() -> None:
    assert peek_columns(b"UserID,ProductID,Rating\nu1,p1,5\n", "a.csv") == [
        "UserID",
        "ProductID",
        "Rating",
    ]
    assert peek_columns(b"u1,p1,5,1300000000\nu2,p2,4,1300000001\n", "b.csv") == [
        "column 1",
        "column 2",
        "column 3",
        "column 4",
    ]


def _multiplier(at: AppTest, rating: str, value: float) -> AppTest:
    next(n for n in at.number_input if n.label == f"{rating} ×").set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_balance_weighs_the_classes_with_the_default_recipe(runs_dir: Path) -> None:
    at = _goto(_app(), "balance")
    captions = " ".join(c.value for c in at.caption)
    # The multipliers move the default recipe's lists now: the old caption saying they don't is gone.
    assert "but not the top-10 lists" not in captions
    assert views.WEIGHT_COSTS in captions  # what a setting cost, as measured
    before = _balance_table(at)["Before"]
    _multiplier(at, "1★", 0.0)
    _multiplier(at, "2★", 0.5)
    assert not at.error, [e.value for e in at.error]  # 0 and 0.5 are weights, not refused
    table = _balance_table(at)
    assert int(table.loc["1★", "After"]) == 0
    assert int(table.loc["2★", "After"]) == round(int(before["2★"]) * 0.5)
    assert int(table.loc["5★", "After"]) == int(before["5★"])
    sentence = next(c.value for c in at.caption if "Training weighs" in c.value)
    total = int(before.sum()) - int(before["1★"]) - int(before["2★"]) + round(int(before["2★"]) * 0.5)
    assert f"count as {total:,}" in sentence and "1★ is left out" in sentence
    assert "copies" not in sentence
    # Train uses the weights as they are.
    _goto(at, "train")
    assert not at.warning, [w.value for w in at.warning]
    assert any("1★ ×0, 2★ ×0.5" in m.value for m in at.markdown)


def test_balance_refuses_weights_below_one_for_an_oversampling_recipe(runs_dir: Path) -> None:
    at = _goto(_app(), "train")
    next(r for r in at.radio if r.label == "Recipe").set_value("notebook").run()
    _goto(at, "balance")
    before = _balance_table(at)["Before"]
    _multiplier(at, "1★", 0.5)
    assert any("a multiplier adds copies, so it starts at ×1" in e.value for e in at.error)
    table = _balance_table(at)
    assert int(table.loc["1★", "After"]) == int(before["1★"])  # the refused 0.5 counts as 1
    assert int(table.loc["2★", "After"]) == round(int(before["2★"]) * 3)  # the recipe's copies
    assert not any("Training weighs" in c.value for c in at.caption)
    assert any("copies of existing ratings" in c.value for c in at.caption)
