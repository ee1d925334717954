"""Hand-made run folders with valid checksums (issue 12, items 3 and 4).

Each case is a generator: it takes a freshly saved, valid run and edits one file, then re-signs
the manifest so that every checksum matches. Loading must exit 2 with a message naming the file
(never 1, never a traceback), and the runs list must show the folder as broken, with the reason,
without hiding the good runs.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from run_files_kit import make_run, npy_bytes, replace_member, resign

from recsys_core.errors import RecsysError
from recsys_core.runs import RunRegistry, load_run, save_run
from recsys_core.runs import _files as run_files
from recsys_core.runs import _guard as run_guard

ROOT = Path(__file__).resolve().parents[2]


def edit_manifest(folder: Path, change: Callable[[dict], object]) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_json(name: str) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        (folder / name).write_text(nested(100_000))
        if name != "manifest.json":
            resign(folder)
        return name

    return make


def not_object(name: str) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        (folder / name).write_text('["not", "an", "object"]')
        if name != "manifest.json":
            resign(folder)
        return name

    return make


def long_number(folder: Path) -> str:
    (folder / "metrics.json").write_text('{"precision": ' + "9" * 5000 + "}")
    resign(folder)
    return "metrics.json"


def bytes_as_text(folder: Path) -> str:
    edit_manifest(folder, lambda m: m["files"]["metrics.json"].update(bytes="12"))
    return "manifest.json"


def users(count: float) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        edit_manifest(folder, lambda m: m["model"].update(n_users=count))
        return "manifest" if isinstance(count, float) else "model.safetensors"

    return make


def npz_claims_2e9(folder: Path) -> str:
    replace_member(folder / "pairs.npz", "popularity.npy", npy_bytes("<i8", (2_000_000_000,), b"\0" * 200))
    resign(folder)
    return "pairs.npz"


def safetensors_header_lies(folder: Path) -> str:
    path = folder / "model.safetensors"
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    header["user_embedding.weight"]["shape"] = [200_000_000, 6]
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + length :])
    resign(folder)
    return "model.safetensors"


def file_is_a_folder(folder: Path) -> str:
    (folder / "metrics.json").unlink()
    (folder / "metrics.json").mkdir()
    return "metrics.json"


def ids_wrong_count(folder: Path) -> str:
    with np.load(folder / "ids.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["users"] = arrays["users"][:5]
    np.savez_compressed(folder / "ids.npz", **arrays)
    resign(folder)
    return "ids.npz"


def small_bomb(folder: Path) -> str:
    """ids.npz whose users entry inflates 1,000 times (the floor is lowered by the test)."""
    zeros = b"\0" * (20 << 20)
    replace_member(
        folder / "ids.npz", "users.npy", npy_bytes(f"<U{len(zeros) // 4 // 30}", (30,), zeros), True
    )
    resign(folder)
    return "ids.npz"


CASES: dict[str, Callable[[Path], str]] = {
    "deep config.json": deep_json("config.json"),
    "deep metrics.json": deep_json("metrics.json"),
    "deep manifest.json": deep_json("manifest.json"),
    "config.json not an object": not_object("config.json"),
    "metrics.json not an object": not_object("metrics.json"),
    "manifest.json not an object": not_object("manifest.json"),
    "5,000-digit number": long_number,
    '"bytes": "12"': bytes_as_text,
    "n_users 2e8": users(200_000_000),
    "n_users 1e12": users(1e12),
    "n_users 10**12": users(10**12),
    "npz header claims 2e9 elements": npz_claims_2e9,
    "safetensors header claims 2e8 users": safetensors_header_lies,
    "a folder in place of a file": file_is_a_folder,
    "ids.npz with the wrong number of users": ids_wrong_count,
    "ids.npz inflating 1000x": small_bomb,
}


#: Cases in the weights and arrays: the list reads only the small JSON files, so these are found
#: (and refused with exit 2) when the run is loaded.
LOAD_ONLY = {
    "n_users 2e8",
    "n_users 1e12",
    "n_users 10**12",
    "npz header claims 2e9 elements",
    "ids.npz inflating 1000x",
    "safetensors header claims 2e8 users",
    "ids.npz with the wrong number of users",
}


@pytest.fixture
def lowered_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_guard, "INFLATE_FLOOR_BYTES", 1 << 20)


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_run_is_refused_naming_the_file(case: str, tmp_path: Path, run_cli, lowered_floor) -> None:
    folder = save_run(make_run(), tmp_path / "run")
    named = CASES[case](folder)
    with pytest.raises(RecsysError) as caught:
        load_run(folder)
    assert named.split(".")[0] in str(caught.value)
    code, _, err = run_cli("evaluate", str(folder), "--no-baselines")
    assert code == 2, err
    assert err.startswith("error: ") and "internal error" not in err


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_run_is_listed_as_broken_and_hides_nothing(case: str, tmp_path: Path, lowered_floor) -> None:
    registry = RunRegistry(tmp_path)
    good = registry.save(make_run())
    bad = save_run(make_run(), tmp_path / "hand-made")
    CASES[case](bad)
    records = registry.list(include_broken=True)
    by_id = {r.run_id: r for r in records}
    assert by_id[good.run_id].status == "ok"
    if case in LOAD_ONLY:
        return  # the list reads only the small JSON files: these show up when the run is loaded
    assert by_id["hand-made"].status == "broken" and by_id["hand-made"].problem
    assert [r.run_id for r in registry.list()] == [good.run_id]


def test_unreadable_file_lists_the_run_as_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any file whatever its mode: the PermissionError of a copied-in run is simulated.
    registry = RunRegistry(tmp_path)
    good = registry.save(make_run())
    bad = save_run(make_run(), tmp_path / "copied-in")
    real = run_files.file_sha256

    def denied(path: Path) -> str:
        if path.parent == bad:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(run_files, "file_sha256", denied)
    records = {r.run_id: r for r in registry.list(include_broken=True)}
    assert records[good.run_id].status == "ok"
    assert records["copied-in"].broken and "Permission denied" in records["copied-in"].problem
    with pytest.raises(RecsysError, match="cannot be read"):
        load_run(bad)


def test_recursion_or_type_errors_of_one_folder_never_break_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys_core.runs import _registry as registry_module

    registry = RunRegistry(tmp_path)
    good = registry.save(make_run())
    save_run(make_run(), tmp_path / "odd")
    real = registry_module.read_run_summary

    def failing(folder: Path) -> dict:
        if Path(folder).name == "odd":
            raise RecursionError("maximum recursion depth exceeded")
        return real(folder)

    monkeypatch.setattr(registry_module, "read_run_summary", failing)
    records = {r.run_id: r for r in registry.list(include_broken=True)}
    assert records[good.run_id].status == "ok"
    assert "RecursionError" in records["odd"].problem


def test_runs_command_lists_broken_runs(tmp_path: Path, run_cli) -> None:
    registry = RunRegistry(tmp_path)
    registry.save(make_run())
    not_object("config.json")(save_run(make_run(), tmp_path / "hand-made"))
    code, out, err = run_cli("runs", "--runs-dir", str(tmp_path), "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert sorted(row["status"] for row in rows) == ["broken", "ok"]
    assert all({"id", "name", "data set", "created", "status"} <= set(row) for row in rows)
    code, out, _ = run_cli("runs", "--runs-dir", str(tmp_path))
    assert code == 0 and "broken" in out and "config.json" in out


BOMB_SCRIPT = """
import resource, sys
from recsys_core.errors import RecsysError
from recsys_core.runs import load_run
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_run(sys.argv[1])
except RecsysError as exc:
    print("refused:", str(exc)[:200])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("peak_mb", (after - before) / 1024)
"""


def real_bomb(folder: Path) -> None:
    """ids.npz of about 1.6 MB whose users entry inflates to 1.6 GB (zeros, streamed)."""
    with np.load(folder / "ids.npz") as archive:
        items = archive["items"]
    size = 1_600_000_000
    header = io.BytesIO()
    itemsize = size // 30 // 4 * 4
    np.lib.format.write_array_header_1_0(header, {"descr": f"<U{itemsize // 4}", "fortran_order": False,
                                                   "shape": (30,)})  # fmt: skip
    with zipfile.ZipFile(folder / "ids.npz", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("users.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            block = b"\0" * (16 << 20)
            left = itemsize * 30
            while left > 0:
                member.write(block[: min(left, len(block))])
                left -= len(block)
        buffer = io.BytesIO()
        np.save(buffer, items)
        archive.writestr("items.npy", buffer.getvalue())
    resign(folder)


@pytest.mark.slow  # writes 1.6 GB through deflate and runs a subprocess
@pytest.mark.parametrize("case", ["ids bomb", "npz 2e9", "n_users 2e8", "safetensors 2e8"])
def test_memory_bombs_stay_small(case: str, tmp_path: Path) -> None:
    folder = save_run(make_run(), tmp_path / "run")
    {"ids bomb": real_bomb, "npz 2e9": npz_claims_2e9, "n_users 2e8": users(200_000_000),
     "safetensors 2e8": safetensors_header_lies}[case](folder)  # fmt: skip
    if case == "ids bomb":
        assert (folder / "ids.npz").stat().st_size < 4_000_000
    proc = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT, str(folder)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "refused:" in proc.stdout
    peak = float(proc.stdout.split("peak_mb")[1])
    assert peak <= 300, proc.stdout
