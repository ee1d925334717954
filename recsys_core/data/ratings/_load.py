"""``load_ratings`` and the ``Ratings`` it returns: read, validate, drop duplicates, k-core."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from recsys_core.config import positive_rating_for
from recsys_core.data.ratings._cleaning import check_minimums, duplicate_rows, encode_pairs, kcore_mask
from recsys_core.data.ratings._columns import RATINGS_SPEC, resolve_columns
from recsys_core.data.ratings._formats import read_table
from recsys_core.data.ratings._memory import check_budget
from recsys_core.data.ratings._sources import open_source, source_name
from recsys_core.data.ratings._text import format_rating, wrap_error
from recsys_core.data.ratings._times import timestamp_values
from recsys_core.data.ratings._types import ColumnMap, LoadReport, RawTable, Source, coerce_columns
from recsys_core.data.ratings._values import id_column, rating_values, to_str_series
from recsys_core.errors import RecsysError


@dataclass(frozen=True)
class Ratings:
    """A validated ratings table and the report of how it was loaded.

    Treat ``frame`` as read-only (copy it before changing it): :meth:`summary` reuses counts
    computed while loading.

    Attributes
    ----------
    frame
        Columns ``user`` (str), ``item`` (str), ``rating`` (float64) and, only when the source
        has times, ``timestamp`` (``datetime64[ns]``). One row per (user, item) pair.
    report
        :class:`LoadReport`.
    """

    frame: pd.DataFrame
    report: LoadReport
    # Distinct users/items counted while loading, valid while len(frame) == _counted_rows.
    _n_users: int | None = field(default=None, repr=False, compare=False)
    _n_items: int | None = field(default=None, repr=False, compare=False)
    _counted_rows: int = field(default=-1, repr=False, compare=False)

    @property
    def has_timestamps(self) -> bool:
        return "timestamp" in self.frame.columns

    def __len__(self) -> int:
        return len(self.frame)

    def summary(self) -> dict[str, int | str | dict[str, int] | None]:
        """JSON-ready overview (the ``recsys inspect --json`` object).

        Returns
        -------
        dict
            ``rows, users, items, rating_counts, time_min, time_max, duplicates_dropped`` plus
            ``rows_read``, ``kcore_dropped`` and ``likes_it_from``: the rating from which a user
            counts as liking a product in the metrics (4 on 1-5 stars, 1 on a 0/1 scale; see
            :func:`recsys_core.config.positive_rating_for`). ``rating_counts`` maps the rating written
            without a trailing ``.0`` (``"5"``, ``"4.5"``) to its count, highest rating first;
            the times are ISO dates (``YYYY-MM-DD``) or ``None`` without timestamps.
        """
        frame = self.frame
        cached = self._n_users is not None and self._n_items is not None and len(frame) == self._counted_rows
        users = self._n_users if cached else int(frame["user"].nunique())
        items = self._n_items if cached else int(frame["item"].nunique())
        values, counts = np.unique(frame["rating"].to_numpy(np.float64), return_counts=True)
        rating_counts = {
            format_rating(v): int(c) for v, c in sorted(zip(values, counts, strict=True), reverse=True)
        }
        time_min = time_max = None
        if self.has_timestamps and len(frame):
            time_min = pd.Timestamp(frame["timestamp"].min()).date().isoformat()
            time_max = pd.Timestamp(frame["timestamp"].max()).date().isoformat()
        return {
            "rows": len(frame),
            "users": int(users),
            "items": int(items),
            "rating_counts": rating_counts,
            "time_min": time_min,
            "time_max": time_max,
            "duplicates_dropped": self.report.duplicates_dropped,
            "kcore_dropped": self.report.kcore_dropped,
            "rows_read": self.report.rows_read,
            "likes_it_from": format_rating(positive_rating_for(values)) if len(values) else None,
        }

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        columns: ColumnMap | str | None = None,
        source: str = "in-memory table",
        min_user_ratings: int = 1,
        min_item_ratings: int = 1,
    ) -> Ratings:
        """Validate a ``DataFrame`` exactly as :func:`load_ratings` validates a file.

        Columns are detected by name as in a file (``user``/``item``/``rating``/``timestamp``
        or ``UserID``/``ProductID``/…). Row numbers in messages are 1-based positions.
        """
        check_minimums(min_user_ratings, min_item_ratings)
        column_map = coerce_columns(columns)
        if not isinstance(frame, pd.DataFrame):
            raise RecsysError(f"Expected a pandas DataFrame of ratings, got {type(frame).__name__}.")
        try:
            raw = _frame_table(frame, source, column_map)
            return _finish(raw, min_user_ratings, min_item_ratings)
        except RecsysError:
            raise
        except Exception as exc:  # the contract: only RecsysError leaves this package
            raise wrap_error(exc, source, "ratings") from exc


def load_ratings(
    source: Source,
    *,
    columns: ColumnMap | str | None = None,
    min_user_ratings: int = 1,
    min_item_ratings: int = 1,
    memory_budget: int | None = None,
    date_format: str | None = None,
    visitors: bool = False,
) -> Ratings:
    """Read, validate and clean a ratings file.

    Parameters
    ----------
    source
        A path (``str`` or ``Path``) or a binary file object with a ``name`` (Streamlit's
        ``UploadedFile``, ``io.BytesIO`` with ``.name`` set).
    columns
        Overrides column detection: a :class:`ColumnMap` or its text form
        ``"user=COL,item=COL,rating=COL,time=COL"`` (any subset).
    min_user_ratings, min_item_ratings
        k-core filter: repeatedly drop users and items with fewer ratings until every one left
        has at least this many. 1 keeps everything.
    memory_budget
        Bytes the load may use. A file whose estimated size once loaded (from its size and its
        first rows) exceeds it is refused before it is read whole. ``None``: :data:`MEMORY_BUDGET`
        if set, else the memory the machine has free (:func:`available_memory`).
    date_format
        How a text time column is written, in ``strftime`` codes (``%d/%m/%Y``). ``None``
        detects it: unix times, ISO dates, and numeric dates whose day/month order is decided
        for the whole column by the dates that read only one way (13/02/2014); a column whose
        dates read both ways with none deciding is refused, asking for this format.
    visitors
        ``True`` for the ratings of visitors to fold into a trained run (``recommend
        --new-users``, the app's "load my ratings"): checked only for what fold-in needs, so one
        rating, or every rating the same, is fine (training data needs two rating values).

    Returns
    -------
    Ratings
        ``frame`` with ``user``, ``item``, ``rating`` (and ``timestamp`` when the source has
        times), one row per (user, item) pair, the latest rating kept (by time, else the last
        row); ``report`` says what was read and dropped.

    Raises
    ------
    RecsysError
        For any input that cannot be used, with what is wrong, where (column, 1-based line
        numbers) and how to fix it. No other exception escapes.
    """
    check_minimums(min_user_ratings, min_item_ratings)
    column_map = coerce_columns(columns)
    budget = check_budget(memory_budget)
    _check_date_format(date_format)
    name = source_name(source)
    try:
        data = open_source(source, name, budget)
        raw = read_table(data, RATINGS_SPEC, column_map)
        raw.notes[:0] = data.notes  # what opening the source noticed comes first
        return _finish(raw, min_user_ratings, min_item_ratings, date_format, visitors=visitors)
    except RecsysError:
        raise
    except Exception as exc:  # the contract: only RecsysError leaves this package
        raise wrap_error(exc, name, "ratings") from exc


def _check_date_format(date_format: object) -> None:
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        raise RecsysError(
            f"date_format must be strftime codes such as %d/%m/%Y (day first) or %m/%d/%Y (month first), "
            f"not {date_format!r}."
        )


def _frame_table(frame: pd.DataFrame, name: str, given: Mapping[str, str]) -> RawTable:
    names = [str(c) for c in frame.columns]
    column_map = resolve_columns(names, RATINGS_SPEC, given, name)
    by_name = dict(zip(names, frame.columns, strict=True))
    columns = {}
    for role, col in column_map.items():
        series = frame[by_name[col]]
        try:
            columns[role] = pa.chunked_array([pa.array(series, from_pandas=True)])
        except (pa.ArrowException, TypeError, ValueError):
            # Mixed Python objects: their text is what they are.
            columns[role] = pa.chunked_array([pa.array(series.astype(str).where(series.notna()))])
    return RawTable(
        name=name,
        format="dataframe",
        table=pa.table(columns),
        column_map=column_map,
        source_columns=tuple(names),
    )


def _finish(
    raw: RawTable,
    min_user_ratings: int,
    min_item_ratings: int,
    date_format: str | None = None,
    *,
    visitors: bool = False,
) -> Ratings:
    table = raw.table
    n = table.num_rows
    if n == 0:
        has = "a header but no data rows" if raw.has_header else "no data rows"
        raise RecsysError(f"{raw.name} has {has}: there are no ratings to load.")
    users = id_column(raw, "user")
    items = id_column(raw, "item")
    ratings = rating_values(raw, one_value_ok=visitors)
    notes = list(raw.notes)
    times, time_format = (None, None)
    if "time" in table.column_names:
        times, time_format = timestamp_values(raw, date_format)
        if times is None:
            notes.append(f"The {raw.column_map['time']!r} column is empty everywhere: ignored.")
        else:
            notes.append(f"Timestamps read as {time_format}.")

    user_codes, item_codes, n_users, n_items = encode_pairs(users, items)
    keep = np.ones(n, dtype=bool)
    duplicates = duplicate_rows(user_codes, item_codes, n_items, times)
    keep[duplicates] = False
    kcore_dropped = 0
    if min_user_ratings > 1 or min_item_ratings > 1:
        survivors = kcore_mask(
            user_codes[keep], item_codes[keep], n_users, n_items, min_user_ratings, min_item_ratings
        )
        kcore_dropped = int((~survivors).sum())
        kept_rows = np.flatnonzero(keep)
        keep[kept_rows[~survivors]] = False
        if not keep.any():
            raise RecsysError(
                f"The k-core filter (at least {min_user_ratings} ratings per user and "
                f"{min_item_ratings} per product) removes all {n - len(duplicates):,} ratings of "
                f"{raw.name}: lower the minimums."
            )
    if len(duplicates) or kcore_dropped:
        n_users = int(np.count_nonzero(np.bincount(user_codes[keep], minlength=n_users)))
        n_items = int(np.count_nonzero(np.bincount(item_codes[keep], minlength=n_items)))
        levels = np.unique(ratings[keep])
        if len(levels) < 2 and not visitors:
            why = "the k-core filter" if kcore_dropped else "keeping the latest rating of each pair"
            raise RecsysError(
                f"After {why}, every rating left in {raw.name} is {format_rating(levels[0])}: a "
                "recommender needs at least two different rating values."
                + (" Lower the k-core minimums." if kcore_dropped else "")
            )

    mask = None if keep.all() else pa.array(keep)
    columns = {
        "user": to_str_series(users, mask),
        "item": to_str_series(items, mask),
        "rating": ratings if mask is None else ratings[keep],
    }
    if times is not None:
        columns["timestamp"] = times if mask is None else times[keep]
    frame = pd.DataFrame(columns)
    report = LoadReport(
        source=raw.name,
        format=raw.format,
        rows_read=n,
        duplicates_dropped=len(duplicates),
        kcore_dropped=kcore_dropped,
        column_map=ColumnMap(**{r: c for r, c in raw.column_map.items() if r != "time" or times is not None}),
        source_columns=raw.source_columns,
        has_header=raw.has_header,
        delimiter=raw.delimiter,
        encoding=raw.encoding,
        time_format=time_format,
        notes=tuple(notes),
    )
    return Ratings(frame=frame, report=report, _n_users=n_users, _n_items=n_items, _counted_rows=len(frame))
