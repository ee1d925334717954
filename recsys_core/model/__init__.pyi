# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._blend import (
    BLEND_GRID,
    MAX_BLEND_WEIGHT,
    MAX_SIMILARITY,
    Blend,
    Blended,
    dense_similarity,
    knn_scores,
    maybe_add,
    unwrap,
)
from ._ncf import NCF
from ._objectives import HYBRID_NEGATIVE_WEIGHT, SOFTMAX_L2
from ._threads import Lane, one_torch_thread, ranking_threads, second_core, side_by_side
