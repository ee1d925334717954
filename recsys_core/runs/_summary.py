"""What a run records about how it was made (its ``split.json``): typed, written and read here only.

Runs saved by earlier versions still load: the data set was a bare file name when the command
line trained and a dict when the app did; both become a :class:`DatasetRecord`. Fields a file
lacks take their defaults; a field of the wrong type means the file was edited by hand, and is
refused with the file's name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from recsys_core.errors import RecsysError

__all__ = ["BlendRecord", "DatasetRecord", "RunSummary"]


def _damaged(what: str, value: object) -> RecsysError:
    shown = repr(value) if len(repr(value)) < 60 else f"a {type(value).__name__}"
    return RecsysError(f"split.json: {what} is {shown}; the run was edited or is damaged.")


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _damaged(key, value)
    return value


def _count(data: Mapping[str, Any], key: str, default: int | None = 0) -> int | None:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _damaged(key, value)
    return value


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _damaged(what, value)
    return float(value)


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise _damaged(key, value)
    return value


@dataclass(frozen=True)
class DatasetRecord:
    """The ratings a run was trained on.

    Attributes
    ----------
    name
        The file's name as the user knows it (no folder: nothing private leaves the machine).
    key, file, options
        Set by the app only: the data's content key, the kept upload it came from (``"demo"`` for
        the built-in data) and the options it was loaded with, so the app can find it again.
    """

    name: str = ""
    key: str | None = None
    file: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: object) -> DatasetRecord | None:
        """A record from ``split.json``: a dict, a bare file name (older command-line runs) or nothing."""
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return cls(name=value)
        if not isinstance(value, Mapping):
            raise _damaged("dataset", value)
        key, file = value.get("key"), value.get("file")
        if not all(v is None or isinstance(v, str) for v in (key, file)):
            raise _damaged("dataset", value)
        return cls(name=_text(value, "name"), key=key, file=file, options=dict(_mapping(value, "options")))

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"name": self.name}
        if self.key is not None:
            record.update(key=self.key, file=self.file, options=dict(self.options))
        return record


@dataclass(frozen=True)
class BlendRecord:
    """How the item-kNN blend was chosen: neighbours kept, shrink, the weight β picked on
    validation, NDCG@10 of each β tried, the similarity's non-zeros, the time the choice took
    after training and the similarity's own time (built while the model trained)."""

    neighbours: int
    shrink: float
    weight: float
    validation_ndcg: Mapping[float, float] = field(default_factory=dict)
    similarity_nnz: int = 0
    seconds: float = 0.0
    similarity_seconds: float = 0.0

    @classmethod
    def from_json(cls, value: object) -> BlendRecord | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise _damaged("blend", value)
        try:
            scores = {float(k): float(v) for k, v in _mapping(value, "validation_ndcg").items()}
        except (TypeError, ValueError):
            raise _damaged("blend.validation_ndcg", value.get("validation_ndcg")) from None
        return cls(
            neighbours=_count(value, "neighbours") or 0,
            shrink=_number(value.get("shrink", 0.0), "blend.shrink"),
            weight=_number(value.get("weight", 0.0), "blend.weight"),
            validation_ndcg=scores,
            similarity_nnz=_count(value, "similarity_nnz") or 0,
            seconds=_number(value.get("seconds", 0.0), "blend.seconds"),
            similarity_seconds=_number(value.get("similarity_seconds", 0.0), "blend.similarity_seconds"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "neighbours": self.neighbours,
            "shrink": self.shrink,
            "weight": self.weight,
            "validation_ndcg": {f"{k:g}": v for k, v in self.validation_ndcg.items()},
            "similarity_nnz": self.similarity_nnz,
            "seconds": self.seconds,
            "similarity_seconds": self.similarity_seconds,
        }


@dataclass
class RunSummary:
    """Sizes and method of the split, how training ended, the device, each stage's seconds, the
    blend and the data set.

    Attributes
    ----------
    method
        The split that was used (``leave-last-out``, ``random`` or ``temporal``).
    train, validation, test, dropped_unknown, train_after_rebalance
        Ratings in each part (``dropped_unknown``: test or validation ratings of products or
        customers absent from training; ``train_after_rebalance``: after oversampling).
    best_epoch, stopped_early
        The epoch whose model was kept, and whether early stopping (or Stop) ended training.
    device
        Where it trained (``cpu`` or ``cuda``).
    stage_seconds
        Wall time of each stage (load, split, rebalance, train, blend, evaluate, save).
    blend, dataset
        The item-kNN blend's record and the data set's (``None`` when there is none).
    """

    method: str = ""
    train: int = 0
    validation: int = 0
    test: int = 0
    dropped_unknown: int = 0
    train_after_rebalance: int = 0
    best_epoch: int | None = None
    stopped_early: bool = False
    device: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    blend: BlendRecord | None = None
    dataset: DatasetRecord | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunSummary:
        """Read ``split.json`` (any version); raises :class:`RecsysError` for a hand-edited one."""
        if not isinstance(data, Mapping):
            raise _damaged("the summary", data)
        stopped = data.get("stopped_early", False)
        if not isinstance(stopped, bool):
            raise _damaged("stopped_early", stopped)
        stages = {
            str(k): _number(v, f"stage_seconds.{k}") for k, v in _mapping(data, "stage_seconds").items()
        }
        return cls(
            method=_text(data, "method"),
            **{name: _count(data, name) for name in ("train", "validation", "test", "dropped_unknown")},
            train_after_rebalance=_count(data, "train_after_rebalance"),
            best_epoch=_count(data, "best_epoch", None),
            stopped_early=stopped,
            device=_text(data, "device"),
            stage_seconds=stages,
            blend=BlendRecord.from_json(data.get("blend")),
            dataset=DatasetRecord.from_json(data.get("dataset")),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``split.json`` object (the keys it has always had)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["stage_seconds"] = dict(self.stage_seconds)
        data["blend"] = None if self.blend is None else self.blend.to_json()
        data["dataset"] = None if self.dataset is None else self.dataset.to_json()
        return {k: v for k, v in data.items() if not (k in ("blend", "dataset") and v is None)}

    @property
    def dataset_name(self) -> str:
        """The data set's file name, ``""`` when the run did not record it."""
        return self.dataset.name if self.dataset is not None else ""
