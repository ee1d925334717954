"""The dataset the pages work on: the demo shop or an upload, loaded once and cached by content.

Streamlit glue only: loading and the figures come from ``recsys_core``; this module caches them.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from pages.parts.state import DATASET
from recsys_core.app import UploadStore, views
from recsys_core.app import digest as upload_digest
from recsys_core.data import Ratings
from recsys_core.data import train_class_counts as split_class_counts
from recsys_core.errors import RecsysError
from recsys_core.runs import DatasetRecord

UPLOAD_TYPES = ["csv", "gz", "tsv", "txt", "parquet", "pq", "jsonl", "json", "ndjson"]


@dataclass(frozen=True)
class Dataset:
    """The ratings the app works on, with an optional product table.

    ``key`` identifies the content (a digest), so caches of derived figures are keyed by it.
    """

    name: str
    ratings: Ratings
    products: pd.DataFrame | None
    key: str
    is_demo: bool = False
    #: Content address of the uploaded file (``None`` for the demo) and the load options used.
    file_key: str | None = None
    options: tuple[tuple[str, object], ...] = ()

    @property
    def frame(self) -> pd.DataFrame:
        return self.ratings.frame


class _NamedBytes(io.BytesIO):
    """Bytes with a ``.name``, which ``load_ratings`` uses to pick the format."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


@st.cache_data(show_spinner="Preparing the demo data…", max_entries=1, persist="disk")
def _demo() -> tuple[Ratings, pd.DataFrame]:
    # One generation gives both tables (demo_ratings() would generate the ratings a second time).
    # Kept on disk too: after a restart the first visitor does not wait for it (about 1 s).
    from recsys_core.data import generate_demo

    demo = generate_demo()
    return Ratings.from_frame(demo.ratings, source="built-in demo data"), demo.products


def demo_dataset() -> Dataset:
    ratings, products = _demo()
    return Dataset("built-in demo shop", ratings, products, key="demo", is_demo=True)


def dataset() -> Dataset:
    """The current dataset; the demo data until the user loads a file."""
    if DATASET not in st.session_state:
        st.session_state[DATASET] = demo_dataset()
    return st.session_state[DATASET]


def digest(data: bytes) -> str:
    return upload_digest(data)


@st.cache_data(show_spinner="Reading the ratings…", max_entries=4)
def _load_ratings(
    key: str, name: str, columns: tuple | None, min_user: int, min_item: int, _data: bytes
) -> Ratings:
    # ``key`` (a digest of ``_data``) stands for the content in the cache key: hashing a large
    # upload once is cheaper than letting Streamlit hash it on every call.
    from recsys_core.data import ColumnMap, load_ratings

    column_map = ColumnMap(*columns) if columns else None
    return load_ratings(
        _NamedBytes(_data, name), columns=column_map, min_user_ratings=min_user, min_item_ratings=min_item
    )


@st.cache_data(show_spinner="Reading the product table…", max_entries=4)
def _load_products(key: str, name: str, _data: bytes) -> pd.DataFrame:
    from recsys_core.data import load_products

    return load_products(_NamedBytes(_data, name))


def load_ratings_bytes(
    name: str, data: bytes, *, columns: tuple | None = None, min_user: int = 1, min_item: int = 1
) -> Dataset:
    """Load uploaded ratings into a :class:`Dataset` (raises ``RecsysError``; caches by content)."""
    key = digest(data)
    ratings = _load_ratings(key, name, columns, int(min_user), int(min_item), data)
    options = (("columns", list(columns) if columns else None), ("min_user", int(min_user)),
               ("min_item", int(min_item)))  # fmt: skip
    return Dataset(
        name, ratings, None, key=f"{key}:{columns}:{min_user}:{min_item}", file_key=key, options=options
    )


# -- uploads kept on disk (a reload or a restart finds them again) -----------------------------


def store() -> UploadStore:
    return UploadStore()


def keep(ds: Dataset, data: bytes) -> str | None:
    """Keep an upload on disk; a message when it cannot be kept (too large, disk full)."""
    try:
        store().put(ds.name, data, dict(ds.options))
    except RecsysError as exc:
        return str(exc)
    return None


def record(ds: Dataset) -> DatasetRecord:
    """What a run remembers of its data set, to find it again (see :func:`from_record`)."""
    return DatasetRecord(name=ds.name, key=ds.key, file=ds.file_key or "demo", options=dict(ds.options))


def from_file_key(file_key: str, options: dict[str, object] | None = None) -> Dataset | None:
    """The demo (``"demo"``) or a kept upload loaded again; ``None`` when it is no longer kept."""
    if file_key == "demo":
        return demo_dataset()
    try:
        found = store().get(file_key)
    except RecsysError:
        return None
    if found is None:
        return None
    entry, data = found
    chosen = {**entry.options, **(options or {})}
    columns = chosen.get("columns")
    try:
        return load_ratings_bytes(
            entry.name,
            data,
            columns=tuple(columns) if columns else None,
            min_user=int(chosen.get("min_user") or 1),
            min_item=int(chosen.get("min_item") or 1),
        )
    except RecsysError:
        return None


def from_record(recorded: DatasetRecord | None) -> Dataset | None:
    """The data set a run was trained on (``run.summary.dataset``), if still at hand: ``None`` for
    a run the app did not train (no key) or whose upload is no longer kept."""
    if recorded is None or not recorded.file:
        return None
    current = dataset()
    if current.key == recorded.key:
        return current
    found = from_file_key(recorded.file, dict(recorded.options))
    return found if found is not None and found.key == recorded.key else None


def load_products_bytes(name: str, data: bytes) -> pd.DataFrame:
    return _load_products(digest(data), name, data)


def with_products(ds: Dataset, products: pd.DataFrame | None) -> Dataset:
    return dataclasses.replace(ds, products=products)


# -- figures of the dataset, cached by its key ------------------------------------------------


@st.cache_data(max_entries=8, show_spinner=False)
def overview(key: str, _frame: pd.DataFrame) -> views.Overview:
    return views.dataset_overview(_frame)


@st.cache_data(max_entries=8, show_spinner=False)
def rating_distribution(key: str, _frame: pd.DataFrame) -> pd.DataFrame:
    return views.rating_distribution(_frame)


@st.cache_data(max_entries=8, show_spinner=False)
def long_tail(key: str, _frame: pd.DataFrame) -> tuple[pd.DataFrame, views.TailStats]:
    return views.long_tail(_frame)


@st.cache_data(max_entries=16, show_spinner="Splitting the ratings like training will…")
def train_class_counts(key: str, split: str, seed: int, _frame: pd.DataFrame) -> dict[float, int]:
    """Rating counts of the training split that ``train`` would use (before oversampling)."""
    return split_class_counts(_frame, split, seed)
