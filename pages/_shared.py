"""What the pages share: session keys, cached loading, the current dataset and chart builders.

Streamlit glue only: the work (loading, splitting, training, evaluating) is done by
``recsys_core``; chart data comes from :mod:`recsys_core.reports`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from recsys_core import reports
from recsys_core.config import NOTEBOOK_MULTIPLIERS, PRESETS, TrainConfig
from recsys_core.errors import RecsysError

#: Session-state keys.
DATASET = "dataset"
JOB = "train_job"
LAST_RUN = "last_run_id"
#: Values kept across pages (a dict in session state) and the prefix of their widgets' keys.
STORE = "kept"
WIDGET = "w_"
#: Set to 1 (or set ``st.session_state["sync_training"] = True``) to train in the page's own
#: thread: AppTest cannot wait for a worker thread. Everything else is the same code path.
SYNC_ENV = "RECSYS_APP_SYNC_TRAINING"

#: Colours shared by the charts: "before"/training in grey-blue, "after"/validation in blue.
BLUE, GREY, ORANGE, GREEN = "#2563eb", "#94a3b8", "#f59e0b", "#16a34a"

UPLOAD_TYPES = ["csv", "gz", "tsv", "txt", "parquet", "pq", "jsonl", "json", "ndjson"]


# -- the dataset -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The ratings the app works on, with an optional product table.

    ``key`` identifies the content (a digest), so caches of derived figures are keyed by it.
    """

    name: str
    ratings: Any
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
def _demo() -> tuple[Any, pd.DataFrame]:
    # One generation gives both tables (demo_ratings() would generate the ratings a second time).
    from recsys_core.demo import generate_demo
    from recsys_core.ratings import Ratings

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
) -> Any:
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


@st.cache_data(max_entries=8, show_spinner=False)
def overview(key: str, _frame: pd.DataFrame) -> dict[str, Any]:
    return reports.dataset_overview(_frame)


@st.cache_data(max_entries=8, show_spinner=False)
def rating_distribution(key: str, _frame: pd.DataFrame) -> pd.DataFrame:
    return reports.rating_distribution(_frame)


@st.cache_data(max_entries=8, show_spinner=False)
def long_tail(key: str, _frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    return reports.long_tail(_frame)


@st.cache_data(max_entries=16, show_spinner="Splitting the ratings like training will…")
def train_class_counts(key: str, split: str, seed: int, _frame: pd.DataFrame) -> dict[float, int]:
    """Rating counts of the training split that ``train_run`` would use (before oversampling)."""
    from recsys_core.split import split_ratings

    train = split_ratings(_frame, method=split, seed=seed).train
    counts = train["rating"].value_counts()
    return {float(r): int(c) for r, c in sorted(counts.items())}


# -- values that survive page switches ---------------------------------------------------------
# Streamlit forgets a widget's value when its page is not shown. Kept values live in a plain dict
# in session state; a widget gets a key seeded from it and writes back on change.


def kept(name: str, default: Any = None) -> Any:
    """The kept value ``name`` (``default`` when never set)."""
    return st.session_state.setdefault(STORE, {}).get(name, default)


def set_kept(name: str, value: Any) -> None:
    """Change a kept value and its widget (call before the widget is drawn or from a callback)."""
    st.session_state.setdefault(STORE, {})[name] = value
    st.session_state[WIDGET + name] = value


def _sync(name: str) -> None:
    st.session_state.setdefault(STORE, {})[name] = st.session_state[WIDGET + name]


def bind(name: str, default: Any, on_change: Any = None) -> dict[str, Any]:
    """``key``/``on_change`` arguments that tie a widget to the kept value ``name``."""
    store = st.session_state.setdefault(STORE, {})
    store.setdefault(name, default)
    # Seed the widget on every run, not only when its key is missing: a key left over from an
    # earlier visit can hold a stale value. The store already holds the latest change (the
    # on_change callback runs before the script), so this never overrides the user.
    st.session_state[WIDGET + name] = store[name]

    def changed() -> None:
        _sync(name)
        if on_change is not None:
            on_change()

    return {"key": WIDGET + name, "on_change": changed}


def mult_name(rating: float) -> str:
    return f"mult_{float(rating):g}"


def multipliers(classes: list[float]) -> dict[float, float]:
    """The Balance page's factors for ``classes`` (1.0 where the user set none)."""
    return {float(r): float(kept(mult_name(r), 1.0)) for r in classes}


def set_multipliers(values: Mapping[float, float], classes: list[float]) -> None:
    for rating in classes:
        set_kept(mult_name(rating), float(values.get(float(rating), 1.0)))


def notebook_recipe() -> dict[float, float]:
    return dict(NOTEBOOK_MULTIPLIERS)


#: TrainConfig fields set on the Train page (kept under the same names).
SETTINGS = (
    "epochs",
    "embedding_dim",
    "batch_size",
    "learning_rate",
    "threshold",
    "split",
    "objective",
    "seed",
)
DEFAULT_PRESET = "fast"


def apply_preset() -> None:
    """Fill the advanced settings with the chosen preset's values."""
    config = PRESETS[kept("preset", DEFAULT_PRESET)]
    for name in SETTINGS:
        set_kept(name, getattr(config, name))


def ensure_settings() -> None:
    if kept("preset") is None:
        set_kept("preset", DEFAULT_PRESET)
    if any(kept(name) is None for name in SETTINGS):
        apply_preset()


def current_config(classes: list[float]) -> TrainConfig:
    """The TrainConfig the Train page would start now (raises ``RecsysError`` if invalid)."""
    ensure_settings()
    overrides = {name: kept(name) for name in SETTINGS}
    overrides["multipliers"] = {r: f for r, f in multipliers(classes).items() if f != 1.0}
    return TrainConfig.preset(kept("preset"), **overrides)


def split_setting() -> tuple[str, int]:
    ensure_settings()
    return str(kept("split")), int(kept("seed"))


def sync_training() -> bool:
    return bool(st.session_state.get("sync_training")) or os.environ.get(SYNC_ENV) == "1"


# -- saved runs --------------------------------------------------------------------------------


def registry():
    from recsys_core.registry import RunRegistry

    return RunRegistry(reports.runs_dir())


def list_runs() -> list[Any]:
    """Saved runs, newest first; a broken runs folder becomes an error message, not a crash."""
    try:
        return registry().list()
    except RecsysError as exc:
        st.error(str(exc))
        return []


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_run(path: str, mtime: float) -> Any:
    # ``mtime`` is part of the cache key: a run folder replaced on disk is loaded again.
    from recsys_core.runs import load_run as _load

    return _load(Path(path))


def load_run_record(record: Any) -> Any:
    path = Path(record.path)
    return load_run(str(path), path.stat().st_mtime)


# -- page furniture ----------------------------------------------------------------------------


def intro(title: str, text: str) -> None:
    st.title(title)
    st.caption(text)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """Escape user text (file names, ids, messages quoting them) before it goes into Markdown.

    Streamlit never renders raw HTML here (no ``unsafe_allow_html``), but an unescaped name could
    still turn into a link, an image or broken formatting.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def dataset_line(ds: Dataset) -> str:
    info = overview(ds.key, ds.frame)
    return (
        f"**{md_escape(ds.name)}** · {info['rows']:,} ratings by {info['users']:,} customers "
        f"on {info['items']:,} products"
    )


# -- charts ------------------------------------------------------------------------------------


def _rating_axis(labels: list[str]) -> alt.X:
    return alt.X("label:N", title="Rating", sort=labels, axis=alt.Axis(labelAngle=0, labelFontSize=13))


def rating_bars(dist: pd.DataFrame) -> alt.Chart:
    labels = dist.sort_values("rating")["label"].tolist()
    base = alt.Chart(dist).encode(
        x=_rating_axis(labels),
        y=alt.Y("count:Q", title="Ratings", axis=alt.Axis(format=",.0f")),
        tooltip=[
            alt.Tooltip("label:N", title="Rating"),
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    bars = base.mark_bar(color=BLUE, cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
    text = base.mark_text(dy=-8, color="#374151").encode(text=alt.Text("share:Q", format=".1%"))
    return (bars + text).properties(height=300)


def long_tail_chart(points: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(points)
        .mark_line(color=BLUE, strokeWidth=2.5)
        .encode(
            x=alt.X(
                "share_of_products:Q",
                title="Products, from most to least rated (share of the catalogue)",
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("ratings:Q", title="Ratings per product (log scale)", scale=alt.Scale(type="log")),
            tooltip=[
                alt.Tooltip("rank:Q", title="Product rank", format=","),
                alt.Tooltip("ratings:Q", title="Ratings", format=","),
            ],
        )
        .properties(height=300)
    )


def class_mix_chart(mix: pd.DataFrame) -> alt.Chart:
    order = ["before", "after"]
    labels = mix.drop_duplicates("label").sort_values("rating")["label"].tolist()
    base = alt.Chart(mix).encode(
        x=_rating_axis(labels),
        xOffset=alt.XOffset("stage:N", sort=order),
        y=alt.Y("count:Q", title="Training ratings", axis=alt.Axis(format=",.0f")),
        tooltip=[
            alt.Tooltip("label:N", title="Rating"),
            alt.Tooltip("stage:N", title="When"),
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    bars = base.mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3).encode(
        color=alt.Color(
            "stage:N",
            title=None,
            sort=order,
            scale=alt.Scale(domain=order, range=[GREY, BLUE]),
            legend=alt.Legend(
                orient="top",
                labelFontSize=13,
                labelExpr="datum.label == 'before' ? 'before oversampling' : 'after oversampling'",
            ),
        ),
    )
    # Count above share, both above the bar.
    count = base.mark_text(dy=-17, baseline="bottom", fontSize=11, color="#374151").encode(
        text=alt.Text("count:Q", format=",")
    )
    share = base.mark_text(dy=-4, baseline="bottom", fontSize=11, color="#6b7280").encode(
        text=alt.Text("share:Q", format=".0%")
    )
    return (bars + count + share).properties(height=340)


def line_chart(
    data: pd.DataFrame,
    y: str,
    color: str,
    y_title: str,
    domain: list[str],
    colors: list[str],
    y_format: str = ".3f",
    zero_one: bool = False,
) -> alt.Chart:
    scale = alt.Scale(domain=[0, 1]) if zero_one else alt.Scale(zero=False)
    axis = alt.Axis(format="%") if zero_one else alt.Axis()
    return (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{y}:Q", title=y_title, scale=scale, axis=axis),
            color=alt.Color(
                f"{color}:N",
                title=None,
                scale=alt.Scale(domain=domain, range=colors),
                legend=alt.Legend(orient="top", labelFontSize=12),
            ),
            tooltip=["epoch:Q", f"{color}:N", alt.Tooltip(f"{y}:Q", format=y_format)],
        )
        .properties(height=260)
    )


def confusion_chart(cells: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(cells).encode(
        x=alt.X(
            "predicted:N",
            title=None,
            sort=["model: will like", "model: will not"],
            axis=alt.Axis(orient="top", labelAngle=0),
        ),
        y=alt.Y(
            "actual:N",
            title=None,
            sort=cells["actual"].unique().tolist(),
            axis=alt.Axis(labelLimit=240, labelFontSize=12),
        ),
    )
    heat = base.mark_rect(cornerRadius=4).encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=[
            "actual:N",
            "predicted:N",
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    text = base.mark_text(fontSize=15).encode(
        text="text:N",
        color=alt.condition(alt.datum.share > 0.3, alt.value("white"), alt.value("#1f2937")),
    )
    return (heat + text).properties(height=220)


def threshold_chart(long: pd.DataFrame, threshold: float) -> alt.Chart:
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("threshold:Q", title="Threshold (score needed to say 'will like')"),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "measure:N",
                title=None,
                scale=alt.Scale(domain=["precision", "recall"], range=[BLUE, ORANGE]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("threshold:Q", format=".2f"),
                "measure:N",
                alt.Tooltip("value:Q", format=".1%"),
            ],
        )
    )
    marker = pd.DataFrame({"threshold": [threshold], "label": [f"chosen: {threshold:.3g}"]})
    rule = alt.Chart(marker).mark_rule(color="#dc2626", strokeDash=[5, 4]).encode(x="threshold:Q")
    label = (
        alt.Chart(marker)
        .mark_text(align="left", dx=4, color="#dc2626")
        .encode(x="threshold:Q", y=alt.datum(0.04), text="label:N")
    )
    return (lines + rule + label).properties(height=280)


def category_chart(mix: pd.DataFrame) -> alt.Chart:
    """Stacked 100 % bars: category shares of the customer's ratings, the suggestions, the popular list."""
    lists = ["rated by the customer", "suggested", "most popular"]
    return (
        alt.Chart(mix)
        .mark_bar()
        .encode(
            y=alt.Y("list:N", title=None, sort=lists, axis=alt.Axis(labelFontSize=12, labelLimit=200)),
            x=alt.X("share:Q", title=None, stack="normalize", axis=alt.Axis(format="%")),
            color=alt.Color(
                "category:N",
                title=None,
                scale=alt.Scale(scheme="tableau10"),
                legend=alt.Legend(orient="right", labelLimit=220, labelFontSize=12, symbolLimit=0),
            ),
            order=alt.Order("category:N"),
            tooltip=[
                "list:N",
                "category:N",
                alt.Tooltip("count:Q", title="products"),
                alt.Tooltip("share:Q", format=".0%"),
            ],
        )
        # Tall enough for one legend line per category (at most 8 named ones plus "other").
        .properties(height=max(130, 21 * mix["category"].nunique()))
    )
