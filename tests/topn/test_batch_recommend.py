"""Everyone's top-N: exact against a brute-force sort (ties included), resumable after a kill,
the same under torchrun with two ranks, and clear errors for bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from conftest import CliRunner
from model_runs import model_run

from recsys_core.model import NCF
from recsys_core.runs import Run, save_run
from recsys_core.topn import BlockedTopN, recommend_all_to_parquet, staging_folder
from recsys_core.topn import _everyone as batch_recommend

ROOT = Path(__file__).resolve().parents[2]


def make_run(
    n_users: int = 40, n_items: int = 61, dim: int = 4, *, dyadic: bool = True, seed: int = 0
) -> Run:
    """A run whose user 0 rated everything, users 1-2 all but 2 products, the rest a few.

    ``dyadic`` weights are multiples of 1/8 in [-1/2, 1/2]: every logit is exact in float32 (any
    summation order gives the same number), so many products tie exactly.
    """
    rng = np.random.default_rng(seed)
    model = NCF(n_users, n_items, embedding_dim=dim, seed=seed)
    if dyadic:
        with torch.no_grad():
            for param in model.parameters():
                param.copy_(torch.from_numpy(rng.integers(-4, 5, param.shape) / 8.0))
    seen_u, seen_i = [], []
    for u in range(n_users):
        if u == 0:
            picked = np.arange(n_items)
        elif u in (1, 2):
            picked = np.delete(np.arange(n_items), rng.choice(n_items, 2, replace=False))
        else:
            picked = rng.choice(n_items, rng.integers(0, 8), replace=False)
        seen_u += [u] * len(picked)
        seen_i += picked.tolist()
    seen_u, seen_i = np.array(seen_u, dtype=np.int64), np.array(seen_i, dtype=np.int64)
    users = [f"U{i:04d}" for i in range(n_users)]
    items = [f"B{i:05d}" for i in range(n_items)]
    return model_run(model, users, items, seen_u, seen_i, name="batch")


def brute_force(run: Run, n: int, exclude: bool = True) -> list[list[int]]:
    """Every user's top-n codes by a full numpy sort: higher logit first, then lower code."""
    m = run.model
    logits = (
        m.user_embedding.weight.detach().double().numpy()
        @ m.item_embedding.weight.detach().double().numpy().T
        + m.user_bias.weight.detach().double().numpy()
        + m.item_bias.weight.detach().double().numpy().T
    ).astype(np.float32)  # exact for dyadic weights; rounds as the float32 product would
    seen = run.seen_matrix() if exclude else sp.csr_matrix(logits.shape, dtype=bool)
    answer = []
    for u in range(run.n_users):
        candidates = np.setdiff1d(np.arange(run.n_items), seen[u].indices)
        order = np.lexsort((candidates, -logits[u, candidates]))
        answer.append(candidates[order][:n].tolist())
    return answer


def as_lists(items: np.ndarray) -> list[list[int]]:
    return [[int(i) for i in row if i >= 0] for row in items]


@pytest.mark.parametrize("group", [2, 4, 64])
@pytest.mark.parametrize("n", [1, 3, 7])
@pytest.mark.parametrize("dyadic", [True, False])
def test_blocks_equal_brute_force(group: int, n: int, dyadic: bool) -> None:
    run = make_run(dyadic=dyadic, seed=n)
    expected = brute_force(run, n)
    # 7 rows per block and worker: several blocks, the last one short; 61 products: a short last group
    workers = 2 if group == 4 else 1
    cells = 7 * workers * run.n_items
    scorer = BlockedTopN(run.model, run.seen_matrix(), n, max_cells=cells, group=group, workers=workers)
    items, logits = scorer.top(0, run.n_users)
    assert as_lists(items) == expected
    assert as_lists(items)[0] == [] and len(as_lists(items)[1]) == min(n, 2)
    assert all(np.all(np.diff(row[row > -np.inf]) <= 0) for row in logits)  # best first
    if dyadic and n > 1:  # the ties are real: some lists hold equal logits
        assert any(len(set(row[row > -np.inf])) < (row > -np.inf).sum() for row in logits)


def test_parquet_equals_brute_force_and_single_user_lists(tmp_path: Path) -> None:
    run = make_run(n_users=30, n_items=400, dim=4, dyadic=False, seed=1)
    out = tmp_path / "top.parquet"
    result = recommend_all_to_parquet(run, out, 3, block_users=7)
    table = pd.read_parquet(out)
    assert list(table.columns) == ["user", "rank", "item", "score"]
    assert result.rows == len(table) and result.users == 30 and result.parts_computed == 5
    codes = [[] for _ in range(run.n_users)]
    for row in table.itertuples(index=False):
        codes[run.id_map.user_code(row.user)].append(int(run.id_map.items.get_loc(row.item)))
    assert codes == brute_force(run, 3)
    assert table.groupby("user")["rank"].apply(list).map(lambda r: r == list(range(1, len(r) + 1))).all()
    assert not staging_folder(out).exists()  # cleaned up after the final rename
    everything = recommend_all_to_parquet(run, out, 3, exclude_seen=False, block_users=64, overwrite=True)
    assert everything.rows == 3 * run.n_users


def test_a_killed_job_resumes_and_recomputes_only_the_missing_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(n_users=23, n_items=50, seed=2)
    reference = tmp_path / "reference.parquet"
    recommend_all_to_parquet(run, reference, 4, block_users=5)

    out = tmp_path / "top.parquet"

    def killed(done: int, total: int) -> None:
        if done >= 15:  # parts 0 and 1 are written, part 2 is scored but not saved
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        recommend_all_to_parquet(run, out, 4, block_users=5, progress=killed)
    assert not out.exists()
    staging = staging_folder(out)
    assert sorted(p.name for p in staging.glob("part-*.json")) == ["part-000000.json", "part-000001.json"]

    scored: list[tuple[int, int]] = []
    original = BlockedTopN.top

    def spy(self: BlockedTopN, start: int, stop: int, on_rows=None):
        scored.append((start, stop))
        return original(self, start, stop, on_rows)

    monkeypatch.setattr(BlockedTopN, "top", spy)
    result = recommend_all_to_parquet(run, out, 4, block_users=5)
    assert (result.parts_reused, result.parts_computed) == (2, 3)
    assert scored == [(10, 15), (15, 20), (20, 23)]
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(reference))


def test_a_damaged_part_or_another_job_is_recomputed(tmp_path: Path) -> None:
    run = make_run(n_users=12, n_items=30, seed=3)
    out = tmp_path / "top.parquet"

    def stop_after_two(done: int, total: int) -> None:
        if done >= 12:  # parts 0 and 1 written
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        recommend_all_to_parquet(run, out, 2, block_users=4, progress=stop_after_two)
    part = staging_folder(out) / "part-000000.parquet"
    part.write_bytes(part.read_bytes()[:-3] + b"xyz")  # same size, wrong checksum
    result = recommend_all_to_parquet(run, out, 2, block_users=4)
    assert (result.parts_reused, result.parts_computed) == (1, 2)
    with pytest.raises(RuntimeError):
        recommend_all_to_parquet(run, out, 2, block_users=4, progress=stop_after_two, overwrite=True)
    other = recommend_all_to_parquet(
        run, out, 3, block_users=4, overwrite=True
    )  # n changed: nothing is reused
    assert (other.parts_reused, other.parts_computed) == (0, 3)


def test_recommend_all_generator_serves_the_same_lists(tmp_path: Path) -> None:
    from recsys_core.topn import recommend_all

    run = make_run(n_users=25, n_items=40, dyadic=True, seed=4)
    frames = pd.concat(list(recommend_all(run, n=5, chunk_size=6)), ignore_index=True)
    recommend_all_to_parquet(run, tmp_path / "t.parquet", 5, block_users=10)
    table = pd.read_parquet(tmp_path / "t.parquet")
    assert frames[["user", "rank", "item"]].astype(str).equals(table[["user", "rank", "item"]].astype(str))
    np.testing.assert_array_equal(frames["score"].to_numpy(np.float32), table["score"].to_numpy())


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    return save_run(make_run(n_users=60, n_items=80, dyadic=False, seed=5), tmp_path / "run")


def test_cli_writes_everyone(saved_run: Path, tmp_path: Path, run_cli: CliRunner) -> None:
    out = tmp_path / "all.parquet"
    code, stdout, err = run_cli(
        "recommend", str(saved_run), "--all-users", "--out", str(out), "-n", "4", "--block-users", "16"
    )
    assert code == 0, err
    assert "for 60 users" in stdout and "users/s" in stdout
    table = pd.read_parquet(out)
    assert table.groupby("user").size().max() == 4
    code, _, err = run_cli(
        "recommend", str(saved_run), "--all-users", "--out", str(out), "--include-seen", "--overwrite"
    )
    assert code == 0, err
    assert len(pd.read_parquet(out)) == 60 * 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["recommend", "{tmp}/no-such-run", "--all-users", "--out", "{tmp}/o.parquet"], "no-such-run"),
        (["recommend", "{run}", "--all-users", "--out", "{tmp}/missing/o.parquet"], "does not exist"),
        (["recommend", "{run}", "--all-users", "--out", "{tmp}"], "is a folder"),
        (["recommend", "{run}", "--all-users", "--out", "{tmp}/o.parquet", "-n", "0"], "from 1 to"),
        (["recommend", "{run}", "--all-users"], "--out"),
        (["recommend", "{run}", "--all-users", "--user", "U0001", "--out", "{tmp}/o.parquet"], "not both"),
        (["recommend", "{run}"], "--all-users"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    saved_run: Path, tmp_path: Path, run_cli: CliRunner, argv: list[str], message: str
) -> None:
    args = [a.format(tmp=tmp_path, run=saved_run) for a in argv]
    code, _, err = run_cli(*args)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(
    ("folder", "message"),
    [("{tmp}/not-a-folder", "is a file, not a folder"), ("/proc", "Cannot write beside the output")],
)
def test_cli_unwritable_output_folder(
    saved_run: Path, tmp_path: Path, run_cli: CliRunner, folder: str, message: str
) -> None:
    # Neither can be written into, not even by root (CI runs as root).
    (tmp_path / "not-a-folder").write_text("x")
    out = Path(folder.format(tmp=tmp_path)) / "o.parquet"
    code, _, err = run_cli("recommend", str(saved_run), "--all-users", "--out", str(out))
    assert code == 2 and message in err, err
    assert err.count("\n") == 1


@pytest.mark.slow  # torchrun starts two CLI processes
def test_torchrun_two_ranks_equal_one_process(
    saved_run: Path, tmp_path: Path, free_port: int, run_cli: CliRunner
) -> None:
    settings = ["--all-users", "-n", "5", "--block-users", "7", "--device", "cpu", "--quiet"]
    single = tmp_path / "single.parquet"
    code, _, err = run_cli("recommend", str(saved_run), "--out", str(single), *settings)
    assert code == 0, err
    sharded = tmp_path / "sharded.parquet"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={free_port}",
        "-m", "recsys_core.cli", "recommend", str(saved_run), "--out", str(sharded), *settings,
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("wrote ") == 1 and "on 2 ranks" in proc.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(sharded), pd.read_parquet(single))
    assert batch_recommend.staging_folder(sharded).exists() is False
