"""What a browser test reads off a Streamlit page to tell whether any text is cut off.

:func:`cut_off` lists every button, metric, widget label, select box, heading, tab, expander
title and star row whose text does not fit its box (``scrollWidth > clientWidth``, an ellipsis
"…" drawn into it, or a star pushed past its column), and every chart title or axis title that
Vega shortened ("…") or drew past the chart's edge. Streamlit draws a chart as SVG (a canvas
only past 2,000 data points, which no title check can read), so the titles are text in the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: Roots whose text must fit: (what the finding is called, CSS selector).
_ROOTS = {
    "button": '[data-testid="stButton"], [data-testid="stDownloadButton"],'
    ' [data-testid="stFormSubmitButton"], [data-testid="stPageLink"]',
    "metric": '[data-testid="stMetric"]',
    "label": '[data-testid="stWidgetLabel"]',
    "select box": '[data-testid="stSelectbox"], [data-testid="stMultiSelect"]',
    "heading": '[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3',
    "tab": '[data-testid="stTab"]',
    "expander": '[data-testid="stExpander"] summary',
}

_SCRIPT = """
(roots) => {
  const found = [];
  const say = (what, text) => {
    const line = what + ': ' + String(text || '').trim().replace(/\\s+/g, ' ').slice(0, 90);
    if (!found.includes(line)) found.push(line);
  };
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const right = document.documentElement.clientWidth;
  for (const [what, css] of Object.entries(roots)) {
    for (const root of document.querySelectorAll(css)) {
      if (!shown(root)) continue;
      for (const el of [root, ...root.querySelectorAll('*')]) {
        if (!shown(el) || el.tagName === 'svg' || el.closest('svg')) continue;
        const style = getComputedStyle(el);
        const clips = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis';
        // A select box shows its value in an input that scrolls; other inputs hold what was typed.
        const field = el.tagName !== 'INPUT' || what === 'select box';
        if (clips && field && el.scrollWidth > el.clientWidth + 1) {
          say(what, `${root.innerText} ${el.value || ''}`); break;
        }
        if (el.getBoundingClientRect().right > right + 1) {
          say(what + ' past the window', root.innerText); break;
        }
      }
    }
  }
  // Star rows: all five stars inside their column (past it they run over the next one or out of
  // the "your ratings" box) and inside the window.
  for (const row of document.querySelectorAll('[data-testid="stFeedback"]')) {
    if (!shown(row)) continue;
    const column = row.closest('[data-testid="stColumn"]');
    const limit = Math.min(right, column ? column.getBoundingClientRect().right : right);
    const stars = [...row.querySelectorAll('button')];
    const cut = stars.filter(star => star.getBoundingClientRect().right > limit + 1);
    if (cut.length) say('star row', `${cut.length} of ${stars.length} stars past their column`);
  }
  // Chart, axis and legend titles: Vega shortens them with "…" (its limit) or draws them past
  // the chart's edge. Streamlit draws charts as SVG (a canvas only past 2,000 data points).
  const roles = ['title-text', 'title-subtitle', 'axis-title', 'legend-title'];
  let index = 0;
  for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    index += 1;
    const svg = chart.querySelector('svg.marks');
    if (!svg || !shown(chart)) continue;
    // A rotated axis title's box pokes a pixel or two past the SVG with nothing cut: 3 px of slack.
    const edge = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll(roles.map(r => `g.role-${r} text`).join(', '))) {
      const words = text.textContent.trim();
      const r = text.getBoundingClientRect();
      if (words.endsWith('…')) say('chart title', `chart ${index}: ${words}`);
      else if (r.left < edge.left - 3 || r.right > edge.right + 3) {
        const at = [r.left, r.right, edge.left, edge.right].map(Math.round).join(' ');
        say('chart title', `chart ${index}: ${words} (past the edge: ${at})`);
      }
    }
  }
  return found;
}
"""


def cut_off(page: Page) -> list[str]:
    """Every text on ``page`` that does not fit (empty when everything fits)."""
    return page.evaluate(_SCRIPT, _ROOTS)
