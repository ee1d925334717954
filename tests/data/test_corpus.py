"""The corpus of bad and odd input files: each loads as declared or fails with a specific message.

The files are in ``tests/fixtures/corpus/`` (the large ones are written at test time by
``tests/fixtures/make_corpus.py``); what each must do is declared once, in
``tests/fixtures/corpus/EXPECTATIONS.toml``. Every case is checked through :func:`load_ratings`
(from its path and as an upload), and through ``recsys inspect`` in-process; a handful run the
CLI as a real subprocess, and the hostile large files run in a fresh Python whose peak memory
growth is bounded.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recsys_core import cli
from recsys_core.data import Ratings, load_ratings, split_ratings
from recsys_core.data import ratings as ratings_module
from recsys_core.errors import RecsysError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
CASES: dict[str, dict] = tomllib.loads((CORPUS / "EXPECTATIONS.toml").read_text("utf-8"))


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_corpus", ROOT / "tests" / "fixtures" / "make_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_corpus = _load_generator()

COMMITTED = sorted(name for name, spec in CASES.items() if not spec.get("generated"))
SUBPROCESS = sorted(name for name, spec in CASES.items() if spec.get("cli_subprocess"))
BOUNDED = sorted(name for name, spec in CASES.items() if "max_rss_growth_mb" in spec)
LIMITED = sorted(name for name, spec in CASES.items() if "address_space" in spec)
VISITORS = sorted(name for name, spec in CASES.items() if "visitors" in spec)


def file_of(case: str) -> str:
    return CASES[case].get("file", case)


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory) -> Iterator[Callable[[str], Path]]:
    """The path of a case's file; generated files are written once per test module."""
    folder = tmp_path_factory.mktemp("generated")
    built: dict[str, Path] = {}

    def path_of(case: str) -> Path:
        name = file_of(case)
        if not CASES[case].get("generated"):
            return CORPUS / name
        if name not in built:
            built[name] = make_corpus.GENERATED[name](folder)
        return built[name]

    yield path_of
    shutil.rmtree(folder, ignore_errors=True)  # 420 MB: not left for pytest's kept temp folders


def budget_of(case: str) -> dict:
    spec = CASES[case]
    return {"memory_budget": spec["memory_budget"]} if "memory_budget" in spec else {}


def check_loaded(ratings: Ratings, spec: dict) -> None:
    frame = ratings.frame
    summary = ratings.summary()
    counts = (summary["rows"], summary["users"], summary["items"])
    assert counts == (spec["rows"], spec["users"], spec["items"])
    assert list(frame.columns[:3]) == ["user", "item", "rating"]
    if "users_exact" in spec:
        assert frame["user"].tolist() == spec["users_exact"]
    if "items_exact" in spec:
        assert frame["item"].tolist() == spec["items_exact"]
    if "rating_counts" in spec:
        assert summary["rating_counts"] == spec["rating_counts"]
    if "likes_it_from" in spec:
        assert summary["likes_it_from"] == spec["likes_it_from"]
    if "has_timestamps" in spec:
        assert ratings.has_timestamps is spec["has_timestamps"]
    for key in ("time_min", "time_max"):
        if key in spec:
            assert summary[key] == spec[key]
    report = ratings.report
    for key in ("time_format", "encoding", "delimiter", "format"):
        if key in spec:
            assert getattr(report, key) == spec[key]
    if "column_user" in spec:
        assert report.column_map.user == spec["column_user"]
    if "note" in spec:
        assert any(spec["note"] in note for note in report.notes), report.notes


def check_error(message: str, spec: dict) -> None:
    for part in spec["message"]:
        assert part in message
    assert "\n" not in message  # the CLI prints it as one line


# ---------------------------------------------------------------------------------------------
# The corpus itself
# ---------------------------------------------------------------------------------------------


def test_corpus_is_declared_completely():
    on_disk = {p.name for p in CORPUS.iterdir()} - {"EXPECTATIONS.toml"}
    declared = {file_of(case) for case in COMMITTED}
    assert on_disk == declared  # no undeclared file, no declared file missing
    assert set(make_corpus.GENERATED) == {file_of(c) for c, s in CASES.items() if s.get("generated")}
    assert len({file_of(case) for case in CASES}) >= 25
    for spec in CASES.values():
        assert spec["expect"] in ("loads", "error")
        assert spec["expect"] == "loads" or spec["message"]


def test_committed_files_are_what_the_generator_writes():
    # Parquet metadata names the pyarrow version that wrote it, so those bytes may differ.
    for name, content in make_corpus.committed_files().items():
        if not name.endswith(".parquet"):
            assert (CORPUS / name).read_bytes() == content, name


# ---------------------------------------------------------------------------------------------
# load_ratings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_ratings(case, corpus_path):
    spec = CASES[case]
    path = corpus_path(case)
    if spec["expect"] == "error":
        with pytest.raises(RecsysError) as info:
            load_ratings(path, **budget_of(case))
        check_error(str(info.value), spec)
    else:
        ratings = load_ratings(path, **budget_of(case))
        check_loaded(ratings, spec)
        if "split_error" in spec:
            with pytest.raises(RecsysError, match=re.escape(spec["split_error"])):
                split_ratings(ratings.frame)


@pytest.mark.parametrize("case", VISITORS)
def test_visitor_files_are_checked_for_fold_in_only(case, corpus_path):
    """Issue 23: a visitor file is not a training file (one 5-star rating is the usual case)."""
    check_loaded(load_ratings(corpus_path(case), visitors=True), CASES[case]["visitors"])


@pytest.mark.parametrize("case", COMMITTED)
def test_upload_gives_the_same_outcome(case):
    """The app passes uploads as file objects with a name: same result as the path."""
    spec = CASES[case]
    upload = io.BytesIO((CORPUS / file_of(case)).read_bytes())
    upload.name = file_of(case)
    if spec["expect"] == "error":
        with pytest.raises(RecsysError) as info:
            load_ratings(upload, **budget_of(case))
        # Messages name the file as given; an empty upload is reported like an empty path.
        check_error(str(info.value), spec)
    else:
        check_loaded(load_ratings(upload, **budget_of(case)), spec)


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_inspect_in_process(case, corpus_path, capsys, monkeypatch):
    spec = CASES[case]
    path = corpus_path(case)
    if "memory_budget" in spec:
        monkeypatch.setattr(ratings_module, "MEMORY_BUDGET", spec["memory_budget"])
    code = cli.main(["inspect", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if spec["expect"] == "error":
        assert code == 2
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        check_error(lines[0], spec)
    else:
        assert code == 0 and err == ""
        shown = re.search(r"ratings\s+([\d,]+)", out)
        assert shown and int(shown.group(1).replace(",", "")) == spec["rows"]


@pytest.mark.slow  # the CLI in a fresh Python per case (~0.4 s each, ~5 s in all)
@pytest.mark.parametrize("case", SUBPROCESS)
def test_cli_inspect_subprocess(case, corpus_path):
    spec = CASES[case]
    result = subprocess.run(
        [sys.executable, "-m", "recsys_core.cli", "inspect", "--json", str(corpus_path(case))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert "Traceback" not in result.stdout + result.stderr
    if spec["expect"] == "error":
        assert result.returncode == 2
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        check_error(lines[0], spec)
    else:
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert (summary["rows"], summary["users"], summary["items"]) == (
            spec["rows"],
            spec["users"],
            spec["items"],
        )


# ---------------------------------------------------------------------------------------------
# Bounded memory for the hostile large files
# ---------------------------------------------------------------------------------------------

# VmHWM is the peak RSS of this process image; ru_maxrss would not do, because Linux carries it
# over from the forking parent (the pytest process) through exec.
_MEASURE = """
import json, sys
from recsys_core.errors import RecsysError
from recsys_core.data.ratings import load_ratings

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))

budget = json.loads(sys.argv[2])
before = status("VmRSS")
try:
    load_ratings(sys.argv[1], memory_budget=budget)
    outcome = "loaded"
except RecsysError as error:
    outcome = str(error)
print(json.dumps({"outcome": outcome, "growth_kb": status("VmHWM") - before}))
"""


@pytest.mark.slow  # a fresh Python per case, to measure its peak memory
@pytest.mark.parametrize("case", BOUNDED)
def test_hostile_files_are_refused_with_bounded_memory(case, corpus_path):
    """Peak RSS of a fresh Python while loading, minus its RSS before (kB, from /proc)."""
    spec = CASES[case]
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(corpus_path(case)), json.dumps(spec.get("memory_budget"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    check_error(measured["outcome"], spec)
    assert measured["growth_kb"] < spec["max_rss_growth_mb"] * 1024


def _limit_address_space(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before it execs Python
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


@pytest.mark.slow  # a fresh Python under an address-space limit, as `prlimit --as=...` runs it
@pytest.mark.parametrize("case", LIMITED)
def test_the_memory_guard_honours_the_process_limit(case, corpus_path):
    """No memory budget given: the guard must see RLIMIT_AS itself and refuse with exit 2 (not
    rc 134 inside Arrow, not a MemoryError after reading it all)."""
    spec = CASES[case]

    def inspect(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "recsys_core.cli", "inspect", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=300,
            preexec_fn=_limit_address_space(spec["address_space"]),
        )

    result = inspect(corpus_path(case))
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    for part in spec["address_space_message"]:
        assert part in lines[0]
    # ... while a file that fits still loads under the same limit.
    small = inspect(CORPUS / "memory_budget.csv")
    assert small.returncode == 0, small.stderr[-2000:]
