"""The one sentence a director can retell, and the warning when a precision "win" is a threshold shift."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys_core.app.views._quality import Metrics
from recsys_core.app.views._text import percent

#: A change smaller than this (as a share, 0.01 = one point) is noise, not a difference.
_POINT = 0.01


def _finite(value: float | None) -> bool:
    return value is not None and bool(np.isfinite(value))


def headline_sentence(
    model_hit: float | None,
    popular_hit: float | None,
    best_classic: tuple[str, float] | None = None,
    k: int = 10,
) -> str | None:
    """The retellable result: how often the model finds what a customer picks next.

    Parameters
    ----------
    model_hit, popular_hit
        Top-``k`` hit rates of the model and of the most-popular list (a best-seller list).
    best_classic
        Optionally ``(name, hit rate)`` of the best classic method (e.g. ``("item-kNN", 0.03)``),
        named when it does better than the best-seller list.

    Returns
    -------
    str or None
        ``None`` when the hit rates are unknown.
    """
    if not (_finite(model_hit) and _finite(popular_hit)):
        return None
    lead = f"Among {k} suggestions, the model finds the product a customer picks next"
    if popular_hit > 0:
        ratio = model_hit / popular_hit
        if ratio >= 1.05:
            sentence = f"{lead} {ratio:.1f}× as often as a best-seller list"
        elif ratio > 0.95:
            sentence = f"{lead} about as often as a best-seller list"
        else:
            sentence = f"{lead} less often than a best-seller list ({ratio:.1f}×): the best-sellers do better"
    elif model_hit > 0:
        sentence = f"{lead} for {percent(model_hit, 1)} of customers; a best-seller list never does"
    else:
        return f"Neither the model's {k} suggestions nor a best-seller list find what customers pick next."
    sentence += f" ({percent(model_hit, 1)} of customers vs {percent(popular_hit, 1)})"
    if best_classic is not None and _finite(best_classic[1]) and best_classic[1] > popular_hit:
        name, hit = best_classic
        if hit > 0:
            sentence += f", and {model_hit / hit:.1f}× as often as the best classic method ({name})"
    return sentence + "."


def tradeoff_sentence(metrics: Metrics, reference: Metrics, what: str = "these settings") -> str | None:
    """When precision rises while recall falls: say it is the threshold moving, not a better model.

    ``metrics`` and ``reference`` have the keys of ``recsys_core.metrics.classification_metrics`` (the
    run and a comparable run on the same data). ``None`` when there is no such trade.
    """
    keys = ("precision", "recall")
    if not all(_finite(metrics.get(k)) and _finite(reference.get(k)) for k in keys):
        return None
    gain = metrics["precision"] - reference["precision"]
    loss = reference["recall"] - metrics["recall"]
    if gain < _POINT or loss < _POINT:
        return None
    auc, ref_auc = metrics.get("roc_auc"), reference.get("roc_auc")
    auc_words = ""
    if _finite(auc) and _finite(ref_auc):
        change = auc - ref_auc
        auc_words = (
            f" and the ranking quality (AUC) {'fell' if change < 0 else 'moved'} "
            f"{abs(100 * change):.1f} points"
            if abs(change) >= 0.001
            else " and the ranking quality (AUC) stayed the same"
        )
    return (
        f"With {what}, precision rose {100 * gain:.1f} points but recall fell {100 * loss:.1f} points"
        f"{auc_words}: the model now says “will like” less often. That is the threshold moving, "
        "not a better model; judge models by AUC and the hit rate, which do not depend on the threshold."
    )


def compare_tradeoffs(table: pd.DataFrame, labels: list[str]) -> list[str]:
    """:func:`tradeoff_sentence` for every oversampled run of ``table`` (``runs_table`` rows of one
    data set) against the newest run without oversampling, labelled by ``labels``."""
    plain = [i for i, text in enumerate(table["oversampling"]) if str(text).startswith("none")]
    if not plain:
        return []
    ref = table.iloc[plain[0]]
    reference = {"precision": ref["precision"], "recall": ref["recall"], "roc_auc": ref["AUC"]}
    sentences = []
    for i, row in table.iterrows():
        if i in plain:
            continue
        metrics = {"precision": row["precision"], "recall": row["recall"], "roc_auc": row["AUC"]}
        what = f"“{labels[i]}” (against “{labels[plain[0]]}”)"
        sentence = tradeoff_sentence(metrics, reference, what)
        if sentence:
            sentences.append(sentence)
    return sentences


#: Spread of a difference within which two methods are "on par" (95 % of a normal).
_Z95 = 1.96


def _entry_hit(entry: Mapping[str, object] | None) -> tuple[float, float] | None:
    """``(hit rate, its standard error)`` of a ladder entry; ``None`` when missing or skipped."""
    if not entry or entry.get("skipped") is not None:
        return None
    hit, se = entry.get("hit_rate_at_k"), entry.get("hit_rate_at_k_se")
    if not isinstance(hit, int | float) or not np.isfinite(hit):
        return None
    return float(hit), float(se) if isinstance(se, int | float) and np.isfinite(se) else 0.0


def ladder_sentence(
    model: Mapping[str, object], ladder: Mapping[str, Mapping[str, object]], k: int = 10
) -> str | None:
    """The ladder in one retellable sentence: the model against a best-seller list and the best
    classic method, "on par" when their hit rates differ by less than 1.96 standard errors.

    Parameters
    ----------
    model
        The run's ``ranking.model`` entry (``hit_rate_at_k`` and ``hit_rate_at_k_se``).
    ladder
        :func:`recsys_core.baselines.ladder_for`'s result (``most_popular`` is the best-seller list;
        the other rungs are the classic methods; skipped rungs are left out).

    Returns
    -------
    str or None
        ``None`` when the hit rates are unknown.
    """
    mine, popular = _entry_hit(model), _entry_hit(ladder.get("most_popular"))
    if mine is None or popular is None:
        return None
    first = headline_sentence(mine[0], popular[0], k=k)
    classics = {
        str(entry.get("label", name)): hit
        for name, entry in ladder.items()
        if name != "most_popular" and (hit := _entry_hit(entry)) is not None
    }
    if not classics or first is None:
        return first
    name, (best, best_se) = max(classics.items(), key=lambda item: item[1][0])
    gap = mine[0] - best
    noise = _Z95 * float(np.hypot(mine[1], best_se))
    if abs(gap) <= noise:
        verdict = f"on par with the best classic method ({name})"
    elif gap > 0:
        verdict = f"ahead of the best classic method ({name}, {mine[0] / best:.1f}× as often)"
    else:
        times = f"{best / mine[0]:.1f}× as often" if mine[0] > 0 else "where the model never does"
        verdict = f"behind the best classic method ({name} finds it {times})"
    return f"{first[:-1]}; {verdict}."
