"""What the pages share, one concern each: ``state`` (session keys, kept values, multipliers and
settings), ``query`` (state in the URL), ``datasets`` (the current dataset, cached loading),
``runs`` (saved runs), ``layout`` (page furniture), ``charts`` and ``whatif_charts`` (the app's own
Altair charts; those the report draws too are in :mod:`recsys_core.charts`), and one module per
larger section (``sweep``, ``ladder``, ``diff_section``, ``visitor``, ``everyone``).

A sub-package and not modules beside the pages: Streamlit lists every ``*.py`` file at the top of
``pages/`` when it runs in its old "pages directory" mode, but never looks into a sub-folder.
"""
