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
``neighbours.npz``            optional item-kNN blend: similarity (CSR arrays) and its weight
============================  ===============================================================

The folder is written under a temporary sibling name and renamed into place, so a crash or a
full disk never leaves a half-written run where a good one was. :func:`load_run` checks every
checksum first and names the file that is missing, modified or truncated.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from safetensors import SafetensorError
from safetensors.torch import save_file

from recsys_core.config import TrainConfig
from recsys_core.data import IdMap, as_codes
from recsys_core.errors import RecsysError
from recsys_core.model import NCF, Blend
from recsys_core.runs._arrays import (
    PAIR_ARRAYS,
    check_codes,
    id_check,
    load_blend,
    load_model,
    pairs_check,
    save_blend,
)
from recsys_core.runs._files import (
    FORMAT_NAME,
    FORMAT_VERSION,
    NEIGHBOURS_FILE,
    PRODUCTS_FILE,
    REQUIRED_FILES,
    file_sha256,
    load_npz,
    read_json_of,
    read_manifest,
    verify_files,
    write_json,
)
from recsys_core.runs._staging import (
    MAX_RUN_NAME_BYTES,
    NEW_RUN,
    TEMP_PREFIX,
    begin,
    check_run_destination,
    recover,
    swap_in,
)
from recsys_core.topn import build_seen_matrix

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_RUN_NAME_BYTES",
    "TEMP_PREFIX",
    "Run",
    "check_run_destination",
    "load_run",
    "read_run_summary",
    "save_run",
]


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
        Test-split metrics, as returned by :func:`~recsys_core.metrics.evaluate_run`.
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
    blend
        The item-kNN blend every top-N list ranks with (:mod:`recsys_core.model._blend`), or ``None``
        for the plain model (``neighbours`` 0, ``β = 0`` chosen, or a run saved before blends).
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
    blend: Blend | None = None
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


def _write_products(run: Run, path: Path) -> None:
    products = run.products.copy()
    for column in products.columns:
        if column in ("item", "name", "category"):
            products[column] = products[column].astype(str)
    products.to_parquet(path, index=False)


def _write_weights(run: Run, path: Path) -> None:
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in run.model.state_dict().items()}
    save_file(
        state,
        str(path),
        metadata={
            "n_users": str(run.model.n_users),
            "n_items": str(run.model.n_items),
            "embedding_dim": str(run.model.embedding_dim),
        },
    )


def _write_pairs(run: Run, path: Path) -> None:
    np.savez(
        path,
        seen_users=as_codes(run.seen_users),
        seen_items=as_codes(run.seen_items),
        test_users=as_codes(run.test_users),
        test_items=as_codes(run.test_items),
        test_ratings=run.test_ratings,
        popularity=np.asarray(run.popularity),
    )


def _manifest(run: Run, folder: Path, files: list[str]) -> dict[str, Any]:
    return {
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


def _write_files(run: Run, folder: Path, target: Path) -> None:
    """Write every file of ``run`` into ``folder``; a failed write names the file (for ``target``)."""
    steps: list[tuple[str, Callable[[Path], None]]] = [
        ("config.json", lambda p: write_json(p, run.config.to_dict())),
        ("history.json", lambda p: write_json(p, run.history)),
        ("metrics.json", lambda p: write_json(p, run.metrics)),
        (
            "class_counts.json",
            lambda p: write_json(p, {"before": run.class_counts_before, "after": run.class_counts_after}),
        ),
        ("split.json", lambda p: write_json(p, run.split_summary)),
        ("model.safetensors", lambda p: _write_weights(run, p)),
        ("ids.npz", lambda p: np.savez_compressed(p, **run.id_map.to_arrays())),
        ("pairs.npz", lambda p: _write_pairs(run, p)),
    ]
    files = list(REQUIRED_FILES)
    if run.products is not None:
        steps.append((PRODUCTS_FILE, lambda p: _write_products(run, p)))
        files.append(PRODUCTS_FILE)
    if run.blend is not None:
        steps.append((NEIGHBOURS_FILE, lambda p: save_blend(run.blend, p)))
        files.append(NEIGHBOURS_FILE)
    # The manifest is written last: a folder without one was never finished.
    steps.append(("manifest.json", lambda p: write_json(p, _manifest(run, folder, files))))
    for name, write in steps:
        try:
            write(folder / name)
        except (OSError, SafetensorError) as exc:
            # safetensors reports a full disk as its own error type, with the OS error inside.
            reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
            raise RecsysError(
                f"Cannot save the run to {target}: writing {name} failed ({reason}). Is the disk full? "
                "The previous contents of the folder are unchanged."
            ) from None


def save_run(run: Run, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``run`` to the folder ``directory`` (created) and return its path.

    The files are written to a hidden staging folder beside it first and renamed into place, so
    ``directory`` holds either the previous complete run or the new complete run, never a mix.

    Parameters
    ----------
    overwrite
        Replace ``directory`` when it already holds a saved run. A non-empty folder that is not a
        saved run is never replaced, whatever ``overwrite`` says.
    """
    target = Path(directory)
    check_run_destination(target, overwrite)
    parent = target.absolute().parent
    staging: Path | None = None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = begin(parent, target.name)
        _write_files(run, staging / NEW_RUN, target)
        swap_in(staging, target)
    except OSError as exc:
        raise RecsysError(f"Cannot save the run to {target}: {exc.strerror or exc}.") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return target


# -- loading ----------------------------------------------------------------------------------


def _open_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, after repairing a save to this folder that was killed mid-overwrite."""
    try:
        if not folder.exists():
            recover(folder.absolute().parent)
    except OSError:
        pass  # read_manifest says what is wrong with the folder
    return read_manifest(folder)


def read_run_summary(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """What a list of runs needs, read from the small JSON files only (no weights, no arrays).

    Returns
    -------
    dict
        ``name, created_at, duration_seconds, message, config`` (``TrainConfig.to_dict()``),
        ``metrics``, ``summary`` (the split summary) and ``class_counts`` (``{"before": {...},
        "after": {...}}`` with string keys), after checking those files' checksums.

    Raises
    ------
    RecsysError
        For anything wrong with the folder, including files that are not JSON objects.
    """
    folder = Path(directory)
    try:
        manifest = _open_manifest(folder)
        names = ("config.json", "metrics.json", "split.json", "class_counts.json")
        verify_files(folder, manifest["files"], names)
        config, metrics, summary, counts = (read_json_of(folder, name, dict) for name in names)
    except OSError as exc:
        raise RecsysError(f"The run {folder} cannot be read ({exc.strerror or exc}).") from None
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


def load_run(directory: str | os.PathLike[str]) -> Run:
    """Read a run written by :func:`save_run`, after checking every file against the manifest.

    Nothing in the folder is executed: weights come from safetensors, arrays from ``.npz`` read
    with ``allow_pickle=False``, the rest from JSON and Parquet. Every size a file declares is
    checked against the file and a bound before anything is allocated from it.

    Raises
    ------
    RecsysError
        When the folder or a file is missing or unreadable, a file was modified or truncated, the
        format version is not this reader's, or the contents do not fit together.
    """
    folder = Path(directory)
    try:
        return _load_checked(folder)
    except RecursionError as exc:  # belt and braces: JSON depth is bounded before parsing
        raise RecsysError(f"The run in {folder} nests its data too deeply ({exc}); it is damaged.") from None
    except OSError as exc:
        name = Path(exc.filename).name if exc.filename else "a file"
        raise RecsysError(f"{name} in the run {folder} cannot be read ({exc.strerror or exc}).") from None


def _load_checked(folder: Path) -> Run:
    manifest = _open_manifest(folder)
    verify_files(folder, manifest["files"])
    config_data, metrics, counts, split_summary = (
        read_json_of(folder, name, dict)
        for name in ("config.json", "metrics.json", "class_counts.json", "split.json")
    )
    history = read_json_of(folder, "history.json", list)
    try:
        config = TrainConfig.from_dict(config_data)
    except (TypeError, ValueError, OverflowError) as exc:  # RecsysError is a ValueError
        raise RecsysError(f"config.json in the run {folder} holds unusable settings ({exc}).") from exc
    model = load_model(folder, manifest)
    n_users, n_items = model.n_users, model.n_items
    ids = load_npz(folder, "ids.npz", ("users", "items"), id_check(folder, n_users, n_items))
    pairs = load_npz(folder, "pairs.npz", PAIR_ARRAYS, pairs_check(folder, n_items))
    id_map = IdMap.from_arrays(ids["users"], ids["items"])
    if (id_map.n_users, id_map.n_items) != (n_users, n_items):
        raise RecsysError(
            f"ids.npz in the run {folder} lists {id_map.n_users} users and {id_map.n_items} items but the "
            f"model has {n_users} x {n_items}; the run is damaged."
        )
    check_codes(folder, pairs, n_users, n_items)
    blend = load_blend(folder, n_items) if NEIGHBOURS_FILE in manifest["files"] else None
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
            blend=blend,
        )
    except RecsysError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise RecsysError(f"The run in {folder} is missing a field ({exc}); it is damaged.") from exc
