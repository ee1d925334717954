"""The six page scripts of the Streamlit app (run by ``st.navigation`` in ``app.py``).

Only page scripts sit at this level: what they share lives in :mod:`pages.parts`, one level down,
where Streamlit's old "pages directory" mode (which lists every ``*.py`` file here in the sidebar)
can never find it.

A regular package, so that ``from pages.parts import state`` never resolves to another ``pages``
module elsewhere on ``sys.path``.
"""
