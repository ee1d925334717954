"""Issue 14 in a real browser: rate five demo products on Try it yourself, see ten explained
suggestions, change one rating and see the list change (Debian's Chromium via Playwright).

A run of the fast recipe on the app's own demo data is trained through the core into the app's
runs folder before the app starts. Leaves ``artifacts/screenshots/tryit.png`` (1440×900).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from app_server import SHOTS, browser_tab, checked_app, no_exception, scrolls_sideways
from app_server import goto as _goto
from app_server import settle as _settle
from playwright.sync_api import Page, expect
from tryit_runs import save_demo_run

SEARCH = "Find products by name, category or ID"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    runs = tmp_path_factory.mktemp("runs")
    save_demo_run(runs, full=True)
    with checked_app(runs, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url: str) -> Iterator[Page]:
    with browser_tab({"width": 1440, "height": 900}, timeout_ms=60_000) as tab:
        yield tab


def _stars(row, k: int) -> None:
    """Click the ``k``-th of a product row's five stars."""
    row.locator("button").nth(k - 1).click()


def test_rate_five_products_and_see_explained_suggestions_change(page: Page, app_url: str) -> None:
    page.goto(app_url)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    _settle(page)
    _goto(page, "Try it yourself")
    page.get_by_text("Give stars to a few products on the left").wait_for()

    search = page.get_by_role("textbox", name=SEARCH)
    search.fill("headphones")
    search.press("Enter")
    _settle(page)
    rows = page.locator('[class*="st-key-tryit_found_"]')
    expect(rows).to_have_count(8)
    for i in range(5):
        _stars(rows.nth(i), 5)
        _settle(page)
    expect(page.get_by_text("Your ratings (5)")).to_be_visible()

    lines = page.locator(".st-key-tryit_suggestions [data-testid='stMarkdown']")
    expect(lines).to_have_count(10)
    texts = lines.all_inner_texts()
    explained = [t for t in texts if "because you liked" in t]
    assert len(explained) >= 5, texts
    assert all("★★★★★" in t for t in explained)
    no_exception(page)

    SHOTS.mkdir(parents=True, exist_ok=True)
    # Streamlit scrolls inside its main block: back to the top for the picture.
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "tryit.png"))

    # One star instead of five for the first product: the list follows at once.
    before = page.locator(".st-key-tryit_suggestions").inner_text()
    _stars(rows.nth(0), 1)
    _settle(page)
    expect(page.locator(".st-key-tryit_suggestions")).not_to_have_text(before)
    no_exception(page)


def test_recommend_explains_and_still_fits_at_1280_px(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(app_url)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    _goto(page, "Recommend")
    page.get_by_text("Customers who like").wait_for()
    grids = page.get_by_test_id("stDataFrame")
    grids.first.wait_for()
    page.wait_for_timeout(500)
    for i in range(grids.count()):
        grids.nth(i).scroll_into_view_if_needed()
        assert not scrolls_sideways(grids.nth(i)), f"table {i + 1} is cut at 1280 px"
    page.get_by_role("heading", name="Where the suggestions sit among all products").wait_for()
    no_exception(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(SHOTS / "tryit-recommend.png"), full_page=True)
