"""Guards for reading files of a saved run that may have been made by hand.

A run folder's checksums only prove that its files agree with its manifest, not that either
was written by this program: a hand-made run can carry valid checksums. Before anything is
allocated from a file, the sizes it declares are checked here against the file itself and
against sane bounds:

* JSON: size, nesting depth and number length are bounded (no ``RecursionError``, no
  5,000-digit integer conversion);
* safetensors: the header alone is read and every tensor's shape, dtype and byte range is
  checked against the file size and the shapes the caller expects;
* ``.npz``: each member's ``.npy`` header is read (not its data), its declared size must match
  the zip entry, and a compressed entry may not inflate beyond :data:`MAX_INFLATE_RATIO`.

Every refusal is a :class:`~recsys_core.errors.RecsysError` naming the file.
"""

from __future__ import annotations

import math
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from recsys_core import files
from recsys_core.errors import RecsysError

#: Largest JSON file of a run that is read (history of many epochs stays far below).
MAX_JSON_BYTES = 16 << 20
#: Deepest nesting of arrays and objects accepted in a run's JSON (runs use about 4).
MAX_JSON_DEPTH = 32
#: Longest number literal accepted in a run's JSON.
MAX_NUMBER_DIGITS = 100
#: Largest safetensors header (the format's own limit is 100 MB).
MAX_SAFETENSORS_HEADER = 16 << 20
#: A compressed ``.npz`` entry may inflate at most this many times once it is over the floor.
MAX_INFLATE_RATIO = 200
#: Entries whose uncompressed size is under this are never refused for their ratio.
INFLATE_FLOOR_BYTES = 64 << 20

_SAFETENSORS_DTYPES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
}


def _damaged(name: str, folder: Path, why: str) -> RecsysError:
    return RecsysError(
        f"{name} in the run {folder} {why}; the run is damaged. Restore it or retrain the run."
    )


def _corrupt(name: str, folder: Path, why: str) -> RecsysError:
    return RecsysError(f"{name} in the run {folder} is truncated or corrupt ({why}); retrain the run.")


def _unreadable(name: str, folder: Path, why: str) -> RecsysError:
    return RecsysError(f"{name} in the run {folder} cannot be read ({why}); the run is damaged.")


def parse_json(data: bytes, name: str, folder: Path) -> object:
    """Strict-enough JSON with bounded size, depth and number length; errors name the file."""
    if len(data) > MAX_JSON_BYTES:
        raise _damaged(name, folder, f"is {len(data):,} bytes, more than a run's JSON ever holds")
    try:
        return files.parse_json(data, max_depth=MAX_JSON_DEPTH, max_number_chars=MAX_NUMBER_DIGITS)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _damaged(name, folder, f"is not valid JSON ({exc})") from None


def read_json_file(folder: Path, name: str, *, max_bytes: int = MAX_JSON_BYTES) -> object:
    """Read and :func:`parse_json` ``folder / name`` (size checked before reading)."""
    path = folder / name
    try:
        if not path.is_file():
            raise RecsysError(f"File {name} is missing from the run {folder}; restore it or retrain the run.")
        size = path.stat().st_size
        if size > max_bytes:
            raise _damaged(name, folder, f"is {size:,} bytes, more than a run's JSON ever holds")
        data = path.read_bytes()
    except OSError as exc:
        raise RecsysError(f"{name} in the run {folder} cannot be read ({exc.strerror or exc}).") from None
    return parse_json(data, name, folder)


def whole_number(value: object, low: int, high: int) -> int | None:
    """``value`` as an int when it is a JSON integer in ``[low, high]``, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if low <= value <= high else None


# -- safetensors ------------------------------------------------------------------------------


def safetensors_shapes(path: Path, folder: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape from a safetensors header, after checking it against the file.

    Only the header is read. Each tensor's byte range must lie inside the file and hold exactly
    ``prod(shape) * itemsize`` bytes, so the shapes can never promise more than the file holds.
    """
    name = path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise _corrupt(name, folder, "too short for a safetensors file")
            (length,) = struct.unpack("<Q", prefix)
            if length > min(MAX_SAFETENSORS_HEADER, size - 8):
                raise _corrupt(name, folder, f"it declares a header of {length:,} bytes")
            header = parse_json(handle.read(length), name, folder)
    except OSError as exc:
        raise RecsysError(f"{name} in the run {folder} cannot be read ({exc.strerror or exc}).") from None
    if not isinstance(header, dict):
        raise _corrupt(name, folder, "its header is not a JSON object")
    data_bytes = size - 8 - length
    shapes: dict[str, tuple[int, ...]] = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        shapes[key] = _tensor_shape(entry, data_bytes, f"{name} (tensor {key!r})", folder)
    return shapes


def _tensor_shape(entry: object, data_bytes: int, label: str, folder: Path) -> tuple[int, ...]:
    if not isinstance(entry, dict):
        raise _corrupt(label, folder, "not described by an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _SAFETENSORS_DTYPES or not isinstance(shape, list) or not isinstance(offsets, list):
        raise _corrupt(label, folder, "no usable dtype, shape or data offsets")
    dims = [whole_number(d, 0, 1 << 40) for d in shape]
    bounds = [whole_number(o, 0, data_bytes) for o in offsets]
    if None in dims or len(bounds) != 2 or None in bounds or len(dims) > 8:
        raise _corrupt(label, folder, "an impossible shape, or data beyond the end of the file")
    begin, end = bounds
    if end - begin != math.prod(dims) * _SAFETENSORS_DTYPES[dtype]:
        raise _corrupt(label, folder, f"shape {tuple(dims)} but {end - begin:,} bytes of data")
    return tuple(int(d) for d in dims)


# -- npz --------------------------------------------------------------------------------------


def npz_members(
    path: Path, folder: Path, keys: tuple[str, ...]
) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """Key -> (dtype, shape) of the ``.npy`` members ``keys`` of an ``.npz``, data unread.

    Raises
    ------
    RecsysError
        A member is missing, holds objects (pickle), declares more data than its zip entry
        holds, or a compressed entry would inflate past :data:`MAX_INFLATE_RATIO`.
    """
    name = path.name
    found: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            entries = {info.filename: info for info in archive.infolist()}
            missing = [key for key in keys if f"{key}.npy" not in entries]
            if missing:
                raise _unreadable(name, folder, f"it lacks {', '.join(missing)}")
            for key in keys:
                info = entries[f"{key}.npy"]
                _check_inflation(info, f"{name} ({key})", folder)
                with archive.open(info) as member:
                    found[key] = _npy_header(member, info.file_size, f"{name} ({key})", folder)
    except RecsysError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise _unreadable(name, folder, str(exc)) from None
    return found


def _check_inflation(info: zipfile.ZipInfo, label: str, folder: Path) -> None:
    if info.file_size <= INFLATE_FLOOR_BYTES:
        return
    if info.file_size > MAX_INFLATE_RATIO * max(info.compress_size, 1):
        raise _unreadable(
            label,
            folder,
            f"it would inflate {info.compress_size:,} compressed bytes to {info.file_size:,} "
            f"(more than {MAX_INFLATE_RATIO}x)",
        )


def _npy_header(
    member: object, entry_bytes: int, label: str, folder: Path
) -> tuple[np.dtype, tuple[int, ...]]:
    fmt = np.lib.format
    version = fmt.read_magic(member)
    reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    if version not in ((1, 0), (2, 0)):
        raise _unreadable(label, folder, f"unknown .npy version {version}")
    shape, _fortran, dtype = reader(member)
    header_bytes = member.tell()  # type: ignore[attr-defined]
    if dtype.hasobject:
        raise _unreadable(label, folder, "it holds Python objects (pickle), which are never loaded")
    declared = math.prod(shape) * dtype.itemsize
    if declared != entry_bytes - header_bytes:
        raise _unreadable(
            label, folder, f"it declares {declared:,} bytes of data but holds {entry_bytes - header_bytes:,}"
        )
    return dtype, tuple(int(d) for d in shape)


def check_shapes(
    found: Mapping[str, tuple[np.dtype, tuple[int, ...]]],
    expected: Mapping[str, tuple[str, int | None]],
    name: str,
    folder: Path,
) -> None:
    """Each member must be 1-D, of a dtype kind in ``kinds`` and (when given) of ``length``."""
    for key, (kinds, length) in expected.items():
        dtype, shape = found[key]
        if len(shape) != 1 or dtype.kind not in kinds or (length is not None and shape[0] != length):
            want = f"{length:,} values" if length is not None else "a 1-D array"
            raise _damaged(f"{name} ({key})", folder, f"holds {dtype} with shape {shape}, expected {want}")
