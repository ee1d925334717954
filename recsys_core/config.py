"""Training configuration: one frozen dataclass whose defaults are the recommended recipe, and the
three presets (``recommended``, ``fast``, ``notebook``)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from recsys_core.errors import RecsysError, plain

# Bounds of the settings (:meth:`TrainConfig.validate`): far above any useful value, low enough
# that a typo is refused before training instead of exhausting memory; kept with every other
# bound in :mod:`recsys_core.limits`.
from recsys_core.limits import (
    MAX_BATCH_SIZE,
    MAX_EMBEDDING_DIM,
    MAX_EPOCHS,
    MAX_MULTIPLIER,
    MAX_NEGATIVES,
    MAX_NEIGHBOUR_SHRINK,
    MAX_NEIGHBOURS,
    MAX_SEED,
)

#: The reference notebook's per-class oversampling: 1★ ×2.5, 2★ ×3, 3★ ×2.
NOTEBOOK_MULTIPLIERS: Mapping[float, float] = MappingProxyType({1.0: 2.5, 2.0: 3.0, 3.0: 2.0})

SPLITS = ("auto", "leave-last-out", "random", "temporal")
OBJECTIVES = ("rating", "ranking", "hybrid", "softmax")
DEVICES = ("auto", "cpu", "cuda")
#: "Likes it" on the notebook's 1-5 scale; other scales get the same share of the scale.
DEFAULT_POSITIVE_RATING = 4.0
#: Adam's step of the recommended recipe (``TrainConfig.learning_rate``), and the one it takes
#: when the softmax samples the catalogue (:meth:`TrainConfig.for_catalogue`); docs/objectives.md.
DEFAULT_LEARNING_RATE = 3e-2
SAMPLED_LEARNING_RATE = 1e-2


def positive_rating_for(levels: Iterable[float]) -> float:
    """The rating from which a user "likes" a product, for a scale with these ``levels``.

    The scale runs from 0 (when a rating is below 1) or 1 up to the first of 1, 5, 10 or 100
    that holds every rating; "likes it" is its top quarter, rounded up to a whole rating (the
    highest rating if none is that high). 4 on 1-5 stars whichever stars occur (the notebook's
    4 and 5), 4 on 0.5-5, 1 on a 0/1 like-dislike scale, 8 on 1-10. A fixed 4 would make every
    rating of a 0/1 scale "disliked" and its classification metrics meaningless.
    """
    values = sorted({float(v) for v in levels})
    if not values:
        return DEFAULT_POSITIVE_RATING
    low = 0.0 if values[0] < 1 else 1.0
    high = next((top for top in (1.0, 5.0, 10.0, 100.0) if values[-1] <= top), values[-1])
    return min(float(math.ceil(low + 0.75 * (high - low) - 1e-9)), values[-1])


class Multipliers(Mapping[float, float]):
    """Rating class -> oversampling factor, read-only (a preset can never be changed in place).

    Compares equal to a dict with the same items; ``dict(m)`` gives a plain copy.
    """

    __slots__ = ("_factors",)

    def __init__(self, factors: Mapping[float, float] | Iterable[tuple[float, float]] = ()) -> None:
        items = factors.items() if isinstance(factors, Mapping) else factors
        object.__setattr__(self, "_factors", {float(k): float(v) for k, v in items})

    def __getitem__(self, rating: float) -> float:
        return self._factors[rating]

    def __iter__(self) -> Iterator[float]:
        return iter(self._factors)

    def __len__(self) -> int:
        return len(self._factors)

    def __hash__(self) -> int:
        return hash(frozenset(self._factors.items()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Multipliers are read-only: use TrainConfig.replace(multipliers=...).")

    def __reduce__(self) -> tuple[type[Multipliers], tuple[dict[float, float]]]:
        return (Multipliers, (dict(self._factors),))

    def __repr__(self) -> str:
        return repr(self._factors)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. ``TrainConfig()`` is the ``recommended`` recipe.

    Frozen: change a setting with :meth:`replace` (or :func:`dataclasses.replace`), which
    validates the result. :meth:`preset` gives ``recommended``, ``fast`` or ``notebook`` (the
    reference notebook exactly; it ranks unseen products below "most popular", see the README).

    Parameters
    ----------
    embedding_dim
        Size of the user and item embeddings.
    batch_size, epochs, learning_rate
        Adam's mini-batch size (customers per step for ``softmax``, ratings otherwise), the most
        passes over the training split (``softmax`` stops early when validation stops improving),
        step size (the default is adapted to a sampled catalogue by :meth:`for_catalogue`).
    multipliers
        Rating class -> factor, on the training split only. ``softmax`` weighs each rated
        product's term by it (any factor >= 0; 0 leaves the class out); the other objectives
        oversample the class (factor >= 1, the notebook's ``RandomOverSampler``).
    threshold
        A score at or above it predicts "the user likes it" (rating >= ``positive_rating``).
        With target (r - 1) / 4 on a 1-5 scale, 0.625 is exactly "rounded rating >= 4".
    positive_rating
        Ratings at or above it count as positive in the classification metrics. The default
        (4, for 1-5 stars) is adapted to the data's scale by :meth:`for_scale`.
    seed
        Seeds the split, the oversampler, initialisation and batch order.
    split
        ``auto`` (leave-last-out when timestamps exist, else random), ``leave-last-out``,
        ``random`` or ``temporal``.
    objective
        ``softmax`` (every product compared for each customer, with a rating head), ``rating``
        (the reference: BCE on observed ratings), ``ranking`` (observed ratings plus sampled
        unrated products as negatives) or ``hybrid``.
    negatives
        Sampled unrated products per observed rating for the ranking objectives.
    device
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    neighbours
        Item-kNN blend (:class:`recsys_core.model.Blend`): similar products kept per candidate
        product; 0 = no blend (the plain model). Its weight is chosen on validation after training.
    neighbour_shrink
        Added to the blend's cosine denominator; damps similarities resting on few users.
    """

    # The recommended recipe (docs/objectives.md, "The default: softmax + item-kNN blend"): a
    # softmax over the catalogue (a sample of it above 8,192 products), the epoch chosen on
    # validation NDCG@10, the rating head for "likes it", blended with item-kNN (200 neighbours
    # per product, weight chosen on validation). Batches of 128 customers: on the seed's shape
    # (90k customers, 49k products, sampled) validation NDCG@10 peaked at 0.0486 against 0.0385
    # with batches of 32 (iALS's rung: 0.0493), and a quarter of the steps; on the demo data and
    # the dense Amazon sample test NDCG@10 stayed within noise (0.1212 vs 0.1217, 0.0295 vs
    # 0.0294). Learning rate 3e-2: validation peaks in fewer epochs than at 1e-2 (41 against 68
    # epochs run over the head and dense Amazon files, the demo data at 30k, 100k and 300k
    # ratings, and its sparse and wide shapes), test NDCG@10 within one standard error on each
    # (sum 0.5594 against 0.5584); 2e-2 ran 47 (docs/objectives.md). A sampled catalogue keeps
    # 1e-2 (for_catalogue). Speed against implicit's iALS: benchmarks/demo_loop.py,
    # docs/scaling.md.
    embedding_dim: int = 64
    batch_size: int = 128
    epochs: int = 40
    learning_rate: float = DEFAULT_LEARNING_RATE
    multipliers: Mapping[float, float] = field(default_factory=Multipliers)
    threshold: float = 0.625
    positive_rating: float = DEFAULT_POSITIVE_RATING
    seed: int = 42
    split: str = "auto"
    objective: str = "softmax"
    negatives: int = 4
    device: str = "auto"
    neighbours: int = 200
    neighbour_shrink: float = 20.0

    def __post_init__(self) -> None:
        if not isinstance(self.multipliers, Mapping):
            raise RecsysError(
                "Invalid training setting: multipliers must map rating classes to factors, "
                f"not {self.multipliers!r}."
            )
        object.__setattr__(self, "multipliers", Multipliers(self.multipliers))
        self.validate()

    def validate(self) -> None:
        """Raise :class:`RecsysError` naming the first field with an unusable value.

        Every number is bounded (see the ``MAX_*`` constants), so that a mistyped value is
        refused before any data is loaded rather than failing, or exhausting memory, later.
        """
        for name in ("embedding_dim", "batch_size", "epochs", "seed", "negatives", "neighbours"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RecsysError(
                    f"Invalid training setting: {name} must be a whole number, not {plain(value)}."
                )
        for name in ("learning_rate", "threshold", "positive_rating", "neighbour_shrink"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise RecsysError(
                    f"Invalid training setting: {name} must be a finite number, not {plain(value)}."
                )
        checks = [
            (
                1 <= self.embedding_dim <= MAX_EMBEDDING_DIM,
                f"embedding_dim must be 1 to {MAX_EMBEDDING_DIM:,}",
            ),
            (1 <= self.batch_size <= MAX_BATCH_SIZE, f"batch_size must be 1 to {MAX_BATCH_SIZE:,}"),
            (1 <= self.epochs <= MAX_EPOCHS, f"epochs must be 1 to {MAX_EPOCHS:,}"),
            (self.learning_rate > 0, "learning_rate must be positive"),
            (0.0 < self.threshold < 1.0, "threshold must be between 0 and 1 (exclusive)"),
            (0 <= self.negatives <= MAX_NEGATIVES, f"negatives must be 0 to {MAX_NEGATIVES:,}"),
            (0 <= self.neighbours <= MAX_NEIGHBOURS, f"neighbours must be 0 to {MAX_NEIGHBOURS:,}"),
            (
                0 <= self.neighbour_shrink <= MAX_NEIGHBOUR_SHRINK,
                f"neighbour_shrink must be 0 to {MAX_NEIGHBOUR_SHRINK:g}",
            ),
            (0 <= self.seed <= MAX_SEED, f"seed must be 0 to {MAX_SEED:,} (2**32 - 1)"),
            (self.split in SPLITS, f"split must be one of {', '.join(SPLITS)}"),
            (self.objective in OBJECTIVES, f"objective must be one of {', '.join(OBJECTIVES)}"),
            (self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise RecsysError(f"Invalid training setting: {message}.")
        for rating, factor in self.multipliers.items():
            if not math.isfinite(rating):
                raise RecsysError(f"Invalid multiplier class {rating:g}: a rating must be a finite number.")
            # softmax weighs each rating by its class's factor (0 leaves the class out); the
            # other objectives copy rows, which can only add.
            lowest = 0.0 if self.objective == "softmax" else 1.0
            if not factor >= lowest:
                raise RecsysError(
                    f"Invalid multiplier {factor:g} for {rating:g}★: "
                    + (
                        "a class weight must be 0 or more (1 leaves the class as it is, 0 leaves it out)."
                        if lowest == 0.0
                        else "multipliers only add copies, so each must be 1 or more (1 leaves the "
                        "class untouched); only the recommended recipe (softmax objective) weighs classes "
                        "below 1, where 0 leaves a class out."
                    )
                )
            if not factor <= MAX_MULTIPLIER:  # also catches inf
                raise RecsysError(
                    f"Invalid multiplier {factor:g} for {rating:g}★: at most {MAX_MULTIPLIER:g} copies "
                    "of each rating can be added."
                )

    def for_scale(self, levels: Iterable[float]) -> TrainConfig:
        """This config with the default ``positive_rating`` adapted to the rating ``levels``
        (:func:`positive_rating_for`); a positive rating set by hand is kept. Unchanged on 1-5."""
        if self.positive_rating != DEFAULT_POSITIVE_RATING:
            return self
        return dataclasses.replace(self, positive_rating=positive_rating_for(levels))

    def for_catalogue(self, sampled: bool) -> TrainConfig:
        """This config with the default learning rate adapted to a catalogue the softmax samples
        (``sampled``: above the exact softmax's size): :data:`SAMPLED_LEARNING_RATE` there, where
        the default step overshoots (after one epoch at full Amazon size, test NDCG@10 0.0086 at
        3e-2, below "most popular"'s 0.0177, against 0.0230 at 1e-2; at the seed's shape 0.0583
        against 0.0587; on the ``wide`` demo 0.0797 against 0.0800). A rate set by hand is kept.
        """
        if not sampled or self.objective != "softmax" or self.learning_rate != DEFAULT_LEARNING_RATE:
            return self
        return dataclasses.replace(self, learning_rate=SAMPLED_LEARNING_RATE)

    def replace(self, **changes: Any) -> TrainConfig:
        """This recipe with ``changes`` applied (validated); unknown names are refused."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise RecsysError(
                f"Unknown training setting(s): {', '.join(sorted(unknown))}. "
                f"Known: {', '.join(f.name for f in dataclasses.fields(self))}."
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """The named preset (``recommended``, ``fast`` or ``notebook``) with ``overrides`` applied
        (``None`` values are ignored, so command-line options left unset keep the preset's)."""
        if name not in PRESETS:
            raise RecsysError(f"Unknown preset {name!r}: choose one of {', '.join(PRESETS)}.")
        return PRESETS[name].replace(**{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (rating classes become strings such as ``"1"``)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["multipliers"] = {f"{k:g}": v for k, v in self.multipliers.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """A config saved by :meth:`to_dict`. Settings a run saved by an older version lacks take
        the values they had then (the notebook's: the defaults before ``TrainConfig()`` became the
        recommended recipe); unknown keys are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {**PRESETS["notebook"].to_dict(), **{k: v for k, v in data.items() if k in known}}
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def stars(rating: float) -> str:
    """``4.0 -> "4★"``, ``3.5 -> "3.5★"``."""
    return f"{float(rating):g}★"


def multipliers_text(multipliers: Mapping[float, float]) -> str:
    """``{1: 2.5, 2: 3} -> "1★ ×2.5, 2★ ×3"``; factors of 1 are left out (the inverse of
    :func:`parse_multipliers`, in the app's words)."""
    parts = [f"{stars(r)} ×{f:g}" for r, f in sorted(multipliers.items()) if float(f) != 1.0]
    return ", ".join(parts) if parts else "none (every class untouched)"


def parse_multipliers(text: str) -> dict[float, float]:
    """Parse ``"1=2.5,2=3,3=2"`` into ``{1.0: 2.5, 2.0: 3.0, 3.0: 2.0}``."""
    result: dict[float, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        rating, sep, factor = part.partition("=")
        try:
            if not sep:
                raise ValueError
            result[float(rating)] = float(factor)
        except ValueError:
            raise RecsysError(
                f"Cannot read multiplier {part!r}: write rating=factor pairs separated by commas, "
                "e.g. 1=2.5,2=3,3=2."
            ) from None
    return result


PRESETS: Mapping[str, TrainConfig] = MappingProxyType(
    {
        # The best recommender the project has: the defaults of TrainConfig (see there), of
        # ``recsys train`` and of the app.
        "recommended": TrainConfig(),
        # Chosen by measurement on amazon_electronics_dense.csv (random split, one validation and
        # one test rating per user; 62k training ratings), through pipeline.train, seeds
        # 42/1/2/3/4: with the rating objective, test ROC AUC (4★+) 0.730/0.726/0.726/0.726/0.732,
        # about 1 s per run on the 2-core machine (best epoch 10 of 12). Embedding 32 reached
        # 0.707-0.737, 64 with the notebook's oversampling 0.684-0.715; oversampling alone costs
        # about 0.04 AUC here, so this preset trains on the ratings as they are. With the same
        # settings, the hybrid objective (8 negatives per rating) finds the held-out product 1.87x
        # as often as the most-popular list and its rating head reaches ROC AUC 0.751 against the
        # rating objective's 0.727 (means over seeds 42/1/2, about 5 s per run; docs/objectives.md,
        # benchmarks/objectives.py).
        "fast": TrainConfig(
            embedding_dim=16,
            batch_size=1024,
            epochs=12,
            learning_rate=3e-3,
            objective="hybrid",
            negatives=8,
            neighbours=0,
        ),
        # The reference notebook, exactly: per user the last rating is test and the one before
        # validation; RandomOverSampler 1★ ×2.5, 2★ ×3, 3★ ×2 on train only; embeddings 200 +
        # biases, dot → sigmoid on (r − 1)/4; BCE; Adam 1e-3; batch 64; 7 epochs; "likes it" at
        # score ≥ 0.625. A model trained only on observed ratings ranks unseen products below
        # "most popular": the reference, not the default.
        "notebook": TrainConfig(
            embedding_dim=200,
            batch_size=64,
            epochs=7,
            learning_rate=1e-3,
            multipliers=NOTEBOOK_MULTIPLIERS,
            objective="rating",
            neighbours=0,
        ),
    }
)
