"""A link restores the what-if itself (issue 22, item 9): the runs compared on Compare, the
customer on Recommend, the stars given on Try it yourself; a value the page refuses is dropped
from the URL rather than kept in a link that does not show it.

Two small runs of the fast recipe are saved before the server starts; each link opens in a
fresh browser session (a colleague opening it), in the same tab as the server's other tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from app_server import browser_tab, checked_app, no_exception, settle
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _params(page: Page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(page.url).query).items()}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str, list[str]]:
    """The runs folder, two run ids (older first), a customer of the runs and two products."""
    from tryit_runs import save_demo_run

    from recsys_core.runs import RunRegistry

    folder = tmp_path_factory.mktemp("runs")
    ids = [save_demo_run(folder, epochs=2) for _ in range(2)]
    run = RunRegistry(folder).load(ids[0])
    customer = str(run.id_map.users[3])
    products = [str(item) for item in run.id_map.items[:2]]
    return folder, ids, customer, products


@pytest.fixture(scope="module")
def app(saved, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Browser]]:
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with checked_app(saved[0], log) as url, browser_tab({"width": 1280, "height": 900}, 120_000) as tab:
        yield url, tab.context.browser


def _open(app: tuple[str, Browser], link: str, heading: str) -> Page:
    """``link`` in a new session, settled on ``heading``."""
    url, browser = app
    tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    tab.set_default_timeout(120_000)
    tab.goto(url + link)
    tab.get_by_role("heading", name=heading, level=1).wait_for()
    settle(tab)
    # The URL is written when the page's run ends (after its charts): wait for it.
    expect(tab).to_have_url(re.compile(r"[?&]data=demo"))
    no_exception(tab)
    return tab


def test_a_compare_link_opens_runs_a_and_b(app, saved) -> None:
    _, (older, newer), _, _ = saved
    tab = _open(app, f"/compare?a={older}&b={newer}", "Compare")
    expect(tab.get_by_role("heading", name="What changed from A to B")).to_be_visible()
    expect(tab).to_have_url(re.compile(rf"a={older}.*b={newer}"))
    # Not the page's default (the newest run as A, no B): the link's pair.
    assert _params(tab)["a"] == older and _params(tab)["b"] == newer
    tab.context.close()


def test_a_compare_link_with_an_unknown_run_drops_it(app, saved) -> None:
    _, (_, newer), _, _ = saved
    tab = _open(app, f"/compare?a=no-such-run&b={newer}", "Compare")
    params = _params(tab)
    assert params["a"] != "no-such-run" and "b" not in params  # B only beside the link's A
    expect(tab.get_by_role("heading", name="What changed from A to B")).to_have_count(0)
    tab.context.close()


def test_a_recommend_link_opens_the_customer(app, saved) -> None:
    _, (older, _), customer, _ = saved
    tab = _open(app, f"/recommend?run={older}&customer={customer}", "Recommend")
    box = tab.get_by_role("combobox", name=re.compile("^Customer"))
    expect(box).to_have_value(re.compile(rf"^{customer} "))
    expect(tab).to_have_url(re.compile(rf"customer={customer}"))
    assert _params(tab)["run"] == older
    tab.context.close()


def test_a_recommend_link_with_an_unknown_customer_says_so_and_drops_it(app) -> None:
    tab = _open(app, "/recommend?customer=nobody-at-all", "Recommend")
    note = re.compile("customer in this link .* is not in this model.s data")
    expect(tab.get_by_text(note)).to_be_visible()
    expect(tab).to_have_url(re.compile(r"customer="))
    assert _params(tab)["customer"] != "nobody-at-all"
    tab.context.close()


def test_a_try_it_link_gives_the_stars_again_and_drops_the_refused_ones(app, saved) -> None:
    _, (older, _), _, (first, second) = saved
    link = f"/tryit?run={older}&stars={first}:5,{second}:4,no-such-product:5,{first}x:9"
    tab = _open(app, link, "Try it yourself")
    expect(tab.get_by_text("Your ratings (2)")).to_be_visible()
    expect(tab.get_by_text(re.compile(r"Ratings from the link you opened: 2 \(2 left out"))).to_be_visible()
    expect(tab.get_by_role("heading", name="2. Suggested for you")).to_be_visible()
    expect(tab).to_have_url(re.compile(r"stars="))
    assert _params(tab)["stars"] == f"{first}:5,{second}:4"
    tab.context.close()
