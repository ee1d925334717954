"""Page furniture: the title and intro of a page, Markdown escaping, the dataset's one-liner."""

from __future__ import annotations

import re

import streamlit as st

from pages._datasets import Dataset, overview


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
