"""Settings read from the environment, kept light: importing this pulls in no torch or pandas."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that moves the folder holding saved runs (default ``./runs``).
RUNS_DIR_ENV = "RECSYS_RUNS_DIR"


def runs_dir() -> Path:
    """Folder of saved runs (a :class:`~recsys_core.runs.RunRegistry` root).

    Returns
    -------
    Path
        ``$RECSYS_RUNS_DIR`` when set and not empty, else ``./runs``.
    """
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")
