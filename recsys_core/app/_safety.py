"""Safe exports: CSV files that cannot run formulas when opened in a spreadsheet.

Product names, user IDs and categories come from user files, so an export can carry a cell such
as ``=HYPERLINK("http://evil.example", "click")`` or ``@SUM(1+1)*cmd|' /C calc'!A0`` that Excel,
LibreOffice or Google Sheets would evaluate (CSV or formula injection). Following the OWASP
advice, every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading single quote, which spreadsheets show as text and do not evaluate. Numbers stay
numbers: ``-5`` in a numeric column is not touched.

Nothing here imports Streamlit; the app passes :func:`to_safe_csv` bytes to its download button.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise_csv_cells", "to_safe_csv"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

# pandas' inferred types for which the .str accessor works element-wise.
_TEXTUAL = {"string", "mixed", "mixed-integer", "mixed-integer-float"}


def neutralise_csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` in which no text cell or column name can start a formula.

    Parameters
    ----------
    frame
        Any table. Text cells of string, object and categorical columns that start with one of
        :data:`FORMULA_PREFIXES` get a leading ``'``; so do such column names. Numbers, dates,
        missing values and other non-text cells are left alone, as is the index.

    Returns
    -------
    pandas.DataFrame
        A new frame (``frame`` is not changed). String columns keep their dtype; categorical
        columns come back as object columns of their values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"neutralise_csv_cells needs a pandas DataFrame, not {type(frame).__name__}.")
    safe = frame.copy()
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        elif not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
            continue  # numbers, booleans, datetimes: a spreadsheet reads them as values
        risky = _risky(column)
        if risky.any():
            column = column.where(~risky, "'" + column.astype(str))
        # By position: column names may repeat.
        safe.isetitem(position, column)
    safe.columns = [_neutralise_label(label) for label in safe.columns]
    return safe


def to_safe_csv(frame: pd.DataFrame, *, index: bool = False, encoding: str = "utf-8") -> bytes:
    """CSV bytes of ``frame`` with formula-looking text neutralised (see :func:`neutralise_csv_cells`).

    Parameters
    ----------
    frame
        The table to export.
    index
        Write the index as the first column (neutralised like the others).
    encoding
        ``utf-8`` (default) or e.g. ``utf-8-sig``, whose byte-order mark makes Excel read
        non-ASCII text correctly.

    Returns
    -------
    bytes
        The CSV text with ``\\r\\n`` line ends (RFC 4180); values containing delimiters, quotes,
        ``\\r`` or ``\\n`` are quoted.
    """
    if index:
        frame = frame.reset_index()
    # With "\r\n" as the line end the csv writer quotes values holding either character; with
    # "\n" alone it would write a bare "\r", which spreadsheets read as the end of the row.
    return neutralise_csv_cells(frame).to_csv(index=False, lineterminator="\r\n").encode(encoding)


def _risky(column: pd.Series) -> np.ndarray:
    """Boolean mask of the cells that are text starting with a formula character."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return column.str.startswith(FORMULA_PREFIXES).fillna(False).to_numpy(dtype=bool)
    if pd.api.types.infer_dtype(column, skipna=True) in _TEXTUAL:
        try:
            # Non-text cells give NaN, i.e. not risky.
            starts = column.str.startswith(FORMULA_PREFIXES)
            return starts.where(starts.notna(), False).to_numpy(dtype=bool)
        except AttributeError:
            pass
    return np.fromiter(
        (isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in column),
        dtype=bool,
        count=len(column),
    )


def _neutralise_label(label: object) -> object:
    if isinstance(label, str) and label.startswith(FORMULA_PREFIXES):
        return "'" + label
    return label
