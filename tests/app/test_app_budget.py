"""The Train page says what a run will take before Start, and when the recipe would not fit in
this computer's memory it says so, keeps Start off and offers the recipe that fits (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest import goto, open_app, upload
from streamlit.testing.v1 import AppTest

from recsys_core.app import views
from recsys_core.config import TrainConfig
from recsys_core.data import load_ratings, train_class_counts, write_demo_csv
from recsys_core.training import DataShape, _machine, estimate_training

GB = 10**9
ROOT = Path(__file__).resolve().parents[2]


def _small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    write_demo_csv(path, n_users=150, n_items=60, n_ratings=2000, seed=5)
    return path


def _start(at: AppTest):
    return next(b for b in at.button if b.label == "Start training")


def _set_profile(at: AppTest, size: int) -> AppTest:
    next(b for b in at.number_input if b.label == "Profile size").set_value(size)
    return at.run()


def test_the_estimate_is_shown_before_start(runs_dir: Path) -> None:
    at = goto(open_app(), "train")
    notes = [c.value for c in at.caption if str(c.value).startswith("Expect about")]
    assert notes, [c.value for c in at.caption]
    assert "per pass" in notes[0] and "GB of memory" in notes[0] and "stops early" in notes[0]
    assert not _start(at).disabled


def test_a_recipe_that_does_not_fit_is_refused_and_the_one_that_fits_is_one_click_away(
    runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _small_csv(tmp_path)
    frame = load_ratings(path).frame
    shape = views.training_shape(
        views.dataset_overview(frame), train_class_counts(frame, "auto", TrainConfig().seed)
    )
    fits = estimate_training(shape, TrainConfig(embedding_dim=64), suggest=False).peak_bytes
    too_big = estimate_training(shape, TrainConfig(embedding_dim=1024), suggest=False).peak_bytes
    assert too_big > fits
    # This computer, squeezed: a profile of 64 fits, one of 1024 does not.
    monkeypatch.setattr(_machine, "memory_budget", lambda: (8 * GB, (fits + too_big) // 2))

    at = open_app()
    upload(at, "small.csv", path.read_bytes())
    goto(at, "train")
    assert not at.error and not _start(at).disabled
    _set_profile(at, 1024)
    assert at.error and "training would most likely fail" in at.error[0].value
    assert "profile size 64" in at.error[0].value
    assert _start(at).disabled
    # The estimate may be wrong: "Try it anyway" lets Start through.
    next(c for c in at.checkbox if c.label == "Try it anyway").check().run()
    assert not _start(at).disabled

    next(b for b in at.button if b.label == "Switch to profile size 64").click().run()
    assert not at.exception
    assert next(b for b in at.number_input if b.label == "Profile size").value == 64
    assert not at.error
    assert any(str(c.value).startswith("Expect about") for c in at.caption)
    assert not _start(at).disabled


def test_the_note_in_plain_words_for_each_verdict() -> None:
    roomy = _machine.Machine(total_memory=64 * GB, usable_memory=64 * GB, cpus=2, cuda=False)
    demo = DataShape(customers=5_000, products=2_000, ratings=90_000)
    fits = views.budget_note(demo, TrainConfig(), roomy)
    assert fits.level == "info" and fits.offer is None
    assert fits.text.startswith("Expect about") and "up to 40 passes" in fits.text

    amazon = DataShape(customers=4_200_000, products=476_000, ratings=7_800_000)
    slow = views.budget_note(amazon, TrainConfig(), roomy)
    assert slow.level == "warning" and slow.offer is not None
    assert "if it ran every pass" in slow.text and f"Switch to {slow.offer.label}" in slow.text

    tiny = _machine.Machine(total_memory=GB // 10, usable_memory=GB // 10, cpus=1, cuda=False)
    refused = views.budget_note(demo, TrainConfig(), tiny)
    assert refused.level == "error" and refused.offer is None
    assert "most likely fail" in refused.text and "No smaller recipe fits" in refused.text
    # Customers and products, never "users" and "items", in what the page shows.
    assert not any(word in note.text for note in (fits, slow, refused) for word in ("user", "item"))


@pytest.mark.slow
def test_the_estimate_imports_no_torch() -> None:
    """The Train page shows it before anything trains: asking must not import torch."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from recsys_core.app import views\n"
        "from recsys_core.config import TrainConfig\n"
        "from recsys_core.training import DataShape\n"
        "note = views.budget_note(DataShape(5000, 2000, 90000), TrainConfig())\n"
        "assert note.text, note\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
