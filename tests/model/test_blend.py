"""The item-kNN blend of a run: exact at β = 0, β from validation, brute-force top-k, saved runs,
everyone's lists and fold-in explanations that still add up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from run_files_kit import make_run, npy_bytes, replace_member, resign

import recsys_core as rs
from recsys_core.baselines import item_similarity
from recsys_core.config import TrainConfig
from recsys_core.data import demo_ratings
from recsys_core.errors import RecsysError
from recsys_core.metrics import ranking_metrics
from recsys_core.model import BLEND_GRID, MAX_BLEND_WEIGHT, Blend, Blended
from recsys_core.runs import load_run, save_run
from recsys_core.topn import (
    BlockedTopN,
    ScoreBuffer,
    build_seen_matrix,
    fold_in,
    profile_logits,
    recommend,
    recommend_all_to_parquet,
    recommend_visitors,
    top_unseen,
    visitor_history,
)
from recsys_core.training import choose_weight, fit_blend

SIZE = {"n_users": 400, "n_items": 150, "n_ratings": 6_000, "seed": 3}


@pytest.fixture(scope="module")
def blended():
    """A ``recommended`` run (softmax + item-kNN), short, with a β forced above 0 if needed."""
    config = TrainConfig.preset("recommended", embedding_dim=16, epochs=6, neighbours=30)
    run = rs.train(demo_ratings(**SIZE), config)
    assert run.summary.blend is not None
    if run.blend is None:  # β = 0 won on this tiny set: test the machinery with a β anyway
        train = build_seen_matrix(*run.training_pairs(), run.n_users, run.n_items)
        run.blend = Blend(item_similarity(train, 30, 20.0), 3.0)
    return run


def brute_force_top(run, users, excluded, k, history=None):
    """float64 numpy: model logits + β · H @ S, excluded -> -inf, stable sort (ties: lower code)."""
    with torch.no_grad():
        logits = run.model.score_all_items(torch.as_tensor(users)).double().numpy()
    history = excluded if history is None else history
    s = run.blend.similarity.toarray().astype(np.float64)
    logits = logits + run.blend.weight * (history[users].toarray().astype(np.float64) @ s)
    logits[excluded[users].toarray()] = -np.inf
    order = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(logits, order, 1)


def test_blend_with_zero_weight_is_the_model_exactly(blended) -> None:
    run = blended
    users = np.arange(run.n_users)
    seen = run.seen_matrix()
    plain = top_unseen(run.model, users, seen, 10)
    zero = top_unseen(run.model, users, seen, 10, Blend(run.blend.similarity, 0.0))
    np.testing.assert_array_equal(plain[0], zero[0])
    np.testing.assert_array_equal(plain[1], zero[1])


def test_blended_top_k_equals_brute_force(blended) -> None:
    run = blended
    users = np.arange(run.n_users)
    items, logits = top_unseen(run.model, users, run.seen_matrix(), 10, run.blend)
    expected, values = brute_force_top(run, users, run.seen_matrix(), 10)
    np.testing.assert_allclose(logits, values, rtol=1e-5, atol=1e-5)
    assert (items == expected).mean() > 0.999  # float32 vs float64 may swap a near-tie
    top = recommend(run, run.id_map.users[5], n=5).table
    sigmoid = 1.0 / (1.0 + np.exp(-values[5, :5]))
    np.testing.assert_allclose(top["score"].to_numpy(), sigmoid, rtol=1e-5)


def test_blocks_scored_into_one_reused_buffer_give_the_same_lists(blended) -> None:
    """Evaluation scores block after block into one buffer: same lists and logits as fresh blocks,
    stale contents never leak into a smaller block."""
    run = blended
    seen = run.seen_matrix()
    buffer = ScoreBuffer()
    storage = None
    for lo, hi in ((0, 150), (150, 230), (230, 400)):  # shrinks, then grows past the first block
        users = np.arange(lo, hi)
        reused = top_unseen(run.model, users, seen, 10, run.blend, buffer)
        fresh = top_unseen(run.model, users, seen, 10, run.blend)
        np.testing.assert_array_equal(reused[0], fresh[0])
        np.testing.assert_array_equal(reused[1], fresh[1])
        block = buffer.take(hi - lo, run.n_items, run.model.device)
        if hi - lo <= 150:
            assert storage is None or block.data_ptr() == storage  # the first block's memory again
        storage = storage or block.data_ptr()


def test_the_large_catalogue_kernel_adds_the_same_bits(blended, monkeypatch) -> None:
    """Above KERNEL_MIN_ITEMS products the kNN term is added by a numba pass: the very logits of
    scipy's product path, including rows with no history and a history with repeated entries."""
    from recsys_core.model import _blend

    run = blended
    seen = run.seen_matrix()
    history = sp.vstack([seen[:40], sp.csr_matrix((1, run.n_items), dtype=bool), seen[40:80]]).tocsr()
    logits = torch.randn(history.shape[0], run.n_items, generator=torch.Generator().manual_seed(0))
    by_scipy, by_kernel = logits.clone(), logits.clone()
    run.blend.add_to(by_scipy, history)
    monkeypatch.setattr(_blend, "KERNEL_MIN_ITEMS", 0)
    run.blend.add_to(by_kernel, history)
    assert torch.equal(by_scipy, by_kernel)
    assert not torch.equal(by_kernel, logits)
    assert torch.equal(by_kernel[40], logits[40])  # no history, nothing added
    # A non-canonical history row, one product stored twice: it counts twice in both paths.
    doubled = sp.csr_matrix((np.ones(2, bool), np.array([3, 3]), np.array([0, 2])), shape=(1, run.n_items))
    twice = [logits[:1].clone() for _ in range(2)]
    monkeypatch.setattr(_blend, "KERNEL_MIN_ITEMS", 10**9)
    run.blend.add_to(twice[0], doubled)
    monkeypatch.setattr(_blend, "KERNEL_MIN_ITEMS", 0)
    run.blend.add_to(twice[1], doubled)
    assert torch.equal(twice[0], twice[1])


def test_small_catalogues_add_the_term_from_the_dense_similarity_the_same_bits(blended, monkeypatch) -> None:
    """Up to DENSE_MAX_ITEMS products H @ S is a sparse-by-dense product: the bits of scipy's
    sparse product, with an empty history row and a product stored twice in a row."""
    from recsys_core.model import _blend, dense_similarity, knn_scores

    run = blended
    seen = run.seen_matrix()
    doubled = sp.csr_matrix((np.ones(2, bool), np.array([3, 3]), np.array([0, 2])), shape=(1, run.n_items))
    empty = sp.csr_matrix((1, run.n_items), dtype=bool)
    history = sp.vstack([seen[:40], empty, doubled, seen[40:80]]).tocsr()
    similarity = run.blend.similarity
    by_dense = knn_scores(history, similarity, dense_similarity(similarity))
    assert by_dense.dtype == np.float32 and by_dense.shape == (82, run.n_items)
    np.testing.assert_array_equal(by_dense, knn_scores(history, similarity))
    logits = torch.randn(82, run.n_items, generator=torch.Generator().manual_seed(1))
    dense_way, sparse_way = logits.clone(), logits.clone()
    blend = Blend(similarity, 0.37)
    assert blend.dense is not None
    blend.add_to(dense_way, history)
    monkeypatch.setattr(_blend, "DENSE_MAX_ITEMS", 0)
    sparse_blend = Blend(similarity, 0.37)
    assert sparse_blend.dense is None
    sparse_blend.add_to(sparse_way, history)
    assert torch.equal(dense_way, sparse_way) and not torch.equal(dense_way, logits)
    assert torch.equal(dense_way[40], logits[40])  # no history, nothing added


def test_weight_is_the_validation_argmax_ties_to_the_smaller() -> None:
    assert choose_weight({0.0: 0.1, 0.3: 0.2, 1.0: 0.2, 3.0: 0.15}) == 0.3
    assert choose_weight({0.0: 0.1, 0.1: 0.05}) == 0.0
    assert choose_weight({0.0: float("nan"), 1.0: 0.01}) == 1.0
    assert choose_weight({}) == 0.0


def test_fit_blend_searches_the_grid_with_the_ranking_code(blended) -> None:
    run = blended
    train_pairs, val_pairs = run.training_pairs(), run.validation_pairs()
    choice = fit_blend(run.model, train_pairs, val_pairs, neighbours=30, shrink=20.0)
    grid = {float(b): v for b, v in choice.summary["validation_ndcg"].items()}
    # Every other β (0 always), then the best one's two neighbours on the grid.
    assert set(BLEND_GRID[::2]) <= set(grid) <= set(BLEND_GRID)
    assert choice.summary["weight"] == choose_weight(grid)
    best = BLEND_GRID.index(choice.summary["weight"])
    assert {BLEND_GRID[i] for i in (best - 1, best + 1) if 0 <= i < len(BLEND_GRID)} <= set(grid)
    assert (choice.blend is None) == (choice.summary["weight"] == 0)
    # one grid point again, independently: the validation NDCG of that β
    train = build_seen_matrix(*train_pairs, run.n_users, run.n_items)
    similarity = item_similarity(train, 30, 20.0)
    again = ranking_metrics(Blended(run.model, Blend(similarity, 3.0)), *val_pairs, train, k=10)
    assert again["model"]["ndcg_at_k"] == pytest.approx(grid[3.0])
    # A similarity built beforehand (the pipeline builds it while training) chooses the same.
    given = fit_blend(run.model, train_pairs, val_pairs, neighbours=30, shrink=20.0, similarity=similarity)
    assert given.summary["validation_ndcg"] == choice.summary["validation_ndcg"]
    assert grid[0.0] == pytest.approx(
        ranking_metrics(run.model, *val_pairs, train, k=10)["model"]["ndcg_at_k"]
    )


def test_save_load_round_trip_and_old_runs_without_neighbours(blended, tmp_path: Path) -> None:
    run = blended
    folder = save_run(run, tmp_path / "run")
    assert "neighbours.npz" in json.loads((folder / "manifest.json").read_text())["files"]
    loaded = load_run(folder)
    assert loaded.blend is not None and loaded.blend.weight == run.blend.weight
    assert (loaded.blend.similarity != run.blend.similarity).nnz == 0
    users = np.arange(run.n_users)
    np.testing.assert_array_equal(
        top_unseen(loaded.model, users, loaded.seen_matrix(), 10, loaded.blend)[0],
        top_unseen(run.model, users, run.seen_matrix(), 10, run.blend)[0],
    )
    plain = save_run(make_run(), tmp_path / "plain")
    assert "neighbours.npz" not in json.loads((plain / "manifest.json").read_text())["files"]
    assert load_run(plain).blend is None


@pytest.mark.parametrize(
    ("member", "payload"),
    [
        ("indptr.npy", npy_bytes("<i8", (4,), np.zeros(4, np.int64).tobytes())),  # wrong n_items
        ("data.npy", npy_bytes("<f4", (2_000_000_000,), b"")),  # claims 8 GB, holds nothing
        ("indices.npy", npy_bytes("<i4", (1,), np.array([99], np.int32).tobytes())),  # lengths differ
    ],
)
def test_hostile_neighbours_are_refused(member: str, payload: bytes, tmp_path: Path) -> None:
    run = make_run()
    train = build_seen_matrix(run.seen_users, run.seen_items, run.n_users, run.n_items)
    run.blend = Blend(item_similarity(train, 5, 1.0), 1.0)
    folder = save_run(run, tmp_path / "run")
    replace_member(folder / "neighbours.npz", member, payload)
    resign(folder)
    with pytest.raises(RecsysError, match="neighbours"):
        load_run(folder)


@pytest.mark.parametrize(
    ("weight", "value", "message"),
    [
        (1e308, 1.0, "blend weight 1e+308, above the 3000"),
        (3000.5, 1.0, "blend weight 3000.5"),
        (1.0, 1e308, "holds a similarity of 1e+308"),
        (1.0, -0.5, "holds a similarity of -0.5"),
    ],
)
def test_forged_blend_values_are_refused(weight: float, value: float, message: str, tmp_path: Path) -> None:
    """Issue 23, item 8: a weight of 1e308 loaded and made every score 1.0 with overflow warnings;
    the weight and the similarities are bounded to what training can produce."""
    run = make_run()
    train = build_seen_matrix(run.seen_users, run.seen_items, run.n_users, run.n_items)
    run.blend = Blend(item_similarity(train, 5, 1.0), 1.0)
    folder = save_run(run, tmp_path / "run")
    similarity = run.blend.similarity
    data = similarity.data.astype(np.float64)
    data[0] = value if value != 1.0 else data[0]
    np.savez(
        folder / "neighbours.npz",
        indptr=similarity.indptr.astype(np.int64),
        indices=similarity.indices.astype(np.int32),
        data=data,
        weight=np.array([weight], dtype=np.float64),
    )
    resign(folder)
    with pytest.raises(RecsysError, match=re.escape(message)) as caught:
        load_run(folder)
    assert "neighbours.npz" in str(caught.value) and "np." not in str(caught.value)
    run.blend = Blend(similarity, MAX_BLEND_WEIGHT)  # the largest β training can choose still loads
    assert load_run(save_run(run, tmp_path / "largest")).blend.weight == MAX_BLEND_WEIGHT


def test_out_of_range_similarity_codes_are_refused(tmp_path: Path) -> None:
    run = make_run()
    n = run.n_items
    bad = sp.csr_matrix((np.ones(1, np.float32), np.array([n - 1]), np.r_[0, np.ones(n, int)]), shape=(n, n))
    bad.indices[0] = n + 5  # beyond the catalogue (csr_matrix would refuse it if built so)
    run.blend = Blend(bad, 1.0)
    folder = save_run(run, tmp_path / "run")
    with pytest.raises(RecsysError, match=r"neighbours\.npz"):
        load_run(folder)


@pytest.mark.parametrize("exclude_seen", [True, False])
def test_everyones_top_n_with_blend_equals_brute_force(blended, exclude_seen: bool) -> None:
    run = blended
    seen = run.seen_matrix()
    excluded = seen if exclude_seen else None
    scorer = BlockedTopN(run.model, excluded, 8, blend=run.blend, history=seen, max_cells=run.n_items * 37)
    items, logits = scorer.top(0, run.n_users)
    nothing = sp.csr_matrix(seen.shape, dtype=bool)
    expected, values = brute_force_top(
        run, np.arange(run.n_users), seen if exclude_seen else nothing, 8, seen
    )
    np.testing.assert_allclose(logits, values, rtol=1e-5, atol=1e-5)
    assert (items == expected).mean() > 0.999


def test_adding_the_sparse_term_equals_adding_the_dense_term_bit_for_bit(blended) -> None:
    run = blended
    blend = Blend(run.blend.similarity, 0.37)  # not dyadic: every product rounds
    history = run.seen_matrix()[:60]
    logits = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (60, run.n_items)).astype(np.float32))
    dense = logits + torch.from_numpy(blend.term(history))
    sparse = logits.clone()
    blend.add_to(sparse, history)
    assert torch.equal(sparse, dense) and not torch.equal(sparse, logits)
    double = logits.double()  # a float64 block gets the float32 term, as before
    blend.add_to(double, history)
    assert torch.equal(double, logits.double() + torch.from_numpy(blend.term(history)).double())


def test_everyones_parquet_with_blend_equals_each_customers_recommend(blended, tmp_path: Path) -> None:
    run = blended
    out = tmp_path / "top.parquet"
    recommend_all_to_parquet(run, out, 8, block_users=37, threads=2)
    table = pd.read_parquet(out)
    singles = pd.concat([run.recommend(user, 8).assign(user=user) for user in run.id_map.users])
    assert len(table) == len(singles) == 8 * run.n_users
    assert table["user"].tolist() == singles["user"].tolist()
    assert table["item"].tolist() == singles["item"].tolist()
    assert table["rank"].tolist() == singles["rank"].tolist()
    np.testing.assert_allclose(table["score"], singles["score"], rtol=1e-6)


def test_foldin_explanations_sum_to_the_blended_score(blended) -> None:
    run = blended
    users = run.id_map.users[run.test_users[:5]]
    train_u, train_i = run.training_pairs()
    chosen = np.isin(run.id_map.users[train_u], users)
    frame = pd.DataFrame(
        {"user": run.id_map.users[train_u[chosen]], "item": run.id_map.items[train_i[chosen]], "rating": 5.0}
    )
    profiles = fold_in(run, frame)
    logits = profile_logits(run, profiles)
    run.blend.add_to(logits, visitor_history(run, profiles))
    q = run.model.item_embedding.weight.detach().double()
    q1 = torch.cat([q, torch.ones(len(q), 1, dtype=torch.float64)], dim=1)
    c = run.model.item_bias.weight.detach().double()[:, 0]
    answers = recommend_visitors(run, frame, n=5)
    for row, answer in enumerate(answers):
        top = run.id_map.items.get_indexer(answer.table["item"].astype(str))
        rated = profiles.items[row].numpy()
        shares = (q1[top] @ profiles.shares[row].T).numpy() + run.blend.contributions(rated, top)
        base = c[top].numpy() + (q1[top] @ (profiles.theta[row] - profiles.shares[row].sum(0))).numpy()
        total = base + shares.sum(1)  # every rated product's model share + β·S[rated, suggestion]
        np.testing.assert_allclose(total, logits[row, top].double().numpy(), atol=1e-4)
        np.testing.assert_allclose(answer.table["score"], torch.sigmoid(logits[row, top]).numpy(), rtol=1e-5)
        for suggestion, because in zip(range(len(top)), answer.table["because"], strict=True):
            for reason in because:
                j = list(run.id_map.items[rated]).index(reason["item"])
                assert reason["weight"] == pytest.approx(shares[suggestion, j])


def test_evaluate_text_shows_the_weight(blended, tmp_path: Path, run_cli) -> None:
    folder = save_run(blended, tmp_path / "run")
    code, out, err = run_cli("evaluate", str(folder), "--no-baselines")
    assert code == 0, err
    assert "item-kNN blend: weight β" in out


def test_negative_neighbours_are_refused_and_the_cli_offers_the_option() -> None:
    with pytest.raises(RecsysError, match="neighbours"):
        TrainConfig(neighbours=-1)
    import contextlib
    import io

    from recsys_core.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(["train", "--help"], out=out)
    assert "--neighbours K" in out.getvalue()
