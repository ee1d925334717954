"""The Train page's results (ladder chart, retellable sentence, everyone's top 10), broken runs
listed apart, and text from files, names and errors never becoming Markdown links (AppTest)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from apptest import goto as _goto
from apptest import open_app as _app
from apptest import upload as _upload
from streamlit.testing.v1 import AppTest

from recsys_core.app import views

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
EVIL_NAME = "![x](http://evil.example/a.png)"
# Live link syntax once Markdown is parsed: a GFM literal autolink (scheme or www. followed by a
# domain character, an e-mail) or an unescaped link/image bracket.
# An e-mail address needs a dotted domain to become a link ("NDCG@10" stays text).
LIVE_LINK = re.compile(r"(?i)(https?://|www\.)[a-z0-9]|[a-z0-9]@[a-z0-9-]+\.[a-z]|(?<!\\)\]\(|<a\b")


def _markdown_bodies(at: AppTest) -> list[str]:
    """Every element body that Streamlit renders as Markdown (labels included)."""
    bodies = [e.value for e in [*at.markdown, *at.caption, *at.error, *at.warning, *at.info, *at.success]]
    bodies += [e.value for e in at.title] + [e.value for e in at.subheader]
    bodies += [w.label for w in [*at.button, *at.metric, *at.number_input, *at.selectbox]]
    return [str(b) for b in bodies]


def _live_links(at: AppTest) -> list[str]:
    return [body for body in _markdown_bodies(at) if LIVE_LINK.search(body)]


def _small_csv(tmp_path: Path) -> bytes:
    from recsys_core.data import write_demo_csv

    path = tmp_path / "small.csv"
    write_demo_csv(path, n_users=150, n_items=60, n_ratings=2000, seed=5)
    return path.read_bytes()


def _train_tiny(tmp_path: Path, name: str = "") -> AppTest:
    """The app after one epoch of training on a small upload, on the Train page."""
    at = _app()
    _upload(at, "small.csv", _small_csv(tmp_path))
    at.session_state["sync_training"] = True
    _goto(at, "train")
    for box in at.number_input:
        if box.label.startswith("Epochs"):
            box.set_value(1)
        if box.label == "Profile size":
            box.set_value(8)
    next(t for t in at.text_input if t.label.startswith("Run name")).set_value(name)
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


# -- view model and helper -----------------------------------------------------------------------


def test_ladder_chart_data_has_every_rung_with_error_bars() -> None:
    ranking = {
        "k": 10,
        "model": {"ndcg_at_k": 0.05, "ndcg_at_k_se": 0.01, "hit_rate_at_k": 0.1, "hit_rate_at_k_se": 0.02},
        "popularity": {
            "ndcg_at_k": 0.02,
            "ndcg_at_k_se": 0.005,
            "hit_rate_at_k": 0.06,
            "hit_rate_at_k_se": 0.01,
        },
    }
    ladder = {
        "most_popular": {"label": "most popular", "ndcg_at_k": 0.9, "hit_rate_at_k": 0.9},
        "item_knn": {"label": "item-kNN", "ndcg_at_k": 0.03, "hit_rate_at_k": 0.08, "hit_rate_at_k_se": 0.01},
        "ease": {"label": "EASE", "skipped": "the catalogue needs 80 GB"},
        "ials": {"label": "iALS", "ndcg_at_k": 0.04, "ndcg_at_k_se": 0.03, "hit_rate_at_k": 0.09},
    }
    frame = views.ladder_chart_data(ranking, ladder)
    assert frame["method"].drop_duplicates().tolist() == ["this model", "most popular", "item-kNN", "iALS"]
    row = frame[(frame["name"] == "model") & (frame["metric"] == "NDCG@10")].iloc[0]
    assert (row["low"], row["high"]) == pytest.approx((0.05 - 1.96 * 0.01, 0.05 + 1.96 * 0.01))
    popular = frame[(frame["name"] == "most_popular") & (frame["metric"] == "hit rate@10")].iloc[0]
    assert popular["value"] == 0.06  # the list the headline compares with, not the ladder's copy
    knn = frame[(frame["name"] == "item_knn") & (frame["metric"] == "NDCG@10")].iloc[0]
    assert knn["low"] == knn["high"] == 0.03  # no standard error: no whisker
    assert frame[frame["name"] == "ials"]["low"].min() == 0.0  # clipped at zero
    assert frame["is_model"].sum() == 2
    assert views.best_classic(ladder) == ("iALS", 0.09)
    assert views.skipped_sentences(ladder) == ["EASE was left out: the catalogue needs 80 GB"]
    assert views.ladder_chart_data(ranking, None)["name"].unique().tolist() == ["model", "most_popular"]
    assert views.ladder_chart_data(None, None).empty


@pytest.mark.parametrize(
    "text",
    ["https://evil.example/login", "www.phish.example", "WWW.Phish.example", "me@evil.example", EVIL_NAME],
)
def test_plain_text_never_becomes_a_link(text: str) -> None:
    from pages.parts.layout import WORD_JOINER, plain

    shown = plain(text)
    assert not LIVE_LINK.search(shown)
    assert shown.replace("\\", "").replace(WORD_JOINER, "") == text  # reads exactly as written


# -- the Train page ------------------------------------------------------------------------------


@pytest.mark.slow  # trains one tiny run and fits the ladder through the page
def test_results_show_the_ladder_the_sentence_and_everyones_top_10(runs_dir: Path, tmp_path: Path) -> None:
    from recsys_core.runs import RunRegistry

    at = _train_tiny(tmp_path, EVIL_NAME)

    # The retellable sentence leads, naming the best classic method; then the ladder chart.
    story = next(m.value for m in at.markdown if m.value.startswith("#### Among 10 suggestions"))
    assert "best-seller list" in story
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    # Learning curves: one chart per quantity, the measure that picks the epoch among them.
    specs = [
        json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart")
    ]
    titles = [" ".join(spec["title"]["text"]) for spec in specs if isinstance(spec.get("title"), dict)]
    assert titles[0] == "Training loss" and titles[1].endswith("picks the epoch"), titles
    assert titles[2] == "Validation AUC of the predicted rating"
    # The run's name is text, not an image fetched from a URL.
    success = at.success[0].value
    assert "![x]" not in success and not LIVE_LINK.search(success)
    assert "evil" in success

    # Every customer's top 10: one row per suggestion, 10 per customer with 10 unrated products.
    next(b for b in at.button if b.label.startswith("Prepare every customer's top 10")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(d.proto.label == "Download every customer's top 10 (CSV)" for d in at.get("download_button"))
    record = RunRegistry(runs_dir).list()[0]
    run_id, data, rows = at.session_state["everyone_top_csv"]
    assert run_id == record.run_id
    table = pd.read_csv(io.BytesIO(data), dtype={"user": str, "item": str})
    from recsys_core.runs import load_run

    run = load_run(record.path)
    unrated = run.n_items - run.seen_matrix().getnnz(axis=1)
    assert len(table) == rows == int(sum(min(10, u) for u in unrated))
    assert table["user"].nunique() == int((unrated > 0).sum())
    assert table.groupby("user")["rank"].max().max() == 10


@pytest.mark.slow  # trains one tiny run
def test_a_broken_run_is_listed_with_its_reason_and_hides_nothing(runs_dir: Path, tmp_path: Path) -> None:
    at = _train_tiny(tmp_path)
    broken = runs_dir / "www.evil.example-broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("[1, 2, 3]")

    _goto(at, "train")
    listed = [t.value for t in at.text if t.value.startswith("www.evil.example-broken: ")]
    assert listed and len(listed[0]) > len("www.evil.example-broken: ")  # with its reason
    assert not _live_links(at), _live_links(at)
    # The good run is still listed and selectable on Recommend (which lists pages/parts/runs' runs).
    _goto(at, "recommend")
    assert not at.error, [e.value for e in at.error]
    assert at.dataframe, "the good run answers"

    _goto(at, "train")
    next(b for b in at.button if b.key == "delete_broken_www.evil.example-broken").click().run()
    assert not broken.exists()
    assert not [t for t in at.text if t.value.startswith("www.evil.example-broken")]


# -- item 6: names, IDs and error texts stay text ------------------------------------------------


def test_hostile_names_and_ids_never_become_links(runs_dir: Path) -> None:
    rows = ["UserID,ProductID,Rating,Timestamp"]
    users = ["https://evil.example/login", "www.phish.example", "me@evil.example"]
    for i in range(90):
        rows.append(
            f"{users[i % 3] if i % 2 else f'u{i % 20}'},{'www.item.example' if i % 5 == 0 else f'p{i % 9}'},"
        )
        rows[-1] += f"{1 + i % 5},{1_300_000_000 + i}"
    at = _app()
    _upload(at, "www.evil-login.example.csv", ("\n".join(rows) + "\n").encode())
    assert not at.exception
    assert any("evil" in body for body in _markdown_bodies(at))  # the name is shown…
    assert not _live_links(at), _live_links(at)  # …as text
    _goto(at, "train")
    assert not _live_links(at), _live_links(at)

    # A value quoted in the error box (a rating that is a URL).
    bad = "UserID,ProductID,Rating\n" + "".join(f"u{i},p{i},https://evil.example/{i}\n" for i in range(30))
    _goto(at, "data")
    _upload(at, "www.evil-login.example.csv", bad.encode())
    assert at.error, "the upload is refused"
    assert not _live_links(at), _live_links(at)


@pytest.mark.slow  # trains two tiny runs
def test_training_in_the_app_beside_a_run_made_by_the_command_line(
    runs_dir: Path, tmp_path: Path, run_cli
) -> None:
    # The README invites sharing CLI-made runs: one in the runs folder must not break the app,
    # whose results compare a new run with the others on the same data.
    (tmp_path / "cli.csv").write_bytes(_small_csv(tmp_path))
    code, _, err = run_cli(
        "train", str(tmp_path / "cli.csv"), "--preset", "fast", "--epochs", "1", "--runs-dir", str(runs_dir)
    )
    assert code == 0, err
    at = _train_tiny(tmp_path, "app run")
    assert any(m.value.startswith("#### Among 10 suggestions") for m in at.markdown)
    _goto(at, "compare")
    from recsys_core.runs import RunRegistry

    records = RunRegistry(runs_dir).list()
    assert sorted(r.dataset for r in records) == ["cli.csv", "small.csv"]
