"""Devices and multi-process training: resolve_device, the --distributed CLI path under torchrun,
and DistributedDataParallel taking the same steps as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from conftest import CliRunner

from recsys_core import training
from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData, write_demo_csv
from recsys_core.errors import RecsysError
from recsys_core.model import NCF
from recsys_core.runs import load_run
from recsys_core.training import (
    init_from_env,
    resolve_device,
    shard_bounds,
    shutdown,
    train_model,
    train_model_ddp,
)

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------
# devices
# ---------------------------------------------------------------------------------------------


def test_auto_picks_cuda_when_torch_sees_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(RecsysError, match=r"no CUDA device.*device=auto or device=cpu"):
        resolve_device("cuda")
    with pytest.raises(RecsysError, match="Unknown device 'tpu'"):
        resolve_device("tpu")


def test_cli_device_cuda_without_a_gpu_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: CliRunner
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = write_demo_csv(tmp_path / "r.csv", n_users=50, n_items=20, n_ratings=400)
    code, out, err = run_cli("train", str(data), "--out", str(tmp_path / "run"), "--device", "cuda")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and "no CUDA device" in err
    assert "loaded" not in out  # refused before reading the ratings
    assert not (tmp_path / "run").exists()


def test_distributed_without_torchrun_is_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: CliRunner
) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    data = write_demo_csv(tmp_path / "r.csv", n_users=50, n_items=20, n_ratings=400)
    code, _, err = run_cli(
        "train", str(data), "--out", str(tmp_path / "run"), "--device", "cpu", "--distributed"
    )
    assert code == 2
    assert err.count("\n") == 1 and "torchrun --nproc_per_node=N" in err and "RANK" in err
    with pytest.raises(RecsysError, match="process group"):
        data = TrainingData.from_ratings([0], [0], [5.0], [], [], [])
        train_model_ddp(NCF(3, 3, 4, seed=0), data, TrainConfig.preset("notebook"))


# ---------------------------------------------------------------------------------------------
# sharding
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("world", [1, 2, 3, 8])
@pytest.mark.parametrize("nb", [1, 2, 7, 64, 1000, 1023])
def test_shards_split_each_batch_into_disjoint_even_slices(world: int, nb: int) -> None:
    lo = 5 * 1024
    slices = [shard_bounds(lo, nb, rank, world) for rank in range(world)]
    if nb < world:
        # Too few samples for everyone: every rank takes the whole batch (no empty gradients).
        assert slices == [(lo, lo + nb, True)] * world
        return
    assert all(not whole for _, _, whole in slices)
    covered = np.concatenate([np.arange(start, stop) for start, stop, _ in slices])
    assert np.array_equal(covered, np.arange(lo, lo + nb))  # each sample once, in order
    sizes = [stop - start for start, stop, _ in slices]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


# ---------------------------------------------------------------------------------------------
# DDP = one process, step for step (two spawned CPU processes, gloo)
# ---------------------------------------------------------------------------------------------


#: More rows than a batch touches, so lazy (sparse) and dense Adam really differ.
N_USERS, N_ITEMS = 500, 300
DDP_CONFIG = {"embedding_dim": 8, "batch_size": 256, "epochs": 3, "learning_rate": 1e-2, "device": "cpu"}
#: 3000 samples in batches of 256 end with a batch of 184; 2817 end with a batch of one sample,
#: fewer than the two ranks, which both take it whole.
ROWS, SHORT_ROWS = 3000, 2817


def small_data(rows: int = ROWS, seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)
    users, items = rng.integers(0, N_USERS, ROWS)[:rows], rng.integers(0, N_ITEMS, ROWS)[:rows]
    # A learnable signal: the rating follows the parity of user + item.
    ratings = np.where((users + items) % 2 == 0, 5.0, 2.0)
    val_users, val_items = rng.integers(0, N_USERS, 200), rng.integers(0, N_ITEMS, 200)
    val_ratings = np.where((val_users + val_items) % 2 == 0, 5.0, 2.0)
    return TrainingData.from_ratings(users, items, ratings, val_users, val_items, val_ratings, 1.0, 5.0)


def new_model() -> NCF:
    return NCF(N_USERS, N_ITEMS, 8, seed=1)


def params(model: NCF) -> list[torch.Tensor]:
    """Parameters and buffers (the hybrid rating head), in state-dict order."""
    return [p.detach().clone() for p in model.state_dict().values()]


#: name -> (gradients, training rows, config overrides) of the runs the two processes make.
DDP_RUNS = {
    "sparse": ("sparse", ROWS, {}),
    "dense": ("dense", SHORT_ROWS, {}),
    "hybrid": ("auto", ROWS, {"objective": "hybrid", "negatives": 2}),
}


def _ddp_worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1",
    )  # fmt: skip
    torch.set_num_threads(1)
    context = init_from_env("cpu")
    try:
        results = {}
        for name, (gradients, rows, overrides) in DDP_RUNS.items():
            config = TrainConfig.preset("notebook", **DDP_CONFIG, **overrides)
            result = train_model_ddp(new_model(), small_data(rows), config, gradients=gradients)
            assert not any(e.sparse for e in (result.model.user_embedding, result.model.item_embedding))
            results[name] = {
                "params": params(result.model),
                "train_loss": [r.train_loss for r in result.history],
                "val_loss": [r.val_loss for r in result.history],
                "best_epoch": result.best_epoch,
            }
        torch.save(results, Path(out_dir) / f"rank{context.rank}.pt")
    finally:
        shutdown()


def dense_adam_reference(data: TrainingData, config: TrainConfig) -> tuple[NCF, list[float]]:
    """Autograd + torch.optim.Adam over train_model's epochs and batches (the same seeded order)."""
    model = new_model()
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    rng = np.random.default_rng(config.seed)
    losses = []
    for _ in range(config.epochs):
        samples = training.epoch_samples(data, config, rng)
        u, i, t = (torch.as_tensor(a) for a in (samples.users, samples.items, samples.targets))
        batch_losses = []
        for lo in range(0, len(u), config.batch_size):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(u[lo : lo + config.batch_size], i[lo : lo + config.batch_size]),
                t[lo : lo + config.batch_size],
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            batch_losses.append(float(loss.detach()))
        losses.append(sum(batch_losses) / len(batch_losses))
    return model, losses


@pytest.mark.slow  # over ~5 s: two spawned DDP processes (gloo), three trainings each
def test_two_ddp_processes_take_the_single_process_steps(tmp_path: Path, free_port: int) -> None:
    mp.start_processes(_ddp_worker, args=(free_port, str(tmp_path)), nprocs=2, start_method="spawn")
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    config = TrainConfig.preset("notebook", **DDP_CONFIG)
    for mode in DDP_RUNS:
        # Both processes end with the same model and the same history.
        for a, b in zip(rank0[mode]["params"], rank1[mode]["params"], strict=True):
            assert torch.equal(a, b)
        assert rank0[mode]["val_loss"] == rank1[mode]["val_loss"]

    # Sparse gradients + LazyAdam = the single-process trainer (numba kernel) on the same batches,
    # up to the order in which the two processes' gradients are summed.
    single = train_model(new_model(), small_data(), config)
    start = params(new_model())
    for ours, theirs, init in zip(rank0["sparse"]["params"], params(single.model), start, strict=True):
        assert float((theirs - init).abs().max()) > 0.05  # training really moved them
        assert float((ours - theirs).abs().max()) < 1e-5
    assert rank0["sparse"]["train_loss"] == pytest.approx([r.train_loss for r in single.history], rel=1e-4)
    assert rank0["sparse"]["best_epoch"] == single.best_epoch

    # The hybrid objective: the same sampled negatives, and the same rating head fitted after
    # every epoch (a buffer: not broadcast, fitted by each process).
    hybrid = train_model(
        new_model(), small_data(), TrainConfig.preset("notebook", **DDP_CONFIG, **DDP_RUNS["hybrid"][2])
    )
    assert hybrid.model.has_rating_head and float(hybrid.model.rating_scale[0]) != 0.0
    for ours, theirs in zip(rank0["hybrid"]["params"], params(hybrid.model), strict=True):
        assert float((ours - theirs).abs().max()) < 1e-4
    assert rank0["hybrid"]["val_loss"] == pytest.approx([r.val_loss for r in hybrid.history], rel=1e-4)

    # Dense gradients + Adam = autograd and torch.optim.Adam on the whole batches, including a
    # last batch of one sample that both ranks take whole.
    reference, losses = dense_adam_reference(small_data(SHORT_ROWS), config)
    for ours, theirs in zip(rank0["dense"]["params"], params(reference), strict=True):
        assert float((ours - theirs).abs().max()) < 1e-5
    assert rank0["dense"]["train_loss"] == pytest.approx(losses, rel=1e-5)


# ---------------------------------------------------------------------------------------------
# The softmax objective (the recommended recipe): two processes = one, full and sampled catalogue
# ---------------------------------------------------------------------------------------------


#: 481 trained customers in batches of 32 end with a batch of one, which leaves one rank empty.
SOFTMAX_USERS, SOFTMAX_ACTIVE, SOFTMAX_ITEMS = 500, 481, 300
SOFTMAX_CONFIG = {"embedding_dim": 8, "batch_size": 32, "epochs": 20, "device": "cpu", "neighbours": 0}
#: name -> (FULL_SOFTMAX_MAX_ITEMS, SAMPLED_ITEMS): the whole catalogue, or 64 drawn products a step.
SOFTMAX_RUNS = {"full": (50_000, 0), "sampled": (10, 64)}


def softmax_data() -> TrainingData:
    rng = np.random.default_rng(5)
    # Every one of the first SOFTMAX_ACTIVE customers rates something; the last rows never train.
    users = np.concatenate([np.arange(SOFTMAX_ACTIVE), rng.integers(0, SOFTMAX_ACTIVE, 4000)])
    # Customers prefer products near their own number: something for NDCG@10 to find.
    items = (users * SOFTMAX_ITEMS // SOFTMAX_ACTIVE + rng.integers(-15, 15, len(users))) % SOFTMAX_ITEMS
    ratings = rng.integers(1, 6, len(users)).astype(float)
    val_users = rng.integers(0, SOFTMAX_ACTIVE, 400)
    val_items = (val_users * SOFTMAX_ITEMS // SOFTMAX_ACTIVE + rng.integers(-15, 15, 400)) % SOFTMAX_ITEMS
    return TrainingData.from_ratings(users, items, ratings, val_users, val_items, np.full(400, 4.0), 1.0, 5.0)


def softmax_run(run: str, train) -> dict:
    """Train the ``run`` case of SOFTMAX_RUNS with ``train``; parameters, history, best epoch."""
    from recsys_core.training import _softmax

    _softmax.FULL_SOFTMAX_MAX_ITEMS, sampled = SOFTMAX_RUNS[run]
    _softmax.SAMPLED_ITEMS = sampled or _softmax.SAMPLED_ITEMS
    config = TrainConfig.preset("recommended", **SOFTMAX_CONFIG)
    result = train(NCF(SOFTMAX_USERS, SOFTMAX_ITEMS, 8, seed=2), softmax_data(), config)
    return {
        "params": {name: t.detach().clone() for name, t in result.model.state_dict().items()},
        "train_loss": [r.train_loss for r in result.history],
        "val_loss": [r.val_loss for r in result.history],
        "best_epoch": result.best_epoch,
    }


def _softmax_worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1",
    )  # fmt: skip
    context = init_from_env("cpu")
    try:
        results = {run: softmax_run(run, train_model_ddp) for run in SOFTMAX_RUNS}
        torch.save(results, Path(out_dir) / f"softmax{context.rank}.pt")
    finally:
        shutdown()


@pytest.mark.slow  # over ~5 s: two spawned processes (gloo), two softmax trainings each
def test_two_processes_train_the_softmax_as_one(
    tmp_path: Path, free_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys_core.training import _softmax

    # softmax_run sets the catalogue constants; restore them for the tests that follow.
    for name in ("FULL_SOFTMAX_MAX_ITEMS", "SAMPLED_ITEMS"):
        monkeypatch.setattr(_softmax, name, getattr(_softmax, name))
    mp.start_processes(_softmax_worker, args=(free_port, str(tmp_path)), nprocs=2, start_method="spawn")
    rank0, rank1 = (torch.load(tmp_path / f"softmax{r}.pt") for r in (0, 1))
    start = NCF(SOFTMAX_USERS, SOFTMAX_ITEMS, 8, seed=2).state_dict()
    for run in SOFTMAX_RUNS:
        ours, other = rank0[run]["params"], rank1[run]["params"]
        # Both processes hold the same model and took the same decisions.
        assert ours.keys() == other.keys() and all(torch.equal(ours[k], other[k]) for k in ours)
        assert rank0[run]["val_loss"] == rank1[run]["val_loss"]
        # One process on the same global batches (and, sampled, the same drawn products): the same
        # numbers up to the order in which the two halves of each gradient are summed.
        single = softmax_run(run, training.train_softmax)
        theirs = single["params"]
        assert ours.keys() == theirs.keys()
        for name in ("user_embedding.weight", "item_embedding.weight"):
            assert float((theirs[name] - start[name]).abs().max()) > 0.05  # training moved them
        for name in ours:
            # Up to the order of the sums: 20 epochs at the default step (3e-2) leave at most a
            # few 1e-6 between the two (1e-6 at the old 1e-2).
            assert torch.allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-5), name
        assert rank0[run]["train_loss"] == pytest.approx(single["train_loss"], rel=1e-5)
        assert rank0[run]["val_loss"] == pytest.approx(single["val_loss"], abs=1e-6)
        assert rank0[run]["best_epoch"] == single["best_epoch"]


# ---------------------------------------------------------------------------------------------
# torchrun + the CLI, end to end
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow  # over ~5 s: torchrun starts two CLI processes, plus a single-process run
def test_torchrun_two_processes_match_single_process_auc(
    tmp_path: Path, free_port: int, run_cli: CliRunner
) -> None:
    data = write_demo_csv(tmp_path / "ratings.csv", n_users=800, n_items=250, n_ratings=16_000, seed=3)
    settings = [
        "--preset", "fast", "--dim", "16", "--batch-size", "512", "--epochs", "8", "--lr", "5e-3",
        "--oversample", "", "--objective", "rating", "--split", "leave-last-out", "--device", "cpu",
        "--seed", "7", "--quiet",
    ]  # fmt: skip
    code, _, err = run_cli("train", str(data), "--out", str(tmp_path / "single"), *settings)
    assert code == 0, err

    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={free_port}",
        "-m", "recsys_core.cli", "train", str(data), "--runs-dir", str(runs), *settings, "--distributed",
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    # Only rank 0 reports and writes: one set of epoch lines, one saved run.
    assert out.count("epoch   1 ") == 1 and out.count("saved the run") == 1
    assert "distributed: 2 processes (gloo)" in out
    assert "stages: load" in out
    saved = [p for p in runs.iterdir() if p.is_dir()]
    assert len(saved) == 1

    single, ddp = load_run(tmp_path / "single"), load_run(saved[0])
    assert ddp.summary.train == single.summary.train
    assert set(ddp.summary.stage_seconds) == {"load", "split", "rebalance", "train", "evaluate"}
    aucs = single.metrics["roc_auc"], ddp.metrics["roc_auc"]
    # Both learned (well above chance and above their first epoch), and they agree.
    assert min(aucs) > 0.6
    assert ddp.history[-1]["val_auc"] > ddp.history[0]["val_auc"] + 0.05
    assert abs(aucs[0] - aucs[1]) < 0.01, aucs
    assert json.loads((saved[0] / "config.json").read_text())["epochs"] == 8


@pytest.mark.slow  # over ~5 s: torchrun starts two CLI processes, plus a single-process run
def test_torchrun_two_processes_train_the_default_recipe_as_one(
    tmp_path: Path, free_port: int, run_cli: CliRunner
) -> None:
    data = write_demo_csv(tmp_path / "ratings.csv", n_users=800, n_items=250, n_ratings=16_000, seed=3)
    # No preset: the recommended recipe (softmax + blend). Batches of 32: on these 800 customers
    # validation then chooses a blend, so both halves of the recipe are compared.
    settings = ["--device", "cpu", "--quiet", "--batch-size", "32"]
    code, _, err = run_cli("train", str(data), "--out", str(tmp_path / "single"), *settings)
    assert code == 0, err

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={free_port}",
        "-m", "recsys_core.cli", "train", str(data), "--out", str(tmp_path / "ddp"), *settings,
        "--distributed",
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "distributed: 2 processes (gloo)" in proc.stdout and proc.stdout.count("saved the run") == 1

    single, ddp = load_run(tmp_path / "single"), load_run(tmp_path / "ddp")
    assert ddp.config == single.config and ddp.config.objective == "softmax"
    # The same epochs, judged alike, the same one kept (early stopping ended both).
    assert len(single.history) < single.config.epochs and "No better validation NDCG@10" in single.message
    assert ddp.message == single.message and len(ddp.history) == len(single.history)
    assert ddp.summary.best_epoch == single.summary.best_epoch
    val_ndcg = [[1.0 - h["val_loss"] for h in run.history] for run in (single, ddp)]
    assert val_ndcg[1] == pytest.approx(val_ndcg[0], abs=1e-5)
    # The parameters differ only by the order in which each step's two halves are summed, which
    # 14 epochs of Adam amplify to ~1e-5 (entries up to ~1): nudging one process's initial
    # parameters by 1e-7 (relative) moves its result by up to 3e-5.
    for name in ("user_embedding", "item_embedding", "item_bias"):
        ours, theirs = (getattr(run.model, name).weight.detach() for run in (ddp, single))
        assert torch.allclose(ours, theirs, rtol=0.0, atol=1e-4), name
    assert ddp.blend is not None and single.blend is not None and ddp.blend.weight == single.blend.weight
    # Test NDCG@10: a near-tie flipped by those last bits moves one customer's hit, < 1e-3.
    ndcg = [run.metrics["ranking"]["model"]["ndcg_at_k"] for run in (single, ddp)]
    assert ndcg[0] > 1.5 * single.metrics["ranking"]["popularity"]["ndcg_at_k"]  # it learned
    assert ndcg[1] == pytest.approx(ndcg[0], abs=1e-3)
