"""Nothing is cut off at 1280 px (issue 22, item 11): every page, with content, in a real browser.

A stakeholder's laptop shows the app 1280 px wide. The test trains a small model in the app (one
pass, a small profile), sweeps a class twice, then visits all six pages, Compare with a run B,
Recommend and Try it yourself with ratings, the Data page with its column boxes open, and checks
with :func:`page_fit.cut_off` that no button, metric, label, select box, heading, star row or chart
title is cut ("Start trai…", "Years 1999–2…", "Top-10 quality (N…"). Screenshots of each page go
to ``artifacts/screenshots/fit-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_server import SHOTS, browser_tab, checked_app, goto, no_exception, settle, whole_page_shot
from page_fit import cut_off
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTH = 1280


def _fits(page: Page, name: str) -> list[str]:
    """What is cut off on the page shown now (and a screenshot of it)."""
    page.mouse.move(2, 880)  # no tooltip over the page
    settle(page, after_ms=1500)  # charts lay out after the run
    no_exception(page)
    whole_page_shot(page, SHOTS / f"fit-{name}.png")
    return [f"{name}: {finding}" for finding in cut_off(page)]


def _mapping(page: Page, folder: Path) -> list[str]:
    """The Data page with the column boxes open (a file whose names say nothing)."""
    csv = folder / "odd-names.csv"
    csv.write_text("wer,was,wie\n" + "\n".join(f"k{i % 40},a{(i * 7) % 90},{1 + i % 5}" for i in range(400)))
    page.get_by_text("Upload your own ratings").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))
    page.get_by_text("Tell us which column is which").wait_for()
    return _fits(page, "data-mapping")


def _train(page: Page) -> list[str]:
    goto(page, "Train")
    page.get_by_text("Advanced settings").click()
    for name, value in (("Epochs (passes over the data)", "1"), ("Profile size", "16")):
        box = page.get_by_role("spinbutton", name=name)
        box.fill(value)
        box.press("Enter")
        settle(page)
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("heading", name="How good is it?").wait_for(timeout=600_000)
    return _fits(page, "train")


def _sweep(page: Page) -> list[str]:
    goto(page, "Balance")
    page.get_by_role("button", name="Sweep this class").click()
    page.get_by_text(re.compile("Sweep finished")).wait_for(timeout=900_000)
    return _fits(page, "balance-sweep")


def _compare(page: Page) -> list[str]:
    goto(page, "Compare")
    page.get_by_role("combobox", name=re.compile("Compare it with")).click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="What changed from A to B").wait_for()
    return _fits(page, "compare")


def _try_it(page: Page) -> list[str]:
    goto(page, "Try it yourself")
    page.get_by_role("button", name=re.compile("random real customer")).click()
    page.get_by_role("heading", name="2. Suggested for you").wait_for()
    return _fits(page, "tryit")


def test_nothing_is_cut_off_at_1280_px_on_any_page(tmp_path: Path) -> None:
    found: list[str] = []
    with (
        checked_app(tmp_path / "runs", tmp_path / "streamlit.log") as url,
        browser_tab({"width": WIDTH, "height": 900}, timeout_ms=120_000) as page,
    ):
        page.goto(url)
        page.get_by_role("heading", name="Data", level=1).wait_for()
        found += _fits(page, "data")
        found += _mapping(page, tmp_path)
        found += _train(page)
        found += _sweep(page)
        found += _compare(page)
        goto(page, "Recommend")
        page.get_by_role("heading", name="Suggested for this customer").wait_for()
        found += _fits(page, "recommend")
        found += _try_it(page)
    assert not found, "cut off at 1280 px:\n" + "\n".join(found)
