"""The pipeline in two halves: the prepared run keeps nothing of the ratings frame, so a caller
that lets go of the ratings frees them while the model trains."""

from __future__ import annotations

import gc
import platform
import weakref
from pathlib import Path

import pytest
import torch

from recsys_core.config import TrainConfig
from recsys_core.data import demo_ratings, load_ratings, write_demo_csv
from recsys_core.pipeline import _malloc_trim, prepare_run, release_free_memory, train, train_prepared


@pytest.fixture(scope="module")
def ratings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pipeline") / "shop.csv"
    write_demo_csv(path, n_users=200, n_items=80, n_ratings=3000, seed=4)
    return path


def _recipe() -> TrainConfig:
    # The default recipe (softmax, item-kNN blend), short.
    return TrainConfig(epochs=2, embedding_dim=8, device="cpu")


def test_the_ratings_frame_is_freed_once_the_caller_lets_go(ratings_file: Path) -> None:
    ratings = load_ratings(ratings_file)
    frame = weakref.ref(ratings.frame)
    job = prepare_run(ratings, _recipe())
    del ratings
    gc.collect()
    assert frame() is None  # the prepared run holds no reference to it
    run = train_prepared(job)
    assert run.summary.dataset.name == "shop.csv"
    assert "shop" in run.name
    assert run.blend is not None and run.metrics["ranking"]["k"] == 10
    assert {"split", "rebalance", "train", "blend", "evaluate"} <= set(run.summary.stage_seconds)


def test_the_two_halves_train_the_same_run_as_train(ratings_file: Path) -> None:
    ratings = load_ratings(ratings_file)
    whole = train(ratings, _recipe())
    halves = train_prepared(prepare_run(ratings, _recipe()))
    assert whole.name == halves.name
    assert whole.metrics["ranking"] == halves.metrics["ranking"]
    assert whole.blend.weight == halves.blend.weight


def test_large_tables_get_their_similarity_before_training_with_the_same_result(
    ratings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ratings = load_ratings(ratings_file)
    beside = train(ratings, _recipe())  # small tables: built on the other core while training
    assert "similarity" not in beside.summary.stage_seconds
    monkeypatch.setattr("recsys_core.pipeline.SIMILARITY_FIRST_BYTES", 0)
    first = train(ratings, _recipe())
    assert first.summary.stage_seconds["similarity"] == first.summary.blend.similarity_seconds
    assert list(first.summary.stage_seconds)[:4] == ["split", "rebalance", "similarity", "train"]
    assert (first.blend.similarity != beside.blend.similarity).nnz == 0
    assert first.blend.weight == beside.blend.weight
    assert first.metrics["ranking"] == beside.metrics["ranking"]
    a, b = first.model.state_dict(), beside.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def _resident_bytes() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def test_freed_heap_memory_goes_back_to_the_system() -> None:
    glibc = platform.libc_ver()[0] == "glibc"
    assert (_malloc_trim() is not None) == glibc
    # 300 MB in 2 KB blocks (malloc's heap, not its own mappings), all freed but the last one,
    # which pins the heap's top: free() alone keeps the pages, trimming hands them back.
    blocks = [bytes(2048) for _ in range(150_000)]
    last = blocks[-1]
    del blocks
    held = _resident_bytes()
    release_free_memory()
    if glibc:
        assert held - _resident_bytes() > 100_000_000
    assert len(last) == 2048


def test_the_step_follows_the_catalogue(monkeypatch) -> None:
    """Above the exact softmax's size the recommended recipe trains with the smaller step, and
    the saved recipe says so; below it, the default."""
    from recsys_core import pipeline
    from recsys_core.config import DEFAULT_LEARNING_RATE, SAMPLED_LEARNING_RATE

    ratings = demo_ratings(n_users=200, n_items=60, n_ratings=2_000, seed=4)
    assert prepare_run(ratings).config.learning_rate == DEFAULT_LEARNING_RATE
    monkeypatch.setattr(pipeline, "FULL_SOFTMAX_MAX_ITEMS", 10)
    assert prepare_run(ratings).config.learning_rate == SAMPLED_LEARNING_RATE
    assert prepare_run(ratings, TrainConfig(learning_rate=0.02)).config.learning_rate == 0.02
