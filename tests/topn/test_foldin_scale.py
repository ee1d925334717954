"""Fold-in at scale (issue 23): memory grows with the ratings given, never with visitors x the
largest visitor; batching, padding and streaming do not change an answer; progress is reported."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from model_runs import model_run

from recsys_core.cli import main
from recsys_core.cli._common import ProgressBar
from recsys_core.config import TrainConfig
from recsys_core.data import load_ratings
from recsys_core.model import NCF, Blend
from recsys_core.runs import save_run
from recsys_core.topn import _foldin, _foldin_solve, fold_in, iter_visitor_blocks, recommend_visitors

ROOT = Path(__file__).resolve().parents[2]
N_ITEMS, DIM = 40, 8  # a profile has 9 unknowns: a visitor with 20 ratings is solved "wide"


def toy_run(objective: str = "hybrid", *, blend: bool = False, n_items: int = N_ITEMS, dim: int = DIM):
    """A run of a random model whose profiles differ visibly (weights scaled up from the init)."""
    model = NCF(60, n_items, dim, seed=3)
    with torch.no_grad():
        for table in (model.user_embedding, model.item_embedding, model.user_bias, model.item_bias):
            table.weight.mul_(20)
    if objective == "softmax":
        config = TrainConfig.preset("recommended", embedding_dim=dim)
    else:
        config = TrainConfig.preset("fast", embedding_dim=dim, objective=objective)
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 60, 600), rng.integers(0, n_items, 600)
    run = model_run(
        model, [f"u{k}" for k in range(60)], [f"P{k}" for k in range(n_items)], users, items, config=config
    )
    if blend:
        similarity = sp.random(n_items, n_items, density=0.3, format="csr", dtype=np.float32, random_state=1)
        run.blend = Blend(similarity, 0.7)
    return run


def visitors_frame() -> pd.DataFrame:
    """Visitors of 1, 3 and 20 products, a repeat, and one who rated only unknown products."""
    rng = np.random.default_rng(5)
    rows = []
    for visitor, count in (("a", 1), ("b", 3), ("c", 20), ("d", 1), ("e", 4)):
        for item in rng.choice(N_ITEMS, count, replace=False):
            rows.append((visitor, f"P{item}", float(rng.integers(1, 6))))
    rows += [("e", rows[-1][1], 2.0), ("x", "unknown", 4.0), ("b", "nope", 5.0)]
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


def answers_of(run, frame: pd.DataFrame) -> list[dict]:
    return [answer.to_dict() for answer in recommend_visitors(run, frame, n=6)]


def assert_same_answers(first: list[dict], second: list[dict]) -> None:
    assert [(a["user"], a["fallback"], a["ignored"]) for a in first] == [
        (a["user"], a["fallback"], a["ignored"]) for a in second
    ]
    for a, b in zip(first, second, strict=True):
        assert [r["item"] for r in a["recommendations"]] == [r["item"] for r in b["recommendations"]]
        np.testing.assert_allclose(
            [r["score"] for r in a["recommendations"]], [r["score"] for r in b["recommendations"]], rtol=1e-6
        )
        np.testing.assert_allclose(
            [r["match"] for r in a["recommendations"]], [r["match"] for r in b["recommendations"]], rtol=1e-6
        )
        for x, y in zip(a["recommendations"], b["recommendations"], strict=True):
            # (a repeated product's two entries may tie exactly: which star is shown is not compared)
            for key in ("because", "low_rated"):
                assert [(c["item"], c["kind"]) for c in x[key]] == [(c["item"], c["kind"]) for c in y[key]]
                np.testing.assert_allclose(
                    [c["weight"] for c in x[key]], [c["weight"] for c in y[key]], rtol=1e-6, atol=1e-9
                )


@pytest.mark.parametrize(("objective", "blend"), [("hybrid", False), ("ranking", True), ("softmax", True)])
def test_batches_chunks_and_padding_do_not_change_an_answer(objective, blend, monkeypatch) -> None:
    """One batch padded to the largest visitor (20 ratings: solved in the profile's space) against
    every visitor alone (3 ratings or fewer: in the ratings' space) and blocks of at most three
    visitors or four ratings (the visitor of 20 alone)."""
    run, frame = toy_run(objective, blend=blend), visitors_frame()
    together = fold_in(run, frame)
    expected = answers_of(run, frame)
    assert sum(bool(r["because"]) for a in expected for r in a["recommendations"]) >= 5
    monkeypatch.setattr(_foldin_solve, "BATCH_CELLS", 1)
    monkeypatch.setattr(_foldin, "CHUNK", 3)
    monkeypatch.setattr(_foldin, "CHUNK_CELLS", 4 * (DIM + 1))  # blocks of 3 visitors, or of 4 ratings
    alone = fold_in(run, frame)
    torch.testing.assert_close(alone.theta, together.theta, rtol=1e-9, atol=1e-10)
    for row in range(len(alone.users)):
        torch.testing.assert_close(alone.shares[row], together.shares[row], rtol=1e-8, atol=1e-10)
    assert_same_answers(answers_of(run, frame), expected)


def test_blocks_stream_in_order_with_progress_and_make_recommend_new() -> None:
    run, frame = toy_run(blend=True), visitors_frame()
    reports: list[tuple[str, int, int]] = []
    blocks = list(iter_visitor_blocks(run, frame, 4, progress=lambda *report: reports.append(report)))
    assert [user for block in blocks for user in block.users] == ["a", "b", "c", "d", "e", "x"]
    assert [done for _, done, _ in reports] == [0, 6] and {total for _, _, total in reports} == {6}
    table = run.recommend_new(frame, 4)
    assert list(table.columns) == ["user", "rank", "item", "score", "match", "because", "low_rated"]
    # each list relative to its own best (a personal list's first; the fallback's most popular
    # products are scored for the average customer, not in their order)
    assert (table.groupby("user")["match"].max() == 1.0).all()
    assert (table[table["user"] != "x"].groupby("user")["match"].first() == 1.0).all()
    assert table.groupby("user", sort=False).size().to_dict() == dict.fromkeys("abcdex", 4)
    assert table.attrs["fallback"] == ["x"] and table.attrs["ignored"]["b"] == 1
    whole = [answer.to_dict() for answer in recommend_visitors(run, frame, 4)]
    assert [answer.to_dict() for block in blocks for answer in block.answers()] == whole


def test_blocks_hold_fewer_visitors_when_they_rated_many_products(monkeypatch) -> None:
    run, frame = toy_run(), visitors_frame()  # known ratings per visitor: 1, 3, 20, 1, 5, 0
    monkeypatch.setattr(_foldin, "CHUNK", 3)
    monkeypatch.setattr(_foldin, "CHUNK_CELLS", 4 * (DIM + 1))  # 4 ratings' shares a block
    blocks = list(iter_visitor_blocks(run, frame, 2))
    assert [block.users for block in blocks] == [["a", "b"], ["c"], ["d"], ["e"], ["x"]]


def test_cli_streams_the_json_print_json_would_write(tmp_path: Path, monkeypatch) -> None:
    reports: list[tuple[str, int, int]] = []
    monkeypatch.setattr(ProgressBar, "update", lambda self, *report: reports.append(report))
    run, frame = toy_run(blend=True), visitors_frame()
    folder = save_run(run, tmp_path / "run")
    path = tmp_path / "visitors.csv"
    frame.rename(columns={"user": "UserID", "item": "ProductID", "rating": "Rating"}).to_csv(
        path, index=False
    )
    out = io.StringIO()
    assert main(["recommend", str(folder), "--new-users", str(path), "-n", "3", "--json"], out=out) == 0
    loaded = load_ratings(path, visitors=True).frame  # the file's repeat: its last rating kept
    expected = [answer.to_dict() for answer in recommend_visitors(run, loaded, n=3)]
    assert out.getvalue() == json.dumps(expected, indent=2) + "\n"
    assert reports == [("Folding in visitors", 0, 6), ("Folding in visitors", 6, 6)]  # the bar's reports
    text = io.StringIO()
    assert main(["recommend", str(folder), "--new-users", str(path), "-n", "3"], out=text) == 0
    lines = text.getvalue().splitlines()
    assert sum(line.startswith("customer ") for line in lines) == 6 and "because" in text.getvalue()


def test_one_five_star_visitor_gets_a_list(tmp_path: Path) -> None:
    """Issue 23, item 9: one 5-star rating is the most common visitor file, not an error."""
    folder = save_run(toy_run(), tmp_path / "run")
    path = tmp_path / "me.csv"
    path.write_text("UserID,ProductID,Rating\nme,P3,5\n")
    out = io.StringIO()
    assert main(["recommend", str(folder), "--new-users", str(path), "-n", "3", "--json"], out=out) == 0
    (answer,) = json.loads(out.getvalue())
    assert answer["user"] == "me" and not answer["fallback"] and len(answer["recommendations"]) == 3
    assert "P3" not in {rec["item"] for rec in answer["recommendations"]}


BOMB_SCRIPT = """
import resource, sys
import numpy as np, pandas as pd
sys.path[:0] = ["tests", "tests/fixtures"]
from make_corpus import BOMB_PRODUCTS, visitors_padding_bomb
from test_foldin_scale import toy_run
from recsys_core.data import load_ratings
from recsys_core.topn import iter_visitor_blocks
from pathlib import Path
run = toy_run(n_items=BOMB_PRODUCTS, dim=16)
frame = load_ratings(visitors_padding_bomb(Path(sys.argv[1])), visitors=True).frame
# 30,000 one-rating visitors and the one who rated everything, then 64 more who rated everything.
everything = [f"P{k}" for k in range(BOMB_PRODUCTS)]
more = pd.DataFrame({"user": np.repeat([f"all{k}" for k in range(64)], BOMB_PRODUCTS),
                     "item": everything * 64, "rating": 4.0})
frame = pd.concat([frame.iloc[:30_000], frame[frame["user"] == "all"], more])
list(iter_visitor_blocks(run, frame.iloc[:100], 10))  # the prior and the imports, outside the count
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
visitors = sum(len(block.users) for block in iter_visitor_blocks(run, frame, 10))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("visitors", visitors, "peak_mb", (after - before) / 1024)
"""


@pytest.mark.slow  # ~30,000 visitors in a fresh Python (padding them asked for 2.4 GB, the 64 for 8 GB)
def test_padding_bomb_stays_small(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'tests' / 'topn'}", "PATH": ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    visitors, peak = proc.stdout.split("visitors")[1].split("peak_mb")
    assert int(visitors) == 30_000 + 1 + 64
    assert float(peak) <= 400, proc.stdout
