"""Watching training must not slow it (issue 13, item 11).

The Train page draws the live view from the job's plain values (a progress bar once a second,
the curves every few seconds), and the app's config turns off Streamlit's full garbage
collection after every script run: with torch and pandas loaded that collection took about half
a second of a core per redraw (py-spy), the +28 % that ``benchmarks/app_training.py`` measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from apptest import goto, open_app

from pages.parts import state
from recsys_core.app import TrainingJob
from recsys_core.config import PRESETS
from recsys_core.training import EpochReport

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_reads_the_apps_setting_that_skips_a_full_collection_per_redraw() -> None:
    # Streamlit reads .streamlit/config.toml of the folder it runs in, as `make run` does.
    probe = (
        "from streamlit import config; config.get_config_options(); "
        "print(config.get_option('runner.postScriptGC')); "
        "print(config.get_where_defined('runner.postScriptGC'))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    value, where = out.stdout.splitlines()
    assert value == "False"
    assert Path(where) == ROOT / ".streamlit" / "config.toml"


def _report(epoch: int, loss: float) -> EpochReport:
    return EpochReport(epoch, loss, loss + 0.1, 0.8, 0.7, 0.75, 1.0, 10_000.0)


def test_a_running_job_shows_its_progress_and_curves_and_can_be_stopped(runs_dir: Path) -> None:
    at = goto(open_app(), "train")
    job = TrainingJob(None, PRESETS["recommended"], directory=runs_dir)  # type: ignore[arg-type]
    job.status, job.started_at = "running", time.perf_counter()
    job.history, job.progress = [_report(1, 0.6), _report(2, 0.5)], (3, 5, 10)
    at.session_state[state.JOB] = job
    at.run()
    assert not at.exception, at.exception
    bars = at.get("progress")
    assert len(bars) == 1
    # The default recipe stops early: the bar says "up to", never promising every epoch.
    assert f"Epoch 3 of up to {PRESETS['recommended'].epochs} (stops early" in bars[0].proto.text
    assert "5 / 10 batches" in bars[0].proto.text
    # One live chart per quantity: the training loss, the NDCG@10 that picks the epoch (the
    # default recipe's), the AUC; a loss near 133 never shares an axis with one near 0.97.
    titles = [" ".join(json.loads(c.proto.spec)["title"]["text"]) for c in at.get("vega_lite_chart")]
    assert titles == [
        "Training loss",
        "Validation NDCG@10: picks the epoch",
        "Validation AUC of the predicted rating",
    ]
    buttons = {b.label: b for b in at.button}
    assert buttons["Start training"].disabled and not buttons["Stop"].disabled
    buttons["Stop"].click().run()
    assert job.stop_event.is_set()
    assert any("Stopping after this batch" in b.proto.text for b in at.get("progress"))
