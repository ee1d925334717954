"""Settings read from the environment, kept light: importing this pulls in no torch or pandas.

Every setting is read through one function here, which checks it; :func:`check_environment`
checks them all at once, so that the command line (exit 2) and the app (an error box) refuse a
mistyped setting at start with a message naming it, instead of failing later inside a page.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from recsys_core.errors import RecsysError

#: Environment variable that moves the folder holding saved runs (default ``./runs``).
RUNS_DIR_ENV = "RECSYS_RUNS_DIR"
#: Environment variable that moves the app's kept uploads (default ``<runs dir>/datasets``).
DATA_DIR_ENV = "RECSYS_DATA_DIR"
#: Environment variable for the size cap of the app's kept uploads, in megabytes (default 2048).
DATA_CAP_ENV = "RECSYS_DATA_CAP_MB"
#: Environment variable that makes the app train in the page's own run instead of in the background.
SYNC_ENV = "RECSYS_APP_SYNC_TRAINING"
#: The default and the largest upload cap, in megabytes (1 TB: past that, a typo).
DATA_CAP_DEFAULT_MB = 2048.0
DATA_CAP_MAX_MB = float(1 << 20)
#: Longest folder setting accepted, in bytes (Linux's PATH_MAX).
_MAX_PATH_BYTES = 4096


def _folder(name: str, default: Path) -> Path:
    """The folder named by ``$name`` (``default`` when unset or empty), checked for a usable path."""
    text = os.environ.get(name) or ""
    if not text:
        return default
    if not text.strip():
        raise RecsysError(f"${name} is only spaces; set it to a folder, e.g. {name}=./runs, or unset it.")
    if "\x00" in text or len(os.fsencode(text)) > _MAX_PATH_BYTES:
        raise RecsysError(
            f"${name} is not a usable folder name (a NUL byte, or over {_MAX_PATH_BYTES:,} bytes); "
            "set it to a folder such as ./runs, or unset it."
        )
    return Path(text)


def runs_dir() -> Path:
    """Folder of saved runs (a :class:`~recsys_core.runs.RunRegistry` root).

    Returns
    -------
    Path
        ``$RECSYS_RUNS_DIR`` when set and not empty, else ``./runs``.

    Raises
    ------
    RecsysError
        The setting is only spaces or not a usable path.
    """
    return _folder(RUNS_DIR_ENV, Path("runs"))


def data_dir() -> Path:
    """``$RECSYS_DATA_DIR`` when set, else ``datasets`` in the runs folder (which ignores it)."""
    return _folder(DATA_DIR_ENV, runs_dir() / "datasets")


def data_cap_bytes() -> int:
    """The app's cap on kept uploads, in bytes: ``$RECSYS_DATA_CAP_MB`` megabytes (default 2048).

    Raises
    ------
    RecsysError
        The setting is not a number (``abc``, spaces, ``nan``), not finite (``inf``, ``1e400``),
        not above 0 or over :data:`DATA_CAP_MAX_MB`.
    """
    text = os.environ.get(DATA_CAP_ENV)
    if text is None or text == "":
        megabytes = DATA_CAP_DEFAULT_MB
    else:
        try:
            megabytes = float(text)
        except ValueError:
            megabytes = math.nan
        if not 0 < megabytes <= DATA_CAP_MAX_MB:  # NaN and the infinities fail this too
            raise RecsysError(
                f"${DATA_CAP_ENV} is {text[:40]!r}: it must be a number of megabytes above 0 and at most "
                f"{DATA_CAP_MAX_MB:,.0f}, e.g. {DATA_CAP_ENV}=2048 (the default), or unset it."
            )
    return max(int(megabytes * (1 << 20)), 1)


def sync_training() -> bool:
    """``$RECSYS_APP_SYNC_TRAINING``: ``1`` trains in the page's own run (tests), ``0`` or unset not."""
    text = (os.environ.get(SYNC_ENV) or "0").strip()
    if text not in ("0", "1"):
        raise RecsysError(f"${SYNC_ENV} is {text[:40]!r}: set it to 1 (train in the page) or 0, or unset it.")
    return text == "1"


def check_environment() -> None:
    """Check every ``RECSYS_*`` setting; the first bad one raises :class:`RecsysError`.

    Called at start by the command line and the app, so a mistyped setting is named before any work.
    """
    runs_dir()
    data_dir()
    data_cap_bytes()
    sync_training()
