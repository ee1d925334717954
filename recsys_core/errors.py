"""The one exception type that the CLI and the app turn into a message for the user, and the one
check of a count argument (how many recommendations, the list length ``k``) that raises it."""

from __future__ import annotations

from numbers import Integral


class RecsysError(ValueError):
    """Bad input or an unusable state, explained for the person who caused it.

    The message says what is wrong, where (file, column, row numbers) and how to fix it.
    The CLI prints it as ``error: <message>`` and exits with status 2; the app shows it with
    ``st.error`` and keeps whatever was loaded before. ``how`` is a way out that only the command
    line or Python has (``--columns time=-``), appended to the message; ``reason`` is the message
    without it, which the app shows.
    """

    def __init__(self, message: str = "", *, how: str = "") -> None:
        super().__init__(message + how)
        self.reason = message


class ColumnsError(RecsysError):
    """The user, product or rating column could not be found or was named ambiguously.

    ``available`` lists the file's column names (as written), so that a caller such as the app's
    Data page can offer them for mapping by hand instead of matching on the message text.
    Its ``how`` (``--columns …``) is left out of ``reason``: the app asks with select boxes.
    """

    def __init__(self, message: str, available: list[str] | None = None, how: str = "") -> None:
        super().__init__(message, how=how)
        self.available = list(available or [])


def check_count(value: object, what: str, *, most: int | None = None, least: int = 1) -> int:
    """``value`` as an ``int`` when it is a whole number from ``least`` to ``most``, else a
    :class:`RecsysError` that says the bounds.

    Python and numpy integers pass; ``True``, ``1.5``, ``"3"`` and ``0`` are refused rather than
    read as a number (a flag or a string is a caller's mistake, not a count). The upper bounds
    of every count a person can type are in :mod:`recsys_core.limits`; checking them first
    refuses a typo before it allocates or loops.

    Parameters
    ----------
    value
        The count to check.
    what
        How the message names it, e.g. ``"The number of recommendations"`` or ``"k"``.
    most
        The largest value accepted (``None``: no upper bound).
    least
        The smallest value accepted (1; 0 where "none" or "all" is meaningful).
    """
    whole = not isinstance(value, bool) and isinstance(value, Integral)
    if not whole or value < least or (most is not None and value > most):
        span = f"from {least:,} to {most:,}" if most is not None else f"of at least {least:,}"
        shown = f"{value:,}" if whole else repr(value)
        raise RecsysError(f"{what} must be a whole number {span}, not {shown}.")
    return int(value)


def plain(value: object) -> str:
    """A value as a message shows it: ``6`` rather than ``np.float64(6.0)``, ``4.5``, ``inf``;
    text quoted (``'abc'``); anything else as its ``repr``."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # a numpy scalar as the Python number it holds
    if isinstance(value, bool) or not isinstance(value, int | float):
        return repr(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)
