"""The five page scripts of the Streamlit app (run by ``st.navigation`` in ``app.py``).

The underscore modules are what the pages share, one concern each: ``_state`` (session keys,
kept values, multipliers and settings), ``_datasets`` (the current dataset, cached loading),
``_runs`` (saved runs), ``_charts`` (the app's own Altair charts; those the report draws too are in
:mod:`recsys_core.charts`) and ``_layout`` (page furniture).

A regular package, so that ``from pages import _state`` never resolves to another ``pages``
module elsewhere on ``sys.path``.
"""
