# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._ease import EASE, EASE_MAX_BYTES, ease_memory_bytes
from ._ials import IALS
from ._itemknn import SIMILARITY_BLOCK_WORK, ItemKNN, item_similarity
from ._ladder import LADDER_FILE, RUNGS, Rung, fit_ladder, ladder_for, run_holdouts, score_holdout
from ._popular import MostPopular
from ._scorer import Scorer, binary_interactions
from ._topk import top_k_scored
from ._tune import EASE_L2_FACTORS, IALS_GRID, ITEM_KNN_GRID, Params, ease_grid, tune
