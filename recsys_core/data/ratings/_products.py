"""Product catalogues: which name and category each item ID has."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys_core.data.ratings._columns import PRODUCTS_SPEC
from recsys_core.data.ratings._formats import read_table
from recsys_core.data.ratings._memory import check_budget
from recsys_core.data.ratings._sources import open_source, source_name
from recsys_core.data.ratings._text import wrap_error
from recsys_core.data.ratings._types import RawTable, Source
from recsys_core.data.ratings._values import id_column, to_str_series
from recsys_core.errors import RecsysError


def load_products(source: Source, *, memory_budget: int | None = None) -> pd.DataFrame:
    """Read a product catalogue: which name and category each item ID has.

    Parameters
    ----------
    source
        CSV (with a header), Parquet or JSON lines, e.g. the Amazon ``meta_*.json`` dumps. The
        ID column is found like the item column of :func:`load_ratings` (``ProductID``,
        ``asin``, ``parent_asin`` …), the name in ``name``/``title``, the category in
        ``category``/``main_category``/``categories`` (lists are joined with ``" > "``).
    memory_budget
        As for :func:`load_ratings`.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` (str), ``name`` (str; the ID where the name is missing) and
        ``category`` (str, possibly empty); one row per item, the first one kept.
    """
    budget = check_budget(memory_budget)
    name = source_name(source)
    try:
        data = open_source(source, name, budget)
        raw = read_table(data, PRODUCTS_SPEC, {})
        return _finish_products(raw)
    except RecsysError:
        raise
    except Exception as exc:  # the contract: only RecsysError leaves this package
        raise wrap_error(exc, name, "product list") from exc


def _finish_products(raw: RawTable) -> pd.DataFrame:
    if raw.table.num_rows == 0:
        raise RecsysError(f"{raw.name} has no product rows.")
    items = id_column(raw, "item")
    names = _text_column(raw, "name")
    names = pc.if_else(pc.equal(pc.utf8_length(names), 0), items, names)
    if "category" in raw.table.column_names:
        categories = _text_column(raw, "category")
    else:
        categories = pa.chunked_array([pc.fill_null(pa.nulls(raw.table.num_rows, pa.string()), "")])
    frame = pd.DataFrame(
        {
            "item": to_str_series(items, None),
            "name": to_str_series(names, None),
            "category": to_str_series(categories, None),
        }
    )
    return frame.drop_duplicates("item", keep="first").reset_index(drop=True)


def _text_column(raw: RawTable, role: str) -> pa.ChunkedArray:
    column = raw.table.column(role)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        column = pc.binary_join(column.cast(pa.list_(pa.string())), " > ")
    elif not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    return pc.fill_null(column.cast(pa.string()), "")
