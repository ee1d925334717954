"""The shared ladder cache: one JSON file per split fingerprint, e.g. ``<runs>/ladders/<sha>.json``.

Every run trained on the same data with the same split method and seed reads the ladder fitted
for the first of them. The files are data read from disk, possibly written by hand: a file is
read only under :data:`MAX_CACHE_BYTES`, with bounded numbers and nesting, and must have exactly
the shape this module writes (its fingerprint, the known rungs with their own labels, finite
figures). Anything else is treated as absent, so the ladder is refitted and the file replaced.

A cache is also sealed: :func:`seal` adds an HMAC-SHA256 of its content (the run's manifest
digest, ``k`` and sample for a run's own ``baselines.json``; the split fingerprint for a shared
one) under a key kept outside the runs folder (:func:`secret`, in the user's cache folder). Figures
or labels edited by hand, or a cache copied from another run, another split or another machine
(a downloaded runs folder), fail the seal and are refitted instead of printed as measured.
Within one process, fits of the same fingerprint queue on one lock (:func:`fingerprint_lock`):
the page that asks while a background fit runs waits for it instead of fitting twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from recsys_core.files import read_json, write_bytes, write_json

#: Subfolder of a runs folder that holds the shared ladders.
LADDERS_DIR = "ladders"
#: Largest cache file read (a ladder is about 5 KB).
MAX_CACHE_BYTES = 256 << 10
#: Longest number literal accepted (no 5,000-digit integer conversions).
MAX_NUMBER_CHARS = 40
#: Deepest nesting accepted: file, ladder, rung, parameters (and a run's key) are 4 levels.
MAX_DEPTH = 8
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TEXT_KEYS = {"label", "skipped"}
#: The key of the seal (32 random bytes), made on first use in the user's cache folder.
KEY_NAME = "ladder-cache.key"
_SEAL = "seal"
_secret: list[bytes] = []

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def fingerprint_lock(fingerprint: str) -> threading.Lock:
    """The process-wide lock of one fingerprint (created on first use)."""
    with _locks_guard:
        return _locks.setdefault(fingerprint, threading.Lock())


def cache_path(folder: str | os.PathLike[str], fingerprint: str) -> Path:
    """Where the ladder of ``fingerprint`` is cached in ``folder``."""
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise ValueError("A split fingerprint is 64 lowercase hex digits.")
    return Path(folder) / f"{fingerprint}.json"


def read_shared(
    folder: str | os.PathLike[str], fingerprint: str, labels: Mapping[str, str]
) -> dict[str, dict[str, Any]] | None:
    """The cached ladder of ``fingerprint``, or ``None`` when absent or not trustworthy.

    ``labels`` maps each rung's name to its label: the cache must hold exactly these rungs.
    """
    data = read_cache(cache_path(folder, fingerprint), {"fingerprint", "ladder"}, labels)
    # A fingerprint other than the file's name: a file copied over another split's.
    return None if data is None or data["fingerprint"] != fingerprint else data["ladder"]


def read_cache(path: Path, keys: set[str], labels: Mapping[str, str]) -> dict[str, Any] | None:
    """A ladder cache file (this folder's or a run's own): a JSON object with exactly ``keys``,
    one of them ``ladder`` holding exactly the rungs of ``labels`` with their own labels and
    finite figures; ``None`` when absent, damaged, oversized or forged (so it is refitted)."""
    try:
        data = read_json(
            path,
            max_bytes=MAX_CACHE_BYTES,
            max_depth=MAX_DEPTH,
            max_number_chars=MAX_NUMBER_CHARS,
            constants=False,
        )
    except (OSError, ValueError, RecursionError):
        return None  # absent, damaged, forged: refit
    if not isinstance(data, dict) or set(data) != keys | {_SEAL}:
        return None
    given = data.pop(_SEAL)
    if not isinstance(given, str) or not hmac.compare_digest(given, seal_of(data)):
        return None  # edited by hand, or sealed elsewhere (another run's copy, another machine)
    ladder = data["ladder"]
    if not isinstance(ladder, dict) or set(ladder) != set(labels):
        return None
    return data if all(_valid_rung(entry, labels[name]) for name, entry in ladder.items()) else None


def write_shared(folder: str | os.PathLike[str], fingerprint: str, ladder: Mapping[str, Any]) -> None:
    """Cache ``ladder`` for ``fingerprint`` (atomically); a folder that cannot take it is skipped."""
    # Read-only runs folder, full disk, a value JSON cannot hold: the ladder is refitted next time.
    with contextlib.suppress(OSError, ValueError, TypeError):
        Path(folder).mkdir(parents=True, exist_ok=True)
        write_cache(cache_path(folder, fingerprint), {"fingerprint": fingerprint, "ladder": ladder})


def write_cache(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` sealed (:func:`seal_of`) to ``path``, all or nothing.

    Raises ``OSError``, ``ValueError`` (NaN) or ``TypeError`` (a value JSON cannot hold).
    """
    write_json(path, {**data, _SEAL: seal_of(data)}, indent=1)


def seal_of(data: Mapping[str, Any]) -> str:
    """HMAC-SHA256 (hex) of ``data`` as canonical JSON, under this user's :func:`secret`."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hmac.new(secret(), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def secret() -> bytes:
    """The key of the seals: read from (or made in) ``$XDG_CACHE_HOME/recsys`` (``~/.cache``);
    a random key for this process alone when that folder cannot be written (caches then last as
    long as the process)."""
    if not _secret:
        _secret.append(_read_or_make_key())
    return _secret[0]


def _read_or_make_key() -> bytes:
    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recsys"
        path = folder / KEY_NAME
        with contextlib.suppress(FileNotFoundError):
            key = path.read_bytes()
            if len(key) == 32:
                return key
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = os.urandom(32)
        write_bytes(path, key)
        os.chmod(path, 0o600)
        return key  # (a racing process's key may win on disk: its caches are then refitted once)
    except (OSError, RuntimeError):  # no home, read-only home
        return os.urandom(32)


def _valid_rung(entry: object, label: str) -> bool:
    if not isinstance(entry, dict) or entry.get("label") != label:
        return False
    if "skipped" in entry:
        return set(entry) == {"label", "skipped"} and isinstance(entry["skipped"], str)
    if not isinstance(entry.get("params"), dict) or not isinstance(entry.get("ndcg_at_k"), float | int):
        return False
    figures = {key: value for key, value in entry.items() if key not in _TEXT_KEYS and key != "params"}
    return _scalars(entry["params"].items(), text=True) and _scalars(figures.items(), text=False)


def _scalars(items: Iterable[tuple[object, object]], *, text: bool) -> bool:
    """Every key a short snake_case name and every value a finite number or ``None``
    (or a short string, with ``text``): nothing nested, nothing unbounded."""
    for key, value in items:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            return False
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            if not math.isfinite(value):
                return False
        elif not (text and isinstance(value, str) and len(value) <= 64):
            return False
    return True
