"""Memory guard: refuse what would not fit before reading it whole."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from recsys_core.data.ratings._text import size_text
from recsys_core.data.ratings._types import SourceData
from recsys_core.errors import RecsysError

#: Bytes that may be used to load a file; ``None`` means "what the machine has free" (see
#: :func:`available_memory`). Tests and small machines can set it, as can ``memory_budget``.
MEMORY_BUDGET: int | None = None
# Working memory per loaded rating besides its ID text: the parsed columns, integer codes, sort
# keys for duplicate detection, the float ratings and the DataFrame. Peak RSS growth measured
# with this loader: 181 B/row for 3 million rows with 24-byte IDs and timestamps, 263 B/row for
# 2 million rows with 80-byte IDs, no times; 2 x text + 160 (+ 24 with times) covers both.
BYTES_PER_ROW = 160
_BYTES_PER_TIME = 24
TEXT_COPIES = 2
# json.loads of a JSON array builds a Python dict per record: about 4 bytes per byte of JSON.
PYTHON_OBJECT_FACTOR = 4


def available_memory() -> int | None:
    """Bytes of memory this process can still use, or ``None`` if the system does not say.

    ``MemAvailable`` from ``/proc/meminfo`` (free memory plus the page cache that can be
    reclaimed), lowered to the container's cgroup limit when one is set, else
    ``os.sysconf`` free pages.
    """
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
            return None
    headroom = _cgroup_headroom()
    return available if headroom is None else min(available, headroom)


def _cgroup_headroom() -> int | None:
    """Limit minus usage of this process's memory cgroup (v2, then v1), if it has a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit_text = Path(limit_file).read_text().strip()
            if limit_text == "max":
                return None
            limit = int(limit_text)
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 1 << 60:  # cgroup v1 writes "no limit" as a huge number
            return None
        return max(limit - usage, 0)
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
    have = (
        f"the memory budget is {size_text(budget)}" if given else f"this machine has {size_text(budget)} free"
    )
    amount = f"more than {size_text(need)}" if more_than else f"about {size_text(need)}"
    return RecsysError(
        f"{data.name}: this file has about {_about_rows(rows)} ratings and would need {amount} of memory; "
        f"{have}. Split the file or use a machine with more memory."
    )


def _about_rows(rows: float) -> str:
    if rows >= 1e6:
        return f"{rows / 1e6:.1f} million"
    return f"{max(round(rows, -2 if rows >= 1000 else 0), 1):,.0f}"


def per_row_bytes(text_bytes: float, has_time: bool) -> float:
    """Estimated peak bytes per loaded row, from the text of the columns it reads."""
    return TEXT_COPIES * text_bytes + BYTES_PER_ROW + (_BYTES_PER_TIME if has_time else 0)
