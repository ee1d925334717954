"""Saved runs: an exact round trip, atomic writes, and damaged folders refused with a clear message."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from run_files_kit import make_run
from safetensors.torch import save_file

from recsys_core.config import TrainConfig
from recsys_core.errors import RecsysError
from recsys_core.metrics import evaluate_run
from recsys_core.model import NCF
from recsys_core.runs import FORMAT_VERSION, Run, load_run, read_run_summary, save_run
from recsys_core.runs import _files as run_files
from recsys_core.runs import _folder as runs_module
from recsys_core.topn import recommend


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Run, Path]:
    run = make_run()
    return run, save_run(run, tmp_path / "run")


def rewrite_manifest(folder: Path, **changes) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def refresh_checksum(folder: Path, name: str) -> None:
    """Make the manifest agree with a file again (a damaged file that passes the checksum)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = {
        "sha256": run_files.file_sha256(folder / name),
        "bytes": (folder / name).stat().st_size,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


# -- round trip -------------------------------------------------------------------------------


def test_round_trip_restores_everything(saved: tuple[Run, Path]) -> None:
    run, folder = saved
    loaded = load_run(folder)
    assert loaded.name == run.name and loaded.created_at == run.created_at
    assert loaded.config == run.config
    assert loaded.id_map == run.id_map
    for key, tensor in run.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], tensor), key
    assert loaded.class_counts_before == run.class_counts_before
    assert loaded.class_counts_after == {1.0: 25, 2.0: 24, 3.0: 40, 4.0: 40, 5.0: 90}
    assert loaded.summary == run.summary
    for name in ("seen_users", "seen_items", "test_users", "test_items", "test_ratings", "popularity"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(run, name), err_msg=name)
    assert loaded.seen_users.dtype == np.int64
    assert (loaded.rating_min, loaded.rating_max) == (1.0, 5.0)
    assert loaded.duration_seconds == 12.5
    assert loaded.message == "stopped early after epoch 2"
    pd.testing.assert_frame_equal(loaded.products, run.products, check_dtype=False)
    # the history's dataclasses became dicts; the NaN became null (strict JSON) and comes back None
    assert loaded.history[1] == {"epoch": 2, "train_loss": 0.5, "val_loss": 0.52, "val_auc": 0.71}
    assert loaded.history[0]["val_auc"] is None
    assert loaded.metrics == json.loads(json.dumps(run.metrics))


def test_loaded_run_scores_and_recommends_identically(saved: tuple[Run, Path]) -> None:
    run, folder = saved
    loaded = load_run(folder)
    np.testing.assert_array_equal(loaded.test_scores(), run.test_scores())
    for user in ("U000", "U007", "U029", "nobody"):
        before, after = recommend(run, user, n=6), recommend(loaded, user, n=6)
        pd.testing.assert_frame_equal(after.table, before.table)
        assert after.message == before.message
    # recomputing the metrics from the saved run gives what was stored at training time
    assert evaluate_run(loaded, k=5) == run.metrics


def test_saved_json_is_strict_and_manifest_lists_checksums(saved: tuple[Run, Path]) -> None:
    _, folder = saved

    def no_constants(token: str):
        raise AssertionError(f"non-standard JSON constant {token}")

    for name in ("config.json", "history.json", "metrics.json", "class_counts.json", "split.json"):
        json.loads((folder / name).read_text(), parse_constant=no_constants)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert set(manifest["files"]) == {
        "config.json", "history.json", "metrics.json", "class_counts.json", "split.json",
        "model.safetensors", "ids.npz", "pairs.npz", "products.parquet",
    }  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == sorted([*manifest["files"], "manifest.json"])
    # nothing but the run itself is left beside it (no temporary folders)
    assert [p.name for p in folder.parent.iterdir()] == ["run"]


def test_run_without_products(tmp_path: Path) -> None:
    run = make_run(products=False)
    folder = save_run(run, tmp_path / "plain")
    assert not (folder / "products.parquet").exists()
    loaded = load_run(folder)
    assert loaded.products is None
    assert list(recommend(loaded, "U001", n=3).table.columns) == ["rank", "item", "score", "match"]


def test_evaluate_run_has_the_cli_shape(saved: tuple[Run, Path]) -> None:
    run, _ = saved
    result = run.metrics
    for key in ("precision", "recall", "f1", "roc_auc", "trivial_precision", "threshold", "confusion"):
        assert key in result
    assert result["threshold"] == run.config.threshold
    assert result["n"] == len(run.test_ratings)
    assert result["trivial_precision"] == pytest.approx(np.mean(run.test_ratings >= 4))
    ranking = result["ranking"]
    assert ranking["k"] == 5
    means = {"precision_at_k", "recall_at_k", "ndcg_at_k", "hit_rate_at_k", "coverage"}
    beyond = {"coverage_at_k", "novelty_at_k", "head_share_at_k", "diversity_at_k"}
    # Hits on held-out products the customer liked / disliked, with their SE and customer counts.
    liked = {f"hit_rate_{c}_at_k{s}" for c in ("liked", "disliked") for s in ("", "_se", "_users")}
    for who in ("model", "popularity"):
        assert set(ranking[who]) - liked == means | {f"{key}_se" for key in means} | beyond
        assert all(0.0 <= ranking[who][key] <= 1.0 for key in means | {"coverage_at_k", "head_share_at_k"})
        assert ranking[who]["novelty_at_k"] >= 0


# -- overwriting and atomicity ----------------------------------------------------------------


def test_existing_run_is_replaced_only_with_overwrite(saved: tuple[Run, Path]) -> None:
    run, folder = saved
    with pytest.raises(RecsysError, match="already holds a saved run"):
        save_run(run, folder)
    run.name = "second"
    save_run(run, folder, overwrite=True)
    assert load_run(folder).name == "second"
    assert [p.name for p in folder.parent.iterdir()] == ["run"]


def test_folder_with_other_files_is_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("precious")
    with pytest.raises(RecsysError, match="not a saved run"):
        save_run(make_run(), folder, overwrite=True)
    assert (folder / "notes.txt").read_text() == "precious"


def test_failed_save_keeps_the_previous_run(saved: tuple[Run, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    run, folder = saved

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs_module, "save_file", disk_full)
    run.name = "never written"
    with pytest.raises(RecsysError, match="No space left on device"):
        save_run(run, folder, overwrite=True)
    assert load_run(folder).name == "test run"
    assert [p.name for p in folder.parent.iterdir()] == ["run"]


# -- damaged folders --------------------------------------------------------------------------


def test_missing_folder_and_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(RecsysError, match="does not exist"):
        load_run(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecsysError, match=r"manifest\.json is missing"):
        load_run(tmp_path / "empty")


def test_modified_file_is_refused(saved: tuple[Run, Path]) -> None:
    _, folder = saved
    text = (folder / "metrics.json").read_text()
    (folder / "metrics.json").write_text(text.replace('"k": 5', '"k": 9'))  # same length
    with pytest.raises(RecsysError, match=r"metrics\.json .*was modified or truncated"):
        load_run(folder)


def test_truncated_weights_are_refused(saved: tuple[Run, Path]) -> None:
    _, folder = saved
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(RecsysError, match=r"model\.safetensors .*was modified or truncated"):
        load_run(folder)
    # even when the manifest is made to agree, the truncated file is reported, not a traceback
    refresh_checksum(folder, "model.safetensors")
    with pytest.raises(RecsysError, match=r"model\.safetensors .*truncated or corrupt"):
        load_run(folder)


def test_missing_file_is_named(saved: tuple[Run, Path]) -> None:
    _, folder = saved
    (folder / "ids.npz").unlink()
    with pytest.raises(RecsysError, match=r"File ids\.npz is missing"):
        load_run(folder)


def test_other_format_version_is_refused(saved: tuple[Run, Path]) -> None:
    _, folder = saved
    rewrite_manifest(folder, format_version=FORMAT_VERSION + 1)
    with pytest.raises(RecsysError, match=f"format version {FORMAT_VERSION + 1}"):
        load_run(folder)


def test_pickled_arrays_are_never_loaded(saved: tuple[Run, Path]) -> None:
    _, folder = saved
    with np.load(folder / "pairs.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["popularity"] = np.array([{"evil": 1}] * 25, dtype=object)
    np.savez(folder / "pairs.npz", **arrays)
    refresh_checksum(folder, "pairs.npz")
    with pytest.raises(RecsysError, match=r"pairs\.npz .*cannot be read"):
        load_run(folder)


def test_weights_of_the_wrong_shape_are_refused(saved: tuple[Run, Path]) -> None:
    _, folder = saved
    save_file(NCF(3, 4, embedding_dim=2, seed=0).state_dict(), str(folder / "model.safetensors"))
    refresh_checksum(folder, "model.safetensors")
    with pytest.raises(RecsysError, match="does not hold an NCF"):
        load_run(folder)


def test_seen_matrix_is_cached_and_matches_pairs() -> None:
    run = make_run(products=False)
    seen = run.seen_matrix()
    assert run.seen_matrix() is seen
    assert seen.shape == (30, 25)
    assert seen.nnz == len(set(zip(run.seen_users.tolist(), run.seen_items.tolist(), strict=True)))
    rated = run.rated_matrix()
    assert rated.nnz == seen.nnz + len(run.test_users)
    assert not math.isnan(run.test_scores().sum())


def test_read_run_summary_reads_only_the_small_files(saved: tuple[Run, Path]) -> None:
    run, folder = saved
    (folder / "model.safetensors").write_bytes(b"not even weights")  # not needed for a summary
    info = read_run_summary(folder)
    assert info["name"] == "test run"
    assert info["created_at"] == run.created_at
    assert TrainConfig.from_dict(info["config"]) == run.config
    assert info["metrics"]["ranking"]["k"] == 5
    assert info["summary"].best_epoch == 2
    assert info["class_counts"]["after"]["1"] == 25
    with pytest.raises(RecsysError, match=r"model\.safetensors"):
        load_run(folder)
    (folder / "split.json").write_text("{}")
    with pytest.raises(RecsysError, match=r"split\.json .*modified or truncated"):
        read_run_summary(folder)
