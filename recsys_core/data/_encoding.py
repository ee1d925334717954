"""User and product ids to integer codes ``0..n-1`` (the rows of the embedding tables).

The order is the sorted order of the ids, as scikit-learn's ``LabelEncoder`` in the reference
notebook: it depends only on which ids there are, not on the order of the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike

from recsys_core.errors import RecsysError

# Saved ids stay fixed-width unicode (readable by every earlier version) while that costs at
# most this many times their UTF-8 bytes (or under _SMALL_ARRAY); beyond, a few very long ids
# among short ones would cost customers x longest id x 4 bytes, so they are saved packed.
_PADDING_LIMIT = 8
_SMALL_ARRAY = 1 << 20
_PACKED_MAGIC = b"RSIDS1\x00\x00"


def as_codes(values: ArrayLike, *, narrow: bool = True) -> np.ndarray:
    """Integer codes as a flat, contiguous int32 array when every value fits (any table below
    2**31 rows), else int64; no copy when they already are.

    Every trainer, kernel and scorer takes either; int32 halves the epoch's sample arrays and a
    saved run's pairs on disk. Other dtypes are converted to int64 first.

    Parameters
    ----------
    values
        Codes of any shape (flattened).
    narrow
        ``False`` keeps int64 codes as int64 (int32 or int64 as given, others as int64): for a
        one-off use such as scoring pairs, where narrowing would copy the whole array only to read
        it once.
    """
    codes = np.asarray(values)
    if codes.dtype != np.int32 and codes.dtype != np.int64:
        codes = codes.astype(np.int64)
    if narrow and codes.dtype == np.int64:
        small = np.iinfo(np.int32)
        if not codes.size or (codes.min() >= small.min and codes.max() <= small.max):
            codes = codes.astype(np.int32)
    return np.ascontiguousarray(codes if codes.ndim == 1 else codes.reshape(-1))


@dataclass(frozen=True)
class IdMap:
    """The catalogue of a training split: which users and items the model has rows for.

    Attributes
    ----------
    users, items
        ``pd.Index`` of str ids, sorted; an id's position is its code.
    """

    users: pd.Index
    items: pd.Index

    @classmethod
    def fit(cls, train_frame: pd.DataFrame) -> IdMap:
        """The users and items of ``train_frame`` (columns ``user`` and ``item``)."""
        missing = [c for c in ("user", "item") if c not in getattr(train_frame, "columns", ())]
        if missing:
            raise RecsysError(
                f"Cannot build the id map: the training frame has no {' or '.join(missing)} column; "
                "pass the frame of a split (columns user, item, rating)."
            )
        return cls(users=_sorted_ids(train_frame["user"]), items=_sorted_ids(train_frame["item"]))

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Codes of ``frame``'s ``user`` and ``item`` columns (int64, -1 where unknown)."""
        missing = [c for c in ("user", "item") if c not in getattr(frame, "columns", ())]
        if missing:
            raise RecsysError(
                f"Cannot encode ids: the frame has no {' or '.join(missing)} column; pass a ratings frame "
                "(columns user, item, rating)."
            )
        return self.encode_users(frame["user"]), self.encode_items(frame["item"])

    def encode_users(self, values: Iterable[Any]) -> np.ndarray:
        """Codes of user ids (int64, -1 where unknown)."""
        return _codes(self.users, values)

    def encode_items(self, values: Iterable[Any]) -> np.ndarray:
        """Codes of item ids (int64, -1 where unknown)."""
        return _codes(self.items, values)

    def user_code(self, user_id: Any) -> int | None:
        """The code of one user id, or ``None`` for an id the model has never seen."""
        return _one_code(self.users, user_id)

    def item_code(self, item_id: Any) -> int | None:
        """The code of one item id, or ``None`` for an id the model has never seen."""
        return _one_code(self.items, item_id)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """``{"users": ..., "items": ...}`` as arrays that ``np.savez`` writes without pickle.

        Fixed-width unicode arrays, as earlier versions saved them, while their padding costs
        little; when a few long ids would make them many times larger than the ids' text, a
        packed ``uint8`` array instead (offsets and UTF-8 bytes: the size of the text).
        :meth:`from_arrays` reads both, so ``np.load(..., allow_pickle=False)`` reads them back.
        """
        return {"users": _id_array(self.users), "items": _id_array(self.items)}

    @classmethod
    def from_arrays(
        cls, users: Mapping[str, np.ndarray] | np.ndarray, items: np.ndarray | None = None
    ) -> IdMap:
        """Rebuild from :meth:`to_arrays`' dict (or an ``np.load`` result), or from two arrays.

        Raises
        ------
        RecsysError
            When an array is missing, is not of strings, or repeats an id.
        """
        if items is None:
            if not isinstance(users, Mapping) and not hasattr(users, "files"):
                raise RecsysError("IdMap.from_arrays needs the dict from to_arrays() or two arrays of ids.")
            stored = users
            try:
                users, items = stored["users"], stored["items"]
            except KeyError as exc:
                raise RecsysError(
                    f"The saved id map has no {exc.args[0]!r} array; the run folder is incomplete or from "
                    "another program. Train the run again."
                ) from None
        return cls(users=_restore_ids(users, "users"), items=_restore_ids(items, "items"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IdMap):
            return NotImplemented
        return self.users.equals(other.users) and self.items.equals(other.items)

    def __hash__(self) -> int:
        return hash((self.n_users, self.n_items))


def _sorted_ids(values: pd.Series) -> pd.Index:
    unique = pc.unique(_arrow_strings(values))
    # Arrow sorts strings by their UTF-8 bytes, which is code-point order, and keeps them as
    # offsets + bytes: no fixed-width copy sized by the longest id.
    return pd.Index(unique.take(pc.array_sort_indices(unique)), dtype="str")


def _arrow_strings(values: Any) -> pa.Array:
    """``values`` as an Arrow large_string array (ids compare by their text)."""
    if not isinstance(values, pd.Series | pd.Index | np.ndarray):
        values = list(values)
    series = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    if series.dtype != "str":
        series = series.astype(str)
    array = pa.array(series.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())


def _codes(index: pd.Index, values: Iterable[Any]) -> np.ndarray:
    # Arrow's hash look-up; pandas' get_indexer on Arrow strings is several times slower.
    found = pc.index_in(_arrow_strings(values), value_set=_arrow_strings(index))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _one_code(index: pd.Index, value: Any) -> int | None:
    try:
        code = index.get_loc(str(value))
    except KeyError:
        return None
    return int(code) if isinstance(code, int | np.integer) else None


def _id_array(index: pd.Index) -> np.ndarray:
    """The ids for ``np.savez``: fixed-width unicode while cheap, else packed (see ``_PADDING_LIMIT``)."""
    if not len(index):
        return np.array([], dtype="<U1")
    strings = _arrow_strings(index)
    utf8_bytes = int(pc.sum(pc.binary_length(strings)).as_py() or 0)
    longest = int(pc.max(pc.utf8_length(strings)).as_py() or 0)
    if len(strings) * longest * 4 <= max(_PADDING_LIMIT * utf8_bytes, _SMALL_ARRAY):
        return index.to_numpy(dtype=str)
    return _pack(strings)


def _pack(strings: pa.Array) -> np.ndarray:
    """``_PACKED_MAGIC``, the count (int64), ``count + 1`` offsets (int64) and the UTF-8 bytes."""
    strings = pa.concat_arrays([strings])  # offsets start at 0 in a fresh array
    offsets_buffer, data_buffer = strings.buffers()[1], strings.buffers()[2]
    count = len(strings)
    offsets = np.frombuffer(offsets_buffer, dtype="<i8", count=count + 1)
    data = np.frombuffer(data_buffer, dtype=np.uint8, count=int(offsets[-1])) if data_buffer else np.zeros(0)
    header = np.frombuffer(_PACKED_MAGIC + np.int64(count).astype("<i8").tobytes(), dtype=np.uint8)
    return np.concatenate([header, offsets.view(np.uint8), data.astype(np.uint8, copy=False)])


def _unpack(array: np.ndarray, name: str) -> pa.Array:
    """The Arrow strings of a :func:`_pack` array, checked before anything is built from them."""
    header = len(_PACKED_MAGIC) + 8
    count = -1
    if len(array) >= header and array[: len(_PACKED_MAGIC)].tobytes() == _PACKED_MAGIC:
        count = int(np.frombuffer(array, dtype="<i8", count=1, offset=len(_PACKED_MAGIC))[0])
    if count < 0 or header + 8 * (count + 1) > len(array):
        raise _damaged(name, "its header does not match its size")
    offsets = np.frombuffer(array, dtype="<i8", count=count + 1, offset=header)
    data = array[header + 8 * (count + 1) :]
    if offsets[0] != 0 or offsets[-1] != len(data) or (np.diff(offsets) < 0).any():
        raise _damaged(name, "its offsets do not fit its text")
    strings = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets.copy()), pa.py_buffer(data.copy()))
    try:
        strings.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise _damaged(name, f"it is not valid UTF-8 text ({exc})") from exc
    return strings


def _damaged(name: str, why: str) -> RecsysError:
    return RecsysError(
        f"The saved id map's {name!r} array is damaged: {why}; the run folder is damaged. Train the "
        "run again."
    )


def _restore_ids(values: object, name: str) -> pd.Index:
    array = np.asarray(values)
    if array.ndim == 1 and array.dtype == np.uint8 and len(array):
        index = pd.Index(_unpack(array, name), dtype="str")
    else:
        # The fixed-width layout, which every earlier version saved.
        if array.ndim != 1 or (array.dtype.kind not in "US" and len(array)):
            raise RecsysError(
                f"The saved id map's {name!r} array should be a 1-D array of strings but is "
                f"{array.dtype} with shape {array.shape}; the run folder is damaged. Train the run again."
            )
        if array.dtype.kind == "S":
            array = np.char.decode(array, "utf-8")
        index = pd.Index(array.astype(str), dtype="str")
    if not index.is_unique:
        raise RecsysError(
            f"The saved id map lists some {name} more than once ({index[index.duplicated()][0]!r} …); "
            "the run folder is damaged. Train the run again."
        )
    return index
