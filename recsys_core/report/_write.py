"""Assemble the sections into one self-contained HTML page and write it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from recsys_core.errors import RecsysError
from recsys_core.metrics import compare_runs
from recsys_core.report._compare import diff_section
from recsys_core.report._sections import (
    accuracy,
    beyond,
    class_mix,
    data_summary,
    examples,
    ranked_lists,
    training_curves,
)

if TYPE_CHECKING:
    from recsys_core.runs import Run

#: Nothing may load: no script, image, font or frame; only the inline style.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
# Inline and static: the file opens anywhere, offline, and runs no script.
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; }
th { background: #f4f4f4; } .cols { display: flex; gap: 2rem; flex-wrap: wrap; align-items: flex-start; }
figure.chart { margin: 1.2rem 0; } figure.chart figcaption { font-size: .9rem; margin-bottom: .4rem; }
figure.chart svg { display: block; max-width: 100%; height: auto; } .nodata { color: #777; }
"""


def render_report(run: Run, *, compare: Run | None = None, k: int = 10) -> str:
    """The report of ``run`` (and its diff with ``compare``) as one HTML document."""
    ranked = ranked_lists(run, k)
    parts = [
        data_summary(run),
        class_mix(run),
        training_curves(run),
        accuracy(run, ranked, k),
        beyond(run, ranked, k),
    ]
    if compare is not None:
        parts.append(diff_section(compare_runs(run, compare, k=k)))
    parts.append(examples(run, ranked["users"]))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"RecSys Explorer report: {run.name}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>Run created {escape(run.created_at)}; report written {stamp}.</p>"
        + "".join(parts)
        + "</body></html>"
    )


def write_report(
    run: Run, out_path: str | os.PathLike[str], *, compare: Run | None = None, k: int = 10
) -> Path:
    """Write :func:`render_report` to ``out_path`` (UTF-8) and return the path.

    Raises
    ------
    RecsysError
        The runs cannot be compared (different splits) or the file cannot be written.
    """
    html = render_report(run, compare=compare, k=k)
    path = Path(out_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise RecsysError(f"Cannot write the report to {path}: {exc.strerror or exc}.") from None
    return path
