"""The report's charts: the app's Altair specs (:mod:`recsys_core.charts`) rendered to static SVG.

vl-convert runs Vega-Lite and Vega in an embedded JavaScript engine (no browser, no network) and
returns the SVG the app's browser would draw; the report inlines it, so the file stays one page
that loads nothing and runs no script. Every label is XML-escaped by Vega's SVG renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import altair as alt
import pandas as pd
import vl_convert

#: Width of a chart the app stretches to its column (the page is 1000 px at most; some room for
#: the y axis labels and the legend).
WIDTH = 720
#: Least gap in pixels between two tick labels; a label that would come closer is left out.
LABEL_GAP = 10

# The Vega-Lite version Altair writes its specs for, when vl-convert has it (else its newest).
_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
VL_VERSION = _VERSION if _VERSION in vl_convert.get_vegalite_versions() else None


def chart_svg(chart: alt.TopLevelMixin, width: int = WIDTH) -> str:
    """``chart`` as one ``<svg>`` element.

    A chart without a width (the app lets Streamlit stretch it) gets ``width``; faceted charts
    keep the width of their panels.
    """
    if not isinstance(chart, alt.FacetChart) and chart.width is alt.Undefined:
        chart = chart.properties(width=width)
    # vl-convert measures labels with its own fonts and the reader's browser draws them with
    # others (often wider): keep a gap between tick labels so that neighbours never touch.
    chart = chart.configure_axis(labelSeparation=LABEL_GAP)
    # No base URL is allowed: every spec carries its data inline, so a fetch would be a bug.
    return vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=VL_VERSION, allowed_base_urls=[])


def no_data(title: str) -> str:
    """The short note that stands in for a chart with nothing to draw."""
    return f'<p class="nodata">{escape(title)}: nothing to draw.</p>'


def figure(
    title: str,
    frame: pd.DataFrame,
    draw: Callable[[pd.DataFrame], alt.TopLevelMixin],
    note: str = "",
) -> str:
    """A ``<figure class="chart">``: ``title`` and ``note`` (plain words) above ``draw(frame)``.

    Parameters
    ----------
    title
        What the chart shows, in plain words (also the note when there is nothing to draw).
    frame
        The chart's data, from :mod:`recsys_core.charts`; empty means a short note instead.
    draw
        The chart builder of :mod:`recsys_core.charts` that the app calls on the same frame.
    note
        How to read it: a sentence under the title.
    """
    if frame.empty:
        return no_data(title)
    caption = f"<strong>{escape(title)}</strong>" + (f"<br>{escape(note)}" if note else "")
    return f'<figure class="chart"><figcaption>{caption}</figcaption>{chart_svg(draw(frame))}</figure>'
