"""Day-first or month-first: which order a column of numeric dates (13/02/2014, 02/13/2014) uses.

A date such as 02/03/2014 reads as 2 March or 3 February; parsed one by one, each would be
guessed on its own (13/02/2014 day-first, the next one month-first). The order is decided once
for the whole column, from the dates that only read one way, or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from recsys_core.errors import RecsysError

# Day and month (either order), a consistent separator, then the year: 13/02/2014, 2.3.14.
_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")

DAY_FIRST = "day-first dates (DD/MM/YYYY)"
MONTH_FIRST = "month-first dates (MM/DD/YYYY)"


@dataclass(frozen=True)
class DateOrder:
    """The order a column's numeric dates use.

    Attributes
    ----------
    dayfirst
        ``True`` (13/02/2014), ``False`` (02/13/2014) or ``None`` when the column has no
        numeric date that could be read both ways (either order reads it the same).
    label
        The ``LoadReport.time_format`` text for the order, or ``None``.
    """

    dayfirst: bool | None
    label: str | None


def date_order(texts: Sequence[str], where: Callable[[int], str], name: str, label: str) -> DateOrder:
    """Decide the order of the numeric dates among ``texts`` (distinct values of one column).

    Parameters
    ----------
    texts
        The column's distinct texts.
    where
        ``where(k)`` says where ``texts[k]`` first appears (``line 12``), for messages.
    name, label
        The file's and the column's names, for messages.

    Raises
    ------
    RecsysError
        When some dates are day-first and others month-first, or when dates read both ways
        and none decides the order: the message asks for an explicit date format.
    """
    day_first = month_first = ambiguous = None
    for k, text in enumerate(texts):
        match = _NUMERIC_DATE.match(text)
        if match is None:
            continue
        first, second = int(match.group(1)), int(match.group(3))
        if first > 12 >= second and day_first is None:
            day_first = k
        elif second > 12 >= first and month_first is None:
            month_first = k
        elif first <= 12 and second <= 12 and first != second and ambiguous is None:
            ambiguous = k
    fix = (
        " Say how the dates are written with --date-format (date_format=... in Python), e.g. "
        "%d/%m/%Y for day first or %m/%d/%Y for month first."
    )
    if day_first is not None and month_first is not None:
        raise RecsysError(
            f"{name}, timestamp column {label!r}: some dates are day-first ({texts[day_first]!r}, "
            f"{where(day_first)}) and others month-first ({texts[month_first]!r}, {where(month_first)}), "
            f"so no single reading fits them all. Write the dates one way (ISO 2014-02-13 is safest).",
            how=fix,
        )
    if day_first is not None:
        return DateOrder(True, DAY_FIRST)
    if month_first is not None:
        return DateOrder(False, MONTH_FIRST)
    if ambiguous is not None:
        raise RecsysError(
            f"{name}, timestamp column {label!r}: dates such as {texts[ambiguous]!r} "
            f"({where(ambiguous)}) can be read day-first or month-first, and no date in the column "
            f"decides which (none has a day above 12). Write them as ISO dates (2014-02-13).",
            how=fix,
        )
    return DateOrder(None, None)
