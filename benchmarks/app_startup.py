"""How long a stakeholder waits before the app shows something meaningful.

Starts ``streamlit run app.py`` (as ``make run`` does) and, in Debian's Chromium, measures from
navigation to the moment the Data page shows the demo shop's headline figures (the "Ratings"
metric), for the first visitor (cold: the demo data is generated and cached) and for later
visitors (warm). Prints the figures; asserts nothing.

Usage::

    .venv/bin/python benchmarks/app_startup.py [--visits 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from app_server import CHROMIUM, CHROMIUM_ARGS, settle, streamlit_app  # noqa: E402

PAGES = ("Balance", "Train", "Compare", "Recommend")


def time_visit(browser, url: str, pages: bool = False) -> tuple[float, float, dict[str, float]]:
    """Seconds to the title, to the figures, and (``pages``) to each other page settled."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="Data", level=1).wait_for(timeout=120_000)
    title = time.perf_counter() - start
    page.locator('[data-testid="stMetric"]', has_text="Ratings").first.wait_for(timeout=120_000)
    seconds = time.perf_counter() - start
    settled = {}
    if pages:
        settle(page, before_ms=0, after_ms=0)
        for name in PAGES:
            begin = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"] a', has_text=name).first.click()
            page.get_by_role("heading", name=name, level=1).wait_for(timeout=120_000)
            settle(page, before_ms=100, after_ms=0)
            settled[name] = time.perf_counter() - begin
    context.close()
    return title, seconds, settled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=5, help="warm visits after the first")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with streamlit_app(Path(tmp) / "runs", Path(tmp) / "streamlit.log") as url:
            server_ready = time.perf_counter() - started
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                cold_title, cold, settled = time_visit(browser, url, pages=True)
                warm = [time_visit(browser, url)[1] for _ in range(args.visits)]
                browser.close()
    print(f"server start until healthy      {server_ready:6.2f} s")
    print(f"first visit until the title      {cold_title:6.2f} s")
    print(f"first visit until figures shown  {cold:6.2f} s   (demo data generated and cached)")
    for name, seconds in settled.items():
        print(f"first visit of {name:<10}        {seconds:6.2f} s   (until settled)")
    print(
        f"later visits until figures shown {statistics.median(warm):6.2f} s median "
        f"(min {min(warm):.2f}, max {max(warm):.2f}, {len(warm)} visits)"
    )
    print(f"make run → first figures         {server_ready + cold:6.2f} s")


if __name__ == "__main__":
    main()
