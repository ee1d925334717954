"""Which source column holds which field: known names, explicit mappings, header detection."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recsys_core.data.ratings._text import name_list, normalise
from recsys_core.data.ratings._types import SKIP
from recsys_core.errors import ColumnsError

# Column names are compared after lower-casing and dropping everything but letters and digits,
# so "UserID", "user_id", "UserId" and "user id" all read as "userid". Order = preference when
# a file has several candidates: an ID before a bare noun ("customer_id" before "customer"),
# English before German (Kunde, Artikel, Sterne: files exported from German shops).
_USER_NAMES = (
    "userid", "user", "reviewerid", "customerid", "customer", "reviewer", "uid", "clientid", "client",
    "buyerid", "buyer", "memberid", "visitorid", "accountid", "personid",
    "kundenid", "kundeid", "kundennr", "kundennummer", "kunde", "kundin", "nutzerid", "nutzer",
    "benutzerid", "benutzer",
)  # fmt: skip
# Amazon 2023 files carry both: parent_asin groups colour/size variants and is what McAuley's
# reviews are keyed by ("the asin in previous Amazon datasets is actually parent ID"), so it
# wins over asin.
_ITEM_NAMES = (
    "productid", "prodid", "itemid", "parentasin", "asin", "item", "product", "iid",
    "movieid", "movie", "articleid", "article", "bookid", "book", "isbn", "sku", "songid", "trackid",
    "produktid", "produkt", "artikelid", "artikelnr", "artikelnummer", "artikel", "filmid", "film",
)  # fmt: skip
_RATING_NAMES = (
    "rating", "overall", "stars", "starrating", "score", "ratingvalue", "star", "userrating",
    "reviewrating", "sterne", "stern", "bewertung", "wertung",
)  # fmt: skip
_TIME_NAMES = (
    "timestamp", "unixreviewtime", "time", "date", "datetime", "reviewdate", "ratingdate", "reviewtime",
    "ratedat", "createdat", "zeitstempel", "zeitpunkt", "datum", "zeit",
)  # fmt: skip
_NAME_NAMES = (
    "name", "title", "productname", "producttitle", "itemname", "movietitle", "booktitle",
    "produktname", "artikelname", "bezeichnung", "titel",
)  # fmt: skip
_CATEGORY_NAMES = (
    "category", "maincategory", "maincat", "categories", "productcategory", "genre", "genres",
    "kategorie", "warengruppe",
)  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """What to look for: candidate names per role, which roles are required."""

    what: str  # "ratings" / "products"
    candidates: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # Column order assumed for a CSV file without header (None: a header is required).
    headerless: tuple[str, ...] | None
    labels: dict[str, str]  # role -> how messages name it


RATINGS_SPEC = Spec(
    what="ratings",
    candidates={"user": _USER_NAMES, "item": _ITEM_NAMES, "rating": _RATING_NAMES, "time": _TIME_NAMES},
    required=("user", "item", "rating"),
    headerless=("user", "item", "rating", "time"),
    labels={"user": "user ID", "item": "product ID", "rating": "rating", "time": "timestamp"},
)
PRODUCTS_SPEC = Spec(
    what="products",
    candidates={"item": _ITEM_NAMES, "name": _NAME_NAMES, "category": _CATEGORY_NAMES},
    required=("item", "name"),
    headerless=None,
    labels={"item": "product ID", "name": "product name", "category": "category"},
)
_EXAMPLE_NAMES = {
    "user": "UserID, customer_id, reviewerID, Kunde",
    "item": "ProductID, item_id, asin, movieId, Artikel",
    "rating": "Rating, overall, stars, score, Sterne",
    "time": "Timestamp, unixReviewTime, date",
    "name": "name, title",
    "category": "category, main_category",
}


def resolve_columns(
    available: Sequence[str],
    spec: Spec,
    given: Mapping[str, str],
    name: str,
    original: Sequence[str] | None = None,
) -> dict[str, str]:
    """Pick the source column for each role: explicit names first, then the known names.

    ``original`` holds the header as written when ``available`` had repeated names made unique
    (``Rating``, ``Rating.1``): a role whose column name appears twice is ambiguous.
    """
    chosen: dict[str, str] = {}
    for role, wanted in given.items():
        if role not in spec.candidates or wanted == SKIP:
            continue
        match = find_column(available, wanted)
        if match is None:
            raise ColumnsError(
                f"{name} has no column {wanted!r} (asked for as the {spec.labels[role]} column). "
                f"Columns found: {name_list(available)}.",
                list(available),
            )
        chosen[role] = match
    skipped = {role for role, wanted in given.items() if wanted == SKIP}
    chosen.update(_by_name(available, spec, chosen, skipped))
    missing = [role for role in spec.required if role not in chosen]
    if missing:
        role = missing[0]
        others = " or ".join(spec.labels[r] for r in missing[1:])
        also = f" (nor a {others} column)" if others else ""
        how = (
            f" Or say which column it is with --columns {role}=COLUMN (ColumnMap({role}=...) in Python)."
            if spec.what == "ratings"
            else " A product list needs a header row naming its columns."
        )
        raise ColumnsError(
            f"{name} has no {spec.labels[role]} column{also}. Columns found: {name_list(available)}. "
            f"Name the column one of {_EXAMPLE_NAMES[role]} (any case).",
            list(available),
            how,
        )
    used = list(chosen.values())
    duplicated = {c for c in used if used.count(c) > 1}
    if duplicated:
        raise ColumnsError(
            f"The column mapping uses {name_list(sorted(duplicated))} for more than one field.",
            list(available),
        )
    _refuse_ambiguous(chosen, list(available), list(original or available), spec, given, name)
    return chosen


def _by_name(
    available: Sequence[str], spec: Spec, chosen: Mapping[str, str], skipped: set[str]
) -> dict[str, str]:
    """The roles not yet ``chosen`` (nor ``skipped``) found by their known names, best first."""
    found: dict[str, str] = {}
    normalised = {col: normalise(col) for col in available}
    for role, candidates in spec.candidates.items():
        if role in chosen or role in skipped:
            continue
        taken = {*chosen.values(), *found.values()}
        for candidate in candidates:
            match = next((c for c in available if normalised[c] == candidate and c not in taken), None)
            if match is not None:
                found[role] = match
                break
    return found


def columns_by_name(available: Sequence[str]) -> dict[str, str]:
    """The ratings fields (``user``, ``item``, ``rating``, ``time``) recognised by their column
    names alone, without raising: what a form can offer as its first guess.

    A field is left out where it is not clear: no known name, or its name written twice
    (``Rating`` and ``rating``).
    """
    keys = [normalise(c) for c in available]
    found = _by_name(list(available), RATINGS_SPEC, {}, set())
    return {role: col for role, col in found.items() if keys.count(normalise(col)) == 1}


def _refuse_ambiguous(
    chosen: Mapping[str, str],
    available: list[str],
    original: list[str],
    spec: Spec,
    given: Mapping[str, str],
    name: str,
) -> None:
    """Refuse a field whose column name is repeated (``Rating,Rating`` or ``rating,Rating``)."""
    keys = [normalise(c) for c in original]
    for role, column in chosen.items():
        position = available.index(column)
        wanted = given.get(role, "").strip()
        if wanted.isdigit() or (wanted == column and column != original[position]):
            continue  # chosen by position, or by the unique name a repeated column was given
        twins = [k for k, key in enumerate(keys) if key == keys[position]]
        if len(twins) > 1:
            label = spec.labels[role]
            positions = ", ".join(str(k + 1) for k in twins)
            how = (
                f" Or choose one by position with --columns {role}={twins[0] + 1} "
                f'(ColumnMap({role}="{twins[0] + 1}") in Python).'
                if spec.what == "ratings"
                else ""
            )
            twin_names = name_list([original[k] for k in twins])
            raise ColumnsError(
                f"{name} has {len(twins)} columns named like {original[position]!r} (columns {positions}: "
                f"{twin_names}), so it is not clear which one holds the {label}s. Rename the others.",
                available,
                how,
            )


def find_column(available: Sequence[str], wanted: str) -> str | None:
    """The column called ``wanted`` (exactly, then ignoring case/punctuation), else the
    ``wanted``-th column when it is a number."""
    if wanted in available:
        return wanted
    folded = [c for c in available if c.casefold() == wanted.casefold()]
    if folded:
        return folded[0]
    loose = [c for c in available if normalise(c) == normalise(wanted)]
    if len(loose) == 1:
        return loose[0]
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(available):
        return available[int(wanted) - 1]
    return None


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a number (``"4"``, ``" 4.5 "``, ``"1e3"``, ``"nan"``)."""
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def is_header_row(first: list[str], spec: Spec, given: Mapping[str, str]) -> bool:
    """Whether the first CSV row names the columns rather than holding the first rating."""
    if spec.headerless is None:
        return True
    named = {role: col for role, col in given.items() if not col.strip().isdigit()}
    if named and all(col in first or find_column(first, col) is not None for col in named.values()):
        return True
    known = {n for names in spec.candidates.values() for n in names}
    if any(normalise(c) in known for c in first):
        return True
    # Without names, the first row is data when its rating field is a number.
    rating = given.get("rating", "3")
    position = int(rating) - 1 if rating.strip().isdigit() else 2
    return not (0 <= position < len(first) and is_number(first[position]))


def resolve_headerless(
    names: list[str], first: list[str], spec: Spec, given: Mapping[str, str], name: str
) -> dict[str, str]:
    """Columns of a file without header: as given (positions), the rest in the usual order."""
    assert spec.headerless is not None
    chosen: dict[str, str] = {}
    for role, wanted in given.items():
        if role not in spec.candidates or wanted == SKIP:
            continue
        match = find_column(names, wanted)
        if match is None:
            raise ColumnsError(
                f"{name} has no header row, so its columns are numbered 1 to {len(names)}: {wanted!r} "
                "is not one of them. Give positions, e.g. user=1,item=2,rating=3.",
                names,
            )
        chosen[role] = match
    for role, column in zip(spec.headerless, names, strict=False):
        if role in chosen or column in chosen.values() or given.get(role) == SKIP:
            continue
        # A fourth column is the time only if it looks like one (unix time or a date).
        if role == "time" and not re.fullmatch(_TIME_LIKE, first[int(column) - 1]):
            continue
        chosen[role] = column
    missing = [spec.labels[r] for r in spec.required if r not in chosen]
    if missing:
        raise ColumnsError(
            f"{name} has no header row and only {len(names)} columns, so there is no {missing[0]} "
            "column. Add a header row (e.g. UserID,ProductID,Rating,Timestamp).",
            names,
        )
    return chosen


_TIME_LIKE = r"\s*(-?\d+(\.\d*)?|\d{4}-\d\d-\d\d.*)\s*"


def unique_names(names: list[str]) -> list[str]:
    """Repeated names numbered as pandas does: ``Rating, Rating`` -> ``Rating, Rating.1``."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        seen.setdefault(n, 0)
        out.append(n)
    return out


def role_of(column_map: Mapping[str, str], column: str) -> str:
    """The field (``user``, ``item`` …) that ``column`` was chosen for."""
    return next(role for role, col in column_map.items() if col == column)
