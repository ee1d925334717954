"""Fixtures shared by the test modules: the in-process CLI runner, a free TCP port and the
shared real data files (``../shared/data`` beside the repository).

Markers (declared in pyproject.toml): ``slow`` for tests over ~5 s (subprocesses, SIGKILL,
torchrun, the corpus suites) and ``browser`` for the Chromium tests; ``make quick`` runs
``-m "not slow and not browser"``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_server import free_port as _pick_free_port

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

CliRunner = Callable[..., tuple[int, str, str]]
SharedData = Callable[[str], Path]


def _run_cli(*argv: str) -> tuple[int, str, str]:
    """Run ``recsys ARGV...`` in this process; returns (exit code, stdout, stderr)."""
    # Imported here so that a broken CLI fails its own tests, not every module's collection.
    from recsys_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_err, sys.stderr = sys.stderr, err
    try:
        code = main(list(argv), out=out)
    finally:
        sys.stderr = old_err
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def run_cli() -> CliRunner:
    """The ``recsys`` command line run in-process: ``code, out, err = run_cli("inspect", path)``."""
    return _run_cli


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The key that seals ladder caches lives in ``$XDG_CACHE_HOME``: a temporary one here, so
    the tests never write into the home folder (subprocesses inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for torch.distributed rendezvous)."""
    return _pick_free_port()


@pytest.fixture(scope="session")
def shared_data() -> SharedData:
    """The path of one shared real file, ``shared_data("amazon_electronics_dense.csv")``.

    Skips the test (rather than failing it) when ``../shared/data`` or the file is absent, as in
    a checkout without the shared folder beside it.
    """

    def path_of(name: str) -> Path:
        if not SHARED_DATA.is_dir():
            pytest.skip(f"../shared/data is absent: no folder {SHARED_DATA}")
        path = SHARED_DATA / name
        if not path.is_file():
            pytest.skip(f"../shared/data is absent: {name} is missing from {SHARED_DATA}")
        return path

    return path_of


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh runs folder for the app and the CLI (``$RECSYS_RUNS_DIR``)."""
    from recsys_core.settings import RUNS_DIR_ENV

    folder = tmp_path / "runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small demo-shop ratings file (CSV with header), as a user would upload it."""
    from recsys_core.data import write_demo_csv

    path = tmp_path_factory.mktemp("data") / "small.csv"
    write_demo_csv(path, n_users=300, n_items=120, n_ratings=4000, seed=7)
    return path.read_bytes()
