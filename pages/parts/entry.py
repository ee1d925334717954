"""The first line of every page: a page always runs inside ``app.py``, even from a cold deep link.

Streamlit decides per process whether an app uses its old "pages directory" mode: while no script
has called ``st.navigation`` yet, ``PagesManager.uses_pages_directory`` is True because a
``pages/`` folder sits next to ``app.py`` (``streamlit/runtime/pages_manager.py``). In that mode
the script runner (``_mpa_v1`` in ``streamlit/runtime/scriptrunner/script_runner.py``) runs a
deep-linked page script on its own, without ``app.py``: no page config, no URL state, no sidebar,
and a navigation made of every ``*.py`` file in ``pages/``. So the first visit after a server start
must not be a shared link such as ``/train``, unless the page sends it through ``app.py``.
"""

from __future__ import annotations

import streamlit as st
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager


def through_app() -> None:
    """Leave the old mode and rerun when this page was started without ``app.py``.

    ``st.navigation`` sets the same class attribute to False on its first call (see
    ``streamlit/commands/navigation.py``), and ``app.py`` calls it on every run, so this only does
    early what the first visit of ``/`` would do anyway; afterwards it is a no-op. ``st.rerun``
    keeps the page (its hash is that of its URL path in both modes) and the query string, so the
    rerun runs ``app.py``, whose ``st.navigation`` picks the linked page and the six-page sidebar.

    Not under Streamlit's AppTest: it sets the attribute back to None before every run
    (``streamlit/testing/v1/app_test.py``) and runs a page chosen by ``switch_page`` on its own,
    so the guard would rerun every test run, and a rerun drops the click of an ``st.button``.
    """
    if PagesManager.uses_pages_directory and not config.get_option("global.appTest"):
        PagesManager.uses_pages_directory = False
        st.rerun()
