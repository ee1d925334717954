"""What this machine offers a training run: memory it may still use, CPUs, a GPU.

Memory is the least of three limits, read by the loader's memory guard's readers
(:mod:`recsys_core.data.ratings`: ``meminfo``, ``address_space_limit``, ``cgroup_memory_limit``):
the memory the system has free (``MemAvailable`` of ``/proc/meminfo``, or physical pages where
there is no ``/proc``), the process's address-space limit (``RLIMIT_AS``, ``ulimit -v``) and the
memory limit of its cgroup (``memory.max`` of cgroup v2, ``memory.limit_in_bytes`` of v1), as a
container or a systemd slice sets it. A process that ignored the last two would be killed (or
fail to allocate) however much memory the machine has free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from recsys_core.data.ratings import address_space_limit, cgroup_memory_limit, cpu_count, meminfo


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
    info = meminfo()
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
