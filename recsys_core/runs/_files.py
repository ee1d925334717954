"""The files of a saved run: JSON writing, the manifest, checksums and guarded reading.

:mod:`recsys_core.runs._run` decides what goes into a run folder; this module knows how its files
are written and read back safely: strict JSON, the manifest's format check, every file checked
against the sizes and sha256 the manifest lists, ``.npz`` arrays read without pickle.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from recsys_core.errors import RecsysError
from recsys_core.files import file_sha256
from recsys_core.files import write_json as write_strict_json
from recsys_core.runs._guard import npz_members, read_json_file, whole_number

#: Sees ``{key: (dtype, shape)}`` of an ``.npz``'s members before their data is read.
NpzCheck = Callable[[Mapping[str, tuple[np.dtype, tuple[int, ...]]]], None]

FORMAT_NAME = "recsys-explorer-run"
#: Bumped whenever a change would make an older reader misread a newer run (or vice versa).
FORMAT_VERSION = 1

JSON_FILES = ("config.json", "history.json", "metrics.json", "class_counts.json", "split.json")
REQUIRED_FILES = (*JSON_FILES, "model.safetensors", "ids.npz", "pairs.npz")
PRODUCTS_FILE = "products.parquet"
#: The item-kNN blend's similarity and weight (runs trained with ``neighbours`` > 0 only).
NEIGHBOURS_FILE = "neighbours.npz"
#: A manifest lists a dozen files: anything much larger was not written by a save.
MAX_MANIFEST_BYTES = 1 << 20


def json_ready(value: Any) -> Any:
    """Plain JSON types; NaN and infinities become null (strict JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, float) else f"{k:g}": json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    # datetime, pandas Timestamp
    return value.isoformat() if hasattr(value, "isoformat") else value


def write_json(path: Path, value: Any) -> None:
    """``value`` (:func:`json_ready` first) as indented strict JSON, written all or nothing."""
    write_strict_json(path, json_ready(value), indent=2)


def read_json(folder: Path, name: str) -> Any:
    """A run's JSON file, with bounded size, depth and numbers (see :mod:`recsys_core.runs._guard`)."""
    return read_json_file(folder, name)


def read_json_of(folder: Path, name: str, kind: type) -> Any:
    """:func:`read_json`, refused unless the top level is a ``kind`` (``dict`` or ``list``)."""
    value = read_json(folder, name)
    if not isinstance(value, kind):
        what = "an object" if kind is dict else "a list"
        raise RecsysError(f"{name} in the run {folder} is not {what}; the run is damaged.")
    return value


def read_manifest(folder: Path) -> dict[str, Any]:
    if not folder.exists():
        raise RecsysError(
            f"No saved run at {folder}: the folder does not exist. Check the path, or train a run "
            "with `recsys train … --out FOLDER`."
        )
    if not folder.is_dir():
        raise RecsysError(
            f"{folder} is a file, not a saved run folder; pass the folder the run was saved to."
        )
    if not (folder / "manifest.json").is_file():
        raise RecsysError(
            f"{folder} is not a saved run: manifest.json is missing (it is written last, so the save "
            "may have been interrupted). Pass the folder written by `recsys train --out` or the app."
        )
    manifest = read_json_file(folder, "manifest.json", max_bytes=MAX_MANIFEST_BYTES)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise RecsysError(f"{folder}/manifest.json does not describe a RecSys Explorer run.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise RecsysError(
            f"The run in {folder} has format version {version!r} but this version of RecSys Explorer "
            f"reads version {FORMAT_VERSION}; retrain the run, or load it with the version that saved it."
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise RecsysError(f"{folder}/manifest.json has no file list; the run is damaged.")
    for name, entry in files.items():
        # A hand-made manifest: every entry must be {"sha256": hex, "bytes": whole number}.
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or whole_number(entry.get("bytes"), 0, 1 << 50) is None
        ):
            raise RecsysError(
                f"{folder}/manifest.json lists {name!r} without a checksum and a byte count; "
                "the run is damaged."
            )
    return manifest


def verify_files(folder: Path, files: dict[str, Any], names: tuple[str, ...] | None = None) -> None:
    """Check ``names`` (default: every file of a run) against the manifest's sizes and sha256."""
    for name in REQUIRED_FILES:
        if name not in files:
            raise RecsysError(
                f"The manifest of the run {folder} does not list {name}; the run is incomplete."
            )
    for name in names or (*REQUIRED_FILES, PRODUCTS_FILE, NEIGHBOURS_FILE):
        if name not in files:
            continue
        path = folder / name
        if not path.is_file():
            raise RecsysError(f"File {name} is missing from the run {folder}; restore it or retrain the run.")
        entry = files[name]
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        declared = entry.get("bytes") if isinstance(entry, dict) else None
        try:
            size = path.stat().st_size
            if whole_number(declared, 0, 1 << 50) is not None and size != declared:
                raise RecsysError(
                    f"File {name} in the run {folder} was modified or truncated ({size:,} bytes, "
                    f"expected {declared:,}); restore it or retrain the run."
                )
            actual = file_sha256(path)
        except OSError as exc:
            raise RecsysError(
                f"File {name} in the run {folder} cannot be read ({exc.strerror or exc})."
            ) from None
        if actual != expected:
            raise RecsysError(
                f"File {name} in the run {folder} was modified or truncated (its checksum does not match "
                "the manifest); restore it or retrain the run."
            )


def load_npz(
    folder: Path, name: str, keys: tuple[str, ...], check: NpzCheck | None = None
) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of ``folder / name``, read without pickle.

    Every member's ``.npy`` header is checked first (:func:`~recsys_core.runs._guard.npz_members`);
    ``check`` then sees the declared dtypes and shapes and may refuse them before any data is read.
    """
    found = npz_members(folder / name, folder, keys)
    if check is not None:
        check(found)
    try:
        with np.load(folder / name, allow_pickle=False) as archive:
            return {key: archive[key] for key in keys}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise RecsysError(f"{name} in the run {folder} cannot be read ({exc}); the run is damaged.") from exc
