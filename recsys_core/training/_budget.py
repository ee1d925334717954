"""Will a recipe fit this machine? Peak memory and time per epoch, estimated before training.

:func:`estimate_training` adds up what a run holds at its peak and what one epoch costs, from the
data's shape and the recipe, and compares them with :class:`~recsys_core.training.Machine`:

memory
    the process itself (Python, torch, numba, pandas: :data:`PROCESS_BYTES`); the ratings as
    loaded, split, encoded and held by the rating head (:data:`RATING_BYTES` each); the model's
    tables, customers and products x (``embedding_dim`` + 1) float32, :data:`TABLE_COPIES`
    times (parameters, Adam's two moments, the best epoch's snapshot: one fewer when the
    snapshot lies on disk, at :data:`SNAPSHOT_SPILL_BYTES` or more; two more for the softmax's
    judge on the second core, up to :data:`BACKGROUND_JUDGE_BYTES`); one step's blocks
    (``softmax``: ``batch_size`` x the columns it scores, float32, :data:`SOFTMAX_BLOCKS` of
    them: all products up to :data:`~recsys_core.training.FULL_SOFTMAX_MAX_ITEMS`, above it
    :data:`~recsys_core.training.SAMPLED_ITEMS` plus the batch's positives; the other objectives:
    an epoch's oversampled rows and their negatives, :data:`SAMPLE_BYTES` each); the blocks of
    customers x products that validation and the test ranking score; and, after training, the
    item-kNN blend's similarity (products x ``neighbours`` entries, 8 bytes each).
time
    ``softmax``: per step ``a + b * batch * columns * dim + c * columns * dim`` (the step's
    matrix products, then Adam on the columns' rows); the other objectives: per sample
    ``s0 + s1 * dim``, more when the tables outgrow the caches (the numba trainer); plus each
    epoch's validation (customers ranked x products) and rating head (passes over the
    ratings). :class:`CostModel` holds the coefficients: the defaults were measured on the
    project's 2-core machine (:func:`measure_cost_model` measures them again, e.g. on a GPU).

The figures are estimates to decide before starting (the right order of magnitude, on the
cautious side), not promises: ``benchmarks/budget.py`` compares them with a real run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from recsys_core.config import PRESETS, TrainConfig
from recsys_core.training._machine import Machine, this_machine
from recsys_core.training._softmax_sizes import FULL_SOFTMAX_MAX_ITEMS, SAMPLED_ITEMS, judged_users

# The estimate imports no torch (the app's Train page shows it before anything trains), so it
# repeats two sizes of torch-side modules; tests/training/test_budget.py checks they agree.
#: The most customers ranked on validation after each epoch (``recsys_core.metrics.RANKING_MAX_USERS``;
#: fewer on a large catalogue, :func:`~recsys_core.training._softmax_sizes.judged_users`).
RANKED_CUSTOMERS = 20_000
#: Scores in one block of customers x products (``recsys_core.topn``'s ``MAX_CHUNK_CELLS``) and
#: customers per validation block (``ValidationRanker``'s ``CHUNK_USERS``).
BLOCK_CELLS, BLOCK_CUSTOMERS = 1 << 24, 1024

#: Above this many seconds of training (every epoch run) a recipe is "slow" and a faster one is offered.
SLOW_SECONDS = 2 * 3600.0
# The memory figures below were fitted (least squares) to the peak resident memory of whole
# `recsys train` processes (`/usr/bin/time -v`): the recommended recipe on the demo data (100k
# ratings, 0.59 GB), a 300k-rating demo file (0.90 GB) and the seed-shaped demo file (1.09 M
# ratings, 1.53 GB), and the fast recipe at full Amazon size (7.8 M ratings, 4.89 GB,
# docs/scaling.md), each less the parts this module sizes exactly (model, step, blend). The fit
# is within 6 % of each (benchmarks/budget.py).
#: The process before any data: Python, torch, numba, scipy, pandas and the project imported
#: (0.44 GB resident after loading the demo data), with what a run adds whatever its size.
PROCESS_BYTES = 510 * 10**6
#: Memory per rating while training: the loaded frame (ids as strings), the split, the codes,
#: the training CSR and seen matrices, the rating head's float64 passes.
RATING_BYTES = 120
#: Bytes per score of one block of customers x products, for the blocks validation, the blend's
#: weight search and the test ranking keep alive together (scores, masks, the blend's term).
BLOCK_CELL_BYTES = 46
#: Bytes per training sample of the non-softmax objectives: two int32 codes, target and weight,
#: and the int32 shuffle while they are built (docs/scaling.md).
SAMPLE_BYTES = 20
#: Copies of the model's tables while training: parameters, Adam's two moments, the best
#: epoch's snapshot; the numba trainer also packs the parameters (docs/scaling.md).
TABLE_COPIES = {"softmax": 4, "numba": 5}
#: From this size on a copy of the tables, the best epoch's snapshot lies in a temporary file,
#: not in memory (``recsys_core.training._snapshot.SPILL_BYTES``, repeated here without torch).
SNAPSHOT_SPILL_BYTES = 256 * 1024 * 1024
#: Up to this size of a copy of the tables, the softmax judges each epoch on two more copies on
#: the second core (``recsys_core.training._judging.BACKGROUND_MAX_BYTES``, repeated here).
BACKGROUND_JUDGE_BYTES = 128 * 1024 * 1024
#: ``batch x columns`` float32 blocks alive in one softmax step (logits, probabilities, targets,
#: their gradient).
SOFTMAX_BLOCKS = 4
#: Bytes per kept entry of the blend's similarity (float32 value, int32 index). The count used,
#: products x neighbours, is an upper bound: at Amazon's sparsity most products share customers
#: with far fewer than ``neighbours`` others.
BLEND_ENTRY_BYTES = 8
#: Verdicts of :class:`TrainingEstimate`.
FITS, SLOW, DOES_NOT_FIT = "fits", "slow", "does not fit"


@dataclass(frozen=True)
class CostModel:
    """Seconds of the parts of an epoch (see the module docstring for the formulas).

    The defaults are CPU seconds (a machine to itself) of the softmax trainer's epochs on the
    project's 2-core machine, measured by ``benchmarks/budget.py`` (``--measure`` for the step's
    and validation's coefficients, then real runs of 2 epochs): the demo data (0.16 s per epoch
    once warm), 15k x 6k with 300k ratings (1.3 s) and the seed-shaped file (5.6-6.3 s); the
    numba trainer's from the ``fast`` recipe's epochs on the demo data (0.3-0.45 s of CPU) and at
    full Amazon size. On a shared machine the wall clock runs longer, by the waits for a core.
    """

    softmax_step: float = 1.5e-4  # a: seconds per softmax step, whatever its size
    softmax_flop: float = 1.2e-10  # b: per batch x column x dim (three products, the softmax)
    softmax_column: float = 3.3e-9  # c: per column x dim (Adam on the columns' rows)
    # per row a step gathers and moves (the batch's customers, the drawn products) when the tables
    # are far larger than the caches: at full Amazon size a step took about 12 ms (432 s per
    # epoch of 32,800 steps, docs/scaling.md) where its arithmetic accounts for about 5
    softmax_uncached: float = 1.0e-6
    sample: float = 2.5e-7  # s0: per sample of the numba trainer
    sample_dim: float = 5.0e-9  # s1: per sample x dim
    # per sample when the tables are far larger than the caches (full Amazon size, the fast
    # recipe: one epoch's training stage took 103 s for 55 M samples, docs/scaling.md)
    sample_uncached: float = 1.4e-6
    validation_cell: float = 1.7e-9  # per customer ranked x product (selection)
    validation_flop: float = 2.4e-11  # per customer ranked x product x dim (scores)
    head_rating: float = 3.0e-7  # per rating per epoch (the rating head's Newton rounds)
    epoch: float = 0.05  # per epoch, whatever its size (validation's and the head's set-up)
    device: str = "cpu"


@dataclass(frozen=True)
class DataShape:
    """What the estimate needs to know about the data: the training split's size.

    ``ratings`` may be the whole file's count (an upper bound: the split holds some out);
    ``class_counts`` (rating -> count) sizes the oversampling, when known.
    """

    customers: int
    products: int
    ratings: int
    class_counts: Mapping[float, int] = field(default_factory=dict)

    def oversampled(self, config: TrainConfig) -> int:
        """Training rows after the recipe's oversampling (``softmax`` weighs, never copies)."""
        if config.objective == "softmax" or not config.multipliers:
            return self.ratings
        if self.class_counts:
            return int(
                sum(n * max(config.multipliers.get(float(r), 1.0), 1.0) for r, n in self.class_counts.items())
            )
        return int(self.ratings * max(1.0, *config.multipliers.values()))


@dataclass(frozen=True)
class Suggestion:
    """A recipe that fits where the asked one does not: what changes (in words and as
    command-line options), the recipe, its own estimate and the preset it starts from (``None``:
    the asked recipe, changed)."""

    label: str
    options: str
    config: TrainConfig
    estimate: TrainingEstimate
    preset: str | None = None


@dataclass(frozen=True)
class TrainingEstimate:
    """The estimate of one recipe on one data shape and machine.

    Attributes
    ----------
    peak_bytes
        Estimated peak resident memory of the whole process.
    memory_parts
        What makes it up (bytes by part: process, ratings, model, step, validation, blend).
    seconds_per_epoch
        Training, validation and rating head of one epoch.
    max_epochs
        ``config.epochs`` (``softmax`` may stop earlier, when validation stops improving).
    usable_bytes
        What the machine lets this process use (:attr:`Machine.usable_memory`).
    verdict
        ``fits``, ``slow`` (every epoch run would take over :data:`SLOW_SECONDS`) or
        ``does not fit`` (the peak is over the usable memory).
    suggestions
        When not ``fits``: recipes that fit, best first (may be empty).
    """

    peak_bytes: int
    memory_parts: Mapping[str, int]
    seconds_per_epoch: float
    max_epochs: int
    usable_bytes: int
    verdict: str
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def total_seconds(self) -> float:
        return self.seconds_per_epoch * self.max_epochs

    @property
    def fits(self) -> bool:
        return self.verdict != DOES_NOT_FIT

    def summary(self) -> str:
        """One line: ``about 12 s per epoch, up to 40 epochs, about 1.2 GB of memory``."""
        return (
            f"about {duration_text(self.seconds_per_epoch)} per epoch, up to {self.max_epochs} "
            f"epoch{'s' if self.max_epochs != 1 else ''}, "
            f"about {gigabytes(self.peak_bytes)} of memory"
        )


def gigabytes(n: float) -> str:
    """``1.2 GB`` (decimal units, one decimal; ``0.1 GB`` at least)."""
    return f"{max(n / 1e9, 0.1):.1f} GB"


def duration_text(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``5 min``, ``3.2 h``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _batch(shape: DataShape, config: TrainConfig) -> int:
    """Customers in one softmax step (never more than there are)."""
    return max(1, min(config.batch_size, shape.customers))


def _softmax_columns(shape: DataShape, config: TrainConfig) -> int:
    """Columns one softmax step scores: the catalogue, or the sample plus the batch's positives."""
    if shape.products <= FULL_SOFTMAX_MAX_ITEMS:
        return shape.products
    positives = _batch(shape, config) * shape.ratings / max(shape.customers, 1)
    return int(min(shape.products, SAMPLED_ITEMS + positives))


def _samples(shape: DataShape, config: TrainConfig) -> int:
    """Samples of one epoch of the numba trainer (oversampled rows plus their negatives)."""
    negatives = config.negatives if config.objective in ("ranking", "hybrid") else 0
    return shape.oversampled(config) * (1 + negatives)


def _memory(shape: DataShape, config: TrainConfig) -> dict[str, int]:
    """Peak bytes by part (see the module docstring)."""
    model = _table_bytes(shape, config) * _copies(shape, config)
    if config.objective == "softmax":
        step = _batch(shape, config) * _softmax_columns(shape, config) * 4 * SOFTMAX_BLOCKS
    else:
        step = _samples(shape, config) * SAMPLE_BYTES
    block = max(1, min(BLOCK_CUSTOMERS, BLOCK_CELLS // max(shape.products, 1), shape.customers))
    validation = block * shape.products * BLOCK_CELL_BYTES
    blend = shape.products * min(config.neighbours, shape.products) * BLEND_ENTRY_BYTES
    return {
        "process": PROCESS_BYTES,
        "ratings": shape.ratings * RATING_BYTES,
        "model": model,
        "step": step,
        "validation": validation,
        "blend": blend,
    }


def _table_bytes(shape: DataShape, config: TrainConfig) -> int:
    """One copy of the model's tables (embeddings and biases, float32)."""
    return (shape.customers + shape.products) * (config.embedding_dim + 1) * 4


def _copies(shape: DataShape, config: TrainConfig) -> int:
    """Copies of the tables in memory while training (the snapshot's on disk when large)."""
    softmax = config.objective == "softmax"
    copies = TABLE_COPIES["softmax" if softmax else "numba"]
    table = _table_bytes(shape, config)
    if softmax and table <= BACKGROUND_JUDGE_BYTES:
        copies += 2  # the judge's two shadows
    return copies - 1 if table >= SNAPSHOT_SPILL_BYTES else copies


def _peak(parts: Mapping[str, int], shape: DataShape, config: TrainConfig) -> int:
    """The blend is fitted after training, when the step's blocks and Adam's moments are gone."""
    training = parts["model"] + parts["step"] + parts["validation"]
    blending = parts["model"] // _copies(shape, config) + parts["blend"] + parts["validation"]
    return parts["process"] + parts["ratings"] + max(training, blending)


def _seconds(shape: DataShape, config: TrainConfig, cost: CostModel) -> float:
    """Seconds of one epoch: training, validation, rating head."""
    dim = config.embedding_dim
    # Random rows of tables far larger than the CPU's caches cost a memory access each: the share
    # of such rows grows with the tables up to 256 MB.
    uncached = min(1.0, (shape.customers + shape.products) * dim * 4 / 2**28)
    if config.objective == "softmax":
        columns = _softmax_columns(shape, config)
        steps = math.ceil(shape.customers / config.batch_size)
        per_step = (
            cost.softmax_step
            + cost.softmax_flop * _batch(shape, config) * columns * dim
            + cost.softmax_column * columns * dim
            + cost.softmax_uncached * (columns + _batch(shape, config)) * uncached
        )
        train = steps * per_step
        ranked = min(shape.customers, judged_users(shape.products, RANKED_CUSTOMERS))
        validate = ranked * shape.products * (cost.validation_cell + cost.validation_flop * dim)
    else:
        per_sample = cost.sample + cost.sample_dim * dim + cost.sample_uncached * uncached
        train = _samples(shape, config) * per_sample
        validate = 0.1 * train  # the validation pairs: a tenth of the samples, or fewer
    head = shape.ratings * cost.head_rating if config.objective in ("softmax", "hybrid") else 0.0
    return cost.epoch + train + validate + head


def _verdict(peak: int, seconds: float, machine: Machine) -> str:
    if peak > machine.usable_memory:
        return DOES_NOT_FIT
    return SLOW if seconds > SLOW_SECONDS else FITS


def _candidates(config: TrainConfig) -> list[tuple[str, str | None, str, str, TrainConfig]]:
    """Recipes to offer instead, best first, as ``(kind, preset, label, options, config)``: the
    same recipe with a smaller profile, the recommended recipe (as it comes, then smaller), the
    fast one. Each is a preset (``None``: the asked recipe) with other settings of the Train page
    and the command line; the split, seed and device stay."""
    keep = {"split": config.split, "seed": config.seed, "device": config.device}
    out: list[tuple[str, str | None, str, str, TrainConfig]] = [
        ("profile", None, f"profile size {dim}", f"--dim {dim}", config.replace(embedding_dim=dim))
        for dim in (64, 32, 16)
        if dim < config.embedding_dim
    ]
    for name, dims in (("recommended", (None, 32, 16)), ("fast", (None, 8))):
        preset = PRESETS[name].replace(**keep)
        for dim in dims:
            label, options = f"the {name} recipe", f"--preset {name}, no other settings"
            if dim is not None:
                label, options = f"{label}, profile size {dim}", f"--preset {name} --dim {dim}"
            out.append(
                (name, name, label, options, preset.replace(embedding_dim=dim or preset.embedding_dim))
            )
    return [candidate for candidate in out if candidate[-1] != config]


def estimate_training(
    shape: DataShape,
    config: TrainConfig,
    machine: Machine | None = None,
    cost: CostModel | None = None,
    *,
    suggest: bool = True,
) -> TrainingEstimate:
    """Estimate ``config``'s peak memory and time per epoch on ``shape`` and judge whether it fits.

    Parameters
    ----------
    shape
        The training data's size (:class:`DataShape`).
    config
        The recipe.
    machine
        Default: :func:`this_machine`.
    cost
        Default: :class:`CostModel` ``()`` (measured on the project's machine).
    suggest
        When the recipe does not fit or is slow, also estimate the recipes of
        :func:`_candidates` and keep those that fit in time: the least change of each kind (a
        smaller profile, the recommended recipe, the fast one), best first.
    """
    machine = this_machine() if machine is None else machine
    cost = CostModel() if cost is None else cost
    parts = _memory(shape, config)
    peak = _peak(parts, shape, config)
    seconds = _seconds(shape, config, cost)
    verdict = _verdict(peak, seconds * config.epochs, machine)
    estimate = TrainingEstimate(
        peak_bytes=peak,
        memory_parts=parts,
        seconds_per_epoch=seconds,
        max_epochs=config.epochs,
        usable_bytes=machine.usable_memory,
        verdict=verdict,
    )
    if verdict == FITS or not suggest:
        return estimate
    offers: dict[str, Suggestion] = {}
    for kind, preset, label, options, other in _candidates(config):
        # One offer per kind of change (a smaller profile, the recommended recipe, fast): the
        # least change of each that fits.
        if kind in offers:
            continue
        judged = estimate_training(shape, other, machine, cost, suggest=False)
        if judged.verdict == FITS:
            offers[kind] = Suggestion(label, options, other, judged, preset)
    return replace(estimate, suggestions=tuple(offers.values()))


def measure_cost_model(device: str = "cpu", repeats: int = 3) -> CostModel:
    """A :class:`CostModel` whose softmax and validation coefficients are measured here, now, on
    ``device`` (about a second on a quiet CPU; the numba trainer's and the head's keep their
    defaults). On CPU it measures on one torch thread, as the softmax trainer runs.

    Least squares over a few step sizes, each timed as the best of ``repeats``.
    """
    from recsys_core.model import one_torch_thread

    with one_torch_thread(device):
        a, b, c = _measure_steps(device, repeats)
        cells, flop = _measure_validation(device, repeats)
    return replace(
        CostModel(),
        softmax_step=max(a, 1e-6),
        softmax_flop=max(b, 1e-13),
        softmax_column=max(c, 0.0),
        validation_cell=cells,
        validation_flop=flop,
        device=device,
    )


def _best(fn: Callable[[], object], device: str, repeats: int) -> float:
    """The shortest of ``repeats`` timings of ``fn`` (after one warm-up call)."""
    import torch

    fn()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return min(times)


def _measure_steps(device: str, repeats: int) -> tuple[float, float, float]:
    """``a, b, c`` of the softmax step: least squares over five step sizes."""
    import numpy as np
    import torch

    from recsys_core.training._softmax import batch_gradients

    rows, seconds = [], []
    gen = torch.Generator().manual_seed(0)
    for batch, columns, dim in (
        (8, 1000, 16),
        (32, 4000, 32),
        (128, 4000, 64),
        (32, 16000, 64),
        (128, 8000, 32),
    ):
        p = torch.randn(batch, dim, generator=gen).to(device)
        q = torch.randn(columns, dim, generator=gen).to(device)
        b = torch.zeros(columns, device=device)
        target = (torch.rand(batch, columns, generator=gen) < 0.01).float().to(device)
        m, v = torch.zeros_like(q), torch.zeros_like(q)

        def step(p=p, q=q, b=b, target=target, m=m, v=v) -> None:
            _, _, grad_q, _ = batch_gradients(p, q, b, target, 0.01)
            # Adam on the columns' rows, as the trainer steps them.
            m.lerp_(grad_q, 0.1)
            v.mul_(0.999).addcmul_(grad_q, grad_q, value=0.001)
            q.addcdiv_(m, v.sqrt().add_(1e-8), value=-1e-3)

        rows.append((1.0, batch * columns * dim, columns * dim))
        seconds.append(_best(step, device, repeats))
    a, b_flop, c_column = np.linalg.lstsq(np.array(rows, float), np.array(seconds), rcond=None)[0]
    return float(a), float(b_flop), float(c_column)


def _measure_validation(device: str, repeats: int) -> tuple[float, float]:
    """Seconds per customer x product (selecting the top 10) and per customer x product x dim
    (scoring), from one block of customers ranked at two profile sizes."""
    import torch

    from recsys_core.topn import select_top

    timings = []
    for dim in (16, 64):
        users = torch.randn(512, dim, device=device)
        items = torch.randn(8000, dim, device=device)
        timings.append(_best(lambda u=users, i=items: select_top(u @ i.T, 10), device, repeats))
    cells = 512 * 8000
    flop = max((timings[1] - timings[0]) / (cells * 48), 1e-13)
    return max(timings[0] / cells - 16 * flop, 1e-12), flop
