"""The run summary (split.json) is one typed record: what the CLI and the app write reads back the
same way, runs saved by earlier versions still load, and a hand-edited file is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_files_kit import make_run, resign

from recsys_core.errors import RecsysError
from recsys_core.runs import DatasetRecord, RunRegistry, RunSummary, load_run, save_run

APP_RECORD = {"name": "shop.csv", "key": "abc123", "file": "upload-1", "options": {"date_format": "%d/%m/%Y"}}


def _saved_with_dataset(folder: Path, dataset: object) -> Path:
    """A saved run whose split.json records ``dataset`` as a version of the app or CLI wrote it."""
    save_run(make_run(), folder)
    summary = json.loads((folder / "split.json").read_text())
    summary["dataset"] = dataset
    (folder / "split.json").write_text(json.dumps(summary))
    resign(folder)
    return folder


@pytest.mark.parametrize(
    ("written", "name", "key"),
    [
        ("ratings.csv", "ratings.csv", None),  # the command line, before this version
        (APP_RECORD, "shop.csv", "abc123"),  # the app, before and now
        ({"name": "ratings.csv"}, "ratings.csv", None),  # the command line now
    ],
)
def test_every_way_a_run_recorded_its_data_set_loads(tmp_path: Path, written: object, name: str, key) -> None:
    folder = _saved_with_dataset(tmp_path / "run", written)
    run = load_run(folder)
    assert isinstance(run.summary, RunSummary)
    assert run.summary.dataset == DatasetRecord.from_json(written)
    assert (run.summary.dataset_name, run.summary.dataset.key) == (name, key)
    [record] = RunRegistry(tmp_path).list()
    assert record.dataset == name and record.summary.dataset.key == key


def test_the_summary_round_trips_with_the_keys_split_json_always_had(tmp_path: Path) -> None:
    run = make_run()
    run.summary.dataset = DatasetRecord.from_json(APP_RECORD)
    run.summary.stage_seconds = {"train": 1.5}
    save_run(run, tmp_path / "run")
    written = json.loads((tmp_path / "run" / "split.json").read_text())
    assert written["dataset"] == APP_RECORD
    assert {"method", "train", "validation", "test", "best_epoch", "stage_seconds"} <= set(written)
    assert load_run(tmp_path / "run").summary == run.summary


@pytest.mark.parametrize(
    ("field", "value"),
    [("train", "many"), ("train", -3), ("stopped_early", "yes"), ("dataset", 42), ("stage_seconds", [1])],
)
def test_a_hand_edited_summary_is_refused_by_name(tmp_path: Path, field: str, value: object) -> None:
    folder = tmp_path / "run"
    save_run(make_run(), folder)
    summary = json.loads((folder / "split.json").read_text())
    summary[field] = value
    (folder / "split.json").write_text(json.dumps(summary))
    resign(folder)
    with pytest.raises(RecsysError, match=rf"split\.json: {field}"):
        load_run(folder)
    [record] = RunRegistry(tmp_path).list(include_broken=True)
    assert record.broken and field in record.problem


def test_recsys_runs_prints_the_file_name_for_app_and_cli_runs(tmp_path: Path, run_cli) -> None:
    _saved_with_dataset(tmp_path / "cli-run", "ratings.csv")
    _saved_with_dataset(tmp_path / "app-run", APP_RECORD)
    code, out, _ = run_cli("runs", "--runs-dir", str(tmp_path), "--json")
    assert code == 0
    assert sorted(row["data set"] for row in json.loads(out)) == ["ratings.csv", "shop.csv"]
