"""Column names of an upload, for the app's column-mapping select boxes.

Temporary home: ``recsys_core.ratings.peek_columns`` (built on the loader's own sniffers)
replaces this module at merge; the logic here is unchanged from the app's first version.
"""

from __future__ import annotations

import io

import pandas as pd

from recsys_core.errors import RecsysError


def peek_columns(data: bytes, name: str, max_bytes: int = 1 << 20) -> list[str]:
    """Column names of an uploaded table, for the column-mapping select boxes.

    Reads only the start of a CSV/JSON-lines file. A CSV whose first row looks like data
    (no header) gets positional names ``column 1, column 2, …`` which the caller maps by
    position.
    """
    lower = name.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return list(pq.read_schema(io.BytesIO(data)).names)
        if lower.endswith(".gz"):
            import gzip

            with gzip.open(io.BytesIO(data)) as handle:
                head = handle.read(max_bytes)
        else:
            head = data[:max_bytes]
        text = head.decode("utf-8", errors="replace")
        if lower.endswith((".jsonl", ".json", ".ndjson")) or text.lstrip().startswith("{"):
            sample = pd.read_json(io.StringIO(text.splitlines()[0]), lines=True)
            return [str(c) for c in sample.columns]
        sample = pd.read_csv(io.StringIO(text), sep=None, engine="python", nrows=20, header=None)
    except Exception as exc:  # any parser failure means "we cannot offer a mapping"
        raise RecsysError(
            f"Could not read the column names of {name}: {exc}. Check that it is a CSV, CSV.gz, "
            "Parquet or JSON-lines file."
        ) from None
    first = [str(v) for v in sample.iloc[0].tolist()]
    looks_like_header = not any(_is_number(v) for v in first)
    if looks_like_header:
        return first
    return [f"column {i + 1}" for i in range(sample.shape[1])]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def peek_sample(data: bytes, name: str, columns: list[str], max_bytes: int = 1 << 20) -> pd.DataFrame:
    """The first rows of a CSV/JSON-lines upload under ``columns`` (those of :func:`peek_columns`).

    Empty when the rows cannot be read (Parquet, an odd format): the guesses then stay neutral.
    """
    lower = name.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return pq.read_table(io.BytesIO(data)).slice(0, 200).to_pandas()
        head = data[:max_bytes]
        if lower.endswith(".gz"):
            import gzip

            with gzip.open(io.BytesIO(data)) as handle:
                head = handle.read(max_bytes)
        text = head.decode("utf-8", errors="replace")
        if lower.endswith((".jsonl", ".json", ".ndjson")) or text.lstrip().startswith("{"):
            return pd.read_json(io.StringIO("\n".join(text.splitlines()[:200])), lines=True)
        headless = bool(columns) and columns[0].startswith("column ")
        sample = pd.read_csv(
            io.StringIO(text), sep=None, engine="python", nrows=200, header=None if headless else 0
        )
    except Exception:  # a guess is a convenience: without it the user picks every column
        return pd.DataFrame(columns=columns)
    if len(sample.columns) == len(columns):
        sample.columns = columns
    return sample
