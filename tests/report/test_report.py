"""The shareable report: one self-contained HTML file, names escaped, every chart drawn offline
from the same Altair specs as the app (rendered to SVG by vl-convert)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS
from whatif_runs import fast_run, notebook_run, small_products, small_ratings

from recsys_core import charts
from recsys_core.report import chart_svg, render_report, write_report
from recsys_core.runs import save_run

#: The figures of a report with a comparison, by the start of their title.
FIGURES = (
    "Training ratings per rating class",
    "Training loss",
    "Validation",
    "Validation AUC of the predicted rating",
    "This model next to classic methods",
    "Best-sellers or the long tail?",
    "How B differs from A",
    "How much of their top-10 the two lists have in common",
    "Products shown more and less often",
    "Who gains",
)
HOSTILE = '<script>alert("x")</script><img src="http://example.invalid/x.png">'
#: Attributes that make a browser fetch something (or navigate) when they hold a URL.
FETCHING = {"src", "href", "xlink:href", "srcset", "action", "formaction", "data", "poster", "background"}
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


class _Attributes(HTMLParser):
    """Every attribute of every tag, values unescaped (as the browser reads them)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(name, value or "") for name, value in attrs]

    handle_startendtag = handle_starttag


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
    # Nothing to fetch: no attribute that loads, no URL but the SVG namespaces (the charts'
    # aria-labels read product names, so the hostile one's URL is there, as text), and styles
    # refer only to the page's own clip paths: no font, image or sheet to load.
    parser = _Attributes()
    parser.feed(html)
    assert not [(name, value) for name, value in parser.found if name in FETCHING]
    assert {value for name, value in parser.found if name.startswith("xmlns")} <= SVG_NAMESPACES
    urls = [(name, value) for name, value in parser.found if "://" in value]
    assert {name for name, _ in urls} <= {"xmlns", "xmlns:xlink", "aria-label"}
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.S) + [v for _, v in parser.found]
    assert not [s for s in styles if re.search(r"@import|@font-face|url\(\s*['\"]?(?!#)", s)]
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


def _figures(html: str) -> dict[str, str]:
    """``{title: svg}`` of every ``<figure class="chart">`` of the report."""
    found = re.findall(
        r'<figure class="chart"><figcaption><strong>(.*?)</strong>.*?</figcaption>(<svg.*?</svg>)</figure>',
        html,
    )
    return dict(found)


def _axis_texts(svg: str, role: str) -> list[str]:
    """The texts of the axis titles (``role="title"``) or tick labels (``"label"``) of one chart."""
    groups = re.findall(rf'class="mark-text role-axis-{role}"[^>]*>(.*?)</g>', svg)
    return [text for group in groups for text in re.findall(r"<text[^>]*>([^<]*)</text>", group)]


def test_report_draws_the_apps_altair_charts(report_path, runs) -> None:
    html = report_path.read_text(encoding="utf-8")
    figures = _figures(html)
    for title in FIGURES:
        assert [t for t in figures if t.startswith(title)], title
    assert len(figures) == len(FIGURES) == html.count("<svg")
    for title, svg in figures.items():
        # Vega's SVG renderer drew it: a scenegraph of marks, not hand-drawn rectangles
        assert 'class="marks"' in svg and "role-mark" in svg, title
        labels = _axis_texts(svg, "label")
        assert labels, title
        # readable ticks: "20,000" or "40 %", never "2e+04"
        assert not [label for label in labels if re.search(r"\de[+-]?\d", label)], (title, labels)
    titles = {text for svg in figures.values() for text in _axis_texts(svg, "title")}
    assert {
        "Training ratings",
        "Rating",
        "Epoch",
        "Products, from most to least rated (share of the catalogue)",
        "B against A",
        "Customers",
        "Change in times shown (B − A)",
    } <= titles
    # the very spec the app draws: the class mix of the run, rendered here the same way
    run = runs[0]
    mix = charts.class_mix(run.class_counts_before, run.class_counts_after)
    (class_mix_svg,) = (svg for title, svg in figures.items() if title.startswith(FIGURES[0]))
    same = chart_svg(charts.class_mix_chart(mix))
    # Vega numbers clip paths by a counter of the process; the drawing is otherwise identical.
    assert re.sub(r"clip\d+", "clip", class_mix_svg) == re.sub(r"clip\d+", "clip", same)


def test_report_without_a_comparison_or_history(runs, tmp_path) -> None:
    run = runs[1]
    html = render_report(run)
    assert "What changed" not in html and "<h2>Training curves" in html
    run.history, run.metrics = [], {}
    html = render_report(run)
    assert "No epoch was recorded" in html and "Rating classification" not in html
    assert "Error per epoch" not in html and len(_figures(html)) == 3  # class mix, ladder, popularity


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
        figures = page.locator("figure.chart")
        assert figures.count() == len(FIGURES)
        for i in range(figures.count()):
            figure = figures.nth(i)
            title = figure.locator("figcaption strong").inner_text()
            # some data mark (bar, line, point) is drawn with an area on the page
            drawn = figure.locator("svg").evaluate(
                "svg => [...svg.querySelectorAll('.role-mark > *')].some(m => {"
                " const b = m.getBoundingClientRect(); return b.width > 0 && b.height > 0; })"
            )
            assert drawn, title
        page.screenshot(path=str(report_path.with_suffix(".png")), full_page=True)
        context.close()
        browser.close()
    assert errors == []
    assert all(url.startswith("file:") for url in requests), requests


def test_report_shows_the_full_ladder_in_plain_words(report_path) -> None:
    html = report_path.read_text(encoding="utf-8")
    text = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)  # the words around the charts
    for rung in ("this model", "most popular", "item-kNN", "EASE", "iALS"):
        assert f"<td>{rung}</td>" in text, rung
    # Plain names, never the JSON keys: no ndcg_at_k, batch_size, roc_auc, embedding_dim.
    assert not re.findall(r"\b[a-z]+_(?:at_k|size|auc|dim|rate|rating)\b", text)
    assert "ratings per learning step (batch size)" in text
    assert "ranking quality (NDCG)" in text


def test_report_numbers_and_changes_read_plainly() -> None:
    from recsys_core.report._compare import _relative
    from recsys_core.report._sections import fmt

    assert fmt(20000.0) == "20,000" and fmt(12345.6) == "12,346"
    assert fmt(0.00001) == "0.00001" and fmt(0.123456) == "0.1235"
    # Within the noise: no "0 % higher (0 % lower to 1 % higher)".
    same = _relative("hit rate", {"a": 0.2, "delta": 0.0004, "ci95": [-0.0006, 0.0024]})
    assert same == (
        "B's hit rate: no measurable difference from A's (95 % interval: 0.3 % lower to 1.2 % higher)."
    )
    clear = _relative("hit rate", {"a": 0.2, "delta": 0.03, "ci95": [0.01, 0.05]})
    assert clear == "B's hit rate is 15 % higher than A's (95 % interval: 5 % higher to 25 % higher)."
