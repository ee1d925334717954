"""The one exception type that the CLI and the app turn into a message for the user."""

from __future__ import annotations


class RecsysError(ValueError):
    """Bad input or an unusable state, explained for the person who caused it.

    The message says what is wrong, where (file, column, row numbers) and how to fix it.
    The CLI prints it as ``error: <message>`` and exits with status 2; the app shows it with
    ``st.error`` and keeps whatever was loaded before.
    """
