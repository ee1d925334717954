"""Uploaded ratings files kept on disk, content-addressed, so a reload or a restart keeps them.

One folder per file under :func:`data_dir`, named by the digest of the bytes: ``data`` (the file
as uploaded) and ``meta.json`` (its name, size, when it was last used and the load options that
worked). The total size is capped; the least recently used files go first. Nothing here imports
Streamlit, pandas or torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from recsys_core.errors import RecsysError
from recsys_core.files import write_bytes, write_json
from recsys_core.settings import DATA_CAP_ENV, data_cap_bytes, data_dir

_KEY = re.compile(r"^[0-9a-f]{32}$")


def digest(data: bytes) -> str:
    """The content address of a file: 32 hex digits."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class KeptFile:
    """One kept upload: its content address, name, size, last use and load options."""

    key: str
    name: str
    size: int
    used: float
    options: dict[str, object] = field(default_factory=dict)


class UploadStore:
    """Kept uploads under ``root``, at most ``cap_bytes`` in all.

    Parameters
    ----------
    root
        The folder (created on the first :meth:`put`).
    cap_bytes
        Total size kept; ``None`` reads ``$RECSYS_DATA_CAP_MB`` (default 2 GB).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, cap_bytes: int | None = None):
        self.root = Path(root) if root is not None else data_dir()
        if cap_bytes is None:
            cap_bytes = data_cap_bytes()  # checked: a number of megabytes above 0
        self.cap_bytes = cap_bytes

    def _folder(self, key: str) -> Path:
        if not _KEY.match(key or ""):
            raise RecsysError(f"{key!r} is not the key of a kept data set.")
        return self.root / key

    def put(self, name: str, data: bytes, options: dict[str, object] | None = None) -> str:
        """Keep ``data`` (idempotent) with its name and load options; returns its key.

        Raises ``RecsysError`` when the file alone is over the cap (it is then not kept) or the
        folder cannot be written.
        """
        if len(data) > self.cap_bytes:
            raise RecsysError(
                f"{name} ({len(data) / 2**20:,.0f} MB) is larger than the {self.cap_bytes / 2**20:,.0f} MB "
                f"kept for uploads, so it is not kept after a reload (raise ${DATA_CAP_ENV} to keep it)."
            )
        key = digest(data)
        folder = self._folder(key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / "data").is_file():
                write_bytes(folder / "data", data)
            meta = {"name": name, "size": len(data), "used": time.time(), "options": options or {}}
            write_json(folder / "meta.json", meta)
        except OSError as exc:
            raise RecsysError(f"Cannot keep {name} in {self.root}: {exc.strerror or exc}.") from exc
        self._evict(keep=key)
        return key

    def get(self, key: str) -> tuple[KeptFile, bytes] | None:
        """The kept file ``key`` and its bytes, or ``None`` when it is not (or no longer) kept."""
        folder = self._folder(key)
        entry = self._entry(folder)
        if entry is None:
            return None
        try:
            return entry, (folder / "data").read_bytes()
        except OSError:
            return None

    def list(self) -> list[KeptFile]:
        """Kept files, most recently used first."""
        if not self.root.is_dir():
            return []
        entries = [self._entry(f) for f in self.root.iterdir() if _KEY.match(f.name)]
        return sorted((e for e in entries if e is not None), key=lambda e: e.used, reverse=True)

    def delete(self, key: str) -> None:
        shutil.rmtree(self._folder(key), ignore_errors=True)

    def _entry(self, folder: Path) -> KeptFile | None:
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            size = (folder / "data").stat().st_size
        except (OSError, ValueError):
            return None
        return KeptFile(folder.name, str(meta.get("name", folder.name)), size, float(meta.get("used", 0)),
                        dict(meta.get("options") or {}))  # fmt: skip

    def _evict(self, keep: str) -> None:
        # Least recently used first, never the file just kept.
        entries = self.list()
        total = sum(e.size for e in entries)
        for entry in reversed(entries):
            if total <= self.cap_bytes:
                break
            if entry.key != keep:
                with contextlib.suppress(RecsysError):
                    self.delete(entry.key)
                total -= entry.size
