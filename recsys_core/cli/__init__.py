"""The ``recsys`` command line: the same pipeline as the app, headless.

Exit status 0 on success, 2 with a single ``error: …`` line on bad input (never a traceback),
1 for an unexpected internal failure (``--debug`` shows its traceback), 130 when interrupted.

One private module per command group, each owning its handlers and its ``add_…_parser``:
``_data`` (demo-data, inspect), ``_train`` (train), ``_query`` (evaluate, recommend, similar),
``_batch`` (recommend --all-users), ``_whatif`` (sweep, compare, report); ``_common`` holds what
they share and ``_main`` puts the parser together.
"""

from recsys_core.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
