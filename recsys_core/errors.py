"""The one exception type that the CLI and the app turn into a message for the user."""

from __future__ import annotations


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
