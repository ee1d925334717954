"""EASE (Steck 2019): a closed-form item-to-item linear model.

``B = argmin ||X - X B||² + l2 ||B||²`` subject to ``diag(B) = 0`` has the closed form
``B = I - P diagMat(1 / diag(P))`` with ``P = (XᵀX + l2 I)⁻¹``. It needs a dense
``n_items x n_items`` inverse; when the users are fewer than the items the same ``B`` is reached
through the ``n_users x n_users`` matrix instead (Woodbury identity,
``P = (I - Xᵀ (l2 I + X Xᵀ)⁻¹ X) / l2``), which is what makes EASE affordable on a catalogue
of a few thousand items rated by a few thousand users.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines._scorer import binary_interactions, check_users, not_fitted
from recsys_core.errors import RecsysError, plain

#: Default memory budget of the dense solve (bytes). With the item-side solve this admits
#: catalogues of up to about 18,900 items (``12 * n_items**2`` bytes).
EASE_MAX_BYTES = 4 * 1024**3
SOLVERS = ("auto", "items", "users")


def ease_memory_bytes(n_items: int, n_users: int | None = None) -> int:
    """Peak bytes of the dense matrices of an EASE fit.

    Item side: ``12 * n_items**2`` (the float64 Gram matrix, inverted in place, and the float32
    weights ``B``). With ``n_users`` given, the cheaper of that and the user side,
    ``8 * n_users**2 + 12 * n_users * n_items`` (the float64 user kernel, inverted in place, and
    ``(l2 I + X Xᵀ)⁻¹ X`` in float64 then float32). Sparse inputs are not counted.
    """
    items_side = 12 * int(n_items) ** 2
    if n_users is None:
        return items_side
    return min(items_side, _users_side_bytes(int(n_items), int(n_users)))


def _users_side_bytes(n_items: int, n_users: int) -> int:
    return 8 * n_users**2 + 12 * n_users * n_items


def ease_side(n_users: int, n_items: int, solver: str = "auto") -> str:
    """The side EASE solves: ``solver``, or for ``"auto"`` the one taking less memory."""
    if solver != "auto":
        return solver
    return "items" if ease_memory_bytes(n_items) <= _users_side_bytes(n_items, n_users) else "users"


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite float64 matrix, overwriting it (Cholesky).

    Half the work of a general inverse, and no second ``n x n`` array: the transpose is the
    same matrix in Fortran order, which LAPACK factors and inverts in place.
    """
    # Imported here: scipy.linalg costs 40 ms of every `recsys train`, which never fits EASE.
    import scipy.linalg.lapack

    factor, info = scipy.linalg.lapack.dpotrf(matrix.T, lower=False, overwrite_a=True, clean=False)
    if info == 0:
        inverse, info = scipy.linalg.lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise RecsysError("EASE could not invert its Gram matrix; use a larger l2 penalty.")
    # potri fills one triangle (i <= j); mirror it a block of rows at a time (small copies).
    n, step = len(inverse), 1024
    for start in range(0, n, step):
        stop = min(start + step, n)
        inverse[start:stop, :start] = inverse[:start, start:stop].T
        block = inverse[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        block[lower] = block.T[lower]
    return inverse


def _gib(size: int) -> str:
    return f"{size / 1024**3:.1f} GiB"


class EASE:
    """Embarrassingly shallow autoencoder on binary interactions.

    Scores are ``X[u] @ B`` (see the module docstring), computed from whichever side was
    solved. Every observed rating counts as an interaction (1), whatever its value.

    Parameters
    ----------
    l2
        Ridge penalty (> 0). Its useful size grows with the item counts; see
        :func:`~recsys_core.baselines.ease_grid`.
    solver
        ``"items"`` (invert ``n_items x n_items``), ``"users"`` (invert ``n_users x n_users``)
        or ``"auto"``: the one taking less memory.
    max_bytes
        Memory budget of the dense solve; a fit that would need more (see
        :func:`ease_memory_bytes`) is refused with a :class:`~recsys_core.errors.RecsysError`
        that says how much it would take.
    """

    name = "EASE"

    def __init__(self, l2: float = 100.0, *, solver: str = "auto", max_bytes: int = EASE_MAX_BYTES) -> None:
        if not l2 > 0:
            raise RecsysError(f"EASE needs a positive l2 penalty, not {plain(l2)}.")
        if solver not in SOLVERS:
            raise RecsysError(f"EASE solver must be one of {', '.join(SOLVERS)}, not {solver!r}.")
        self.params: dict[str, float] = {"l2": float(l2)}
        self.solver = solver
        self.max_bytes = int(max_bytes)
        self.weights_: np.ndarray | None = None  # B (item side)
        self._kernel_x: np.ndarray | None = None  # (l2 I + X Xᵀ)⁻¹ X (user side)
        self._scale: np.ndarray | None = None  # l2 * diag(P) (user side)
        self._train: sp.csr_matrix | None = None

    def fit(self, train: sp.csr_matrix) -> Self:
        matrix = binary_interactions(train)
        n_users, n_items = matrix.shape
        side = ease_side(n_users, n_items, self.solver)
        need = ease_memory_bytes(n_items) if side == "items" else _users_side_bytes(n_items, n_users)
        if need > self.max_bytes:
            raise RecsysError(
                f"EASE on {n_users:,} users x {n_items:,} items would take {_gib(need)} of memory for its "
                f"dense solve ({side} side), over the budget of {_gib(self.max_bytes)}. Use item-kNN or "
                "iALS for a catalogue this large, or filter it (k-core) first."
            )
        self._train = matrix
        self.weights_ = self._kernel_x = self._scale = None
        if side == "items":
            self._fit_items(matrix)
        else:
            self._fit_users(matrix)
        return self

    def _fit_items(self, matrix: sp.csr_matrix) -> None:
        gram = (matrix.T @ matrix).toarray().astype(np.float64, copy=False)
        gram[np.diag_indices_from(gram)] += self.params["l2"]
        inverse = _spd_inverse(gram)
        del gram
        inverse /= -np.diag(inverse)[None, :]
        np.fill_diagonal(inverse, 0.0)
        self.weights_ = inverse.astype(np.float32)

    def _fit_users(self, matrix: sp.csr_matrix) -> None:
        l2 = self.params["l2"]
        kernel = (matrix @ matrix.T).toarray().astype(np.float64, copy=False)
        kernel[np.diag_indices_from(kernel)] += l2
        kernel = _spd_inverse(kernel)
        kernel_x = np.asarray((matrix.T @ kernel).T)  # (l2 I + X Xᵀ)⁻¹ X, users x items
        # l2 * P_jj = 1 - x_jᵀ (l2 I + X Xᵀ)⁻¹ x_j, x_j the column of item j.
        self._scale = 1.0 - np.asarray(matrix.multiply(kernel_x).sum(axis=0)).ravel()
        self._kernel_x = kernel_x.astype(np.float32)

    def score(self, users: np.ndarray) -> np.ndarray:
        if self._train is None:
            raise not_fitted(self.name)
        rows = self._train[check_users(users, self._train.shape[0])]
        if self.weights_ is not None:
            return np.asarray(rows @ self.weights_, dtype=np.float32)
        # X_u B = X_u - (X_u P) / P_jj, with l2 X_u P = X_u - (X_u Xᵀ) (l2 I + X Xᵀ)⁻¹ X.
        dense = rows.toarray()
        # X_u Xᵀ is nearly dense: a BLAS product beats scipy's sparse-times-dense loop.
        overlap = (rows @ self._train.T).toarray()
        scaled_p = dense - overlap @ self._kernel_x
        return (dense - scaled_p / self._scale[None, :].astype(np.float32)).astype(np.float32, copy=False)
