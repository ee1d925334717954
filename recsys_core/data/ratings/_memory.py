"""Memory guard: refuse what would not fit before reading it whole.

It also holds the readers of what the system says about memory, without third-party packages:
``/proc/meminfo`` (:func:`meminfo`), the process's memory cgroup and its parents
(:func:`cgroup_memory_limit`: v2 ``memory.max``, v1 ``memory.limit_in_bytes``) and its
address-space limit (:func:`address_space_limit`), and the CPUs it may run on
(:func:`cpu_count`). The guard and the training estimate (:mod:`recsys_core.training._machine`)
read them here, each with its own policy.
"""

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
#: cgroup v1 reports "no limit" as a huge number (a page-rounded 2**63 - 1); anything this large
#: is no limit.
_UNLIMITED = 1 << 60
CGROUP_ROOT = Path("/sys/fs/cgroup")


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
    available = meminfo().get("MemAvailable")
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None, ""
    return available, f"this machine has {size_text(available)} free"


def _cgroup_headroom() -> tuple[int | None, str]:
    """Limit minus usage of the tightest memory cgroup over this process (its own or a parent)."""
    found = cgroup_memory_limit()
    if found is None:
        return None, ""
    limit, used = found
    headroom = max(limit - used, 0)
    return headroom, f"the memory limit of this container ({size_text(limit)}) leaves {size_text(headroom)}"


def meminfo() -> dict[str, int]:
    """``/proc/meminfo`` in bytes (empty where there is none)."""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return {}
    out: dict[str, int] = {}
    for line in lines:
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            out[name] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return out


def _read_int(path: Path) -> int | None:
    """The whole number in ``path``; ``None`` when missing, unreadable, ``max`` or huge."""
    try:
        text = path.read_text().strip()
    except (OSError, ValueError):
        return None
    if not text.isdigit():
        return None  # "max": no limit
    value = int(text)
    return value if value < _UNLIMITED else None


def _own_cgroup(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> list[Path]:
    """The cgroup folders that hold this process, deepest first (v2, then v1's memory controller)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    folders: list[Path] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        base = root if hierarchy == "0" and not controllers else root / "memory"
        if hierarchy != "0" and "memory" not in controllers.split(","):
            continue
        folder = base / path.lstrip("/")
        # A limit set on a parent (a slice holding this scope) binds as well.
        while True:
            folders.append(folder)
            if folder == base:
                break
            folder = folder.parent
    return folders or [root]


def cgroup_memory_limit(
    root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
) -> tuple[int, int] | None:
    """``(limit, in use)`` in bytes of the tightest cgroup memory limit over this process, or
    ``None`` when no cgroup limits it.

    Parameters
    ----------
    root, proc_cgroup
        The cgroup filesystem and this process's membership (tests pass fakes).
    """
    best: tuple[int, int] | None = None
    for folder in _own_cgroup(root, proc_cgroup):
        for limit_name, usage_name in (
            ("memory.max", "memory.current"),
            ("memory.limit_in_bytes", "memory.usage_in_bytes"),
        ):
            limit = _read_int(folder / limit_name)
            if limit is None:
                continue
            used = _read_int(folder / usage_name) or 0
            if best is None or limit - used < best[0] - best[1]:
                best = (limit, used)
    return best


def cpu_count() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def address_space_limit() -> int | None:
    """The process's ``RLIMIT_AS`` soft limit in bytes (``ulimit -v``), ``None`` when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft in (resource.RLIM_INFINITY, -1) or soft >= _UNLIMITED else int(soft)


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
