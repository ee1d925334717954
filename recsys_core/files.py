"""Files every layer writes and checks: a file's SHA-256, writes that are all or nothing, and
JSON read from files a user may have edited, with bounded size, nesting and numbers, and the lock
that keeps two processes from writing the same output (:func:`exclusive`).

A reader never meets a half-written file: :func:`replacing` hands out a temporary sibling and
renames it over the target only when the write succeeded (``os.replace`` is atomic within a
folder), so an interrupted write leaves the previous file or none. Run folders, the ladder's cache,
everyone's top-N parts and the app's kept uploads all write this way. Nothing here imports numpy,
pandas or torch.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Bytes read at a time while hashing: a large file never sits in memory whole.
_HASH_BLOCK = 1 << 20
_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')


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


def json_depth(text: str, limit: int) -> int:
    """Deepest nesting of ``[`` and ``{`` in JSON ``text``, brackets inside strings ignored.

    One linear pass over the special characters (a regular expression for strings would
    backtrack quadratically on hostile input); stops as soon as the depth passes ``limit``.
    """
    depth = deepest = 0
    in_string = False
    skip = -1  # position of the character escaped by a backslash
    for match in _JSON_SPECIAL.finditer(text):
        char, position = match.group(), match.start()
        if position == skip:
            continue
        if in_string:
            if char == "\\":
                skip = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(data: bytes, *, max_depth: int, max_number_chars: int, constants: bool = True) -> Any:
    """JSON from untrusted ``data``: nesting at most ``max_depth`` deep and no number literal over
    ``max_number_chars`` characters (no 5,000-digit integer conversion), checked before Python's
    parser recurses; ``constants=False`` also refuses ``NaN`` and ``Infinity``.

    Raises
    ------
    ValueError
        Not UTF-8, not JSON, or past a bound (the message says which).
    """

    def number(kind: type) -> Any:
        def parse(text: str) -> int | float:
            if len(text) > max_number_chars:
                raise ValueError(f"a number of {len(text):,} characters (at most {max_number_chars})")
            return kind(text)

        return parse

    def refuse(text: str) -> float:
        raise ValueError(f"{text} is not a JSON number")

    text = data.decode("utf-8")
    depth = json_depth(text, max_depth)
    if depth > max_depth:
        raise ValueError(f"nested {depth} levels deep (at most {max_depth})")
    extra = {} if constants else {"parse_constant": refuse}
    return json.loads(text, parse_int=number(int), parse_float=number(float), **extra)


def read_json(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    max_depth: int,
    max_number_chars: int,
    constants: bool = True,
) -> Any:
    """:func:`parse_json` of the file at ``path``, refused (``ValueError``) past ``max_bytes``
    before it is read whole; ``OSError`` when it cannot be read."""
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"more than {max_bytes:,} bytes")
    return parse_json(data, max_depth=max_depth, max_number_chars=max_number_chars, constants=constants)


class Busy(Exception):
    """Another process holds the lock of :func:`exclusive`; ``holder`` says who (pid, host, since)."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path} is locked by {describe_holder(holder)}")


def describe_holder(holder: dict[str, Any]) -> str:
    """``process 1234 on host, started 2026-01-01 12:00:00 UTC`` (what the lock file says)."""
    pid, host, since = holder.get("pid"), holder.get("host"), holder.get("started")
    who = f"process {pid}" if isinstance(pid, int) else "another process"
    if isinstance(host, str) and host:
        who += f" on {host[:64]}"
    if isinstance(since, int | float) and 0 < since < 1e11:
        who += ", started " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since))
    return who


@contextmanager
def exclusive(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on the lock file ``path`` for the block, or raise :class:`Busy`.

    The lock is ``flock`` on the file, so it goes with its process: a writer killed by SIGKILL
    leaves a file that the next one simply locks again. The file names its holder (pid, host,
    start time) for the message of the next writer, and is removed when the block ends.
    """
    lock = Path(path)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise Busy(lock, holder) from None
        try:  # the last holder may have removed the file between our open and our lock
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.write(fd, json.dumps(info).encode())
        yield
    finally:
        lock.unlink(missing_ok=True)  # while still held: the next writer sees a fresh file
        os.close(fd)


def _holder(fd: int) -> dict[str, Any]:
    try:
        value = json.loads(os.pread(fd, 4096, 0))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
