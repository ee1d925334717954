"""An index of saved runs in an embedded SQLite database (WAL mode) beside the run folders.

The folders are the truth; the database is an index that makes listing fast and lets several
app sessions or CLI processes add and delete runs at the same time. Each run folder is written
under a temporary name and renamed into place (:func:`recsys_core.runs.save_run`), so a process
killed mid-way leaves no half-written run visible. :meth:`RunRegistry.reconcile` repairs the index
after such a crash: folders without a row are indexed, rows without a folder are dropped, stale
temporary folders are removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recsys_core.errors import RecsysError
from recsys_core.runs import Run, load_run, read_run_summary, save_run

DB_NAME = "registry.sqlite3"
TEMP_PREFIX = ".tmp-"
# A temporary folder older than this belongs to a process that died (training writes its folder
# in seconds once finished).
STALE_TEMP_SECONDS = 3600.0

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
    """One row of the index: enough to list and compare runs without loading weights."""

    run_id: str
    name: str
    created_at: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    summary: dict[str, Any]
    path: Path


class RunRegistry:
    """Saved runs under ``root``: one folder per run plus ``registry.sqlite3``.

    Parameters
    ----------
    root
        The runs folder; created when missing.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecsysError(f"Cannot create the runs folder {self.root}: {exc.strerror}.") from None
        self.db_path = self.root / DB_NAME
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A short-lived connection per operation: safe across threads (Streamlit sessions) and
        # processes; busy_timeout lets concurrent writers queue instead of failing.
        try:
            db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise RecsysError(f"Cannot open the runs index {self.db_path}: {exc}.") from None
        try:
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        except sqlite3.DatabaseError as exc:
            raise RecsysError(
                f"The runs index {self.db_path} is unreadable ({exc}); delete it and reopen the app: "
                "it is rebuilt from the run folders."
            ) from None
        finally:
            db.close()

    # -- writing ------------------------------------------------------------------------------

    def save(self, run: Run) -> RunRecord:
        """Write ``run`` to a fresh folder (atomically) and index it."""
        run_id = _new_run_id(run.name)
        path = save_run(run, self.root / run_id)
        record = self._record_from_folder(path)
        self._insert(record)
        return record

    def _insert(self, record: RunRecord) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.run_id,
                    record.name,
                    record.created_at,
                    json.dumps(record.config),
                    json.dumps(record.metrics),
                    json.dumps(record.summary),
                ),
            )

    def delete(self, run_ids: Iterable[str]) -> int:
        """Delete runs (folders and rows); returns how many were deleted."""
        deleted = 0
        for run_id in run_ids:
            _check_run_id(run_id)
            folder = self.root / run_id
            if folder.is_dir():
                # Rename first so that a concurrent reader never sees a half-deleted folder.
                trash = self.root / f"{TEMP_PREFIX}del-{run_id}-{secrets.token_hex(3)}"
                with contextlib.suppress(FileNotFoundError):
                    folder.rename(trash)
                    shutil.rmtree(trash, ignore_errors=True)
            with self._connect() as db:
                deleted += db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount
        return deleted

    # -- reading ------------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Make the index match the folders (after a crash, a copy-in or a manual delete)."""
        with self._connect() as db:
            indexed = {row[0] for row in db.execute("SELECT run_id FROM runs")}
        on_disk: set[str] = set()
        now = time.time()
        for entry in self.root.iterdir():
            if not entry.is_dir():
                continue
            if entry.name.startswith(TEMP_PREFIX):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                        shutil.rmtree(entry, ignore_errors=True)
                continue
            if (entry / "manifest.json").is_file():
                on_disk.add(entry.name)
        for run_id in sorted(on_disk - indexed):
            try:
                self._insert(self._record_from_folder(self.root / run_id))
            except RecsysError:
                continue  # not a readable run: listed nowhere, left for the user to inspect
        stale = indexed - on_disk
        if stale:
            with self._connect() as db:
                db.executemany("DELETE FROM runs WHERE run_id = ?", [(r,) for r in stale])

    def list(self) -> list[RunRecord]:
        """All runs, newest first."""
        self.reconcile()
        with self._connect() as db:
            rows = db.execute(
                "SELECT run_id, name, created_at, config, metrics, summary FROM runs "
                "ORDER BY created_at DESC, run_id DESC"
            ).fetchall()
        return [
            RunRecord(
                r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), json.loads(r[5]), self.root / r[0]
            )
            for r in rows
        ]

    def load(self, run_id: str) -> Run:
        _check_run_id(run_id)
        folder = self.root / run_id
        if not folder.is_dir():
            raise RecsysError(f"Run {run_id!r} is not in {self.root} (it may have been deleted).")
        return load_run(folder)

    def _record_from_folder(self, folder: Path) -> RunRecord:
        info = read_run_summary(folder)
        return RunRecord(
            run_id=folder.name,
            name=str(info.get("name", folder.name)),
            created_at=str(info.get("created_at", "")),
            config=dict(info.get("config", {})),
            metrics=dict(info.get("metrics", {})),
            summary=dict(info.get("summary", {})),
            path=folder,
        )


def _new_run_id(name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "run"
    return f"{stamp}-{slug}-{secrets.token_hex(3)}"


def _check_run_id(run_id: str) -> None:
    # Run ids come from the UI or the command line: never let one escape the runs folder.
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith(".") or run_id in {"..", "."}:
        raise RecsysError(f"{run_id!r} is not a valid run id.")
