"""End to end in a real browser: the app as a stakeholder uses it, on the built-in demo data.

Starts ``streamlit run app.py`` on a free port with its own runs folder, drives Debian's
Chromium through Playwright (never a downloaded browser), walks Data → Balance → Train →
Compare → Recommend and leaves a screenshot of each screen in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_server import SHOTS, browser_tab, checked_app, no_exception, scrolls_sideways, whole_page_shot
from app_server import goto as _goto
from app_server import settle as _settle
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's runs folder (``$RECSYS_RUNS_DIR``), shared by the module's tests."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def app_url(runs_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with checked_app(runs_folder, log) as url:
        yield url


@pytest.fixture(scope="module")
def saved_run(runs_folder: Path) -> str:
    """A saved run with its classic methods fitted, as the walkthrough leaves it; its id.

    When the walkthrough ran first in this module its run is used (nothing more to do).
    Otherwise (a test run alone, or after a failed walkthrough) the same recipe is trained
    through the core: the default recipe for two passes with the notebook's extra copies, on the
    app's demo data, saved into the app's runs folder; then its ladder is fitted as Compare does,
    so that page opens at once.
    """
    from recsys_core.runs import RunRegistry

    registry = RunRegistry(runs_folder)
    done = registry.list()
    if done:
        return done[0].run_id
    from tryit_runs import DEMO_RECORD

    from recsys_core.baselines import ladder_for
    from recsys_core.config import NOTEBOOK_MULTIPLIERS, TrainConfig
    from recsys_core.data import Ratings, generate_demo
    from recsys_core.pipeline import train
    from recsys_core.runs import DatasetRecord

    demo = generate_demo()  # the app's demo data (pages/parts/datasets.py)
    ratings = Ratings.from_frame(demo.ratings, source="built-in demo data")
    config = TrainConfig.preset("recommended", epochs=2, multipliers=dict(NOTEBOOK_MULTIPLIERS))
    run = train(ratings, config, products=demo.products)
    run.summary.dataset = DatasetRecord.from_json(DEMO_RECORD)
    record = registry.save(run)
    ladder_for(run, record.path, k=int(run.metrics["ranking"]["k"]))
    return record.run_id


@pytest.fixture(scope="module")
def page(app_url: str):
    with browser_tab({"width": 1440, "height": 1000}, timeout_ms=30_000) as tab:
        yield tab


def _shot(page, name: str) -> None:
    whole_page_shot(page, SHOTS / name)


def _data_screen(page, app_url: str) -> None:
    """1. Data: the demo data with its figures, without uploading anything."""
    page.goto(app_url)
    page.get_by_role("heading", name="Data", level=1).wait_for(timeout=60_000)
    values = page.get_by_test_id("stMetricValue")
    values.first.wait_for()
    ratings_shown = values.first.inner_text()
    assert re.fullmatch(r"[\d,]+", ratings_shown) and int(ratings_shown.replace(",", "")) > 1000
    page.locator('[data-testid="stVegaLiteChart"]').nth(1).wait_for()
    _settle(page)
    no_exception(page)
    _shot(page, "1-data.png")


def _balance_screen(page) -> None:
    """2. Balance: the notebook recipe fills in the multipliers and the chart follows."""
    _goto(page, "Balance")
    page.get_by_role("button", name="Notebook recipe").click()
    _settle(page)
    expect(page.get_by_role("spinbutton", name="1★ ×", exact=True)).to_have_value("2.5")
    expect(page.get_by_role("spinbutton", name="2★ ×", exact=True)).to_have_value("3")
    page.get_by_text("Training weighs each rating").wait_for()
    no_exception(page)
    _shot(page, "2-balance.png")


def _train_screen(page) -> None:
    """3. Train: two quick epochs with the fast recipe; live charts, then the verdict."""
    _goto(page, "Train")
    page.get_by_text("Advanced settings").click()
    epochs = page.get_by_role("spinbutton", name="Epochs (passes over the data)")
    epochs.fill("2")
    epochs.press("Enter")
    _settle(page)
    expect(epochs).to_have_value("2")
    page.get_by_role("button", name="Start training").click()
    page.get_by_test_id("stProgress").wait_for(timeout=60_000)
    page.get_by_role("heading", name="How good is it?").wait_for(timeout=300_000)
    _settle(page)
    page.get_by_text("When the model says a customer will like a product").wait_for()
    # Confusion matrix, threshold trade-off and the two learning curves.
    page.get_by_role("heading", name="Learning curves").scroll_into_view_if_needed()
    page.locator('[data-testid="stVegaLiteChart"]').nth(3).wait_for()
    no_exception(page)
    _shot(page, "3-train.png")


def _compare_screen(page) -> None:
    """4. Compare: the saved run is listed and charted."""
    _goto(page, "Compare")
    page.get_by_text("1 saved run(s)").wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    no_exception(page)
    _shot(page, "4-compare.png")


def _recommend_screen(page) -> None:
    """5. Recommend: pick another example customer; the list has N products."""
    _goto(page, "Recommend")
    page.get_by_role("heading", name="Suggested for this customer").wait_for()
    page.get_by_role("combobox", name="Customer (type to search, or paste any customer ID)").click()
    options = page.get_by_role("option")
    options.nth(2).click()
    _settle(page)
    n = int(page.get_by_role("spinbutton", name="How many").input_value())
    listed = page.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"^Top \d+ of the"))
    expect(listed).to_have_count(1)
    assert listed.inner_text().startswith(f"Top {n} of the")
    # The table is drawn on a canvas; its CSV download lists the same products.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as CSV").click()
    lines = Path(download.value.path()).read_text().strip().splitlines()
    assert lines[0].startswith("rank,item,score")
    assert len(lines) == n + 1
    no_exception(page)
    _shot(page, "5-recommend.png")


def test_stakeholder_walkthrough(page, app_url: str) -> None:
    """Data → Balance → Train → Compare → Recommend, one screen after the other in one session."""
    _data_screen(page, app_url)
    _balance_screen(page)
    _train_screen(page)
    _compare_screen(page)
    _recommend_screen(page)


# -- issue 13: reloads keep the working state; tables fit at 1280 px --------------------------------


def test_a_reload_keeps_the_upload_and_the_multipliers(page, app_url: str, tmp_path: Path) -> None:
    from recsys_core.data import write_demo_csv

    csv = tmp_path / "kept_upload.csv"
    write_demo_csv(csv, n_users=200, n_items=80, n_ratings=3000, seed=11)
    browser = page.context.browser
    if True:  # a session of its own, beside the walkthrough's
        tab = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        tab.set_default_timeout(60_000)
        tab.goto(app_url)
        tab.get_by_role("heading", name="Data", level=1).wait_for()
        tab.get_by_text("Upload your own ratings").click()
        tab.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))
        tab.get_by_text("Loaded kept_upload.csv").wait_for()
        _goto(tab, "Balance")
        box = tab.get_by_role("spinbutton", name="1★ ×", exact=True)
        box.fill("2.5")
        box.press("Enter")
        _settle(tab)
        expect(tab).to_have_url(re.compile(r"mult=1%3A2\.5|mult=1:2\.5"))
        link = tab.url
        tab.reload()
        tab.get_by_role("heading", name="Balance", level=1).wait_for()
        _settle(tab)
        expect(tab.get_by_role("spinbutton", name="1★ ×", exact=True)).to_have_value("2.5")
        expect(tab.get_by_test_id("stSidebar")).to_contain_text("kept_upload.csv")
        # The same link in a fresh browser (a colleague) opens the same what-if state.
        other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        other.goto(link)
        other.get_by_role("heading", name="Balance", level=1).wait_for(timeout=60_000)
        expect(other.get_by_role("spinbutton", name="1★ ×", exact=True)).to_have_value("2.5")
        other.context.close()
        tab.context.close()


def test_tables_fit_at_1280_px_and_screenshots(saved_run: str, page, app_url: str) -> None:
    """With a saved run (the walkthrough's, or ``saved_run``'s own): Compare and Recommend tables
    need no sideways scrolling at 1280 px; screenshots of both at 1440×900 go to
    artifacts/screenshots/."""
    page.goto(app_url)
    page.get_by_role("heading", name="Data", level=1).wait_for(timeout=60_000)
    for title, shot in (("Compare", "issue13-compare.png"), ("Recommend", "issue13-recommend.png")):
        page.set_viewport_size({"width": 1280, "height": 900})
        _goto(page, title)
        grids = page.get_by_test_id("stDataFrame")
        grids.first.wait_for()
        page.wait_for_timeout(500)
        for i in range(grids.count()):
            grids.nth(i).scroll_into_view_if_needed()
            assert not scrolls_sideways(grids.nth(i)), f"{title}: table {i + 1} is cut at 1280 px"
        page.set_viewport_size({"width": 1440, "height": 900})
        page.wait_for_timeout(500)
        _shot(page, shot)
