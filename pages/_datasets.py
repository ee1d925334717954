"""The dataset the pages work on: the demo shop or an upload, loaded once and cached by content.

Streamlit glue only: loading and the figures come from ``recsys_core``; this module caches them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from pages._state import DATASET
from recsys_core import prepare, views
from recsys_core.ratings import Ratings

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

    @property
    def frame(self) -> pd.DataFrame:
        return self.ratings.frame


class _NamedBytes(io.BytesIO):
    """Bytes with a ``.name``, which ``load_ratings`` uses to pick the format."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


@st.cache_data(show_spinner="Preparing the demo data…", max_entries=1)
def _demo() -> tuple[Ratings, pd.DataFrame]:
    # One generation gives both tables (demo_ratings() would generate the ratings a second time).
    from recsys_core.demo import generate_demo

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
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@st.cache_data(show_spinner="Reading the ratings…", max_entries=4)
def _load_ratings(
    key: str, name: str, columns: tuple | None, min_user: int, min_item: int, _data: bytes
) -> Ratings:
    # ``key`` (a digest of ``_data``) stands for the content in the cache key: hashing a large
    # upload once is cheaper than letting Streamlit hash it on every call.
    from recsys_core.ratings import ColumnMap, load_ratings

    column_map = ColumnMap(*columns) if columns else None
    return load_ratings(
        _NamedBytes(_data, name), columns=column_map, min_user_ratings=min_user, min_item_ratings=min_item
    )


@st.cache_data(show_spinner="Reading the product table…", max_entries=4)
def _load_products(key: str, name: str, _data: bytes) -> pd.DataFrame:
    from recsys_core.ratings import load_products

    return load_products(_NamedBytes(_data, name))


def load_ratings_bytes(
    name: str, data: bytes, *, columns: tuple | None = None, min_user: int = 1, min_item: int = 1
) -> Dataset:
    """Load uploaded ratings into a :class:`Dataset` (raises ``RecsysError``; caches by content)."""
    key = digest(data)
    ratings = _load_ratings(key, name, columns, int(min_user), int(min_item), data)
    return Dataset(name, ratings, None, key=f"{key}:{columns}:{min_user}:{min_item}")


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
    """Rating counts of the training split that ``train_run`` would use (before oversampling)."""
    return prepare.train_class_counts(_frame, split, seed)
