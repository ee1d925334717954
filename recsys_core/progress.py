"""A dependency-free text progress bar (rate and ETA) for long CLI work."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """Redraws one line on a terminal; silent when the stream is not a terminal.

    Redraws are throttled so that a caller may report progress as often as it likes.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool = True,
        width: int = 30,
        min_interval: float = 0.2,
        unit: str = "batches",
    ):
        self.stream = stream
        self.unit = unit
        self.enabled = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.width = width
        self.min_interval = min_interval
        self._label: str | None = None
        self._start = 0.0
        self._last_draw = 0.0
        self._drawn = False

    def update(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if label != self._label:
            self._label, self._start = label, now
        if now - self._last_draw < self.min_interval and done < total:
            return
        self._last_draw = now
        self.stream.write("\r" + format_progress(label, done, total, now - self._start, unit=self.unit))
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False


def format_progress(
    label: str, done: int, total: int, elapsed: float, width: int = 30, unit: str = "batches"
) -> str:
    """``epoch 1 [#########.....]  45%  1,234 it/s  ETA 0:12``"""
    share = done / total if total else 1.0
    filled = round(width * share)
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else float("nan")
    eta_text = f"{int(eta // 60)}:{int(eta % 60):02d}" if eta == eta else "?"
    return (
        f"{label} [{'#' * filled}{'.' * (width - filled)}] {100 * share:3.0f}%  "
        f"{rate:,.0f} {unit}/s  ETA {eta_text}"
    )
