"""The one sentence a director can retell, and the warning when a precision "win" is a threshold shift."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys_core.app.views._quality import Metrics
from recsys_core.app.views._text import percent
from recsys_core.metrics import compare_estimates, how_often

#: A change smaller than this (as a share, 0.01 = one point) is noise, not a difference.
_POINT = 0.01


def _finite(value: float | None) -> bool:
    return value is not None and bool(np.isfinite(value))


#: A rung or the model as the ranking metrics write it: ``hit_rate_at_k`` and ``hit_rate_at_k_se``.
Entry = Mapping[str, object]


def _entry_hit(entry: Entry | None) -> tuple[float, float | None] | None:
    """``(hit rate, its standard error or None)`` of a ranking entry; ``None`` when missing or skipped."""
    if not entry or entry.get("skipped") is not None:
        return None
    hit, se = entry.get("hit_rate_at_k"), entry.get("hit_rate_at_k_se")
    if isinstance(hit, bool) or not isinstance(hit, int | float) or not np.isfinite(hit):
        return None
    known = isinstance(se, int | float) and not isinstance(se, bool) and np.isfinite(se)
    return float(hit), float(se) if known else None


def headline_sentence(model: Entry | None, popular: Entry | None, k: int = 10) -> str | None:
    """The retellable result: how often the model finds what a customer picks next, next to a
    best-seller list, claimed only as far as the error bars allow
    (:func:`recsys_core.metrics.compare_estimates`: "N× as often" only when the 95 % intervals
    separate, else "about as often … (within the noise)").

    Parameters
    ----------
    model, popular
        The ranking entries of the model and of the most-popular list (``hit_rate_at_k`` and
        ``hit_rate_at_k_se``, as ``metrics["ranking"]`` holds them).

    Returns
    -------
    str or None
        ``None`` when the hit rates are unknown.
    """
    mine, best_sellers = _entry_hit(model), _entry_hit(popular)
    if mine is None or best_sellers is None:
        return None
    (hit, se), (pop, pop_se) = mine, best_sellers
    lead = f"Among {k} suggestions, the model finds the product a customer picks next"
    verdict = compare_estimates(pop, pop_se, hit, se)
    if pop <= 0 and hit > 0 and verdict == "higher":
        return f"{lead} for {percent(hit, 1)} of customers; a best-seller list never does."
    if pop <= 0 and hit <= 0:
        return f"Neither the model's {k} suggestions nor a best-seller list find what customers pick next."
    sentence = f"{lead} {how_often(verdict, hit, pop)} a best-seller list"
    sentence += f" ({percent(hit, 1)} of customers vs {percent(pop, 1)})"
    if verdict == "same":
        sentence += ", within the noise"
    elif verdict == "lower":
        sentence += ": the best-sellers do better"
    return sentence + "."


def hit_delta(ranking: Mapping[str, object]) -> tuple[str | None, str]:
    """The hit rate's change against the best-seller list for a metric tile, and its colour:
    ``("+14.5 pts vs best-sellers", "normal")`` when the intervals separate (green up, red
    down), ``("+1.2 pts vs best-sellers, within the noise", "off")`` (grey) when they overlap;
    ``(None, "off")`` when a hit rate is unknown."""
    mine = _entry_hit(ranking.get("model"))  # type: ignore[arg-type]
    popular = _entry_hit(ranking.get("popularity"))  # type: ignore[arg-type]
    if mine is None or popular is None:
        return None, "off"
    text = f"{100 * (mine[0] - popular[0]):+.1f} pts vs best-sellers"
    if compare_estimates(popular[0], popular[1], mine[0], mine[1]) == "same":
        return f"{text}, within the noise", "off"
    return text, "normal"


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


def ladder_sentence(
    model: Entry, ladder: Mapping[str, Entry], k: int = 10, popular: Entry | None = None
) -> str | None:
    """The ladder in one retellable sentence: :func:`headline_sentence`, then the model against
    the best classic method, by the same rule (the whiskers of the ladder chart).

    Parameters
    ----------
    model
        The run's ``ranking.model`` entry (``hit_rate_at_k`` and ``hit_rate_at_k_se``).
    ladder
        :func:`recsys_core.baselines.ladder_for`'s result (``most_popular`` is the best-seller list;
        the other rungs are the classic methods; skipped rungs are left out); ``{}`` before it
        is fitted.
    popular
        The run's own ``ranking.popularity`` entry, used before the ladder's ``most_popular``.

    Returns
    -------
    str or None
        ``None`` when the hit rates are unknown.
    """
    first = headline_sentence(model, popular or ladder.get("most_popular"), k=k)
    mine = _entry_hit(model)
    classics = {
        str(entry.get("label", name)): hit
        for name, entry in ladder.items()
        if name != "most_popular" and (hit := _entry_hit(entry)) is not None
    }
    if not classics or first is None or mine is None:
        return first
    name, (best, best_se) = max(classics.items(), key=lambda item: item[1][0])
    verdict = compare_estimates(best, best_se, mine[0], mine[1])
    if verdict == "same":
        verdict_words = f"about as often as the best classic method, {name} (within the noise)"
    elif verdict == "higher":
        verdict_words = f"{how_often(verdict, mine[0], best)} the best classic method, {name}"
    else:
        verdict_words = f"less often than the best classic method, {name} ({percent(best, 1)} of customers)"
    joint = "; and " if verdict != "lower" else "; but "
    return f"{first[:-1]}{joint}{verdict_words}."
