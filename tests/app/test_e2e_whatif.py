"""Compare in a real browser with two saved runs: the baseline ladder and the run diff render.

Two small runs (the fast recipe, then the notebook recipe) are trained on a slice of the demo
data before the app starts; Debian's Chromium (never a downloaded browser) opens Compare, picks
the second run and leaves ``artifacts/screenshots/compare-ladder.png`` (1440 px wide).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_server import SHOTS, browser_tab, checked_app, settle, whole_page_shot

SHOT = SHOTS / "compare-ladder.png"
VIEWPORT = {"width": 1440, "height": 900}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _train_runs(folder: Path) -> None:
    import recsys_core as rs
    from recsys_core.config import TrainConfig
    from recsys_core.data import demo_ratings
    from recsys_core.runs import DatasetRecord, RunRegistry

    ratings = demo_ratings(n_users=1500, n_items=500, n_ratings=30_000, seed=5)
    registry = RunRegistry(folder)
    data = DatasetRecord(name="demo shop sample", key="demo-sample")
    for preset, epochs in [("fast", 6), ("notebook", 3)]:
        run = rs.train(ratings, TrainConfig.preset(preset, epochs=epochs), name=f"{preset} recipe")
        run.summary.dataset = data
        registry.save(run)


@pytest.fixture(scope="module")
def compare_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    runs = tmp_path_factory.mktemp("runs")
    _train_runs(runs)
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with checked_app(runs, log) as url, browser_tab(VIEWPORT, timeout_ms=120_000, expect_ms=60_000) as page:
        page.goto(url)
        page.get_by_role("heading", name="Data", level=1).wait_for()
        page.locator('[data-testid="stSidebarNav"] a', has_text="Compare").first.click()
        page.get_by_role("heading", name="Compare", level=1).wait_for()
        yield page


def test_compare_draws_the_ladder_and_the_diff(compare_page: object) -> None:
    from playwright.sync_api import expect

    page = compare_page
    _settle(page)
    main = page.get_by_test_id("stMain")
    # The ladder of the newest run (notebook): its sentence and its chart with drawn marks.
    expect(
        main.get_by_text(re.compile("as often as a best-seller list|than a best-seller list"))
    ).to_be_visible()
    expect(main.get_by_text(re.compile("best classic method"))).to_be_visible()
    # Typed, then Enter: a click on the list can land while it is still opening.
    page.get_by_role("combobox", name=re.compile("Compare it with")).click()
    page.keyboard.type("fast recipe")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    _settle(page)
    expect(page.get_by_role("heading", name="What changed from A to B")).to_be_visible()
    expect(
        main.get_by_text(re.compile(r"^B finds the next product ([\d.]+ % (more|less)|about as) often"))
    ).to_be_visible()
    expect(main.get_by_text(re.compile(r"customers see a different top-10"))).to_be_visible()
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    # Two overview charts, the ladder (one chart, two panels), the diff, segments, exposure and
    # popularity.
    expect(charts.nth(6)).to_be_attached()
    for i in range(charts.count()):  # every chart drew its marks (canvas or SVG)
        expect(charts.nth(i).locator("canvas, svg").first).to_be_attached()
    expect(page.get_by_role("button", name="Download report")).to_be_visible()
    _shot(page)


def _shot(page: object) -> None:
    whole_page_shot(page, SHOT, max_height=8000, relayout_ms=1500)


def _settle(page: object) -> None:
    """Compare fits the ladder on first display: a longer wait than the other pages need."""
    settle(page, timeout_ms=180_000, after_ms=500)
