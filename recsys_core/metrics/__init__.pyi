# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._auc import roc_auc
from ._beyond import (
    beyond_accuracy,
    coverage_at_k,
    diversity_at_k,
    head_items,
    head_share_at_k,
    novelty_at_k,
    popularity_profile,
)
from ._claims import (
    NO_DIFFERENCE,
    Z95,
    Verdict,
    change_verdict,
    compare_estimates,
    how_often,
    interval95,
    separation,
)
from ._diff import (
    compare_runs,
    jaccard,
    overlap_summary,
    paired_bootstrap,
    sample_users,
    top_lists,
    weighted_auc,
)
from ._evaluation import (
    RANKING_MAX_USERS,
    classification_metrics,
    evaluate_run,
    per_user_topk_metrics,
    precision_recall,
    ranking_metrics,
    threshold_curve,
    topk_metrics,
)
from ._per_user import CLASS_HIT_METRICS, PER_USER_METRICS, per_user_class_hits, per_user_ranking
from ._resample import bootstrap_weights, sample_distinct
