"""The weights and arrays of a saved run, checked against each other before anything is allocated.

:func:`~recsys_core.runs.load_run` reads the model's sizes from the manifest; this module checks
them against bounds and against the safetensors header (read alone) before the model is built,
and checks the ``.npz`` members' declared dtypes and shapes against the model before their data
is read. A hand-made run folder with valid checksums can therefore never make the loader
allocate more than its files hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from safetensors import SafetensorError
from safetensors.torch import load_file

from recsys_core.config import MAX_EMBEDDING_DIM
from recsys_core.data.ratings import MAX_ID_LENGTH
from recsys_core.errors import RecsysError, plain
from recsys_core.model import MAX_BLEND_WEIGHT, MAX_SIMILARITY, NCF, Blend
from recsys_core.runs._files import NEIGHBOURS_FILE, NpzCheck, load_npz
from recsys_core.runs._guard import check_shapes, safetensors_shapes, whole_number

#: Most users or products of a loaded model: codes are int32.
MAX_CODES = 2**31 - 1
#: Longest id a run can hold, in bytes of a fixed-width unicode array.
MAX_ID_ITEMSIZE = 4 * MAX_ID_LENGTH

PAIR_ARRAYS = ("seen_users", "seen_items", "test_users", "test_items", "test_ratings", "popularity")
#: Members of ``neighbours.npz``: the CSR arrays of the item similarity and the blend weight.
NEIGHBOUR_ARRAYS = ("indptr", "indices", "data", "weight")


def model_sizes(folder: Path, manifest: dict[str, Any]) -> tuple[int, int, int]:
    dims = manifest.get("model")
    dims = dims if isinstance(dims, dict) else {}
    sizes = (
        whole_number(dims.get("n_users"), 0, MAX_CODES),
        whole_number(dims.get("n_items"), 0, MAX_CODES),
        whole_number(dims.get("embedding_dim"), 1, MAX_EMBEDDING_DIM),
    )
    if None in sizes:
        raise RecsysError(
            f"{folder}/manifest.json lacks the model's sizes or gives impossible ones (users and "
            f"products 0 to {MAX_CODES:,}, embedding 1 to {MAX_EMBEDDING_DIM:,}); the run is damaged."
        )
    return sizes  # type: ignore[return-value]


def load_model(folder: Path, manifest: dict[str, Any]) -> NCF:
    n_users, n_items, dim = model_sizes(folder, manifest)
    # The header's shapes are checked before anything is allocated: a hand-made manifest cannot
    # make the loader build a model larger than the weights file holds.
    shapes = safetensors_shapes(folder / "model.safetensors", folder)
    expected = {
        "user_embedding.weight": (n_users, dim),
        "item_embedding.weight": (n_items, dim),
        "user_bias.weight": (n_users, 1),
        "item_bias.weight": (n_items, 1),
    }
    hybrid = "rating_scale" in shapes  # hybrid runs carry a rating head
    if hybrid:
        expected.update(rating_user_bias=(n_users,), rating_item_bias=(n_items,), rating_scale=(1,))
    if shapes != expected:
        raise RecsysError(
            f"model.safetensors in the run {folder} does not hold an NCF of "
            f"{n_users} users x {n_items} items x {dim} dims; the run is damaged."
        )
    try:
        state = load_file(str(folder / "model.safetensors"))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RecsysError(
            f"model.safetensors in the run {folder} is truncated or corrupt ({exc}); retrain the run."
        ) from exc
    model = NCF(n_users, n_items, dim, rating_head=hybrid)
    model.load_state_dict(state)
    model.eval()
    return model


def id_check(folder: Path, n_users: int, n_items: int) -> NpzCheck:
    """Refuse id arrays that do not list the model's users and items (before reading them)."""

    def check(found: Mapping[str, tuple[np.dtype, tuple[int, ...]]]) -> None:
        for key, count in (("users", n_users), ("items", n_items)):
            dtype, shape = found[key]
            packed = dtype.kind == "u" and dtype.itemsize == 1  # offsets + UTF-8 bytes
            fixed = dtype.kind in "US" and dtype.itemsize <= MAX_ID_ITEMSIZE and shape[:1] == (count,)
            if len(shape) != 1 or not (packed or fixed):
                raise RecsysError(
                    f"ids.npz in the run {folder} lists {key} as {dtype} with shape {shape}, but the "
                    f"model has {count:,} {key}; the run is damaged."
                )

    return check


def pairs_check(folder: Path, n_items: int) -> NpzCheck:
    """Refuse pair arrays of the wrong kind or of mismatched lengths (before reading them)."""

    def check(found: Mapping[str, tuple[np.dtype, tuple[int, ...]]]) -> None:
        codes = {key: ("iu", None) for key in PAIR_ARRAYS[:4]}
        check_shapes(found, {**codes, "test_ratings": ("fiu", None), "popularity": ("fiu", n_items)},
                     "pairs.npz", folder)  # fmt: skip
        lengths = {key: found[key][1][0] for key in PAIR_ARRAYS[:5]}
        if not lengths["seen_users"] == lengths["seen_items"] or len(set(list(lengths.values())[2:])) != 1:
            raise RecsysError(
                f"pairs.npz in the run {folder} holds pair arrays of different lengths; it is damaged."
            )

    return check


def check_codes(folder: Path, pairs: dict[str, np.ndarray], n_users: int, n_items: int) -> None:
    for key, limit, what in (
        ("seen_users", n_users, "user"),
        ("test_users", n_users, "user"),
        ("seen_items", n_items, "item"),
        ("test_items", n_items, "item"),
    ):
        codes = pairs[key]
        if len(codes) and (codes.min() < 0 or codes.max() >= limit):
            raise RecsysError(
                f"pairs.npz in the run {folder} has {key} outside the {what} codes; it is damaged."
            )


def neighbours_check(folder: Path, n_items: int) -> NpzCheck:
    """Refuse a similarity whose arrays do not fit ``n_items`` (before reading them)."""

    def check(found: Mapping[str, tuple[np.dtype, tuple[int, ...]]]) -> None:
        check_shapes(
            found,
            {"indptr": ("iu", n_items + 1), "indices": ("iu", None), "data": ("f", None), "weight": ("f", 1)},
            NEIGHBOURS_FILE,
            folder,
        )
        stored = found["indices"][1][0]
        if found["data"][1][0] != stored or stored > n_items * n_items:
            raise RecsysError(
                f"{NEIGHBOURS_FILE} in the run {folder} holds {stored:,} indices and "
                f"{found['data'][1][0]:,} values for {n_items:,} products; the run is damaged."
            )

    return check


def load_blend(folder: Path, n_items: int) -> Blend:
    """The run's item-kNN blend from ``neighbours.npz``, every array checked against ``n_items``."""
    arrays = load_npz(folder, NEIGHBOURS_FILE, NEIGHBOUR_ARRAYS, neighbours_check(folder, n_items))
    indptr, indices = arrays["indptr"].astype(np.int64), arrays["indices"].astype(np.int64)
    data, weight = arrays["data"], float(arrays["weight"][0])
    sound = (
        indptr[0] == 0
        and indptr[-1] == len(indices)
        and bool((np.diff(indptr) >= 0).all())
        and (not len(indices) or (indices.min() >= 0 and indices.max() < n_items))
        and bool(np.isfinite(data).all())
        and np.isfinite(weight)
        and weight >= 0
    )
    if not sound:
        raise RecsysError(
            f"{NEIGHBOURS_FILE} in the run {folder} does not hold a similarity of {n_items:,} products "
            "and a finite weight >= 0; the run is damaged."
        )
    _check_blend_values(folder, data, weight)
    similarity = sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=(n_items, n_items))
    return Blend(similarity, weight)


def _check_blend_values(folder: Path, data: np.ndarray, weight: float) -> None:
    """Refuse what training cannot produce: a weight off :data:`BLEND_GRID`'s range, similarities
    outside 0..1 (a forged 1e308 made every score 1.0, with overflow warnings)."""
    if weight > MAX_BLEND_WEIGHT:
        raise RecsysError(
            f"{NEIGHBOURS_FILE} in the run {folder} has the blend weight {plain(weight)}, above the "
            f"{MAX_BLEND_WEIGHT:g} training can choose; the file was edited or damaged. Train the run again."
        )
    if len(data) and (float(data.min()) < 0 or float(data.max()) > MAX_SIMILARITY):
        worst = float(data.max()) if float(data.max()) > MAX_SIMILARITY else float(data.min())
        raise RecsysError(
            f"{NEIGHBOURS_FILE} in the run {folder} holds a similarity of {plain(worst)}; item-kNN "
            "similarities lie between 0 and 1, so the file was edited or damaged. Train the run again."
        )


def save_blend(blend: Blend, path: Path) -> None:
    """Write ``neighbours.npz`` (read back by :func:`load_blend`)."""
    similarity = blend.similarity
    np.savez(
        path,
        indptr=similarity.indptr.astype(np.int64),
        indices=similarity.indices.astype(np.int32),
        data=similarity.data.astype(np.float32),
        weight=np.array([blend.weight], dtype=np.float64),
    )
