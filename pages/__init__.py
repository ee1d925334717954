"""The five page scripts of the Streamlit app (run by ``st.navigation`` in ``app.py``).

A regular package, so that ``from pages import _shared`` never resolves to another ``pages``
module elsewhere on ``sys.path``.
"""
