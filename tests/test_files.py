"""The one file checksum and the one all-or-nothing write, shared by runs, the ladder, top-N parts
and the app's kept uploads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from recsys_core import files


def test_sha256_reads_in_blocks_and_equals_hashlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "blob"
    data = bytes(range(256)) * 41  # 10,496 bytes: many blocks and a partial last one
    path.write_bytes(data)
    monkeypatch.setattr(files, "_HASH_BLOCK", 1000)
    assert files.file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert files.file_sha256(str(tmp_path / "blob")) == hashlib.sha256(data).hexdigest()


def test_write_json_is_strict_json_with_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "value.json"
    files.write_json(path, {"a": [1, 2.5, None], "b": "ü"}, indent=1)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and json.loads(text) == {"a": [1, 2.5, None], "b": "ü"}
    assert text == json.dumps({"a": [1, 2.5, None], "b": "ü"}, indent=1) + "\n"
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object()])
def test_a_failed_write_keeps_the_previous_file_and_leaves_nothing(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "value.json"
    files.write_json(path, {"ok": 1})
    with pytest.raises((ValueError, TypeError)):
        files.write_json(path, {"bad": bad})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["value.json"]


def test_replacing_renames_only_when_the_block_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "data"
    files.write_bytes(path, b"old")
    with pytest.raises(RuntimeError), files.replacing(path) as temporary:
        temporary.write_bytes(b"half")
        assert temporary.parent == tmp_path and temporary.name.startswith(".data.")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    with files.replacing(path) as temporary:
        temporary.write_bytes(b"new")
        assert path.read_bytes() == b"old"  # readers see the old file until the rename
    assert path.read_bytes() == b"new"
