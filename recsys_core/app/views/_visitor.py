"""A visitor's own ratings ("Try it yourself") and why a product is suggested, in plain words.

Stars are what people give: always 1 to 5 on screen, mapped linearly onto the run's own rating
scale (the identity on 1–5 data), so a 1–10 or a 0/1 run is rated the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recsys_core.app.views._customers import user_history
from recsys_core.topn import with_products

if TYPE_CHECKING:  # a run's module pulls in torch; these helpers only read its arrays
    from recsys_core.runs import Run

#: Stars on screen (st.feedback's "stars" has five).
STAR_LEVELS = 5
#: The visitor's id in the frames given to fold-in and in the saved CSV.
VISITOR = "visitor"


def stars_to_rating(stars: int, low: float, high: float) -> float:
    """``1..5`` stars as a rating on the run's scale ``low..high`` (1 star = ``low``)."""
    k = min(max(int(stars), 1), STAR_LEVELS)
    return float(low + (k - 1) * (high - low) / (STAR_LEVELS - 1))


def rating_to_stars(rating: float, low: float, high: float) -> int:
    """A rating on ``low..high`` as the nearest of 1..5 stars (5 when the scale has one value)."""
    if not np.isfinite(rating):
        return STAR_LEVELS
    if high <= low:
        return STAR_LEVELS
    k = 1 + (STAR_LEVELS - 1) * (float(rating) - low) / (high - low)
    return int(min(max(round(k), 1), STAR_LEVELS))


def star_text(stars: int) -> str:
    """``4 -> "★★★★☆"``."""
    k = min(max(int(stars), 0), STAR_LEVELS)
    return "★" * k + "☆" * (STAR_LEVELS - k)


def catalogue(run: Run) -> pd.DataFrame:
    """The run's products, most rated first: ``item, ratings`` (+ ``name, category``)."""
    table = pd.DataFrame(
        {
            "item": np.asarray(run.id_map.items, dtype=object).astype(str),
            "ratings": np.asarray(run.popularity, dtype=np.int64),
        }
    )
    with_products(run, table, np.arange(len(table)))
    return table.sort_values("ratings", ascending=False, kind="stable").reset_index(drop=True)


#: What the product search reads of a query: its first characters, its longest distinct words
#: (each word is one pass over the catalogue; 10,000 typed words took 54 s).
MAX_QUERY_CHARS = 1000  # the longest product ID the loader takes
MAX_QUERY_WORDS = 8


def query_words(query: str | None) -> list[str]:
    """The words a search looks for: lower case, each once, none inside another word of the query
    (it would match wherever that one does), longest first, at most :data:`MAX_QUERY_WORDS`."""
    words = list(dict.fromkeys(str(query or "")[:MAX_QUERY_CHARS].lower().split()))
    words = [w for w in words if not any(w != other and w in other for other in words)]
    return sorted(words, key=len, reverse=True)[:MAX_QUERY_WORDS]


def search_products(products: pd.DataFrame, query: str, limit: int = 8) -> pd.DataFrame:
    """Products whose name, category or ID contains every word of ``query`` (any case).

    An exact ID comes first; otherwise the catalogue's order (most rated first). An empty query
    gives the most rated products. Only :data:`MAX_QUERY_CHARS` characters and the
    :data:`MAX_QUERY_WORDS` longest distinct words count (:func:`query_words`), and each word is
    looked for only among the products that matched the words before it.
    """
    words = query_words(query)
    if not words:
        return products.head(limit)
    text = products["item"].str.lower()
    for column in ("name", "category"):
        if column in products.columns:
            text = text + " " + products[column].str.lower()
    found = np.arange(len(products))
    for word in words:
        found = found[text.iloc[found].str.contains(word, regex=False).to_numpy(dtype=bool)]
        if not len(found):
            break
    wanted = str(query).strip().lower()
    exact = np.flatnonzero((products["item"].str.lower() == wanted).to_numpy())
    order = np.r_[exact, found[~np.isin(found, exact)]]
    return products.iloc[order[:limit]]


def product_label(item: str, names: Mapping[str, str]) -> str:
    """A product's name, or ``"product <ID>"`` where the run has no product table."""
    name = names.get(str(item), "")
    return name if name else f"product {item}"


def visitor_frame(ratings: Mapping[str, int], low: float, high: float) -> pd.DataFrame:
    """``{product: stars}`` as fold-in's input ``user, item, rating`` (ratings on the run's scale)."""
    return pd.DataFrame(
        {
            "user": VISITOR,
            "item": [str(item) for item in ratings],
            "rating": [stars_to_rating(s, low, high) for s in ratings.values()],
        },
        columns=["user", "item", "rating"],
    )


def _listed(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def because_line(
    because: Sequence[Mapping[str, float | str]],
    names: Mapping[str, str],
    low: float,
    high: float,
    who: str = "you",
) -> str:
    """``"because you liked Garden Hose and Rake (★★★★★), Shovel (★★★★☆)"``; empty without reasons.

    Reasons are what fold-in cites (:func:`recsys_core.topn.recommend_visitors`): products the
    customer liked, named together by their stars (most stars first) so three reasons stay one
    short line, then those they rated low whose rating raised products unlike them ("less like
    Kettle, which you gave ★☆☆☆☆"). A reason without ``kind`` counts as liked.
    """
    groups: dict[int, list[str]] = {}
    unlike: list[str] = []
    for b in because:
        stars = rating_to_stars(float(b["rating"]), low, high)
        label = product_label(str(b["item"]), names)
        if b.get("kind") == "less like":
            unlike.append(f"{label} ({star_text(stars)})")
        else:
            groups.setdefault(stars, []).append(label)
    parts = []
    if groups:
        liked = [f"{_listed(groups[k])} ({star_text(k)})" for k in sorted(groups, reverse=True)]
        parts.append(f"because {who} liked " + ", ".join(liked))
    if unlike:
        rated = "you rated low" if who == "you" else f"{who} rated low"
        parts.append(f"less like {_listed(unlike)}, which {rated}")
    return "; ".join(parts)


def low_rating_note(
    lists: Sequence[Sequence[Mapping[str, float | str]]],
    names: Mapping[str, str],
    low: float,
    high: float,
    who: str = "you",
) -> str:
    """One sentence when products rated low raised suggestions as interest would; else ``""``.

    ``lists`` is each suggestion's ``low_rated`` (see :func:`recsys_core.topn.recommend_visitors`).
    Such a product is not a reason anyone would give, so the suggestion lines leave it out; this
    says that it counted all the same, and why.
    """
    counts: dict[str, int] = {}
    stars: dict[str, int] = {}
    for entries in lists:
        for b in entries:
            counts[str(b["item"])] = counts.get(str(b["item"]), 0) + 1
            stars[str(b["item"])] = rating_to_stars(float(b["rating"]), low, high)
    if not counts:
        return ""
    top = sorted(counts, key=lambda item: -counts[item])[:3]
    named = _listed([f"{star_text(stars[i])} for {product_label(i, names)}" for i in top])
    raised = sum(bool(entries) for entries in lists)
    mine, their = ("Your", "your") if who == "you" else ("Their", "their")
    return (
        f"{mine} {named} also raised {raised} of these {len(lists)} suggestions: the model "
        "learns from which products customers rate, so a low rating still counts as interest in "
        f"products like it. The lines name only {their} reasons to like a suggestion."
    )


def match_help(objective: str) -> str:
    """What a suggestion's *match* means, for a run of ``objective`` (the app's tooltip)."""
    if objective != "softmax":
        return (
            "The model's odds that this customer likes this product, relative to its top suggestion: "
            "100 % for the first, 50 % for one half as likely."
        )
    return (
        "How likely the model finds it that this customer picks this product next, relative to its "
        "top suggestion: 100 % for the first, 50 % for one half as likely. (The model's raw score is "
        "about 1.000 for every suggestion of this recipe, so it cannot tell them apart.)"
    )


def random_customer(run: Run, rng: np.random.Generator, fewest: int = 5, most: int = 15) -> str | None:
    """A known customer with ``fewest..most`` training ratings (any with some when none has)."""
    counts = np.bincount(np.asarray(run.seen_users, dtype=np.int64), minlength=run.n_users)
    pool = np.flatnonzero((counts >= fewest) & (counts <= most))
    if not len(pool):
        pool = np.flatnonzero(counts > 0)
    if not len(pool):
        return None
    return str(run.id_map.users[int(rng.choice(pool))])


def customer_stars(run: Run, user: str, frame: pd.DataFrame | None = None) -> tuple[dict[str, int], bool]:
    """A customer's training ratings as ``{product: stars}``, and whether the stars are estimates.

    The stars come from the run's data set ``frame`` when given; a saved run keeps only which
    products were rated, so otherwise each star is the model's own prediction for the pair.
    """
    history = user_history(run, user, frame)
    if history.empty:
        return {}, False
    history = history[~history["held back"].astype(bool)]
    ratings = history["rating"].to_numpy(np.float64, copy=True)
    missing = ~np.isfinite(ratings)
    if missing.any():
        code = run.id_map.user_code(str(user))
        items = run.id_map.items.get_indexer(history["item"].to_numpy()[missing])
        predicted = run.score_pairs(np.full(len(items), code), items)
        ratings[missing] = run.rating_min + predicted * (run.rating_max - run.rating_min)
    stars = {
        str(item): rating_to_stars(r, run.rating_min, run.rating_max)
        for item, r in zip(history["item"], ratings, strict=True)
    }
    return stars, bool(missing.any())
