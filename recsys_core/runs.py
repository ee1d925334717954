"""A trained run, in memory and on disk.

A saved run is a folder that anyone can load without running code from it:

============================  ===============================================================
``manifest.json``             format name and version, run metadata, sha256 of every file
``config.json``               the :class:`~recsys_core.config.TrainConfig`
``history.json``              one object per epoch (losses, validation metrics, speed)
``metrics.json``              test-split metrics (classification + ranking)
``class_counts.json``         ratings per class before and after oversampling
``split.json``                the split summary
``model.safetensors``         the NCF weights (safetensors: tensors only, no pickle)
``ids.npz``                   user and item ids in code order (string arrays, no pickle)
``pairs.npz``                 seen (train + validation) pairs, test pairs, item popularity
``products.parquet``          optional product table (item, name, category)
============================  ===============================================================

The folder is written under a temporary sibling name and renamed into place, so a crash or a
full disk never leaves a half-written run where a good one was. :func:`load_run` checks every
checksum first and names the file that is missing, modified or truncated.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from recsys_core.config import TrainConfig
from recsys_core.encoding import IdMap
from recsys_core.errors import RecsysError
from recsys_core.model import NCF
from recsys_core.run_files import (
    FORMAT_NAME,
    FORMAT_VERSION,
    JSON_FILES,
    PRODUCTS_FILE,
    REQUIRED_FILES,
    file_sha256,
    load_npz,
    read_json,
    read_manifest,
    verify_files,
    write_json,
)
from recsys_core.topk import build_seen_matrix

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TEMP_PREFIX",
    "Run",
    "load_run",
    "read_run_summary",
    "save_run",
]

#: Name prefix of the folders a save writes before renaming them into place (and of the previous
#: run while it is being replaced); a leftover one belongs to a process that died mid-save.
TEMP_PREFIX = ".tmp-"

_PAIR_ARRAYS = ("seen_users", "seen_items", "test_users", "test_items", "test_ratings", "popularity")


@dataclass(eq=False)
class Run:
    """Everything one training run produced: enough to evaluate and recommend without retraining.

    Parameters
    ----------
    name, created_at
        A label for lists and the run's creation time (ISO 8601).
    config
        The recipe that trained it.
    id_map
        User and item ids <-> integer codes.
    model
        The trained :class:`~recsys_core.model.NCF` (best epoch restored).
    history
        One record per epoch. :class:`~recsys_core.training.EpochReport` objects are stored as
        plain dicts, so a fresh run and a loaded one look the same.
    class_counts_before, class_counts_after
        ``{rating: count}`` of the training split before and after oversampling.
    metrics
        Test-split metrics, as returned by :func:`~recsys_core.evaluation.evaluate_run`.
    split_summary
        Sizes and method of the split (JSON-ready).
    seen_users, seen_items
        Codes of the train + validation pairs: never recommended, never counted as hits.
    test_users, test_items, test_ratings
        The held-out test pairs and their ratings.
    popularity
        Training ratings per item (length ``n_items``): the most-popular baseline.
    rating_min, rating_max
        The rating scale, for turning scores back into stars.
    products
        Optional product table with columns ``item, name, category``.
    duration_seconds
        Wall time of the whole run.
    message
        A note for the user (e.g. "stopped early"), empty when there is nothing to say.
    """

    name: str
    created_at: str
    config: TrainConfig
    id_map: IdMap
    model: NCF
    history: list[dict[str, Any]]
    class_counts_before: dict[float, int]
    class_counts_after: dict[float, int]
    metrics: dict[str, Any]
    split_summary: dict[str, Any]
    seen_users: np.ndarray
    seen_items: np.ndarray
    test_users: np.ndarray
    test_items: np.ndarray
    test_ratings: np.ndarray
    popularity: np.ndarray
    rating_min: float
    rating_max: float
    products: pd.DataFrame | None = None
    duration_seconds: float = 0.0
    message: str = ""
    _seen: sp.csr_matrix | None = field(default=None, init=False, repr=False)
    _rated: sp.csr_matrix | None = field(default=None, init=False, repr=False)
    _product_columns: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.history = [_record(entry) for entry in self.history]
        self.seen_users = np.asarray(self.seen_users, dtype=np.int64)
        self.seen_items = np.asarray(self.seen_items, dtype=np.int64)
        self.test_users = np.asarray(self.test_users, dtype=np.int64)
        self.test_items = np.asarray(self.test_items, dtype=np.int64)
        self.test_ratings = np.asarray(self.test_ratings, dtype=np.float64)
        self.popularity = np.asarray(self.popularity)
        self.class_counts_before = {float(k): int(v) for k, v in self.class_counts_before.items()}
        self.class_counts_after = {float(k): int(v) for k, v in self.class_counts_after.items()}

    @property
    def n_users(self) -> int:
        return self.model.n_users

    @property
    def n_items(self) -> int:
        return self.model.n_items

    def seen_matrix(self) -> sp.csr_matrix:
        """Boolean ``n_users x n_items`` CSR of the train + validation pairs (built once)."""
        if self._seen is None:
            self._seen = build_seen_matrix(self.seen_users, self.seen_items, self.n_users, self.n_items)
        return self._seen

    def validation_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(user codes, item codes) of the validation pairs: the last ``split_summary["validation"]``
        seen pairs (the pipeline stores train then validation)."""
        count = int(self.split_summary.get("validation", 0) or 0)
        count = min(max(count, 0), len(self.seen_users))
        start = len(self.seen_users) - count
        return self.seen_users[start:], self.seen_items[start:]

    def training_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(user codes, item codes) of the training pairs, before oversampling."""
        start = len(self.seen_users) - len(self.validation_pairs()[0])
        return self.seen_users[:start], self.seen_items[:start]

    def rated_matrix(self) -> sp.csr_matrix:
        """Like :meth:`seen_matrix` but with the test pairs too: everything the user has rated."""
        if self._rated is None:
            self._rated = build_seen_matrix(
                np.concatenate([self.seen_users, self.test_users]),
                np.concatenate([self.seen_items, self.test_items]),
                self.n_users,
                self.n_items,
            )
        return self._rated

    def score_pairs(self, users: ArrayLike, items: ArrayLike) -> np.ndarray:
        """Predicted ratings in [0, 1] for (user code, item code) pairs, as float64 numpy.

        These are the model's scores, or its rating head's for a ``hybrid`` run (see
        :meth:`recsys_core.model.NCF.rating_scores`); the classification metrics use them.
        """
        self.model.eval()
        return self.model.score_pairs_chunked(users, items, "rating_scores", dtype=np.float64)

    def test_scores(self) -> np.ndarray:
        """Scores of the test pairs, in the order of :attr:`test_ratings`."""
        return self.score_pairs(self.test_users, self.test_items)

    def history_frame(self) -> pd.DataFrame:
        """The per-epoch history as a table (one row per epoch)."""
        return pd.DataFrame(self.history)

    def item_categories(self) -> np.ndarray | None:
        """Each item code's category (``None`` without a product table or without categories)."""
        columns = self.product_columns()
        categories = None if columns is None else columns.get("category")
        if categories is None or not np.any(categories != ""):
            return None
        return categories

    def product_columns(self) -> dict[str, np.ndarray] | None:
        """``{"name": ..., "category": ...}`` aligned with item codes, or ``None`` without products.

        Items missing from the product table get empty strings.
        """
        if self.products is None:
            return None
        if self._product_columns is None:
            table = self.products.drop_duplicates("item", keep="last").set_index("item")
            table.index = table.index.astype(str)
            aligned = table.reindex(pd.Index(self.id_map.items, dtype=str))
            self._product_columns = {
                column: aligned[column].fillna("").astype(str).to_numpy(dtype=object)
                for column in ("name", "category")
                if column in aligned.columns
            }
        return self._product_columns


def _record(entry: object) -> dict[str, Any]:
    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return dataclasses.asdict(entry)
    if isinstance(entry, dict):
        return dict(entry)
    raise RecsysError(f"A history entry must be an EpochReport or a dict, not {type(entry).__name__}.")


# -- saving -----------------------------------------------------------------------------------


def _compact_codes(codes: np.ndarray) -> np.ndarray:
    # Codes fit int32 for any realistic catalogue: half the bytes on disk.
    if len(codes) == 0 or (codes.min() >= np.iinfo(np.int32).min and codes.max() <= np.iinfo(np.int32).max):
        return codes.astype(np.int32)
    return codes


def _write_files(run: Run, folder: Path) -> None:
    write_json(folder / "config.json", run.config.to_dict())
    write_json(folder / "history.json", run.history)
    write_json(folder / "metrics.json", run.metrics)
    write_json(
        folder / "class_counts.json",
        {"before": run.class_counts_before, "after": run.class_counts_after},
    )
    write_json(folder / "split.json", run.split_summary)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in run.model.state_dict().items()}
    save_file(
        state,
        str(folder / "model.safetensors"),
        metadata={
            "n_users": str(run.model.n_users),
            "n_items": str(run.model.n_items),
            "embedding_dim": str(run.model.embedding_dim),
        },
    )
    np.savez_compressed(folder / "ids.npz", **run.id_map.to_arrays())
    np.savez(
        folder / "pairs.npz",
        seen_users=_compact_codes(run.seen_users),
        seen_items=_compact_codes(run.seen_items),
        test_users=_compact_codes(run.test_users),
        test_items=_compact_codes(run.test_items),
        test_ratings=run.test_ratings,
        popularity=np.asarray(run.popularity),
    )
    files = list(REQUIRED_FILES)
    if run.products is not None:
        products = run.products.copy()
        for column in products.columns:
            if column in ("item", "name", "category"):
                products[column] = products[column].astype(str)
        products.to_parquet(folder / PRODUCTS_FILE, index=False)
        files.append(PRODUCTS_FILE)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": run.name,
        "created_at": run.created_at,
        "duration_seconds": run.duration_seconds,
        "message": run.message,
        "rating_min": run.rating_min,
        "rating_max": run.rating_max,
        "model": {
            "n_users": run.model.n_users,
            "n_items": run.model.n_items,
            "embedding_dim": run.model.embedding_dim,
        },
        "files": {
            name: {"sha256": file_sha256(folder / name), "bytes": (folder / name).stat().st_size}
            for name in files
        },
    }
    # The manifest is written last: a folder without one was never finished.
    write_json(folder / "manifest.json", manifest)


def save_run(run: Run, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``run`` to the folder ``directory`` (created) and return its path.

    The files are written to a temporary sibling folder first and renamed into place, so
    ``directory`` holds either the previous complete run or the new complete run, never a mix.

    Parameters
    ----------
    overwrite
        Replace ``directory`` when it already holds a saved run. A non-empty folder that is not a
        saved run is never replaced, whatever ``overwrite`` says.
    """
    target = Path(directory)
    if target.exists():
        if not target.is_dir():
            raise RecsysError(f"Cannot save the run to {target}: it is a file; choose a folder name.")
        if any(target.iterdir()):
            if not (target / "manifest.json").is_file():
                raise RecsysError(
                    f"Cannot save the run to {target}: the folder holds files that are not a saved run, "
                    "and they would be deleted. Choose an empty or new folder."
                )
            if not overwrite:
                raise RecsysError(
                    f"{target} already holds a saved run; choose another folder or allow overwriting."
                )
    parent = target.absolute().parent
    token = uuid.uuid4().hex[:8]
    staging = parent / f"{TEMP_PREFIX}{target.name}-{token}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        _write_files(run, staging)
        if target.exists():
            retired = parent / f"{TEMP_PREFIX}old-{target.name}-{token}"
            os.replace(target, retired)
            try:
                os.replace(staging, target)
            except OSError:
                os.replace(retired, target)  # put the previous run back
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as exc:
        raise RecsysError(f"Cannot save the run to {target}: {exc.strerror or exc}.") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


# -- loading ----------------------------------------------------------------------------------


def read_run_summary(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """What a list of runs needs, read from the small JSON files only (no weights, no arrays).

    Returns
    -------
    dict
        ``name, created_at, duration_seconds, message, config`` (``TrainConfig.to_dict()``),
        ``metrics``, ``summary`` (the split summary) and ``class_counts`` (``{"before": {...},
        "after": {...}}`` with string keys), after checking those files' checksums.
    """
    folder = Path(directory)
    manifest = read_manifest(folder)
    names = ("config.json", "metrics.json", "split.json", "class_counts.json")
    verify_files(folder, manifest["files"], names)
    config, metrics, summary, counts = (read_json(folder, name) for name in names)
    return {
        "name": str(manifest.get("name", folder.name)),
        "created_at": str(manifest.get("created_at", "")),
        "duration_seconds": manifest.get("duration_seconds"),
        "message": str(manifest.get("message") or ""),
        "config": config,
        "metrics": metrics,
        "summary": summary,
        "class_counts": counts,
    }


def _load_model(folder: Path, manifest: dict[str, Any]) -> NCF:
    try:
        state = load_file(str(folder / "model.safetensors"))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RecsysError(
            f"model.safetensors in the run {folder} is truncated or corrupt ({exc}); retrain the run."
        ) from exc
    dims = manifest.get("model", {})
    try:
        model = NCF(
            int(dims["n_users"]),
            int(dims["n_items"]),
            int(dims["embedding_dim"]),
            rating_head="rating_scale" in state,  # hybrid runs carry a rating head
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecsysError(f"{folder}/manifest.json lacks the model's sizes; the run is damaged.") from exc
    expected = model.state_dict()
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
        raise RecsysError(
            f"model.safetensors in the run {folder} does not hold an NCF of "
            f"{model.n_users} users x {model.n_items} items x {model.embedding_dim} dims; the run is damaged."
        )
    model.load_state_dict(state)
    model.eval()
    return model


def load_run(directory: str | os.PathLike[str]) -> Run:
    """Read a run written by :func:`save_run`, after checking every file against the manifest.

    Nothing in the folder is executed: weights come from safetensors, arrays from ``.npz`` read
    with ``allow_pickle=False``, the rest from JSON and Parquet.

    Raises
    ------
    RecsysError
        When the folder or a file is missing, a file was modified or truncated, the format
        version is not this reader's, or the contents do not fit together.
    """
    folder = Path(directory)
    manifest = read_manifest(folder)
    verify_files(folder, manifest["files"])
    config_data, history, metrics, counts, split_summary = (read_json(folder, name) for name in JSON_FILES)
    try:
        config = TrainConfig.from_dict(config_data)
    except (TypeError, RecsysError) as exc:
        raise RecsysError(f"config.json in the run {folder} holds unusable settings ({exc}).") from exc
    model = _load_model(folder, manifest)
    ids = load_npz(folder, "ids.npz", ("users", "items"))
    pairs = load_npz(folder, "pairs.npz", _PAIR_ARRAYS)
    id_map = IdMap.from_arrays(ids["users"], ids["items"])
    if (id_map.n_users, id_map.n_items) != (model.n_users, model.n_items):
        raise RecsysError(
            f"ids.npz in the run {folder} lists {id_map.n_users} users and {id_map.n_items} items but the "
            f"model has {model.n_users} x {model.n_items}; the run is damaged."
        )
    for key in ("seen_users", "test_users"):
        codes = pairs[key]
        if len(codes) and (codes.min() < 0 or codes.max() >= model.n_users):
            raise RecsysError(
                f"pairs.npz in the run {folder} has {key} outside the user codes; it is damaged."
            )
    for key in ("seen_items", "test_items"):
        codes = pairs[key]
        if len(codes) and (codes.min() < 0 or codes.max() >= model.n_items):
            raise RecsysError(
                f"pairs.npz in the run {folder} has {key} outside the item codes; it is damaged."
            )
    if pairs["popularity"].shape != (model.n_items,):
        raise RecsysError(f"pairs.npz in the run {folder} has a popularity vector of the wrong length.")
    products = None
    if PRODUCTS_FILE in manifest["files"]:
        try:
            products = pd.read_parquet(folder / PRODUCTS_FILE)
        except (OSError, ValueError) as exc:
            raise RecsysError(f"{PRODUCTS_FILE} in the run {folder} cannot be read ({exc}).") from exc
    try:
        return Run(
            name=str(manifest.get("name", folder.name)),
            created_at=str(manifest.get("created_at", "")),
            config=config,
            id_map=id_map,
            model=model,
            history=list(history),
            class_counts_before=counts["before"],
            class_counts_after=counts["after"],
            metrics=metrics,
            split_summary=split_summary,
            seen_users=pairs["seen_users"],
            seen_items=pairs["seen_items"],
            test_users=pairs["test_users"],
            test_items=pairs["test_items"],
            test_ratings=pairs["test_ratings"],
            popularity=pairs["popularity"],
            rating_min=float(manifest["rating_min"]),
            rating_max=float(manifest["rating_max"]),
            products=products,
            duration_seconds=float(manifest.get("duration_seconds") or 0.0),
            message=str(manifest.get("message") or ""),
        )
    except RecsysError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecsysError(f"The run in {folder} is missing a field ({exc}); it is damaged.") from exc
