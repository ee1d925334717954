"""The estimate of a run before training: verdicts on made-up shapes, the recipes it offers, the
memory limits it honours (RLIMIT_AS, cgroup), and the sizes it shares with the trainers."""

from __future__ import annotations

import resource

import pytest

from recsys_core.config import PRESETS, TrainConfig
from recsys_core.training import (
    DOES_NOT_FIT,
    FITS,
    FULL_SOFTMAX_MAX_ITEMS,
    SAMPLED_ITEMS,
    SLOW,
    CostModel,
    DataShape,
    Machine,
    _budget,
    _machine,
    address_space_limit,
    estimate_training,
    memory_budget,
)

GB = 10**9
#: A laptop: 8 GB usable, 2 CPUs, no GPU.
LAPTOP = Machine(total_memory=8 * GB, usable_memory=8 * GB, cpus=2, cuda=False)
DEMO = DataShape(customers=5_000, products=2_000, ratings=90_000)
#: Full Amazon Electronics: 4.2 M customers x 476 k products x 7.8 M ratings.
AMAZON = DataShape(customers=4_200_000, products=476_000, ratings=7_800_000)


def test_the_demo_fits_with_every_preset() -> None:
    for name, config in PRESETS.items():
        estimate = estimate_training(DEMO, config, LAPTOP)
        assert estimate.verdict == FITS, name
        assert estimate.suggestions == ()
        assert estimate.peak_bytes < 2 * GB
        assert estimate.max_epochs == config.epochs
        assert 0 < estimate.seconds_per_epoch < 60


def test_a_huge_profile_at_amazon_size_does_not_fit_and_a_recipe_that_fits_is_offered() -> None:
    config = TrainConfig(embedding_dim=1024)
    estimate = estimate_training(AMAZON, config, LAPTOP)
    assert estimate.verdict == DOES_NOT_FIT
    assert not estimate.fits
    # The model's tables alone: (customers + products) x 1025 float32, with Adam's two moments;
    # the best epoch's snapshot of tables this large lies on disk.
    assert estimate.memory_parts["model"] == (4_200_000 + 476_000) * 1025 * 4 * 3
    assert estimate.peak_bytes > LAPTOP.usable_memory
    assert estimate.suggestions
    for offer in estimate.suggestions:
        assert offer.estimate.verdict == FITS
        assert offer.estimate.peak_bytes <= LAPTOP.usable_memory
        assert offer.config.split == config.split and offer.config.seed == config.seed
    assert any(offer.preset == "fast" and "--preset fast" in offer.options for offer in estimate.suggestions)


def test_a_recipe_that_would_take_hours_is_slow_and_a_faster_one_is_offered() -> None:
    estimate = estimate_training(AMAZON, TrainConfig(), Machine(64 * GB, 64 * GB, 2, False))
    assert estimate.verdict == SLOW
    assert estimate.fits
    assert estimate.total_seconds > _budget.SLOW_SECONDS
    assert estimate.suggestions
    assert all(o.estimate.total_seconds <= _budget.SLOW_SECONDS for o in estimate.suggestions)


def test_a_machine_with_too_little_memory_refuses_even_the_demo_and_offers_nothing_that_does_not_fit() -> (
    None
):
    tiny = Machine(total_memory=GB // 10, usable_memory=GB // 10, cpus=1, cuda=False)
    estimate = estimate_training(DEMO, TrainConfig(), tiny)
    assert estimate.verdict == DOES_NOT_FIT
    assert estimate.suggestions == ()


def test_the_softmax_step_scores_the_catalogue_or_a_sample_above_the_limit() -> None:
    config = TrainConfig(batch_size=32)
    full = DataShape(customers=1000, products=FULL_SOFTMAX_MAX_ITEMS, ratings=10_000)
    sampled = DataShape(customers=1000, products=FULL_SOFTMAX_MAX_ITEMS + 1, ratings=10_000)
    blocks = _budget.SOFTMAX_BLOCKS * 4 * 32
    assert estimate_training(full, config, LAPTOP).memory_parts["step"] == blocks * FULL_SOFTMAX_MAX_ITEMS
    # The sample plus the batch's positives (32 customers x 10 ratings each).
    assert estimate_training(sampled, config, LAPTOP).memory_parts["step"] == blocks * (SAMPLED_ITEMS + 320)


def test_the_snapshot_of_large_tables_is_counted_on_disk_not_in_memory() -> None:
    config = TrainConfig()

    def copies(customers: int) -> float:
        shape = DataShape(customers=customers, products=100, ratings=5_000, class_counts={5.0: 5_000})
        one = (customers + 100) * (config.embedding_dim + 1) * 4
        return estimate_training(shape, config, LAPTOP).memory_parts["model"] / one

    row = (config.embedding_dim + 1) * 4
    spill = _budget.SNAPSHOT_SPILL_BYTES // row
    background = _budget.BACKGROUND_JUDGE_BYTES // row - 100
    assert copies(1_000) == 6  # parameters, Adam's two moments, the snapshot, the judge's two
    assert copies(background) == 6
    assert copies(background + 1) == 4  # judged in place
    assert copies(spill) == 3  # the snapshot lies in a temporary file


def test_oversampling_and_negatives_size_the_other_objectives() -> None:
    shape = DataShape(customers=100, products=50, ratings=1000, class_counts={1.0: 100, 5.0: 900})
    config = TrainConfig(objective="hybrid", negatives=4, multipliers={1.0: 3.0}, neighbours=0)
    parts = estimate_training(shape, config, LAPTOP).memory_parts
    assert parts["step"] == (100 * 3 + 900) * 5 * _budget.SAMPLE_BYTES
    # The numba trainer also packs the parameters: five copies of the tables.
    assert parts["model"] == (100 + 50) * (config.embedding_dim + 1) * 4 * 5
    assert parts["blend"] == 0
    with_blend = estimate_training(shape, config.replace(neighbours=20), LAPTOP).memory_parts
    assert with_blend["blend"] == 50 * 20 * _budget.BLEND_ENTRY_BYTES


def test_time_grows_with_the_profile_and_the_cost_model() -> None:
    small = estimate_training(DEMO, TrainConfig(embedding_dim=16), LAPTOP)
    large = estimate_training(DEMO, TrainConfig(embedding_dim=256), LAPTOP)
    assert large.seconds_per_epoch > small.seconds_per_epoch
    slower = CostModel(softmax_flop=CostModel().softmax_flop * 10)
    assert estimate_training(DEMO, TrainConfig(), LAPTOP, slower).seconds_per_epoch > (
        estimate_training(DEMO, TrainConfig(), LAPTOP).seconds_per_epoch
    )


def test_the_sizes_it_repeats_agree_with_the_torch_side() -> None:
    from recsys_core.metrics import RANKING_MAX_USERS
    from recsys_core.topn import effective_chunk
    from recsys_core.training import _snapshot, _softmax, _val_ndcg

    assert _budget.RANKED_CUSTOMERS == RANKING_MAX_USERS
    assert _budget.BLOCK_CUSTOMERS == _val_ndcg.CHUNK_USERS
    for products in (10, 2_000, 48_769, 476_000, 50_000_000):
        ours = max(1, min(_budget.BLOCK_CUSTOMERS, _budget.BLOCK_CELLS // products))
        assert ours == effective_chunk(_val_ndcg.CHUNK_USERS, products)
    assert _softmax.FULL_SOFTMAX_MAX_ITEMS == FULL_SOFTMAX_MAX_ITEMS
    assert _softmax.SAMPLED_ITEMS == SAMPLED_ITEMS
    assert _snapshot.SPILL_BYTES == _budget.SNAPSHOT_SPILL_BYTES
    from recsys_core.training import _judging

    assert _judging.BACKGROUND_MAX_BYTES == _budget.BACKGROUND_JUDGE_BYTES


# -- the machine's limits --------------------------------------------------------------------------


def test_rlimit_as_is_read_and_unlimited_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _: (3 * GB, resource.RLIM_INFINITY))
    monkeypatch.setattr(_machine, "cgroup_memory_limit", lambda: None)
    assert address_space_limit() == 3 * GB
    # 0.5 GB mapped but not resident (libraries, arenas) leaves 2.5 GB of the 3 GB limit.
    monkeypatch.setattr(_machine, "_own_memory", lambda: (GB // 10, GB // 10 + GB // 2))
    total, usable = memory_budget()
    assert total <= 3 * GB and usable <= 3 * GB - GB // 2
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert address_space_limit() is None


def test_the_usable_memory_honours_the_cgroup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_machine, "cgroup_memory_limit", lambda: (2 * GB, GB))
    monkeypatch.setattr(_machine, "address_space_limit", lambda: None)
    monkeypatch.setattr(_machine, "_own_memory", lambda: (GB // 10, GB // 5))
    total, usable = memory_budget()
    assert total <= 2 * GB
    # The cgroup's limit less what the rest of the cgroup holds (this process's own 0.1 GB counts).
    assert usable <= GB + GB // 10


@pytest.mark.slow
def test_the_cost_model_measured_here_is_positive() -> None:
    cost = _budget.measure_cost_model(repeats=1)
    assert cost.softmax_step > 0 and cost.softmax_flop > 0 and cost.validation_cell > 0
    assert estimate_training(DEMO, TrainConfig(), LAPTOP, cost).seconds_per_epoch > 0
