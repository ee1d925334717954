"""What the Streamlit AppTest tests share: opening the app, switching pages, uploading a file."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
#: Seconds one script run may take: a page that trains or fits the ladder on a loaded machine.
TIMEOUT = 180


def open_app(query: dict[str, str] | None = None, timeout: int = TIMEOUT) -> AppTest:
    """The app, run once (on the Data page), with ``query`` as its URL parameters."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    """Switch to ``pages/<page>.py`` and run it, failing on any exception."""
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Put ``data`` in the Data page's ratings uploader as file ``name`` and run."""
    next(u for u in at.file_uploader if u.label == "Ratings file").set_value((name, data, "text/csv"))
    return at.run()
