"""A product table (``item, name, category``) lined up with a catalogue's item codes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def product_columns(products: pd.DataFrame, item_ids: Sequence[str] | pd.Index) -> dict[str, np.ndarray]:
    """``{"name": ..., "category": ...}`` aligned with ``item_ids`` (code order).

    Items missing from the table get empty strings; a product listed twice keeps its last row.
    """
    table = products.drop_duplicates("item", keep="last").set_index("item")
    table.index = table.index.astype(str)
    aligned = table.reindex(pd.Index(item_ids, dtype=str))
    return {
        column: aligned[column].fillna("").astype(str).to_numpy(dtype=object)
        for column in ("name", "category")
        if column in aligned.columns
    }


def item_categories(columns: dict[str, np.ndarray] | None) -> np.ndarray | None:
    """The ``category`` column of :func:`product_columns`, or ``None`` when no item has one."""
    categories = None if columns is None else columns.get("category")
    if categories is None or not np.any(categories != ""):
        return None
    return categories
