"""iALS: implicit-feedback matrix factorisation, via the ``implicit`` package (CPU)."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys_core.baselines._scorer import binary_interactions, check_users, not_fitted
from recsys_core.errors import RecsysError


class IALS:
    """Weighted matrix factorisation for implicit feedback (Hu, Koren & Volinsky 2008).

    Wraps ``implicit.als.AlternatingLeastSquares`` on the CPU. Every observed rating is an
    interaction of value 1 (confidence ``1 + alpha``); unobserved pairs are zeros of confidence 1.
    The score of ``(u, i)`` is the dot product of their factors.

    The fit is reproducible: factors start from ``seed`` and BLAS runs single-threaded inside
    the fit (``implicit`` asks for that: a threaded OpenBLAS slows its many small solves, and
    fixed threads fix the summation order). Each user's (item's) solve only reads the other
    side's factors, so ``threads`` > 1 gives the same numbers.

    Parameters
    ----------
    factors, regularization, alpha, iterations
        As ``implicit``: latent dimension, L2 penalty, confidence weight of an observed pair,
        ALS sweeps.
    seed
        Seeds the initial factors.
    threads
        Native threads of ``implicit`` (0: all cores).
    """

    name = "iALS"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        iterations: int = 15,
        seed: int = 0,
        threads: int = 1,
    ) -> None:
        if int(factors) < 1 or int(iterations) < 1 or regularization < 0 or alpha <= 0:
            raise RecsysError("iALS needs factors >= 1, iterations >= 1, regularization >= 0 and alpha > 0.")
        self.params: dict[str, float] = {
            "factors": int(factors),
            "regularization": float(regularization),
            "alpha": float(alpha),
            "iterations": int(iterations),
        }
        self.seed = int(seed)
        self.threads = int(threads)
        self.user_factors_: np.ndarray | None = None
        self.item_factors_: np.ndarray | None = None

    def fit(self, train: sp.csr_matrix) -> Self:
        # Imported here: implicit costs 40 ms of every `recsys train`, which fits no baseline.
        from implicit.als import AlternatingLeastSquares

        matrix = binary_interactions(train)
        # Scoped: only this fit runs with one BLAS thread. implicit checks it when built.
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.params["factors"],
                regularization=self.params["regularization"],
                alpha=self.params["alpha"],
                iterations=self.params["iterations"],
                use_gpu=False,
                num_threads=self.threads,
                random_state=self.seed,
            )
            model.fit(matrix, show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        if self.user_factors_ is None or self.item_factors_ is None:
            raise not_fitted(self.name)
        codes = check_users(users, len(self.user_factors_))
        return self.user_factors_[codes] @ self.item_factors_.T
