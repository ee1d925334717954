"""The one exception type that the CLI and the app turn into a message for the user, and the one
check of a count argument (how many recommendations, the list length ``k``) that raises it."""

from __future__ import annotations

from numbers import Integral


class RecsysError(ValueError):
    """Bad input or an unusable state, explained for the person who caused it.

    The message says what is wrong, where (file, column, row numbers) and how to fix it.
    The CLI prints it as ``error: <message>`` and exits with status 2; the app shows it with
    ``st.error`` and keeps whatever was loaded before.
    """


class ColumnsError(RecsysError):
    """The user, product or rating column could not be found or was named ambiguously.

    ``available`` lists the file's column names (as written), so that a caller such as the app's
    Data page can offer them for mapping by hand instead of matching on the message text.
    """

    def __init__(self, message: str, available: list[str] | None = None) -> None:
        super().__init__(message)
        self.available = list(available or [])


def check_count(value: object, what: str) -> int:
    """``value`` as an ``int`` when it is a whole number of at least 1, else a :class:`RecsysError`.

    Python and numpy integers pass; ``True``, ``1.5``, ``"3"`` and ``0`` are refused rather than
    read as a number (a flag or a string is a caller's mistake, not a count).

    Parameters
    ----------
    value
        The count to check.
    what
        How the message names it, e.g. ``"The number of recommendations"`` or ``"k"``.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise RecsysError(f"{what} must be a whole number of at least 1, not {value!r}.")
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
