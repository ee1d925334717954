"""Names of runs for tables and charts: made distinct where two runs share one."""

from __future__ import annotations

from collections.abc import Iterable


def unique_labels(names: Iterable[str], details: Iterable[str]) -> list[str]:
    """``names`` made distinct: a name used more than once gets its ``detail`` (e.g. the time)."""
    names, details = list(names), list(details)
    counts = {n: names.count(n) for n in names}
    labels = [f"{n} ({d})" if counts[n] > 1 else n for n, d in zip(names, details, strict=True)]
    # Still equal (same name and detail): number them, so every run keeps its own row and bars.
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return out
