# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._blocked import BlockedTopN
from ._everyone import BLOCK_USERS, check_output, recommend_all_to_parquet, staging_folder
from ._foldin import (
    Profiles,
    VisitorBlock,
    VisitorRecommendations,
    explain_user,
    fold_in,
    iter_visitor_blocks,
    profile_logits,
    recommend_visitors,
    visitor_history,
)
from ._products import item_table, with_products
from ._recommend import Recommendations, check_n, popular_items, recommend, recommend_all
from ._select import (
    ScoreBuffer,
    build_seen_matrix,
    effective_chunk,
    entries,
    popularity_order,
    select_top,
    top_popular_unseen,
    top_unseen,
)
from ._similar import similar_items
