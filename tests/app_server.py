"""Start the Streamlit app on a free port, open Debian's Chromium on it, and move about in it.

Shared by the browser tests (tests/test_e2e*.py) and the app benchmarks (benchmarks/app_*.py).
Never downloads a browser: Playwright drives /usr/bin/chromium.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[1]
#: Where the browser tests leave their screenshots (git-ignored).
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def streamlit_app(runs_dir: Path, log_path: Path) -> Iterator[str]:
    """Run ``streamlit run app.py`` until the block ends; yields its URL once healthy."""
    port = free_port()
    env = {
        **os.environ,
        "RECSYS_RUNS_DIR": str(runs_dir),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    env.pop("RECSYS_APP_SYNC_TRAINING", None)
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log_path.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def settle(page: Page, timeout_ms: int = 120_000, after_ms: int = 300, before_ms: int = 300) -> None:
    """Wait until Streamlit has finished the current script run in a Playwright ``page``
    (``before_ms`` lets its status widget appear if the script still runs)."""
    page.wait_for_timeout(before_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout_ms,
    )
    if after_ms:
        page.wait_for_timeout(after_ms)


@contextlib.contextmanager
def checked_app(runs_dir: Path, log_path: Path) -> Iterator[str]:
    """:func:`streamlit_app`, failing afterwards if the app logged a traceback."""
    with streamlit_app(runs_dir, log_path) as url:
        yield url
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text, f"the app logged an exception:\n{text[-4000:]}"


@contextlib.contextmanager
def browser_tab(viewport: dict[str, int], timeout_ms: int, expect_ms: int | None = None) -> Iterator[Page]:
    """A tab of Debian's Chromium at ``viewport``; ``timeout_ms`` for its waits, ``expect_ms``
    (default the same) for Playwright's ``expect``."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=expect_ms or timeout_ms)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=viewport)
        tab = context.new_page()
        tab.set_default_timeout(timeout_ms)
        yield tab
        context.close()
        browser.close()


def goto(page: Page, title: str) -> None:
    """Open the page ``title`` from the sidebar and wait until it has settled."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.get_by_role("heading", name=title, level=1).wait_for()
    settle(page)


def no_exception(page: Page) -> None:
    """Fail with its text if the page shows a Python exception."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def scrolls_sideways(grid: Locator) -> bool:
    """Whether a table (a canvas grid) is wider than its frame: columns hidden off to the right."""
    scroller = grid.locator(".dvn-scroller").first
    widths = scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
    print("table widths (content, frame):", widths)
    return widths[0] > widths[1] + 1


def whole_page_shot(page: Page, path: Path, max_height: int = 6000, relayout_ms: int = 800) -> None:
    """Screenshot of the whole page: Streamlit scrolls inside its main block, not the document,
    so the window is stretched to the content's height (at most ``max_height``) for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }"
    )
    tall = max(size["height"], min(int(height), max_height))
    page.set_viewport_size({"width": size["width"], "height": tall})
    page.wait_for_timeout(relayout_ms)  # charts re-layout to the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
