"""What this machine offers a training run: memory it may still use, CPUs, a GPU.

Memory is the least of three limits, each read without third-party packages: the memory the
system has free (``MemAvailable`` of ``/proc/meminfo``, or physical pages where there is no
``/proc``), the process's address-space limit (``RLIMIT_AS``, ``ulimit -v``) and the memory
limit of its cgroup (``memory.max`` of cgroup v2, ``memory.limit_in_bytes`` of v1), as a
container or a systemd slice sets it. A process that ignored the last two would be killed (or
fail to allocate) however much memory the machine has free.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

#: cgroup v1 reports "no limit" as a huge number (a page-rounded 2**63 - 1); anything this large
#: is no limit.
_UNLIMITED = 1 << 60
CGROUP_ROOT = Path("/sys/fs/cgroup")


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


def _own_cgroup(root: Path, proc_cgroup: Path) -> list[Path]:
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


def address_space_limit() -> int | None:
    """The process's ``RLIMIT_AS`` soft limit in bytes (``ulimit -v``), ``None`` when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft in (resource.RLIM_INFINITY, -1) or soft >= _UNLIMITED else int(soft)


def _meminfo() -> dict[str, int]:
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


def _own_memory() -> tuple[int, int]:
    """This process's ``(resident, virtual)`` bytes, from ``/proc/self/statm`` (0, 0 without it)."""
    try:
        size, resident = Path("/proc/self/statm").read_text().split()[:2]
    except (OSError, ValueError):
        return 0, 0
    page = os.sysconf("SC_PAGE_SIZE")
    return int(resident) * page, int(size) * page


def memory_budget() -> tuple[int, int]:
    """``(total, usable)`` bytes for this process: the machine's (or its limit's) size, and how
    much this process may hold at most from now on, its own resident memory included.

    ``usable`` is the least of: what the system has free plus what this process already holds;
    ``RLIMIT_AS`` less the address space this process maps without using it (libraries, reserved
    arenas: assumed to stay as they are); the cgroup limit less what the rest of the cgroup uses.
    """
    info = _meminfo()
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        physical = info.get("MemTotal", 0)
    resident, virtual = _own_memory()
    total = info.get("MemTotal", physical)
    usable = info.get("MemAvailable", total) + resident
    limit = address_space_limit()
    if limit is not None:
        total = min(total, limit)
        usable = min(usable, limit - max(virtual - resident, 0))
    cgroup = cgroup_memory_limit()
    if cgroup is not None:
        limit, used = cgroup
        total = min(total, limit)
        usable = min(usable, limit - used + resident)
    return int(total), int(max(min(usable, total), 0))


def cpu_count() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cuda_present() -> bool:
    """Whether the NVIDIA driver lists a GPU. Never asks torch: the page that calls this must not
    import it, and another thread may be importing it at that moment (a half-imported module)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    try:
        return gpus.is_dir() and any(gpus.iterdir())
    except OSError:
        return False


@dataclass(frozen=True)
class Machine:
    """The resources a training run may use, as :func:`this_machine` reads them.

    Attributes
    ----------
    total_memory
        The machine's memory, or the process's limit (``RLIMIT_AS``, cgroup) when lower.
    usable_memory
        What this process may hold at most from now on (see :func:`memory_budget`).
    cpus
        CPUs this process may run on.
    cuda
        A CUDA GPU is present.
    """

    total_memory: int
    usable_memory: int
    cpus: int
    cuda: bool


def this_machine() -> Machine:
    """This machine, now."""
    total, usable = memory_budget()
    return Machine(total_memory=total, usable_memory=usable, cpus=cpu_count(), cuda=cuda_present())
