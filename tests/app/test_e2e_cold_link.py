"""A shared link works as the very first request to a freshly started server (issue 21, item 6).

Until some script has called ``st.navigation``, Streamlit runs in its old "pages directory" mode:
a deep link then ran the page script without ``app.py`` and the sidebar listed every ``*.py`` file
in ``pages/``. Each test opens a link with oversampling in its URL before anything else has
touched its own fresh server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_server import browser_tab, checked_app, no_exception, settle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The sidebar's page labels, in app.py's order.
PAGES = ["Data", "Balance", "Train", "Compare", "Recommend", "Try it yourself"]


def _check_frame(tab: Page, heading: str) -> None:
    """The page's heading, exactly the six pages in the sidebar, and app.py's own sidebar text."""
    tab.get_by_role("heading", name=heading, level=1).wait_for()
    settle(tab)
    links = tab.locator('[data-testid="stSidebarNav"] a')
    expect(links).to_have_count(len(PAGES))
    # A link's text is its icon's name, then its label.
    assert [text.strip().splitlines()[-1] for text in links.all_inner_texts()] == PAGES
    expect(tab.get_by_test_id("stSidebar")).to_contain_text("RecSys Explorer")


def test_a_cold_link_to_balance_opens_it_inside_the_app(tmp_path: Path) -> None:
    with (
        checked_app(tmp_path / "runs", tmp_path / "streamlit.log") as url,
        browser_tab({"width": 1440, "height": 900}, timeout_ms=90_000) as tab,
    ):
        tab.goto(f"{url}/balance?mult=1:2.5")  # the server's first page request
        _check_frame(tab, "Balance")
        # app.py ran before the page: it restored the link's multipliers.
        expect(tab.get_by_role("spinbutton", name="1★ ×", exact=True)).to_have_value("2.5")
        tab.get_by_text("Training weighs each rating").wait_for()
        no_exception(tab)


def test_a_cold_link_to_train_opens_it_ready_to_train(tmp_path: Path) -> None:
    with (
        checked_app(tmp_path / "runs", tmp_path / "streamlit.log") as url,
        browser_tab({"width": 1440, "height": 900}, timeout_ms=90_000) as tab,
    ):
        tab.goto(f"{url}/train?mult=1:2.5")
        _check_frame(tab, "Train")
        tab.get_by_text("1★ ×2.5").first.wait_for()
        expect(tab.get_by_role("button", name="Start training")).to_be_enabled()
        tab.get_by_text("Choose a recipe and press").wait_for()
        no_exception(tab)
