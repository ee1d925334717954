"""An index of saved runs in an embedded SQLite database (WAL mode) beside the run folders.

The folders are the truth; the database is an index that makes listing fast and lets several
app sessions or CLI processes add and delete runs at the same time. Each run folder is written
under a temporary name and renamed into place (:func:`recsys_core.runs.save_run`), so a process
killed mid-way leaves no half-written run visible. :meth:`RunRegistry.list` repairs the index
after such a crash: folders without a row are indexed, rows without a folder are dropped, what
killed saves left is recovered or removed (:func:`recsys_core.runs._staging.recover`).

Nothing in one folder can break the list: a folder that cannot be read, whatever the reason,
becomes a record with ``status == "broken"`` and the reason in ``problem``. Nor can the index:
a corrupt database is rebuilt from the folders, and one that cannot be opened or written (a
read-only folder) is bypassed, the list then being read from the folders directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recsys_core.baselines import LADDERS_DIR
from recsys_core.errors import RecsysError
from recsys_core.runs._folder import load_run, read_run_summary, save_run
from recsys_core.runs._run import Run
from recsys_core.runs._staging import STALE_SECONDS, new_trash_name, recover
from recsys_core.runs._staging import TEMP_PREFIX as TEMP_PREFIX  # re-exported for callers
from recsys_core.runs._summary import RunSummary

DB_NAME = "registry.sqlite3"
# Kept for callers of earlier versions: a staging folder without a writer record is removed
# once this old (one with a record as soon as its writer process is gone).
STALE_TEMP_SECONDS = STALE_SECONDS
# SQLite result codes of a damaged database file (SQLITE_CORRUPT, SQLITE_NOTADB): rebuilt.
_CORRUPT_CODES = {11, 26}
#: Longest reason kept for a broken run.
_MAX_PROBLEM = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    config      TEXT NOT NULL,
    metrics     TEXT NOT NULL,
    summary     TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class RunRecord:
    """One run of the list: enough to list and compare runs without loading weights.

    ``status`` is ``"ok"``, or ``"broken"`` for a folder that cannot be read: then ``problem``
    says why, ``name`` is the folder's name, ``created_at`` its modification time and
    ``config``, ``metrics`` and ``summary`` are empty. A broken run can be deleted, not loaded.
    """

    run_id: str
    name: str
    created_at: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    summary: RunSummary
    path: Path
    status: str = "ok"
    problem: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.summary, Mapping):  # as split.json and the index hold it
            object.__setattr__(self, "summary", RunSummary.from_json(self.summary))

    @property
    def broken(self) -> bool:
        return self.status == "broken"

    @property
    def dataset(self) -> str:
        """The ratings file's name as the run recorded it ("" for older runs)."""
        return self.summary.dataset_name


class _IndexUnavailable(Exception):
    """The index cannot be used right now (read-only, locked, unopenable): read the folders."""


class RunRegistry:
    """Saved runs under ``root``: one folder per run plus ``registry.sqlite3``.

    Parameters
    ----------
    root
        The runs folder; created when missing. A read-only runs folder can be listed and loaded
        from, but not saved to.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecsysError(f"Cannot create the runs folder {self.root}: {exc.strerror}.") from None
        if not self.root.is_dir():
            raise RecsysError(f"Cannot use {self.root} as the runs folder: it is a file.")
        self.db_path = self.root / DB_NAME
        self._ready = False  # schema created (and WAL set) by this instance
        with contextlib.suppress(_IndexUnavailable), self._connect():
            pass  # creates the index now when the folder is writable

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection to the index (safe across threads and processes).

        Raises ``_IndexUnavailable`` for any database failure; a corrupt database is dropped
        first, so that the next connection rebuilds it (and :meth:`list` re-indexes the folders).
        """
        db = self._open()
        corrupt = False
        try:
            yield db
        except sqlite3.Error as exc:
            corrupt = _is_corrupt(exc)
            raise _IndexUnavailable(str(exc)) from None
        finally:
            db.close()
            if corrupt:
                self._discard_index()

    def _open(self) -> sqlite3.Connection:
        # busy_timeout lets concurrent writers queue instead of failing.
        for attempt in (1, 2):
            db: sqlite3.Connection | None = None
            try:
                db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
                db.execute("PRAGMA busy_timeout=30000")
                if not self._ready:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.executescript(_SCHEMA)
                    self._ready = True
                return db
            except sqlite3.Error as exc:
                if db is not None:
                    db.close()
                if not _is_corrupt(exc) or attempt == 2:
                    raise _IndexUnavailable(str(exc)) from None
                self._discard_index()
                self._ready = False
        raise AssertionError("unreachable")

    def _discard_index(self) -> None:
        # The index holds nothing the folders do not: a damaged one is dropped and rebuilt.
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                Path(f"{self.db_path}{suffix}").unlink()

    # -- writing ------------------------------------------------------------------------------

    def save(self, run: Run) -> RunRecord:
        """Write ``run`` to a fresh folder (atomically) and index it.

        Once the folder is written the save has succeeded: an index that cannot be updated is
        brought up to date by the next :meth:`list`, never reported as an error here.
        """
        run_id = _new_run_id(run.name)
        path = save_run(run, self.root / run_id)
        record = self._record_from_folder(path)
        with contextlib.suppress(_IndexUnavailable):
            self._insert([record])
        return record

    def _insert(self, records: list[RunRecord]) -> None:
        if not records:
            return
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.run_id,
                        r.name,
                        r.created_at,
                        json.dumps(r.config),
                        json.dumps(r.metrics),
                        json.dumps(r.summary.to_json()),
                    )
                    for r in records
                ],
            )

    def delete(self, run_ids: Iterable[str]) -> int:
        """Delete runs (folders and rows), broken ones too; returns how many were deleted."""
        deleted = 0
        for run_id in run_ids:
            _check_run_id(run_id)
            folder = self.root / run_id
            removed = False
            if folder.is_dir():
                # Rename first so that a concurrent reader never sees a half-deleted folder; the
                # short trash name fits whatever the length of the run's name.
                trash = new_trash_name(self.root)
                try:
                    folder.rename(trash)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise RecsysError(f"Cannot delete the run {run_id}: {exc.strerror or exc}.") from None
                else:
                    removed = True
                    shutil.rmtree(trash, ignore_errors=True)
            with contextlib.suppress(_IndexUnavailable), self._connect() as db:
                removed |= db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount > 0
            deleted += removed
        return deleted

    # -- reading ------------------------------------------------------------------------------

    def reconcile(self) -> list[RunRecord]:
        """Make the index match the folders (after a crash, a copy-in or a manual delete).

        Returns
        -------
        list of RunRecord
            The broken run folders (never indexed), each with its ``problem``.
        """
        return self._reconcile()[1]

    def _reconcile(self) -> tuple[list[RunRecord], list[RunRecord]]:
        """(records of the good runs, records of the broken ones), from the index when it is
        usable, else from the folders."""
        recover(self.root)
        on_disk, broken = self._run_folders()
        try:
            with self._connect() as db:
                indexed = {row[0] for row in db.execute("SELECT run_id FROM runs")}
            fresh = [self._record_or_broken(self.root / name) for name in sorted(on_disk - indexed)]
            broken += [r for r in fresh if r.broken]
            self._insert([r for r in fresh if not r.broken])
            with self._connect() as db:
                stale = indexed - on_disk
                if stale:
                    db.executemany("DELETE FROM runs WHERE run_id = ?", [(r,) for r in stale])
                rows = db.execute(
                    "SELECT run_id, name, created_at, config, metrics, summary FROM runs"
                ).fetchall()
        except _IndexUnavailable:
            # Read-only, locked or (twice) corrupt: the folders are the truth, read them all.
            everything = [self._record_or_broken(self.root / name) for name in sorted(on_disk)]
            return [r for r in everything if not r.broken], broken + [r for r in everything if r.broken]
        bad = {r.run_id for r in broken}
        return [self._row_record(r) for r in rows if r[0] not in bad and r[0] in on_disk], broken

    def _run_folders(self) -> tuple[set[str], list[RunRecord]]:
        """Names of the run folders (those with a manifest) and records of unreadable folders."""
        names: set[str] = set()
        broken: list[RunRecord] = []
        try:
            entries = sorted(self.root.iterdir())
        except OSError as exc:
            raise RecsysError(f"Cannot list the runs folder {self.root}: {exc.strerror or exc}.") from None
        for entry in entries:
            if entry.name.startswith(".") or entry.name.startswith(DB_NAME):
                continue
            try:
                if entry.is_dir() and (entry / "manifest.json").is_file():
                    names.add(entry.name)
            except Exception as exc:  # a folder nobody may enter: listed as broken
                broken.append(_broken_record(entry, exc))
        return names, broken

    def list(self, *, include_broken: bool = False) -> list[RunRecord]:
        """All runs, newest first; with ``include_broken`` also the folders that cannot be read
        (``status == "broken"``, the reason in ``problem``), so they can be shown and deleted."""
        records, broken = self._reconcile()
        records = records + (broken if include_broken else [])
        return sorted(records, key=lambda r: (r.created_at, r.run_id), reverse=True)

    def load(self, run_id: str) -> Run:
        _check_run_id(run_id)
        folder = self.root / run_id
        if not folder.is_dir():
            recover(self.root)  # a save killed mid-overwrite: put the run back first
        if not folder.is_dir():
            raise RecsysError(f"Run {run_id!r} is not in {self.root} (it may have been deleted).")
        return load_run(folder)

    def _row_record(self, row: tuple[Any, ...]) -> RunRecord:
        try:
            config, metrics, summary = (json.loads(text) for text in row[3:6])
            return RunRecord(row[0], row[1], row[2], config, metrics, summary, self.root / row[0])
        except (TypeError, ValueError, RecursionError):  # a damaged row: read the folder instead
            return self._record_or_broken(self.root / str(row[0]))

    def _record_or_broken(self, folder: Path) -> RunRecord:
        try:
            return self._record_from_folder(folder)
        except Exception as exc:  # whatever one folder holds, it never hides the others
            return _broken_record(folder, exc)

    def _record_from_folder(self, folder: Path) -> RunRecord:
        info = read_run_summary(folder)
        return RunRecord(
            run_id=folder.name,
            name=str(info.get("name", folder.name)),
            created_at=str(info.get("created_at", "")),
            config=dict(info.get("config", {})),
            metrics=dict(info.get("metrics", {})),
            summary=info["summary"],
            path=folder,
        )


def shared_ladders(run_folder: str | os.PathLike[str] | None) -> Path | None:
    """The shared ladder cache of the runs folder ``run_folder`` is saved in, or ``None``.

    A run saved in a :class:`RunRegistry` root (the folder holds :data:`DB_NAME`) shares its
    baseline ladder with every run of the same split there (:data:`LADDERS_DIR`); a run saved
    anywhere else keeps only its own cache. The folder has no manifest, so it is never listed
    as a run.
    """
    if run_folder is None:
        return None
    root = Path(run_folder).parent
    return root / LADDERS_DIR if (root / DB_NAME).is_file() else None


def _is_corrupt(exc: Exception) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _CORRUPT_CODES


def _broken_record(folder: Path, exc: BaseException) -> RunRecord:
    problem = str(exc) if isinstance(exc, RecsysError) else f"{type(exc).__name__}: {exc}"
    try:
        stamp = datetime.fromtimestamp(folder.lstat().st_mtime, UTC).isoformat(timespec="seconds")
    except OSError:
        stamp = ""
    return RunRecord(
        run_id=folder.name,
        name=folder.name,
        created_at=stamp,
        config={},
        metrics={},
        summary=RunSummary(),
        path=folder,
        status="broken",
        problem=problem[:_MAX_PROBLEM],
    )


def _new_run_id(name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "run"
    return f"{stamp}-{slug}-{secrets.token_hex(3)}"


def _check_run_id(run_id: str) -> None:
    # Run ids come from the UI or the command line: never let one escape the runs folder.
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith(".") or run_id in {"..", "."}:
        raise RecsysError(f"{run_id!r} is not a valid run id.")
