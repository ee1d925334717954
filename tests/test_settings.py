"""Environment settings are checked at start with a message naming them (issue 23, item 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest import open_app
from conftest import CliRunner

from recsys_core.app import UploadStore
from recsys_core.errors import RecsysError
from recsys_core.settings import (
    DATA_CAP_ENV,
    DATA_DIR_ENV,
    RUNS_DIR_ENV,
    SYNC_ENV,
    check_environment,
    data_cap_bytes,
    runs_dir,
)

# abc, spaces and nan were an uncaught ValueError; inf and 1e400 an OverflowError; -5 and 0
# refused every upload ("larger than the -5 MB kept").
BAD_CAPS = ["abc", " ", "nan", "inf", "-inf", "1e400", "-5", "0", "0x10", "2e9"]


@pytest.mark.parametrize("value", BAD_CAPS)
def test_a_bad_upload_cap_is_named_with_how_to_fix_it(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_CAP_ENV, value)
    with pytest.raises(RecsysError, match=rf"^\${DATA_CAP_ENV} is .*a number of megabytes above 0") as caught:
        check_environment()
    assert "\n" not in str(caught.value)
    with pytest.raises(RecsysError):
        UploadStore(Path("unused"))


@pytest.mark.parametrize(("value", "megabytes"), [("", 2048), ("1", 1), (" 0.5 ", 0.5), ("1e3", 1000)])
def test_good_caps_are_read_in_megabytes(
    value: str, megabytes: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_CAP_ENV, value)
    check_environment()
    assert data_cap_bytes() == int(megabytes * (1 << 20))


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        (RUNS_DIR_ENV, "   ", "only spaces"),
        (DATA_DIR_ENV, "x" * 5000, "not a usable folder name"),
        (SYNC_ENV, "yes", "set it to 1"),
    ],
)
def test_every_other_setting_is_checked(
    name: str, value: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(RecsysError, match=rf"^\${name} .*{said}"):
        check_environment()


def test_unset_settings_take_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (RUNS_DIR_ENV, DATA_DIR_ENV, DATA_CAP_ENV, SYNC_ENV):
        monkeypatch.delenv(name, raising=False)
    check_environment()
    assert runs_dir() == Path("runs") and data_cap_bytes() == 2048 << 20


@pytest.mark.parametrize("value", ["abc", "1e400", "-5"])
def test_the_command_line_refuses_at_start_with_exit_2(
    value: str, run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DATA_CAP_ENV, value)
    code, out, err = run_cli("runs", "--runs-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith(f"error: ${DATA_CAP_ENV} is ") and err.count("\n") == 1


@pytest.mark.slow  # the whole app in AppTest
def test_the_app_shows_the_message_instead_of_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_CAP_ENV, "nan")
    at = open_app()
    shown = " ".join(e.value for e in at.error)
    assert "The app cannot start" in shown and DATA_CAP_ENV.replace("_", "\\_") in shown
    assert not at.file_uploader  # no page was drawn
