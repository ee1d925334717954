"""What an epoch trains on: the objectives' samples, negative sampling, the validation pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.errors import RecsysError
from recsys_core.model import HYBRID_NEGATIVE_WEIGHT


@dataclass
class EpochSamples:
    """One epoch's training samples, already in the order they are visited.

    ``weights`` is empty when every sample weighs 1 (the kernel then skips the multiply).
    """

    users: np.ndarray
    items: np.ndarray
    targets: np.ndarray
    weights: np.ndarray


#: Up to this many (user, product) cells, rated pairs are looked up in a one-byte-per-cell table
#: (a gather) rather than by binary search in the sorted pairs (several times slower per draw).
_TABLE_LOOKUP_CELLS = 1 << 25
#: Draws looked up per slice in :meth:`NegativeSampler._is_rated`, drawn per slice in
#: :meth:`NegativeSampler.sample` and gathered per slice by :func:`_gather` (bounds their temporaries).
_LOOKUP_SLICE = 1 << 22
#: Uniform redraws of still-rated negatives before the rest are drawn exactly (see
#: :class:`NegativeSampler`).
_REDRAWS = 3


class NegativeSampler:
    """Uniformly drawn products a user never rated in the training split.

    Validation pairs are *not* excluded by default: the validation split stands in for the
    future, as the test split does, so training may draw a user's validation product as a
    negative exactly as it may draw their test product. Excluding them (as this sampler once
    did) tells the model which products are held out and inflates every validation metric.
    ``include_validation=True`` also excludes them: for drawing the validation split's own
    negatives, which must not be the held-out product itself.

    Draws are uniform over the catalogue and redrawn while rated (cheap: most users rated a
    sliver of it); the few still rated after :data:`_REDRAWS` redraws (users who rated most
    products) are drawn exactly, uniformly among that user's unrated products. So every user
    gets all their negatives, none of them rated, unless they rated every product (then none).
    """

    def __init__(self, data: TrainingData, n_items: int, include_validation: bool = False):
        self.n_items = int(n_items)
        # Pair keys need 64 bits whatever the codes' dtype.
        pairs = data.users.astype(np.int64) * self.n_items + data.items
        if include_validation:
            pairs = np.concatenate([pairs, data.val_users.astype(np.int64) * self.n_items + data.val_items])
        self.rated = np.unique(pairs)
        cells = int(self.rated[-1]) + 1 if len(self.rated) else 1
        self._table: np.ndarray | None = None
        if cells <= _TABLE_LOOKUP_CELLS:
            self._table = np.zeros(cells, dtype=bool)
            self._table[self.rated] = True
        # For exact draws: the rated pairs are sorted by user, then product. Within a user's run,
        # ``product - position in the run`` counts the unrated products before that one; keyed
        # by user it is sorted overall, so one binary search finds the k-th unrated product.
        rated_users, rated_items = np.divmod(self.rated, self.n_items)
        run_start = np.searchsorted(rated_users, rated_users, side="left")
        unrated_before = rated_items - (np.arange(len(self.rated)) - run_start)
        self._gap_keys = rated_users * (self.n_items + 1) + unrated_before
        self._rated_count = np.bincount(rated_users) if len(self.rated) else np.zeros(0, np.int64)

    def _is_rated(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        # In slices: the keys and their look-up cost 3-4 int64 arrays the size of the input,
        # gigabytes for a full-size epoch's negatives, when done at once.
        rated = np.empty(len(users), dtype=bool)
        for start in range(0, len(users), _LOOKUP_SLICE):
            end = start + _LOOKUP_SLICE
            rated[start:end] = self._is_rated_slice(users[start:end], items[start:end])
        return rated

    def _is_rated_slice(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users.astype(np.int64) * self.n_items + items
        if self._table is not None:
            # Beyond the table's last cell nothing is rated.
            inside = keys < len(self._table)
            return self._table[np.where(inside, keys, 0)] & inside
        pos = np.searchsorted(self.rated, keys)
        pos[pos == len(self.rated)] = 0
        return self.rated[pos] == keys

    def _exact(self, users: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A uniformly drawn unrated product for each entry of ``users`` that has one.

        Returns ``(has_one, items)``: a mask over ``users`` (False where the user rated every
        product) and the products drawn for the entries where it is True.
        """
        counts = np.zeros(len(users), dtype=np.int64)
        known = users < len(self._rated_count)
        counts[known] = self._rated_count[users[known]]
        free = self.n_items - counts
        has_one = free > 0
        users, free = users[has_one], free[has_one]
        k = np.minimum((rng.random(len(users)) * free).astype(np.int64), free - 1)  # k-th unrated
        base = users.astype(np.int64) * (self.n_items + 1)
        # The user's rated products with at most k unrated ones before them all precede the k-th
        # unrated product, which is therefore k + (their number).
        below = np.searchsorted(self._gap_keys, base + k, side="right")
        below -= np.searchsorted(self._gap_keys, base, side="left")
        return has_one, k + below

    def sample(
        self, users: np.ndarray, per_user: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``per_user`` unrated products for each entry of ``users`` (none for a user who rated
        every product). Returned negatives are grouped by their user's entry."""
        neg_users = np.repeat(users, per_user)
        # Codes of the users' dtype (int32 at any realistic size), drawn in slices: the same
        # values as one int64 draw, without its full-size int64 array.
        neg_items = np.empty(len(neg_users), dtype=np.result_type(users.dtype, np.int32))
        for start in range(0, len(neg_items), _LOOKUP_SLICE):
            end = min(start + _LOOKUP_SLICE, len(neg_items))
            neg_items[start:end] = rng.integers(0, self.n_items, size=end - start)
        bad = np.flatnonzero(self._is_rated(neg_users, neg_items))
        for _ in range(_REDRAWS):
            if not len(bad):
                break
            neg_items[bad] = rng.integers(0, self.n_items, size=len(bad))
            bad = bad[self._is_rated(neg_users[bad], neg_items[bad])]
        if not len(bad):
            return neg_users, neg_items
        has_one, exact_items = self._exact(neg_users[bad], rng)
        neg_items[bad[has_one]] = exact_items
        keep = np.ones(len(neg_users), dtype=bool)
        keep[bad[~has_one]] = False
        return neg_users[keep], neg_items[keep]


def epoch_samples(
    data: TrainingData,
    config: TrainConfig,
    rng: np.random.Generator,
    sampler: NegativeSampler | None = None,
) -> EpochSamples:
    """Build and shuffle one epoch's samples for ``config.objective``.

    The single place that knows the objectives: ``rating`` shuffles the observed ratings;
    ``ranking`` and ``hybrid`` add ``config.negatives`` sampled unrated products per rating,
    drawn afresh each call (see the module docstring for targets and weights).

    Raises
    ------
    RecsysError
        For ``softmax``: it has its own trainer (:func:`recsys_core.training.trainer_for`).
    """
    if config.objective not in ("rating", "ranking", "hybrid"):
        raise RecsysError(
            f"The {config.objective!r} objective has its own trainer "
            "(recsys_core.training.train_softmax; recsys_core.training.trainer_for picks it)."
        )
    if config.objective != "rating" and config.negatives > 0 and sampler is not None:
        return _samples_with_negatives(data, config, rng, sampler)
    targets = np.ones_like(data.targets) if config.objective == "ranking" else data.targets
    order = _permutation(len(data.users), rng)
    return EpochSamples(data.users[order], data.items[order], targets[order], np.zeros(0, dtype=np.float32))


def _samples_with_negatives(
    data: TrainingData, config: TrainConfig, rng: np.random.Generator, sampler: NegativeSampler
) -> EpochSamples:
    """The observed pairs followed by their negatives, shuffled (``ranking`` and ``hybrid``).

    At full size an epoch is ~50 M samples, so nothing is concatenated: each shuffled array is
    gathered slice by slice from the observed pairs and the negatives (the negatives dropped as
    soon as they are gathered), and targets and weights are written straight in shuffled order
    (``order < n`` marks the observed pairs). The values are those of concatenating the four
    arrays and indexing them all with ``order``.
    """
    n = len(data.users)
    neg_users, neg_items = sampler.sample(data.users, config.negatives, rng)
    order = _permutation(n + len(neg_users), rng)
    users = _gather(data.users, neg_users, order)
    del neg_users
    items = _gather(data.items, neg_items, order)
    del neg_items
    # Same dtype as concatenating the observed targets (or ones like them) with float32 zeros.
    targets = np.zeros(len(order), dtype=np.result_type(data.targets.dtype, np.float32))
    ranking = config.objective == "ranking"
    weights = np.zeros(0, np.float32) if ranking else np.full(len(order), HYBRID_NEGATIVE_WEIGHT, np.float32)
    for start in range(0, len(order), _LOOKUP_SLICE):
        end = start + _LOOKUP_SLICE
        picked = order[start:end]
        observed = np.flatnonzero(picked < n)
        targets[start + observed] = 1 if ranking else data.targets[picked[observed]]
        if not ranking:
            weights[start + observed] = 1
    return EpochSamples(users, items, targets, weights)


def _permutation(n: int, rng: np.random.Generator) -> np.ndarray:
    """``rng.permutation(n)``, the same positions from the same draws, as int32 where ``n``
    allows (half the memory of an epoch-sized int64 array)."""
    if n > np.iinfo(np.int32).max:
        return rng.permutation(n)
    order = np.arange(n, dtype=np.int32)
    rng.shuffle(order)  # permutation(n) is exactly arange(n) shuffled
    return order


def _gather(first: np.ndarray, rest: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``np.concatenate([first, rest])[order]`` without the concatenation, in slices of
    :data:`_LOOKUP_SLICE` (bounded temporaries)."""
    n = len(first)
    out = np.empty(len(order), dtype=np.result_type(first.dtype, rest.dtype))
    for start in range(0, len(order), _LOOKUP_SLICE):
        picked = order[start : start + _LOOKUP_SLICE]
        observed = picked < n
        chunk = out[start : start + _LOOKUP_SLICE]
        chunk[observed] = first[picked[observed]]
        chunk[~observed] = rest[picked[~observed] - n]
    return out


def validation_samples(
    data: TrainingData, config: TrainConfig, rng: np.random.Generator, sampler: NegativeSampler | None
) -> EpochSamples:
    """The pairs the validation loss is measured on, drawn once so epochs are comparable.

    The same objective as training: the validation ratings (scaled, or 1 for ``ranking``) plus,
    for ``ranking``/``hybrid``, sampled unrated products at target 0: drawn by their own
    sampler, which also excludes the validation products (``sampler`` gives the catalogue size
    and says whether there are negatives at all).
    """
    scaled = data.val_targets()
    if config.objective == "rating" or sampler is None:
        targets = np.ones_like(scaled) if config.objective == "ranking" else scaled
        # The validation pairs themselves, in their order: one scoring pass serves the loss too.
        return EpochSamples(data.val_users, data.val_items, targets, np.zeros(0, dtype=np.float32))
    proxy = TrainingData(
        data.val_users, data.val_items, scaled, data.val_users, data.val_items, data.val_ratings,
        data.rating_min, data.rating_max,
    )  # fmt: skip
    # Negatives of a validation pair: products the user rated neither in training nor in
    # validation (the training sampler may draw the held-out product itself).
    held_out = NegativeSampler(data, sampler.n_items, include_validation=True)
    return epoch_samples(proxy, config, rng, held_out)
