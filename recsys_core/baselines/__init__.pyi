# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._cost import LADDER_TIME_BUDGET, estimate_seconds, machine_flops
from ._ease import EASE, EASE_MAX_BYTES, ease_memory_bytes, ease_side
from ._ials import IALS
from ._itemknn import SIMILARITY_BLOCK_WORK, ItemKNN, item_similarity
from ._ladder import (
    LADDER_FILE,
    RUNGS,
    LadderStopped,
    Rung,
    fit_ladder,
    fit_split_ladder,
    ladder_for,
    run_holdouts,
    score_holdout,
    shared_ladder,
    split_holdouts,
)
from ._ladder_cache import LADDERS_DIR, MAX_CACHE_BYTES, cache_path
from ._popular import MostPopular
from ._scorer import Scorer, binary_interactions
from ._split import LadderSplit, split_fingerprint
from ._topk import top_k_scored
from ._tune import EASE_L2_FACTORS, IALS_GRID, ITEM_KNN_GRID, Params, ease_grid, tune
