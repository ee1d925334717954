"""Memory guard: refuse what would not fit before reading it whole."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import numpy as np

from recsys_core.data.ratings._text import size_text
from recsys_core.data.ratings._types import SourceData
from recsys_core.errors import RecsysError

#: Bytes that may be used to load a file; ``None`` means "what this process can still use" (see
#: :func:`available_memory`). Tests and small machines can set it, as can ``memory_budget``.
MEMORY_BUDGET: int | None = None
# Working memory per loaded rating besides its ID text: the parsed columns, integer codes, sort
# keys for duplicate detection, the float ratings and the DataFrame. Peak RSS growth measured
# with this loader (issue 23, generated CSV files of unique random rows, VmHWM of a fresh Python):
#   24-byte rows, no times:   137 MB -> 866 MB (6.3 MB per MB of text, 144 B/row), 389 MB -> 2.3 GB
#   41-byte rows with times:  272 MB -> 1.46 GB (5.4 MB per MB of text, 218 B/row)
# and earlier 181 B/row (3 million rows, 24-byte IDs and timestamps), 263 B/row (80-byte IDs).
# 2 x text + 160 (+ 24 with times) covers every one of them (204 and 232 B/row above); per MB of
# text the factor depends on the row width (5-7 for short rows, ~3 for 100-byte rows), so the
# estimate is made per row from the sampled lines, not per MB.
BYTES_PER_ROW = 160
_BYTES_PER_TIME = 24
TEXT_COPIES = 2
# json.loads of a JSON array builds a Python dict per record: about 4 bytes per byte of JSON.
PYTHON_OBJECT_FACTOR = 4
# Address space grows faster than RSS while loading (Arrow's and malloc's per-thread arenas are
# reserved, not touched): the VmPeak growth was 1.3 to 1.9 times the VmHWM growth in the runs
# above, so an address-space limit (ulimit -v, RLIMIT_AS) leaves half its headroom to the estimate.
ADDRESS_SPACE_PER_BYTE = 2


def available_memory() -> int | None:
    """Bytes of memory this process can still use, or ``None`` if the system does not say.

    The least of: ``MemAvailable`` from ``/proc/meminfo`` (free memory plus the page cache that
    can be reclaimed; else ``os.sysconf`` free pages), the headroom of this process's memory
    cgroup (v2 ``memory.max``, v1 ``memory.limit_in_bytes``, its own and its parents'), and of its
    own limits (``RLIMIT_AS``, ``RLIMIT_DATA``). See :func:`memory_limit` for which one binds.
    """
    return memory_limit()[0]


def memory_limit() -> tuple[int | None, str]:
    """The bytes this process can still use and, for messages, what sets them."""
    limits = [_free_memory(), _cgroup_headroom(), *_process_headroom()]
    known = [(size, why) for size, why in limits if size is not None]
    if not known:
        return None, ""
    return min(known, key=lambda limit: limit[0])


def _free_memory() -> tuple[int | None, str]:
    available = None
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        available = None
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None, ""
    return available, f"this machine has {size_text(available)} free"


def _cgroup_headroom() -> tuple[int | None, str]:
    """Limit minus usage of this process's memory cgroup and its parents (v2, then v1)."""
    best: tuple[int | None, str] = (None, "")
    for limit_file, usage_file in _cgroup_files():
        try:
            limit_text = Path(limit_file).read_text().strip()
            if limit_text == "max":
                continue
            limit = int(limit_text)
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 1 << 60:  # cgroup v1 writes "no limit" as a huge number
            continue
        headroom = max(limit - usage, 0)
        if best[0] is None or headroom < best[0]:
            best = (
                headroom,
                f"the memory limit of this container ({size_text(limit)}) leaves {size_text(headroom)}",
            )
    return best


def _cgroup_files() -> list[tuple[str, str]]:
    """(limit, usage) files of this process's memory cgroup, its parents and the mount root."""
    folders: list[tuple[Path, str, str]] = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # v2: "0::/path"
            base, names = Path("/sys/fs/cgroup"), ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base, names = Path("/sys/fs/cgroup/memory"), ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        folder = base / path.strip("/")
        while True:  # a parent's limit binds its children too
            folders.append((folder, *names))
            if folder == base:
                break
            folder = folder.parent
    folders += [
        (Path("/sys/fs/cgroup"), "memory.max", "memory.current"),
        (Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"),
    ]
    return [(str(folder / limit), str(folder / usage)) for folder, limit, usage in folders]


def _process_headroom() -> list[tuple[int | None, str]]:
    """What ``RLIMIT_AS`` (``ulimit -v``) and ``RLIMIT_DATA`` leave above the current use."""
    found: list[tuple[int | None, str]] = []
    for name, field, shown in (("RLIMIT_AS", "VmSize", "ulimit -v"), ("RLIMIT_DATA", "VmData", "ulimit -d")):
        try:
            limit = resource.getrlimit(getattr(resource, name))[0]
        except (AttributeError, OSError, ValueError):
            continue
        if limit == resource.RLIM_INFINITY or limit < 0:
            continue
        used = _status_bytes(field)
        headroom = max(limit - (used or 0), 0) // ADDRESS_SPACE_PER_BYTE
        found.append(
            (
                headroom,
                f"this process's memory limit ({shown}: {size_text(limit)}) leaves room for about "
                f"{size_text(headroom)}",
            )
        )
    return found


def _status_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_budget(memory_budget: object) -> int | None:
    """The ``memory_budget`` argument checked: ``None`` or a positive whole number of bytes."""
    if memory_budget is None:
        return None
    whole = isinstance(memory_budget, int | np.integer) and not isinstance(memory_budget, bool)
    if not whole or memory_budget < 1:
        raise RecsysError(f"memory_budget must be a positive number of bytes, not {memory_budget!r}.")
    return int(memory_budget)


def budget_of(data: SourceData) -> tuple[int | None, bool]:
    """The bytes this load may use and whether they were set (``False``: the machine's free memory)."""
    if data.budget is not None:
        return data.budget, True
    if MEMORY_BUDGET is not None:
        return MEMORY_BUDGET, True
    return available_memory(), False


def check_memory(data: SourceData, rows: float, need: float) -> None:
    """Refuse a load whose estimated memory ``need`` (bytes) exceeds the budget."""
    budget, given = budget_of(data)
    if given:
        need += data.held
    if budget is not None and need > budget:
        raise memory_error(data, rows, need, budget, given)


def memory_error(
    data: SourceData, rows: float, need: float, budget: int, given: bool, *, more_than: bool = False
) -> RecsysError:
    """The message for a load that would not fit in ``budget`` bytes."""
    have = f"the memory budget is {size_text(budget)}" if given else _limit_text(budget)
    amount = f"more than {size_text(need)}" if more_than else f"about {size_text(need)}"
    return RecsysError(
        f"{data.name}: this file has about {_about_rows(rows)} ratings and would need {amount} of memory; "
        f"{have}. Split the file or use a machine with more memory"
        + (" (or raise that limit)." if "limit" in have else ".")
    )


def _limit_text(budget: int) -> str:
    """What sets ``budget`` (the machine's free memory, a container's or the process's limit)."""
    size, why = memory_limit()
    return why if size == budget and why else f"this machine has {size_text(budget)} free"


def _about_rows(rows: float) -> str:
    if rows >= 1e6:
        return f"{rows / 1e6:.1f} million"
    return f"{max(round(rows, -2 if rows >= 1000 else 0), 1):,.0f}"


def per_row_bytes(text_bytes: float, has_time: bool) -> float:
    """Estimated peak bytes per loaded row, from the text of the columns it reads."""
    return TEXT_COPIES * text_bytes + BYTES_PER_ROW + (_BYTES_PER_TIME if has_time else 0)
