"""A shareable report of a run (and its diff with another): one self-contained HTML file with
static inline SVG charts, no script and nothing fetched from the network.

``write_report(run, out_path, *, compare=None)``; ``render_report`` returns the HTML text.
"""

from recsys_core.report._write import render_report, write_report

__all__ = ["render_report", "write_report"]
