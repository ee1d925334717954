"""The `recsys` command line: outputs, JSON shapes and the one-line error contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliRunner, SharedData

# (file, rows, users, items) from ../shared/data/README.md
SHARED_FILES = [
    ("amazon_electronics_dense.csv", 65_290, 1_540, 5_689),
    ("amazon_electronics_raw_sample.csv", 76_127, 74_457, 39_432),
    ("amazon_electronics_head.csv", 50_698, 47_141, 3_529),
    ("amazon_electronics_seed_valid.csv", 89_919, 89_919, 26_476),
]


@pytest.mark.parametrize(("name", "rows", "users", "items"), SHARED_FILES)
def test_inspect_json_matches_shared_readme(
    name: str, rows: int, users: int, items: int, run_cli: CliRunner, shared_data: SharedData
) -> None:
    code, out, err = run_cli("inspect", str(shared_data(name)), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert set(summary) >= {
        "rows",
        "users",
        "items",
        "rating_counts",
        "time_min",
        "time_max",
        "duplicates_dropped",
    }
    assert summary["users"] == users
    assert summary["items"] == items
    assert summary["rows"] + summary["duplicates_dropped"] == rows
    assert sum(summary["rating_counts"].values()) == summary["rows"]
    assert set(summary["rating_counts"]) <= {"1", "2", "3", "4", "5"}
    if name == "amazon_electronics_dense.csv":
        assert summary["time_min"] is None and summary["time_max"] is None
    else:
        assert summary["time_min"] is not None and summary["time_min"] <= summary["time_max"]


def test_inspect_seed_valid_has_dates_in_2014_range(run_cli: CliRunner, shared_data: SharedData) -> None:
    code, out, _ = run_cli("inspect", str(shared_data("amazon_electronics_seed_valid.csv")), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["time_max"].startswith("2014")


def test_bad_input_is_one_line_exit_2(tmp_path: Path, run_cli: CliRunner) -> None:
    missing = tmp_path / "nope.csv"
    code, _, err = run_cli("inspect", str(missing))
    assert code == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert "nope.csv" in err

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run_cli("inspect", str(empty))
    assert code == 2 and "empty" in err.lower()


def test_usage_mistakes_follow_the_error_contract(run_cli: CliRunner) -> None:
    code, _, err = run_cli("train")
    assert code == 2 and err.startswith("error: ")
    code, _, err = run_cli("frobnicate")
    assert code == 2 and err.startswith("error: ")


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\na,b,five\nc,d,4\n")
    proc = subprocess.run(
        [sys.executable, "-m", "recsys_core.cli", "inspect", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert "rating" in proc.stderr.lower()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, run_cli: CliRunner) -> Path:
    root = tmp_path_factory.mktemp("cli")
    data = root / "demo.csv"
    products = root / "products.csv"
    code, out, err = run_cli(
        "demo-data",
        "--out",
        str(data),
        "--users",
        "400",
        "--items",
        "300",
        "--ratings",
        "8000",
        "--products",
        str(products),
    )
    assert code == 0, err
    run_dir = root / "run"
    code, out, err = run_cli(
        "train",
        str(data),
        "--out",
        str(run_dir),
        "--preset",
        "fast",
        "--epochs",
        "2",
        "--products",
        str(products),
        "--quiet",
    )
    assert code == 0, err
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch")]
    assert len(epoch_lines) == 2
    return run_dir


def test_evaluate_json_shape(trained_run: Path, run_cli: CliRunner) -> None:
    code, out, err = run_cli("evaluate", str(trained_run), "--json", "--k", "5")
    assert code == 0, err
    result = json.loads(out)
    for key in ("precision", "recall", "f1", "roc_auc", "trivial_precision", "threshold"):
        assert isinstance(result[key], float), key
        assert 0.0 <= result[key] <= 1.0
    ranking = result["ranking"]
    assert ranking["k"] == 5
    for who in ("model", "popularity"):
        assert set(ranking[who]) >= {
            "precision_at_k",
            "recall_at_k",
            "ndcg_at_k",
            "hit_rate_at_k",
            "coverage",
        }


def test_recommend_json_lists_unseen_products_best_first(
    trained_run: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    from recsys_core.runs import load_run

    run = load_run(trained_run)
    user = str(run.id_map.users[0])
    code, out, err = run_cli("recommend", str(trained_run), "--user", user, "-n", "7", "--json")
    assert code == 0, err
    recs = json.loads(out)
    assert len(recs) == 7
    assert all({"item", "score", "name"} <= set(r) for r in recs)
    scores = [r["score"] for r in recs]
    assert scores == sorted(scores, reverse=True)
    code_u = run.id_map.user_code(user)
    seen = set(run.seen_items[run.seen_users == code_u].tolist())
    seen_ids = {str(run.id_map.items[i]) for i in seen}
    assert not seen_ids & {r["item"] for r in recs}


def test_recommend_unknown_user_gets_popular_items_and_a_note(trained_run: Path, run_cli: CliRunner) -> None:
    code, out, err = run_cli("recommend", str(trained_run), "--user", "NOT-A-USER", "-n", "3", "--json")
    assert code == 0
    assert len(json.loads(out)) == 3
    assert "popular" in err.lower()


def test_evaluate_missing_run_is_a_clear_error(tmp_path: Path, run_cli: CliRunner) -> None:
    code, _, err = run_cli("evaluate", str(tmp_path / "no-run"))
    assert code == 2 and err.startswith("error: ")


AMBIGUOUS_DATES = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "dates_ambiguous.csv"


def test_date_format_reads_ambiguous_dates(tmp_path: Path, run_cli: CliRunner) -> None:
    code, _, err = run_cli("inspect", str(AMBIGUOUS_DATES))
    assert code == 2 and err.startswith("error: ") and "--date-format" in err
    for command in (
        ("train", str(AMBIGUOUS_DATES), "--out", str(tmp_path / "run")),
        (
            "sweep",
            str(AMBIGUOUS_DATES),
            "--runs-dir",
            str(tmp_path / "runs"),
            "--class",
            "1",
            "--multipliers",
            "1,2",
        ),
    ):
        code, _, err = run_cli(*command)
        assert code == 2 and "--date-format" in err, command

    code, out, err = run_cli("inspect", str(AMBIGUOUS_DATES), "--date-format", "%d/%m/%Y", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["time_min"], summary["time_max"]) == ("2014-02-01", "2014-03-02")
    code, out, err = run_cli("inspect", str(AMBIGUOUS_DATES), "--date-format", "%m/%d/%Y")
    assert code == 0, err
    assert "2014-01-02 … 2014-02-03" in out
    assert f"likes it  from {summary['likes_it_from']}★" in out


def test_recommend_new_users_takes_date_format(trained_run: Path, tmp_path: Path, run_cli: CliRunner) -> None:
    from recsys_core.runs import load_run

    items = [str(item) for item in load_run(trained_run).id_map.items[:2]]
    visitors = tmp_path / "visitors.csv"
    visitors.write_text(
        f"UserID,ProductID,Rating,Date\nV1,{items[0]},5,01/02/2014\nV1,{items[1]},4,02/03/2014\n"
    )
    code, _, err = run_cli("recommend", str(trained_run), "--new-users", str(visitors), "--json")
    assert code == 2 and "--date-format" in err
    code, out, err = run_cli(
        "recommend", str(trained_run), "--new-users", str(visitors), "--date-format", "%d/%m/%Y", "--json"
    )
    assert code == 0, err
    (answer,) = json.loads(out)
    assert answer["user"] == "V1" and len(answer["recommendations"]) == 5


def test_similar_text_output_exits_0(trained_run: Path, run_cli: CliRunner) -> None:
    from recsys_core.runs import load_run

    item = str(load_run(trained_run).id_map.items[0])
    code, out, err = run_cli("similar", str(trained_run), "--item", item, "-n", "3")
    assert code == 0, err
    assert len(out.splitlines()) == 3
