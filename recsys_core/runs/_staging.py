"""Staging folders of run saves: written beside the target, renamed into place, cleaned after a crash.

A save works in a hidden folder ``.tmp-<8 hex>`` next to its target that holds

* ``writer.json``: the saving process (pid and start time) and the target's name;
* ``new/``: the run being written, renamed to the target once complete;
* ``old/``: with ``overwrite``, the previous run, moved aside for the moment between the two
  renames and deleted afterwards.

The staging name is short whatever the target's name, so it never exceeds the file-name limit.
:func:`recover` repairs what a killed save left. When its writer is gone and was
killed between the two renames of an overwrite, the complete ``new/`` run (or else the
``old/`` one) is moved to the empty target; then the folder is deleted. Folders without
``writer.json`` (older versions, or a kill in the first instant) are deleted once
:data:`STALE_SECONDS` old. ``.tmp-del-…`` folders of interrupted deletions are always deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import time
from pathlib import Path

from recsys_core.errors import RecsysError
from recsys_core.files import write_json

#: Longest run-folder name accepted (UTF-8 bytes): well below the 255-byte file-name limit, so
#: that every name derived from it still fits.
MAX_RUN_NAME_BYTES = 120
#: Name prefix of hidden staging and trash folders: never listed as runs.
TEMP_PREFIX = ".tmp-"
#: Prefix of a folder being deleted (renamed first so that readers never see half a run).
TRASH_PREFIX = f"{TEMP_PREFIX}del-"
WRITER_FILE = "writer.json"
NEW_RUN, OLD_RUN = "new", "old"
#: Age after which a staging folder without a writer record is considered abandoned.
STALE_SECONDS = 3600.0


def process_start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so count from its closing ")".
    return stat.rpartition(")")[2].split()[19]


def _alive(pid: object, started: object) -> bool:
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    now = process_start_time(pid)
    return started is None or now is None or now == started


def begin(parent: Path, target_name: str) -> Path:
    """Create a staging folder in ``parent`` for a save to ``parent / target_name``; returns it."""
    staging = parent / f"{TEMP_PREFIX}{secrets.token_hex(4)}"
    staging.mkdir()
    record = {"pid": os.getpid(), "started": process_start_time(os.getpid()), "target": target_name}
    write_json(staging / WRITER_FILE, record)
    (staging / NEW_RUN).mkdir()
    return staging


def new_trash_name(parent: Path) -> Path:
    """A short hidden name in ``parent`` to rename a folder to before deleting it."""
    return parent / f"{TRASH_PREFIX}{secrets.token_hex(4)}"


def _writer(staging: Path) -> dict[str, object] | None:
    try:
        data = (staging / WRITER_FILE).read_bytes()
        if len(data) > 4096:
            return None
        record = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def _plain_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and bool(name)
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
    )


def recover(parent: Path, now: float | None = None) -> list[str]:
    """Repair and remove what killed saves left in ``parent``; returns the targets restored.

    Never raises: a folder that cannot be inspected or removed is left for the next call.
    """
    now = time.time() if now is None else now
    restored: list[str] = []
    try:
        entries = [e for e in parent.iterdir() if e.name.startswith(TEMP_PREFIX)]
    except OSError:
        return restored
    for entry in entries:
        with contextlib.suppress(OSError):
            if not entry.is_dir():
                continue
            if entry.name.startswith(TRASH_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
                continue
            record = _writer(entry)
            if record is None:
                if now - entry.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)
                continue
            if _alive(record.get("pid"), record.get("started")):
                continue
            target = record.get("target")
            if _plain_name(target) and _restore(entry, parent / str(target)):
                restored.append(str(target))
            shutil.rmtree(entry, ignore_errors=True)
    return restored


def _restore(staging: Path, target: Path) -> bool:
    """Put the new run (when complete) or else the old one at ``target`` if nothing is there.

    Only a save killed between its two renames (``old/`` present) left the target empty: any
    other killed save never became visible and is simply discarded.
    """
    if target.exists() or target.is_symlink() or not (staging / OLD_RUN).is_dir():
        return False
    for candidate in (staging / NEW_RUN, staging / OLD_RUN):
        if (candidate / "manifest.json").is_file():
            os.replace(candidate, target)
            return True
    return False


def check_run_destination(directory: str | os.PathLike[str] | None, overwrite: bool = False) -> None:
    """Refuse a run folder that :func:`~recsys_core.runs.save_run` would refuse, before any work is done.

    Raises
    ------
    RecsysError
        The name is longer than :data:`MAX_RUN_NAME_BYTES` bytes, names a file, or names a
        folder with other files, or a saved run while ``overwrite`` is false.
    """
    if directory is None:
        return
    target = Path(directory)
    size = len(os.fsencode(target.name))
    if size > MAX_RUN_NAME_BYTES or not target.name or target.name in {".", ".."}:
        raise RecsysError(
            f"Cannot save the run to {str(target)[:80]}…: a run folder's name must be 1 to "
            f"{MAX_RUN_NAME_BYTES} bytes long (this one is {size:,}); choose a shorter name."
        )
    try:
        if not target.exists():
            return
        if not target.is_dir():
            raise RecsysError(f"Cannot save the run to {target}: it is a file; choose a folder name.")
        if not any(target.iterdir()):
            return
        is_run = (target / "manifest.json").is_file()
    except OSError as exc:
        raise RecsysError(f"Cannot save the run to {target}: {exc.strerror or exc}.") from None
    if not is_run:
        raise RecsysError(
            f"Cannot save the run to {target}: the folder holds files that are not a saved run, "
            "and they would be deleted. Choose an empty or new folder."
        )
    if not overwrite:
        raise RecsysError(f"{target} already holds a saved run; choose another folder or allow overwriting.")


def swap_in(staging: Path, target: Path) -> None:
    """Rename ``staging/new`` to ``target``; an existing ``target`` is moved to ``staging/old``
    first. A kill between the two renames is repaired by :func:`recover`."""
    if target.exists():
        retired = staging / OLD_RUN
        os.replace(target, retired)
        try:
            os.replace(staging / NEW_RUN, target)
        except OSError:
            os.replace(retired, target)  # put the previous run back
            raise
    else:
        os.replace(staging / NEW_RUN, target)
