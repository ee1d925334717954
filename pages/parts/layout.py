"""Page furniture: the title and intro of a page, plain (never Markdown) text, the dataset's one-liner."""

from __future__ import annotations

import re

import streamlit as st

from pages.parts.datasets import Dataset, overview


def intro(title: str, text: str) -> None:
    st.title(title)
    st.caption(text)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
# Where Markdown's autolinking starts (GFM "literal" links: www., a scheme's ://, an e-mail's @).
# Escaping does not stop it; a word joiner (U+2060, invisible) inside the trigger does.
_AUTOLINK_TRIGGER = re.compile(r"(?i)(www)(\.)|(:)(//)|(@)")
WORD_JOINER = "\u2060"


def _break_autolink(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}{WORD_JOINER}{match.group(2)}"
    if match.group(3):
        return f"{match.group(3)}{WORD_JOINER}{match.group(4)}"
    return f"{WORD_JOINER}@{WORD_JOINER}"


def plain(text: object) -> str:
    """Text from files, names or errors, made safe to put inside ``st.markdown`` (and the message
    boxes, captions and labels that render Markdown): it shows exactly as written.

    Every Markdown character is escaped (no emphasis, link, image, heading, colour directive or
    formula) and the triggers of autolinking (``www.``, ``://``, ``@``) get an invisible word
    joiner, so ``https://evil.example/login`` or ``www.phish.example`` stay text, never a link.
    Streamlit never renders raw HTML here (no ``unsafe_allow_html``) and ``<`` is escaped too.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK_TRIGGER.sub(_break_autolink, str(text)))


def md_escape(text: object) -> str:
    """Former name of :func:`plain` (kept for pages that still call it; same result)."""
    return plain(text)


def dataset_line(ds: Dataset) -> str:
    info = overview(ds.key, ds.frame)
    return (
        f"**{plain(ds.name)}** · {info['rows']:,} ratings by {info['users']:,} customers "
        f"on {info['items']:,} products"
    )
