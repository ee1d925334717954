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

from recsys_core.errors import RecsysError


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
        """``{"users": ..., "items": ...}`` as fixed-width unicode arrays.

        No object dtype, so ``np.savez`` writes them and ``np.load(..., allow_pickle=False)``
        reads them back.
        """
        return {"users": _unicode_array(self.users), "items": _unicode_array(self.items)}

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
    # Byte order of UTF-8 is code-point order, and numpy sorts fixed-width bytes several times
    # faster than unicode or Arrow's sort; NUL bytes would be stripped by numpy's "S", so ids
    # containing one take Arrow's (slower) sort instead.
    if len(unique) and not pc.any(pc.match_substring(unique, "\x00")).as_py():
        as_bytes = unique.cast(pa.large_binary()).to_numpy(zero_copy_only=False).astype("S")
        ordered = pa.array(np.sort(as_bytes)).cast(pa.large_string())
    else:
        ordered = unique.take(pc.array_sort_indices(unique))
    return pd.Index(ordered, dtype="str")


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


def _unicode_array(index: pd.Index) -> np.ndarray:
    if not len(index):
        return np.array([], dtype="<U1")
    return index.to_numpy(dtype=str)


def _restore_ids(values: Any, name: str) -> pd.Index:
    array = np.asarray(values)
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
