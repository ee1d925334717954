"""Classical top-k baselines fitted on the training split: the ladder the model has to climb.

Most popular < item-kNN < EASE / iALS on binary implicit feedback (every observed rating is an
interaction). Each is a :class:`Scorer` (``fit(train) -> self``, ``score(users) -> float32
block``); :func:`top_k_scored` masks seen items and takes the top k with the contract of
``recsys_core.evaluation.top_unseen``; :func:`tune` picks hyper-parameters on validation.
"""

from recsys_core.baselines._ease import EASE, EASE_MAX_BYTES, ease_memory_bytes
from recsys_core.baselines._ials import IALS
from recsys_core.baselines._itemknn import SIMILARITY_BLOCK_WORK, ItemKNN, item_similarity
from recsys_core.baselines._per_user import per_user_hits_ndcg
from recsys_core.baselines._popular import MostPopular
from recsys_core.baselines._scorer import Scorer, binary_interactions
from recsys_core.baselines._topk import top_k_scored
from recsys_core.baselines._tune import EASE_L2_FACTORS, IALS_GRID, ITEM_KNN_GRID, Params, ease_grid, tune

__all__ = [
    "EASE",
    "EASE_L2_FACTORS",
    "EASE_MAX_BYTES",
    "IALS",
    "IALS_GRID",
    "ITEM_KNN_GRID",
    "SIMILARITY_BLOCK_WORK",
    "ItemKNN",
    "MostPopular",
    "Params",
    "Scorer",
    "binary_interactions",
    "ease_grid",
    "ease_memory_bytes",
    "item_similarity",
    "per_user_hits_ndcg",
    "top_k_scored",
    "tune",
]
