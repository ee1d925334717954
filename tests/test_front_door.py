"""The library's front door: the README's Python snippet runs as written, and each method on a run
gives what the command line gives for the same question."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMING = {"fit_seconds", "tune_seconds"}


def _snippet() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Python\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _untimed(value: object) -> object:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


@pytest.fixture(scope="module")
def snippet_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The README's snippet, run in a folder holding a small ratings.csv."""
    import os

    import recsys_core as rs
    from recsys_core.data import write_demo_csv

    folder = tmp_path_factory.mktemp("front_door")
    write_demo_csv(folder / "ratings.csv", n_users=200, n_items=80, n_ratings=3000, seed=4)
    frame = rs.load_ratings(folder / "ratings.csv").frame
    user_id = frame["user"].iloc[0]
    scope = {
        "user_id": user_id,
        "item_id": frame["item"].iloc[0],
        "visitors_frame": frame[frame["user"] == user_id].assign(user="visitor"),
    }
    here = Path.cwd()
    os.chdir(folder)
    try:
        exec(compile(_snippet(), "README.md", "exec"), scope)
    finally:
        os.chdir(here)
    scope["folder"] = folder
    return scope


@pytest.mark.slow  # trains the default recipe and the fast one
def test_the_readme_snippet_runs_and_each_step_gives_what_it_says(snippet_run: dict[str, object]) -> None:
    import recsys_core as rs

    run, folder = snippet_run["run"], snippet_run["folder"]
    assert isinstance(run, rs.Run) and run.path == Path("runs/first")
    assert (folder / "runs" / "first" / "manifest.json").exists()
    # The snippet trains the default (recommended) recipe, then the fast one, and saves the latter.
    assert run.config == rs.TrainConfig.preset("fast") != rs.TrainConfig()
    metrics = snippet_run["metrics"]
    assert {"precision", "roc_auc", "ranking"} <= set(metrics)
    assert set(metrics["ranking"]["baselines"]) == {"most_popular", "item_knn", "ease", "ials"}

    top = run.recommend(snippet_run["user_id"], n=10)
    assert list(top.columns[:3]) == ["rank", "item", "score"] and len(top) == 10
    assert top["score"].is_monotonic_decreasing and top.attrs["known_user"]
    rated = set(run.id_map.items[run.seen_matrix()[run.id_map.user_code(snippet_run["user_id"])].indices])
    assert not rated & set(top["item"])

    new = run.recommend_new(snippet_run["visitors_frame"], n=10)
    assert list(new.columns[:4]) == ["user", "rank", "item", "score"] and set(new["user"]) == {"visitor"}
    assert not set(new["item"]) & set(snippet_run["visitors_frame"]["item"])

    alike = run.similar_items(snippet_run["item_id"], n=10)
    assert list(alike.columns[:2]) == ["item", "similarity"] and snippet_run["item_id"] not in set(
        alike["item"]
    )


@pytest.mark.slow  # the CLI in a subprocess on the saved run
def test_each_method_answers_as_the_command_line_does(snippet_run: dict[str, object]) -> None:
    run, folder = snippet_run["run"], snippet_run["folder"]
    saved = str(folder / "runs" / "first")

    def cli(*args: str) -> object:
        done = subprocess.run(
            [sys.executable, "-m", "recsys_core.cli", *args, "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    assert _untimed(run.evaluate()) == _untimed(cli("evaluate", saved))
    user = str(snippet_run["user_id"])
    expected = pd.DataFrame(cli("recommend", saved, "--user", user, "-n", "10"))
    mine = run.recommend(user, n=10)
    assert mine["item"].tolist() == expected["item"].tolist()
    assert mine["score"].round(10).tolist() == expected["score"].round(10).tolist()
    similar = pd.DataFrame(cli("similar", saved, "--item", str(snippet_run["item_id"]), "-n", "5"))
    assert run.similar_items(snippet_run["item_id"], n=5)["item"].tolist() == similar["item"].tolist()


def test_the_front_door_imports_nothing_heavy() -> None:
    code = (
        "import sys, recsys_core as rs; rs.TrainConfig; rs.load_ratings; "
        "assert 'torch' not in sys.modules, 'torch imported'; print(sorted(rs.__all__))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names = set(eval(done.stdout))  # a printed list of names
    assert {"load_ratings", "Ratings", "TrainConfig", "train", "load_run", "Run", "RecsysError"} <= names
