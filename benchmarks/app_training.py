"""Does watching training slow it down? The same training with and without the Train page open.

Starts ``streamlit run app.py`` (as ``make run`` does), opens it in Debian's Chromium (1440×900)
and starts the same training on the demo data twice from the Train page: once staying on the
page (live progress bar and charts), once leaving for the Data page right after the start. Each
run's own wall time (``duration_seconds`` in its saved manifest) is the measure, so the browser's
timing never enters it; the time from the click to the saved run (which adds the page starting
the job; polled every 0.25 s) is printed too. Prints both and the slow-down; asserts
nothing.

Usage::

    .venv/bin/python benchmarks/app_training.py [--epochs 4] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from app_server import CHROMIUM, CHROMIUM_ARGS, goto, settle, streamlit_app  # noqa: E402

VIEWPORT = {"width": 1440, "height": 900}


def _manifests(runs: Path) -> set[Path]:
    return set(runs.glob("*/manifest.json"))


def train_once(browser, url: str, runs: Path, epochs: int, watched: bool) -> tuple[float, float]:
    """Start one training from the Train page; the run's own duration and click-to-saved, in s."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    goto(page, "Train")
    page.get_by_text("Advanced settings").click()
    box = page.get_by_role("spinbutton", name=re.compile("Epochs"))
    box.fill(str(epochs))
    box.press("Enter")
    settle(page)
    before = _manifests(runs)
    clicked = time.monotonic()
    page.get_by_role("button", name="Start training").click()
    if not watched:
        page.get_by_test_id("stProgress").wait_for()
        goto(page, "Data")
    deadline = time.monotonic() + 1800
    while not (_manifests(runs) - before):
        if time.monotonic() > deadline:
            raise RuntimeError("the training did not finish within 30 minutes")
        page.wait_for_timeout(250)  # keeps the page (and, when watched, its live charts) running
    saved = time.monotonic() - clicked
    (manifest,) = _manifests(runs) - before
    context.close()
    return float(json.loads(manifest.read_text())["duration_seconds"]), saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs of the default recipe per run")
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs (watched, unwatched)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    times: dict[str, list[tuple[float, float]]] = {"unwatched": [], "watched": []}
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        with streamlit_app(runs, Path(tmp) / "streamlit.log") as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            train_once(browser, url, runs, 1, watched=False)  # warm-up: numba, torch, demo data
            for _ in range(args.repeats):
                for mode in ("unwatched", "watched"):
                    times[mode].append(train_once(browser, url, runs, args.epochs, mode == "watched"))
            browser.close()
    print(f"{args.epochs} epochs of the default recipe on the demo data, {args.repeats} pair(s)")
    print(f"{'':31}{'run own time':<22}click to saved run")
    medians = {}
    for label, mode in (("Train page not open", "unwatched"), ("Train page open", "watched")):
        own, saved = zip(*times[mode], strict=True)
        medians[mode] = statistics.median(own), statistics.median(saved)
        print(
            f"training, {label:<20} {medians[mode][0]:6.2f} s {_each(own):<12}"
            f"{medians[mode][1]:6.2f} s {_each(saved)}"
        )
    slower = [100 * (w / a - 1) for w, a in zip(medians["watched"], medians["unwatched"], strict=True)]
    print(f"{'slower when watched':<31}{slower[0]:+5.1f} %{'':15}{slower[1]:+5.1f} %")


def _each(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in values) + ")"


if __name__ == "__main__":
    main()
