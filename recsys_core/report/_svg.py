"""Static inline SVG charts: grouped bars with error bars and lines, nothing to load or run.

Every drawn data element carries ``class="mark"`` (the browser test counts them); every label
is escaped. A chart without a single value to draw is a short note instead of an empty frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 56
PALETTE = ("#3b6ea8", "#e07b39", "#5a9e6f", "#b8493f", "#8266a8", "#8c8c8c")

Value = float | None
Interval = tuple[float, float] | None


def _finite(value: Value) -> bool:
    return value is not None and math.isfinite(value)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]``."""
    span = hi - lo or abs(hi) or 1.0
    raw = span / n
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if step * m >= raw)
    start = math.floor(lo / step) * step
    count = math.ceil((hi - start) / step) + 1
    return [round(start + i * step, 10) for i in range(count)]


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value != 0 else "0"


class _Frame:
    """A plot area with a linear y axis (and gridlines) from the values it must show."""

    def __init__(self, values: Sequence[float], *, zero: bool = True):
        lo, hi = min(values), max(values)
        if zero:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        ticks = _ticks(lo, hi)
        self.lo, self.hi = ticks[0], ticks[-1]
        if self.hi == self.lo:
            self.hi = self.lo + 1.0
        self.ticks = ticks
        self.x0, self.x1 = LEFT, WIDTH - RIGHT
        self.y0, self.y1 = HEIGHT - BOTTOM, TOP

    def y(self, value: float) -> float:
        return self.y0 - (value - self.lo) / (self.hi - self.lo) * (self.y0 - self.y1)

    def axes(self, y_label: str) -> list[str]:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(
                f'<line class="grid" x1="{self.x0}" x2="{self.x1}" y1="{y:.1f}" y2="{y:.1f}" '
                'stroke="#ddd" stroke-width="1"/>'
                f'<text x="{self.x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                f"{_fmt(tick)}</text>"
            )
        parts.append(
            f'<line x1="{self.x0}" x2="{self.x0}" y1="{self.y1}" y2="{self.y0}" stroke="#888"/>'
            f'<text x="14" y="{(self.y0 + self.y1) / 2:.0f}" font-size="11" text-anchor="middle" '
            f'transform="rotate(-90 14 {(self.y0 + self.y1) / 2:.0f})">{escape(y_label)}</text>'
        )
        return parts


def _svg(title: str, body: list[str], legend: Sequence[str]) -> str:
    items, x = [], LEFT
    for i, name in enumerate(legend):
        label = escape(name[:28])
        items.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 9}" font-size="11">{label}</text>'
        )
        x += 30 + int(6.5 * len(name[:28]))  # roughly the label's width at 11 px
    items = "".join(items)
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="600">{escape(title)}</text>'
        + "".join(body)
        + items
        + "</svg>"
    )


def _no_data(title: str) -> str:
    return f'<p class="nodata">{escape(title)}: nothing to draw.</p>'


def bar_chart(
    title: str,
    groups: Sequence[str],
    series: dict[str, Sequence[Value]],
    *,
    errors: dict[str, Sequence[Interval]] | None = None,
    y_label: str = "",
) -> str:
    """Grouped vertical bars (one colour per series), optional ``(lo, hi)`` error bars."""
    errors = errors or {}
    values = [v for vs in series.values() for v in vs if _finite(v)]
    values += [e for es in errors.values() for pair in es if pair for e in pair if _finite(e)]
    if not values or not groups:
        return _no_data(title)
    frame = _Frame(values)
    body = frame.axes(y_label)
    slot = (frame.x1 - frame.x0) / len(groups)
    bar = slot * 0.8 / max(len(series), 1)
    zero = frame.y(0.0)
    for g, group in enumerate(groups):
        x_group = frame.x0 + g * slot + slot * 0.1
        body.append(
            f'<text x="{frame.x0 + (g + 0.5) * slot:.1f}" y="{frame.y0 + 14}" font-size="11" '
            f'text-anchor="middle">{escape(str(group)[:18])}</text>'
        )
        for s, (name, vs) in enumerate(series.items()):
            value = vs[g]
            if not _finite(value):
                continue
            x, top = x_group + s * bar, frame.y(value)
            body.append(
                f'<rect class="mark" x="{x:.1f}" y="{min(top, zero):.1f}" width="{max(bar - 2, 1):.1f}" '
                f'height="{max(abs(zero - top), 1):.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(name)} · {escape(str(group))}: {value:.4g}</title></rect>"
            )
            pair = (errors.get(name) or [None] * len(groups))[g]
            if pair and _finite(pair[0]) and _finite(pair[1]):
                cx, lo, hi = x + (bar - 2) / 2, frame.y(pair[0]), frame.y(pair[1])
                body.append(
                    f'<path class="errorbar" d="M{cx:.1f} {lo:.1f}V{hi:.1f}M{cx - 4:.1f} {lo:.1f}h8'
                    f'M{cx - 4:.1f} {hi:.1f}h8" stroke="#222" stroke-width="1.3" fill="none"/>'
                )
    return _svg(title, body, list(series) if len(series) > 1 else [])


def line_chart(
    title: str,
    x: Sequence[float],
    series: dict[str, Sequence[Value]],
    *,
    x_label: str = "",
    y_label: str = "",
) -> str:
    """One polyline with dots per series over numeric ``x`` (gaps where a value is missing)."""
    values = [v for vs in series.values() for v in vs if _finite(v)]
    if not values or not x:
        return _no_data(title)
    frame = _Frame(values, zero=False)
    body = frame.axes(y_label)
    x_lo, x_hi = min(x), max(x)
    span = (x_hi - x_lo) or 1.0

    def px(value: float) -> float:
        return frame.x0 + 10 + (value - x_lo) / span * (frame.x1 - frame.x0 - 20)

    for tick in x if len(x) <= 12 else _ticks(x_lo, x_hi, 8):
        if x_lo <= tick <= x_hi:
            body.append(
                f'<text x="{px(tick):.1f}" y="{frame.y0 + 14}" font-size="11" text-anchor="middle">'
                f"{_fmt(tick)}</text>"
            )
    body.append(
        f'<text x="{(frame.x0 + frame.x1) / 2:.0f}" y="{frame.y0 + 30}" font-size="11" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    for s, (name, vs) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        points = [(px(xv), frame.y(v)) for xv, v in zip(x, vs, strict=True) if _finite(v)]
        if not points:
            continue
        path = "M" + "L".join(f"{a:.1f} {b:.1f}" for a, b in points)
        body.append(
            f'<path class="mark" d="{path}" stroke="{colour}" stroke-width="2" fill="none">'
            f"<title>{escape(name)}</title></path>"
        )
        body.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{colour}"/>' for a, b in points)
    return _svg(title, body, list(series))
