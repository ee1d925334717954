"""A shareable report of a run (and its diff with another): one self-contained HTML file with
static inline SVG charts, no script and nothing fetched from the network. The charts are the
app's Altair specs (:mod:`recsys_core.charts`) rendered to SVG by vl-convert.

``write_report(run, out_path, *, compare=None)``; ``render_report`` returns the HTML text;
``chart_svg(chart)`` renders one of those charts (any Altair chart) to an SVG string.
"""

from recsys_core.report._figures import chart_svg
from recsys_core.report._write import render_report, write_report

__all__ = ["chart_svg", "render_report", "write_report"]
