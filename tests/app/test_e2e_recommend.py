"""Issue 22, items 8 and 12, in a real browser at 1280 px: on Recommend the reason sits under each
suggestion's name, the customer's ratings beside the list, and the tab's icon comes from the app
itself (an offline demo fetches no font or image). Debian's Chromium via Playwright.

The app's own demo data with a run of the default recipe. Leaves
``artifacts/screenshots/recommend-1280.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from app_server import (
    SHOTS,
    browser_tab,
    checked_app,
    goto,
    no_exception,
    scrolls_sideways,
    settle,
    whole_page_shot,
)
from playwright.sync_api import Page, expect
from tryit_runs import save_demo_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    runs = tmp_path_factory.mktemp("runs")
    save_demo_run(runs, full=True, preset="recommended")
    with checked_app(runs, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url: str) -> Iterator[Page]:
    with browser_tab({"width": 1280, "height": 900}, timeout_ms=60_000) as tab:
        yield tab


def test_recommend_puts_reasons_under_names_and_the_history_beside(page: Page, app_url: str) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(app_url)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    icon = page.locator("link[rel*='icon']").first.get_attribute("href") or ""
    assert urlparse(page.url).netloc in (urlparse(icon).netloc or urlparse(page.url).netloc)
    goto(page, "Recommend")
    no_exception(page)
    page.get_by_text("Customers who like").wait_for()
    lines = page.locator(".st-key-rec_suggestions [data-testid='stMarkdown']")
    expect(lines).to_have_count(10)
    first = lines.first.inner_text().splitlines()
    # Name on the first line; category, match and the reason under it.
    assert first[0].startswith("1. ") and "match 100 %" in first[1] and "because they liked" in first[1]
    history = page.get_by_role("heading", name="What this customer rated")
    suggestions = page.get_by_role("heading", name="Suggested for this customer")
    left, right = suggestions.bounding_box(), history.bounding_box()
    assert right["x"] > left["x"] + left["width"] / 2 and abs(right["y"] - left["y"]) < 40  # side by side
    grid = page.locator('[data-testid="stDataFrame"]').first
    table = grid.bounding_box()
    assert table["x"] >= right["x"] - 1 and table["x"] + table["width"] <= 1280
    assert not scrolls_sideways(grid), "the customer's ratings are cut at 1280 px"
    whole_page_shot(page, SHOTS / "recommend-1280.png")
    # Nothing but the app itself was asked for (no font server for the icon).
    assert all(
        urlparse(url).netloc == urlparse(app_url).netloc for url in requests if url.startswith("http")
    ), [url for url in requests if urlparse(url).netloc != urlparse(app_url).netloc]
