"""A run on disk: :func:`save_run`, :func:`load_run` and :func:`read_run_summary`.

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

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors import SafetensorError
from safetensors.torch import save_file

from recsys_core.config import TrainConfig
from recsys_core.data import IdMap, as_codes
from recsys_core.errors import RecsysError
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
from recsys_core.runs._run import Run
from recsys_core.runs._staging import (
    MAX_RUN_NAME_BYTES,
    NEW_RUN,
    TEMP_PREFIX,
    begin,
    check_run_destination,
    recover,
    swap_in,
)
from recsys_core.runs._summary import RunSummary

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_RUN_NAME_BYTES",
    "TEMP_PREFIX",
    "check_run_destination",
    "load_run",
    "read_run_summary",
    "save_run",
]


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
        ("split.json", lambda p: write_json(p, run.summary.to_json())),
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
    run.path = target
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
        ``metrics``, ``summary`` (:class:`RunSummary`) and ``class_counts`` (``{"before": {...},
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
        "summary": RunSummary.from_json(summary),
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
        run = _load_checked(folder)
    except RecursionError as exc:  # belt and braces: JSON depth is bounded before parsing
        raise RecsysError(f"The run in {folder} nests its data too deeply ({exc}); it is damaged.") from None
    except OSError as exc:
        name = Path(exc.filename).name if exc.filename else "a file"
        raise RecsysError(f"{name} in the run {folder} cannot be read ({exc.strerror or exc}).") from None
    run.path = folder
    return run


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
            summary=RunSummary.from_json(split_summary),
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
