"""The shareable report: one self-contained HTML file, names escaped, every chart drawn offline."""

from __future__ import annotations

import re

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS
from whatif_runs import fast_run, notebook_run, small_products, small_ratings

from recsys_core.report import render_report, write_report
from recsys_core.runs import save_run

HOSTILE = '<script>alert("x")</script><img src="http://example.invalid/x.png">'


@pytest.fixture(scope="module")
def runs():
    ratings = small_ratings()
    products = small_products()
    products.loc[products.index[:50], "name"] = HOSTILE  # whatever gets recommended, some are hostile
    return fast_run(ratings, products=products), notebook_run(ratings)


@pytest.fixture(scope="module")
def report_path(runs, tmp_path_factory):
    return write_report(runs[0], tmp_path_factory.mktemp("report") / "report.html", compare=runs[1])


def test_report_is_self_contained_and_escapes_names(report_path) -> None:
    html = report_path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html  # the hostile name is shown, as text
    # nothing to fetch: no tag has a src/href attribute, and only the SVG namespace names a URL
    tags = re.findall(r"<[^>]+>", html)
    assert not [tag for tag in tags if re.search(r"\s(src|href)\s*=", tag)]
    urls = {url for tag in tags for url in re.findall(r"https?://[^\s\"'<>]+", tag)}
    assert urls == {"http://www.w3.org/2000/svg"}
    for heading in (
        "Data and recipe",
        "Class mix before and after oversampling",
        "Training curves",
        "Metrics vs the baselines",
        "Beyond accuracy",
        "What changed from A to B",
        "Example customers",
    ):
        assert f"<h2>{heading}" in html, heading
    assert html.count('<svg class="chart"') >= 7


def test_report_without_a_comparison_or_history(runs, tmp_path) -> None:
    run = runs[1]
    html = render_report(run)
    assert "What changed" not in html and "<h2>Training curves" in html
    run.history, run.metrics = [], {}
    html = render_report(run)
    assert "No epoch was recorded" in html and "Rating classification" not in html


def test_cli_report(runs, run_cli, tmp_path) -> None:
    a, b = save_run(runs[0], tmp_path / "a"), save_run(runs[1], tmp_path / "b")
    out_file = tmp_path / "out" / "r.html"
    code, out, err = run_cli("report", str(a), "--compare", str(b), "--out", str(out_file))
    assert code == 0, err
    assert out_file.is_file() and "wrote the report" in out


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report_path) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True)

        def block(route) -> None:
            requests.append(route.request.url)
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", block)
        page = context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report_path.as_uri())
        charts = page.locator("svg.chart")
        assert charts.count() >= 7
        for i in range(charts.count()):
            chart = charts.nth(i)
            marks = chart.locator(".mark")
            assert marks.count() > 0, chart.get_attribute("aria-label")
            box = marks.first.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, chart.get_attribute("aria-label")
        page.screenshot(path=str(report_path.with_suffix(".png")), full_page=True)
        context.close()
        browser.close()
    assert errors == []
    assert all(url.startswith("file:") for url in requests), requests
