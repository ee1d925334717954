"""The memory guard honours the process's own limits, not only the free memory (issue 23, item 3):
``RLIMIT_AS`` / ``RLIMIT_DATA`` (``ulimit -v`` / ``-d``, ``prlimit``) and the memory cgroup of a
container (v2 ``memory.max``, v1 ``memory.limit_in_bytes``, its parents' too). The subprocess
test under a real limit is in ``test_corpus.py`` (``address_space_bomb.csv``)."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from recsys_core.data import ratings as ratings_module
from recsys_core.data.ratings import _memory, cgroup_memory_limit
from recsys_core.errors import RecsysError

GB = 1 << 30


def test_an_address_space_limit_lowers_what_the_guard_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    used = _memory._status_bytes("VmSize")
    assert used is not None and used > 0
    real = resource.getrlimit

    def limited(which: int) -> tuple[int, int]:
        return (used + 2 * GB, used + 2 * GB) if which == resource.RLIMIT_AS else real(which)

    monkeypatch.setattr(resource, "getrlimit", limited)
    size, why = _memory.memory_limit()
    assert size is not None and size <= GB  # half the 2 GB headroom (address space grows faster)
    assert "ulimit -v" in why and "leaves room for about" in why
    assert ratings_module.available_memory() == size


def test_an_unlimited_process_is_judged_by_the_free_memory() -> None:
    assert all(size is None or size > 0 for size, _ in _memory._process_headroom())
    size, why = _memory.memory_limit()
    assert size is not None and why


def _fake_cgroup(tmp_path: Path, membership: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup filesystem holding ``files`` and this process's membership file."""
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = tmp_path / "proc_cgroup"
    proc.write_text(membership)
    return root, proc


def test_cgroup_v2_memory_max_and_a_parents_limit(tmp_path: Path) -> None:
    root, proc = _fake_cgroup(
        tmp_path,
        "0::/user.slice/app.scope\n",
        {
            "user.slice/app.scope/memory.max": "max\n",
            "user.slice/app.scope/memory.current": "1000\n",
            "user.slice/memory.max": "4000000000\n",
            "user.slice/memory.current": "1500000000\n",
        },
    )
    # The scope has no limit of its own; its slice's binds it.
    assert cgroup_memory_limit(root, proc) == (4_000_000_000, 1_500_000_000)


def test_cgroup_v1_limit_and_no_limit(tmp_path: Path) -> None:
    root, proc = _fake_cgroup(
        tmp_path,
        "12:cpu,cpuacct:/x\n4:memory:/docker/abc\n",
        {
            "memory/docker/abc/memory.limit_in_bytes": "2147483648\n",
            "memory/docker/abc/memory.usage_in_bytes": "0\n",
        },
    )
    assert cgroup_memory_limit(root, proc) == (2_147_483_648, 0)
    unlimited, proc2 = _fake_cgroup(
        tmp_path / "other", "0::/\n", {"memory.max": "max\n", "memory.current": "5\n"}
    )
    assert cgroup_memory_limit(unlimited, proc2) is None
    # v1's "no limit" is a huge page-rounded number.
    huge, proc3 = _fake_cgroup(
        tmp_path / "huge", "4:memory:/\n", {"memory/memory.limit_in_bytes": str(2**63 - 4096)}
    )
    assert cgroup_memory_limit(huge, proc3) is None


def test_the_tightest_cgroup_level_binds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, proc = _fake_cgroup(
        tmp_path,
        "0::/parent/own\n4:memory:/\n",
        {
            "parent/own/memory.max": "max\n",  # v2: no limit of its own
            "parent/own/memory.current": "0\n",
            "parent/memory.max": f"{3 * GB}\n",  # 512 MB left
            "parent/memory.current": f"{2 * GB + GB // 2}\n",
            "memory.max": f"{16 * GB}\n",
            "memory.current": f"{GB}\n",
            "memory/memory.limit_in_bytes": f"{2**63 - 4096}\n",  # v1's "no limit"
        },
    )
    real = _memory.cgroup_memory_limit
    monkeypatch.setattr(_memory, "cgroup_memory_limit", lambda: real(root, proc))
    size, why = _memory._cgroup_headroom()
    assert size == GB // 2 and "memory limit of this container (3.0 GB) leaves 512 MB" in why
    assert _memory.memory_limit()[0] <= GB // 2


def test_the_cgroup_of_this_process_is_found_from_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    folders = _memory._own_cgroup()
    assert Path("/sys/fs/cgroup") in folders or Path("/sys/fs/cgroup/memory") in folders
    assert all(str(folder).startswith("/sys/fs/cgroup") for folder in folders)


def test_the_message_names_the_limit_that_binds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        _memory,
        "memory_limit",
        lambda: (4096, "this process's memory limit (ulimit -v: 3.0 GB) leaves room for about 4 KB"),
    )
    content = b"UserID,ProductID,Rating\n" + b"".join(
        b"A%05d,B%05d,%d\n" % (k, k % 50, 1 + k % 5) for k in range(2000)
    )
    with pytest.raises(
        RecsysError, match=r"would need about .*\(ulimit -v: 3\.0 GB\) leaves room for about 4 KB"
    ):
        ratings_module.load_ratings(_named(content))


def _named(content: bytes):
    import io

    upload = io.BytesIO(content)
    upload.name = "ratings.csv"
    return upload
