"""Files every layer writes and checks: a file's SHA-256, and writes that are all or nothing.

A reader never meets a half-written file: :func:`replacing` hands out a temporary sibling and
renames it over the target only when the write succeeded (``os.replace`` is atomic within a
folder), so an interrupted write leaves the previous file or none. Run folders, the ladder's cache,
everyone's top-N parts and the app's kept uploads all write this way. Nothing here imports numpy,
pandas or torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Bytes read at a time while hashing: a large file never sits in memory whole.
_HASH_BLOCK = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of the file at ``path``, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed over ``path`` when the block succeeds.

    The temporary file is hidden and named after this process and thread, so concurrent writers
    of the same target never share one; it is removed when the block raises.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing (:func:`replacing`)."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)


def write_json(path: str | os.PathLike[str], value: Any, *, indent: int | None = None) -> None:
    """Write ``value`` as strict JSON (no NaN or infinity) and a final newline, all or nothing.

    Raises
    ------
    ValueError
        ``value`` holds NaN or an infinity (nothing is written).
    TypeError
        ``value`` holds something JSON cannot represent (nothing is written).
    """
    text = json.dumps(value, indent=indent, allow_nan=False) + "\n"
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
