"""Data in: load and validate ratings, split them, code the ids, rebalance the training split per
rating class, and hand a trainer its training set; plus the built-in demo shop.

``ratings`` (its own sub-package: every file a user might bring) → :func:`split_ratings` →
:class:`IdMap` → :func:`rebalance` → :func:`prepare_data` (all of it in one step, giving a
:class:`PreparedData` with the :class:`TrainingData`). :func:`generate_demo` makes the demo data.
"""

from recsys_core.data._demo import REFERENCE_SHARES, DemoData, demo_ratings, generate_demo, write_demo_csv
from recsys_core.data._encoding import IdMap, as_codes
from recsys_core.data._prepare import PreparedData, prepare_data, train_class_counts, validation_start
from recsys_core.data._products import item_categories, product_columns
from recsys_core.data._rebalance import (
    Reweighted,
    oversampling_strategy,
    rebalance,
    reweight,
    weighted_counts,
)
from recsys_core.data._split import Split, split_ratings
from recsys_core.data._training_set import TrainingData, item_popularity, scale_ratings
from recsys_core.data.ratings import (
    MAX_ID_LENGTH,
    ColumnMap,
    LoadReport,
    Ratings,
    Source,
    columns_by_name,
    is_number,
    k_core,
    load_products,
    load_ratings,
    peek_columns,
    peek_table,
)

__all__ = [
    "MAX_ID_LENGTH",
    "REFERENCE_SHARES",
    "ColumnMap",
    "DemoData",
    "IdMap",
    "LoadReport",
    "PreparedData",
    "Ratings",
    "Reweighted",
    "Source",
    "Split",
    "TrainingData",
    "as_codes",
    "columns_by_name",
    "demo_ratings",
    "generate_demo",
    "is_number",
    "item_categories",
    "item_popularity",
    "k_core",
    "load_products",
    "load_ratings",
    "oversampling_strategy",
    "peek_columns",
    "peek_table",
    "prepare_data",
    "product_columns",
    "rebalance",
    "reweight",
    "scale_ratings",
    "split_ratings",
    "train_class_counts",
    "validation_start",
    "weighted_counts",
    "write_demo_csv",
]
