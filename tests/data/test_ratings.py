"""Tests for recsys_core.data.ratings: formats, column detection, cleaning and every kind of bad input."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SharedData
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recsys_core.data import (
    ColumnMap,
    LoadReport,
    Ratings,
    is_number,
    k_core,
    load_products,
    load_ratings,
    peek_columns,
)
from recsys_core.data import ratings as ratings_module
from recsys_core.errors import ColumnsError, RecsysError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

SIMPLE = b"UserID,ProductID,Rating,Timestamp\nA1,0594481813,5.0,1365811200\nA2,B00001,3.0,1365897600\n"


def upload(content: bytes, name: str = "ratings.csv") -> io.BytesIO:
    """An in-memory upload like Streamlit's UploadedFile (a BytesIO with a name)."""
    buffer = io.BytesIO(content)
    buffer.name = name
    return buffer


def load_bytes(content: bytes, name: str = "ratings.csv", **kwargs) -> Ratings:
    return load_ratings(upload(content, name), **kwargs)


def error_of(content: bytes, name: str = "ratings.csv", **kwargs) -> str:
    with pytest.raises(RecsysError) as info:
        load_bytes(content, name, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# The four shared real files
# ---------------------------------------------------------------------------------------------

# (file, rows, users, items, has timestamps). Row/user/item counts are the ones published in
# shared/data/README.md. None of the four files repeats a (user, item) pair (checked with
# pandas when these tests were written), so deduplication drops nothing and rows == file rows.
SHARED = [
    ("amazon_electronics_dense.csv", 65_290, 1_540, 5_689, False),
    ("amazon_electronics_raw_sample.csv", 76_127, 74_457, 39_432, True),
    ("amazon_electronics_head.csv", 50_698, 47_141, 3_529, True),
    ("amazon_electronics_seed_valid.csv", 89_919, 89_919, 26_476, True),
]


@pytest.mark.parametrize(("name", "rows", "users", "items", "timed"), SHARED)
def test_shared_files_summary_counts(name, rows, users, items, timed, shared_data: SharedData):
    ratings = load_ratings(shared_data(name))
    summary = ratings.summary()
    assert summary["rows"] == rows
    assert summary["users"] == users
    assert summary["items"] == items
    assert summary["duplicates_dropped"] == 0
    assert ratings.report.rows_read == rows
    assert sum(summary["rating_counts"].values()) == rows
    assert set(summary["rating_counts"]) == {"1", "2", "3", "4", "5"}
    assert ratings.has_timestamps is timed
    if timed:
        # Amazon Electronics spans 1998-2014.
        assert "1998-01-01" <= summary["time_min"] < summary["time_max"] <= "2014-12-31"
    else:
        assert summary["time_min"] is None and summary["time_max"] is None
    # The cached counts agree with counting the frame itself.
    assert ratings.frame["user"].nunique() == users
    assert ratings.frame["item"].nunique() == items


def test_shared_raw_sample_is_read_without_header_and_keeps_leading_zeros(shared_data: SharedData):
    ratings = load_ratings(shared_data("amazon_electronics_raw_sample.csv"))
    report = ratings.report
    assert report.has_header is False
    assert report.column_map == ColumnMap(user="1", item="2", rating="3", time="4")
    assert report.time_format == "unix seconds"
    # First line of the file: AKM1MP6P0OYPR,0132793040,5.0,1365811200
    first = ratings.frame.iloc[0]
    assert (first["user"], first["item"], first["rating"]) == ("AKM1MP6P0OYPR", "0132793040", 5.0)
    assert first["timestamp"] == pd.Timestamp("2013-04-13")
    assert ratings.frame["item"].str.startswith("0").any()


def test_shared_seed_valid_ignores_extra_column_and_reads_iso_dates(shared_data: SharedData):
    ratings = load_ratings(shared_data("amazon_electronics_seed_valid.csv"))
    assert list(ratings.frame.columns) == ["user", "item", "rating", "timestamp"]
    assert ratings.report.column_map.time == "Timestamp"
    assert "UserEnc" in ratings.report.source_columns
    assert ratings.report.time_format == "ISO dates"
    # First data line: A3SBTW3WS4IQSN,B005FDXMJS,1.0,2014-07-23,66384
    assert ratings.frame.iloc[0]["timestamp"] == pd.Timestamp("2014-07-23")


# ---------------------------------------------------------------------------------------------
# Frame layout
# ---------------------------------------------------------------------------------------------


def test_frame_columns_and_dtypes():
    ratings = load_bytes(SIMPLE)
    frame = ratings.frame
    assert list(frame.columns) == ["user", "item", "rating", "timestamp"]
    assert frame["user"].dtype == "str" and frame["item"].dtype == "str"
    assert frame["user"].dtype != object  # Arrow-backed strings, not Python objects
    assert frame["rating"].dtype == np.float64
    assert frame["timestamp"].dtype == "datetime64[ns]"
    assert frame["item"].tolist() == ["0594481813", "B00001"]


def test_no_timestamp_column_without_times():
    ratings = load_bytes(b"user_id,prod_id,rating\nA,B,5\nC,D,4\n")
    assert list(ratings.frame.columns) == ["user", "item", "rating"]
    assert not ratings.has_timestamps
    assert ratings.report.column_map.time is None


def test_ids_that_look_numeric_stay_strings_exactly_as_written():
    content = b"user,item,rating\n007,0594481813,5\n7,594481813,4\n 007,1e3,3\n"
    frame = load_bytes(content).frame
    assert frame["user"].tolist() == ["007", "7", " 007"]
    assert frame["item"].tolist() == ["0594481813", "594481813", "1e3"]


def test_summary_rating_keys_drop_trailing_zero_but_keep_halves():
    content = b"user,item,rating\na,x,5.0\nb,x,4.5\nc,x,4.5\nd,x,0.5\n"
    assert load_bytes(content).summary()["rating_counts"] == {"5": 1, "4.5": 2, "0.5": 1}


# ---------------------------------------------------------------------------------------------
# Formats, encodings, delimiters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(delimiter):
    lines = ["UserID,ProductID,Rating", "A,0123,5", "B,0456,3", "C,0123,4"]
    content = "\n".join(line.replace(",", delimiter) for line in lines).encode() + b"\n"
    ratings = load_bytes(content)
    assert ratings.report.delimiter == delimiter
    assert ratings.frame["item"].tolist() == ["0123", "0456", "0123"]
    assert ratings.frame["rating"].tolist() == [5.0, 3.0, 4.0]


def test_windows_line_endings_and_line_numbers():
    content = b"user,item,rating\r\nA,B,5\r\n\r\nC,D,x\r\n"
    assert "line 4 ('x')" in error_of(content)
    assert load_bytes(content.replace(b"x", b"2")).frame["rating"].tolist() == [5.0, 2.0]


def test_quoted_fields_with_commas():
    content = b'user,item,rating,note\n"A,1",B,5,"nice, really"\nC,D,4,ok\n'
    frame = load_bytes(content).frame
    assert frame["user"].tolist() == ["A,1", "C"]


def test_semicolon_file_with_decimal_commas():
    frame = load_bytes(b"user;item;rating\nA;B;4,5\nC;D;3\n").frame
    assert frame["rating"].tolist() == [4.5, 3.0]


def test_utf8_bom_is_removed_from_the_first_column_name():
    ratings = load_bytes(b"\xef\xbb\xbf" + SIMPLE)
    assert ratings.report.column_map.user == "UserID"
    assert ratings.report.encoding == "utf-8-sig"
    assert ratings.frame["user"].tolist() == ["A1", "A2"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_decoded(encoding):
    content = "UserID,ProductID,Rating\nA1,0594481813,5\nÄ2,B1,2\n".encode(encoding)
    ratings = load_bytes(content)
    assert ratings.report.encoding == "utf-16"
    assert ratings.frame["user"].tolist() == ["A1", "Ä2"]
    assert ratings.frame["item"].tolist() == ["0594481813", "B1"]


def test_headerless_file_is_read_as_user_item_rating_time():
    content = b"AKM1MP6P0OYPR,0132793040,5.0,1365811200\nA2CX7LUOHB2NDG,0321732944,4.0,1341100800\n"
    ratings = load_bytes(content)
    assert ratings.report.has_header is False
    assert len(ratings.frame) == 2  # the first line is data, not a header
    assert ratings.frame["item"].tolist() == ["0132793040", "0321732944"]
    assert ratings.frame["timestamp"].tolist() == [pd.Timestamp("2013-04-13"), pd.Timestamp("2012-07-01")]


def test_headerless_three_columns_has_no_timestamps():
    ratings = load_bytes(b"A,0001,5\nB,0002,1\n")
    assert ratings.report.has_header is False
    assert not ratings.has_timestamps
    assert ratings.frame["user"].tolist() == ["A", "B"]


def test_headerless_fourth_column_that_is_not_a_time_is_ignored():
    ratings = load_bytes(b"A,0001,5,red\nB,0002,1,blue\n")
    assert not ratings.has_timestamps
    assert ratings.frame["rating"].tolist() == [5.0, 1.0]


def test_gzip_detected_by_magic_bytes_whatever_the_name(tmp_path):
    compressed = gzip.compress(SIMPLE)
    by_name = tmp_path / "ratings.csv.gz"
    by_name.write_bytes(compressed)
    misnamed = tmp_path / "ratings.csv"
    misnamed.write_bytes(compressed)
    for path in (by_name, misnamed):
        ratings = load_ratings(path)
        assert ratings.report.format == "csv.gz"
        assert ratings.frame["item"].tolist() == ["0594481813", "B00001"]


def test_gzip_with_several_members():
    header, body = SIMPLE.split(b"\n", 1)
    content = gzip.compress(header + b"\n") + gzip.compress(body)
    assert len(load_bytes(content, "x.csv.gz").frame) == 2


def test_bzip2_is_decompressed():
    assert load_bytes(bz2.compress(SIMPLE), "x.csv.bz2").frame["item"].tolist() == ["0594481813", "B00001"]


def test_parquet(tmp_path):
    table = pa.table(
        {
            "user_id": ["A", "B", "C"],
            "parent_asin": ["0001", "0002", "0001"],
            "stars": pa.array([5, 2, 4], pa.int8()),
            "date": pa.array([1, 2, 3], pa.timestamp("s")),
            "extra": [1.0, 2.0, 3.0],
        }
    )
    path = tmp_path / "r.parquet"
    pq.write_table(table, path)
    ratings = load_ratings(path)
    assert ratings.report.format == "parquet"
    assert ratings.frame["item"].tolist() == ["0001", "0002", "0001"]
    assert ratings.frame["rating"].tolist() == [5.0, 2.0, 4.0]
    assert ratings.frame["timestamp"].iloc[2] == pd.Timestamp("1970-01-01 00:00:03")


def test_parquet_with_integer_ids_and_dictionary_strings():
    table = pa.table(
        {
            "user": pa.array([10, 11]),
            "item": pa.array(["x", "y"]).dictionary_encode(),
            "rating": [1.0, 2.0],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    frame = load_bytes(buffer.getvalue(), "r.parquet").frame
    assert frame["user"].tolist() == ["10", "11"]
    assert frame["item"].tolist() == ["x", "y"]


def test_amazon_2018_json_lines():
    ratings = load_ratings(FIXTURES / "amazon2018_reviews.jsonl")
    assert ratings.report.format == "jsonl"
    assert ratings.report.column_map == ColumnMap(
        user="reviewerID", item="asin", rating="overall", time="unixReviewTime"
    )
    frame = ratings.frame
    assert frame["item"].tolist() == ["0594481813", "B00005N5PF", "B00005N5PF", "0594481813"]
    assert frame["rating"].tolist() == [5.0, 3.0, 1.0, 4.0]
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2015-11-05")


def test_amazon_2023_json_lines_uses_parent_asin_and_milliseconds():
    ratings = load_ratings(FIXTURES / "amazon2023_reviews.jsonl")
    assert ratings.report.column_map.item == "parent_asin"
    assert ratings.report.time_format == "unix milliseconds"
    frame = ratings.frame
    assert frame["item"].tolist() == ["B07PARENT01", "B07PARENT01", "0972683275"]
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2020-05-05 14:08:48.923")
    assert frame["timestamp"].iloc[2] == pd.Timestamp("2010-01-01")


def test_json_array_of_objects():
    content = b'[{"user": "u1", "item": "0001", "rating": 4}, {"user": "u2", "item": "0002", "rating": 2}]'
    frame = load_bytes(content, "r.json").frame
    assert frame["item"].tolist() == ["0001", "0002"]
    assert frame["rating"].tolist() == [4.0, 2.0]


# ---------------------------------------------------------------------------------------------
# Column detection and explicit mapping
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("UserID,ProductID,Rating", ("UserID", "ProductID", "Rating")),
        ("user_id,prod_id,rating", ("user_id", "prod_id", "rating")),
        ("UserId,ItemId,rating", ("UserId", "ItemId", "rating")),
        ("reviewerID,asin,overall", ("reviewerID", "asin", "overall")),
        ("USER,ITEM,STARS", ("USER", "ITEM", "STARS")),
        ("customer_id,product_id,score", ("customer_id", "product_id", "score")),
        ("UserEnc,title,item_id,user,Score", ("user", "item_id", "Score")),
    ],
)
def test_columns_detected_by_common_names(header, expected):
    width = header.count(",") + 1
    rows = []
    for i, rating in enumerate(["5", "3"]):
        values = [f"v{i}{j}" for j in range(width)]
        values[header.split(",").index(expected[2])] = rating
        rows.append(",".join(values))
    ratings = load_bytes((header + "\n" + "\n".join(rows) + "\n").encode())
    mapping = ratings.report.column_map
    assert (mapping.user, mapping.item, mapping.rating) == expected
    assert ratings.frame["rating"].tolist() == [5.0, 3.0]


def test_explicit_column_map_overrides_detection():
    content = b"user,item,rating,my_score,when\nA,B,1,5,2020-01-02\nC,D,1,3,2020-01-03\n"
    ratings = load_bytes(content, columns=ColumnMap(rating="my_score", time="when"))
    assert ratings.frame["rating"].tolist() == [5.0, 3.0]
    assert ratings.frame["timestamp"].tolist() == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03")]
    # The text form and a plain string work the same way.
    again = load_bytes(content, columns="rating=my_score,time=when")
    assert again.frame.equals(ratings.frame)


def test_column_map_matches_names_ignoring_case():
    ratings = load_bytes(b"A,B,C\nu,i,4\nv,j,2\n", columns="user=a,item=b,rating=c")
    assert ratings.report.column_map == ColumnMap(user="A", item="B", rating="C")


def test_column_map_positions_for_headerless_file():
    # Product first, then rating, then user: only positions can say so.
    ratings = load_bytes(b"0001,5,A\n0002,1,B\n", columns="item=1,rating=2,user=3")
    assert ratings.report.has_header is False
    assert ratings.frame["user"].tolist() == ["A", "B"]
    assert ratings.frame["item"].tolist() == ["0001", "0002"]


def test_column_map_time_dash_loads_without_times():
    ratings = load_bytes(b"user,item,rating,timestamp\nA,B,5,garbage\nC,D,4,1\n", columns="time=-")
    assert not ratings.has_timestamps


def test_blank_column_map_fields_mean_detect():
    ratings = load_bytes(SIMPLE, columns=ColumnMap(user="", item=" ", rating=None, time=None))
    assert ratings.report.column_map.user == "UserID"


def test_column_map_parse():
    assert ColumnMap.parse("user=U, item=I,rating=R,time=T") == ColumnMap("U", "I", "R", "T")
    assert ColumnMap.parse("product=P,timestamp=T") == ColumnMap(item="P", time="T")
    assert str(ColumnMap(user="U", rating="R")) == "user=U,rating=R"
    for bad in ("user", "colour=red", "user=", "user=A,user=B", "rating=-"):
        with pytest.raises(RecsysError):
            ColumnMap.parse(bad)


def test_column_map_naming_a_missing_column_lists_the_columns():
    message = error_of(SIMPLE, columns="rating=Stars")
    assert "'Stars'" in message
    assert "'UserID', 'ProductID', 'Rating', 'Timestamp'" in message


# ---------------------------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "fmt"),
    [
        ("1365811200", "unix seconds"),
        ("1365811200.0", "unix seconds"),
        ("1365811200000", "unix milliseconds"),
        ("2013-04-13T00:00:00", "ISO dates"),
        ("2013-04-13T02:00:00+02:00", "ISO dates"),
        ("20130413", "YYYYMMDD dates"),
    ],
)
def test_timestamp_forms_all_give_the_same_instant(written, fmt):
    content = f"user,item,rating,timestamp\nA,B,5,{written}\nC,D,4,2014-01-01\n".encode()
    if fmt != "ISO dates":
        # Keep the column homogeneous: the second row in the same form, one day later.
        later = {"unix seconds": "1365897600", "unix milliseconds": "1365897600000"}
        content = content.replace(b"2014-01-01", later.get(fmt, "20130414").encode())
    ratings = load_bytes(content)
    assert ratings.report.time_format == fmt
    assert ratings.frame["timestamp"].iloc[0] == pd.Timestamp("2013-04-13")


def test_iso_dates_only():
    ratings = load_bytes(b"user,item,rating,date\nA,B,5,2014-07-23\nC,D,4,2000-09-20\n")
    assert ratings.summary()["time_min"] == "2000-09-20"
    assert ratings.summary()["time_max"] == "2014-07-23"


def test_empty_time_column_is_ignored_with_a_note():
    ratings = load_bytes(b"user,item,rating,timestamp\nA,B,5,\nC,D,4,\n")
    assert not ratings.has_timestamps
    assert any("empty" in note for note in ratings.report.notes)


# ---------------------------------------------------------------------------------------------
# Duplicates and k-core
# ---------------------------------------------------------------------------------------------


def test_duplicates_keep_the_latest_by_time_not_by_position():
    content = (
        b"user,item,rating,timestamp\n"
        b"A,X,1,300\n"  # latest for (A, X) although it comes first
        b"A,X,5,100\n"
        b"B,X,2,50\n"
        b"A,X,3,200\n"
        b"B,Y,4,10\n"
    )
    ratings = load_bytes(content)
    assert ratings.report.duplicates_dropped == 2
    assert ratings.summary()["duplicates_dropped"] == 2
    assert ratings.report.rows_read == 5
    frame = ratings.frame
    assert frame[["user", "item", "rating"]].values.tolist() == [
        ["A", "X", 1.0],
        ["B", "X", 2.0],
        ["B", "Y", 4.0],
    ]


def test_duplicates_without_times_keep_the_last_row():
    ratings = load_bytes(b"user,item,rating\nA,X,1\nA,X,5\nB,X,2\nA,X,4\n")
    assert ratings.report.duplicates_dropped == 2
    assert ratings.frame.values.tolist() == [["B", "X", 2.0], ["A", "X", 4.0]]


def test_duplicate_times_tie_goes_to_the_last_row():
    ratings = load_bytes(b"user,item,rating,timestamp\nA,X,1,100\nA,X,5,100\nB,X,2,1\n")
    assert ratings.frame["rating"].tolist() == [5.0, 2.0]


def test_pairs_are_not_confused_across_columns():
    # ("A", "BC") and ("AB", "C") are different pairs: nothing may be dropped.
    ratings = load_bytes(b"user,item,rating\nA,BC,1\nAB,C,5\n")
    assert ratings.report.duplicates_dropped == 0
    assert len(ratings.frame) == 2


def _cascade_frame() -> pd.DataFrame:
    # With min 2 per user and per item: item z (1 rating) goes first; that leaves user c with one
    # rating, so c goes next, which leaves item y with one rating, so y goes too. A single pass
    # would keep c and y.
    rows = [
        ("a", "x", 5), ("a", "w", 4), ("b", "x", 3), ("b", "w", 2),
        ("c", "y", 1), ("c", "z", 5), ("d", "y", 4),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["user", "item", "rating"]).astype({"rating": float})


def test_k_core_iterates_until_stable():
    result = k_core(_cascade_frame(), min_user_ratings=2, min_item_ratings=2)
    assert sorted(zip(result["user"], result["item"], strict=True)) == [
        ("a", "w"), ("a", "x"), ("b", "w"), ("b", "x"),
    ]  # fmt: skip
    assert result.index.tolist() == [0, 1, 2, 3]


def test_load_ratings_applies_k_core_and_reports_it():
    content = _cascade_frame().to_csv(index=False).encode()
    ratings = load_bytes(content, min_user_ratings=2, min_item_ratings=2)
    assert ratings.report.kcore_dropped == 3
    assert ratings.summary()["rows"] == 4
    assert ratings.summary()["users"] == 2 and ratings.summary()["items"] == 2


def test_k_core_that_removes_everything_is_an_error():
    content = _cascade_frame().to_csv(index=False).encode()
    assert "lower the minimums" in error_of(content, min_user_ratings=5)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_k_core_minimums_must_be_positive_integers(bad):
    with pytest.raises(RecsysError, match="min_user_ratings"):
        load_bytes(SIMPLE, min_user_ratings=bad)


# ---------------------------------------------------------------------------------------------
# Bad input: each with a specific message
# ---------------------------------------------------------------------------------------------


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(RecsysError, match=r"empty \(0 bytes\)"):
        load_ratings(path)
    assert "empty" in error_of(b"")


def test_blank_lines_only():
    assert "only blank" in error_of(b"\n\n  \r\n")


def test_header_only():
    message = error_of(b"UserID,ProductID,Rating\n")
    assert "header but no data rows" in message


def test_missing_rating_column_lists_found_columns():
    message = error_of(b"user_id,prod_id,comment\nA,B,great\nC,D,bad\n")
    assert "no rating column" in message
    assert "'user_id', 'prod_id', 'comment'" in message
    assert "--columns rating=" in message


def test_missing_user_column_lists_found_columns():
    message = error_of(b"who,prod_id,rating\nA,B,5\nC,D,4\n")
    assert "no user ID column" in message
    assert "'who', 'prod_id', 'rating'" in message


def test_non_numeric_and_missing_ratings_name_the_lines():
    content = b"user,item,rating\nA,B,5\nC,D,five\n\nE,F,\nG,H,4\nI,J,n/a\n"
    message = error_of(content)
    assert "3 values are missing or non-numeric" in message
    # Lines of the file, counting the header and the blank line 4.
    assert "lines 3 ('five'), 5 (empty), 7 ('n/a')" in message


def test_many_bad_ratings_show_only_the_first_lines():
    rows = "".join(f"u{i},i{i},x\n" for i in range(100))
    message = error_of(("user,item,rating\n" + rows).encode())
    assert "100 values" in message
    assert "lines 2 ('x'), 3 ('x'), 4 ('x'), 5 ('x'), 6 ('x'), …" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("-1", "negative"), ("inf", "NaN or infinite"), ("nan", "NaN or infinite"), ("250", "too large")],
)
def test_ratings_off_any_scale(value, expected):
    message = error_of(f"user,item,rating\nA,B,5\nC,D,{value}\nE,F,4\n".encode())
    assert expected in message
    assert "line 3" in message


def test_too_many_distinct_rating_values():
    rows = "".join(f"u{i},i{i},{i * 0.37:.2f}\n" for i in range(30))
    message = error_of(("user,item,rating\n" + rows).encode())
    assert "30 different values" in message
    assert "does not look like ratings" in message


def test_a_single_rating_value():
    message = error_of(b"user,item,rating\nA,B,5\nC,D,5\nE,F,5\n")
    assert "every rating" in message and "is 5" in message
    assert "two different" in message


def test_missing_ids_name_the_lines():
    message = error_of(b"user,item,rating\nA,B,5\n,D,4\nE,F,3\n")
    assert "column 'user'" in message and "without a user ID" in message and "line 3" in message


def test_rows_with_wrong_number_of_fields():
    message = error_of(b"user,item,rating\nA,B,5\nC,D\nE,F,4,9\nG,H,1\n")
    assert "2 rows without 3 fields" in message
    assert "line 3: 'C,D'" in message and "line 4: 'E,F,4,9'" in message


def test_unparseable_timestamps_name_the_lines():
    content = b"user,item,rating,date\nA,B,5,2014-01-01\nC,D,4,yesterday\nE,F,3,\nG,H,2,2014-01-02\n"
    message = error_of(content)
    assert "2 values are not dates or unix times" in message
    assert "lines 3 ('yesterday'), 4 (empty)" in message
    assert "time=-" in message


def test_timestamps_beyond_year_2262_are_refused():
    message = error_of(b"user,item,rating,timestamp\nA,B,5,1\nC,D,4,99999999999\n")
    assert "out of range" in message and "line 3" in message


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_png(), "PNG image"),
        (_xlsx(), "looks like an Excel workbook, not a CSV file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel (.xls)"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (bytes(range(256)) * 4, "binary file"),
    ],
)
def test_binary_files_renamed_csv(content, expected):
    message = error_of(content, "ratings.csv")
    assert expected in message


def test_excel_message_says_how_to_fix():
    assert "export it as CSV" in error_of(_xlsx())


def test_legacy_encoding_names_the_line():
    content = "user,item,rating\nA,B,5\nCaf\u00e9,D,4\n".encode("cp1252")
    message = error_of(content)
    assert "not UTF-8" in message and "line 3" in message and "0xE9" in message


def test_truncated_gzip():
    # Random IDs so that the data does not compress to a few bytes.
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10**9, size=(2000, 2))
    rows = "".join(f"u{u},i{i},{1 + (u % 5)}\n" for u, i in ids)
    compressed = gzip.compress(("user,item,rating\n" + rows).encode())
    message = error_of(compressed[: len(compressed) // 2], "ratings.csv.gz")
    assert "truncated or damaged gzip" in message


def test_zero_byte_and_header_only_gzip(tmp_path):
    path = tmp_path / "ratings.csv.gz"
    path.write_bytes(b"")
    with pytest.raises(RecsysError, match="empty"):
        load_ratings(path)
    assert "truncated or damaged gzip" in error_of(b"\x1f\x8b", "ratings.csv.gz")
    assert "contains nothing" in error_of(gzip.compress(b""), "ratings.csv.gz")


def test_parquet_with_wrong_types():
    def parquet(**columns) -> bytes:
        buffer = io.BytesIO()
        pq.write_table(pa.table(columns), buffer)
        return buffer.getvalue()

    ids = {"user": ["a", "b"], "item": ["x", "y"]}
    assert "type bool" in error_of(parquet(**ids, rating=[True, False]), "r.parquet")
    float_ids = error_of(parquet(user=[1.5, 2.5], item=["x", "y"], rating=[1, 2]), "r.parquet")
    assert "user ID column 'user' has type double" in float_ids
    text = error_of(parquet(**ids, rating=["5", "good"]), "r.parquet")
    assert "row 2 ('good')" in text
    missing = error_of(parquet(**ids, rating=pa.array([5.0, None])), "r.parquet")
    assert "1 rating is missing (row 2)" in missing
    assert "type bool" in error_of(parquet(**ids, rating=[1, 2], timestamp=[True, False]), "r.parquet")


def test_damaged_parquet():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"user": ["a"], "item": ["b"], "rating": [1.0]}), buffer)
    content = buffer.getvalue()
    message = error_of(content[: len(content) // 2], "r.parquet")
    assert "Parquet" in message and ("damaged" in message or "truncated" in message)


def test_bad_json_line():
    message = error_of(b'{"user": "a", "item": "b", "rating": 5}\n{"user": "c", "item"\n', "r.jsonl")
    assert "line 2 is not valid JSON" in message


def test_json_lines_missing_rating_names_the_file_line():
    content = b'{"user": "a", "item": "b", "rating": 5}\n\n{"user": "c", "item": "d"}\n'
    assert "1 rating is missing (line 3)" in error_of(content, "r.jsonl")


def test_json_field_changing_type():
    content = b'{"user": "a", "item": "b", "rating": 5}\n{"user": "c", "item": "d", "rating": "five"}\n'
    message = error_of(content, "r.jsonl")
    assert "on line 2, 'rating' is the text 'five'" in message
    assert "'user'" not in message  # only the field that changed type is named


def test_single_column_file():
    assert "single column" in error_of(b"just one column\nand another line\n")


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(RecsysError, match="File not found"):
        load_ratings(tmp_path / "nope.csv")
    with pytest.raises(RecsysError, match="folder"):
        load_ratings(tmp_path)


# Property tests: about 200 examples in all. Random tails behind the magic bytes of every format
# the loader recognises reach its deeper paths (Parquet footer, JSON sniffing, gzip, UTF-16).
_PREFIXES = [b"", b"PAR1", b"{", b"[", b"\x1f\x8b\x08\x00", b"\xff\xfe", b"user,item,rating\n", b"PK\x03\x04"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_PREFIXES), st.binary(max_size=300), st.booleans())
def test_random_bytes_never_raise_anything_but_recsys_error(prefix, content, compress):
    data = prefix + content
    if compress:
        data = gzip.compress(data, mtime=0)
    try:
        ratings = load_bytes(data)
    except RecsysError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert len(ratings.frame) >= 2 and ratings.frame["rating"].nunique() >= 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(list('A05,;\n"-.e\t {x\r')), max_size=60))
def test_random_csv_like_text_never_raises_anything_but_recsys_error(parts):
    try:
        load_bytes(("user,item,rating\n" + "".join(parts)).encode())
    except RecsysError as error:
        assert str(error) and "\n" not in str(error)


_ID_ALPHABET = [*"aZ09 ,;|\"'=-@éß\n", "\U0001f44d", "\u0301", "\u2028"]  # emoji, combining accent, LS
_ID_TEXT = st.text(alphabet=_ID_ALPHABET, min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_ID_TEXT, _ID_TEXT, st.sampled_from([1, 2, 3, 4, 5])), min_size=1, max_size=12))
def test_ids_written_by_a_csv_writer_load_exactly(rows):
    """Whatever the IDs hold (delimiters, quotes, line breaks, emoji), a properly quoted CSV
    loads with every ID exactly as written; the last rating of a repeated pair is kept."""
    rows = [("first", "x", 1), ("second", "y", 5), *rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["UserID", "ProductID", "Rating"])
    writer.writerows(rows)
    ratings = load_bytes(buffer.getvalue().encode())
    last = {(user, item): index for index, (user, item, _) in enumerate(rows)}
    expected = [row for index, row in enumerate(rows) if last[row[:2]] == index]
    frame = ratings.frame
    assert list(zip(frame["user"], frame["item"], frame["rating"], strict=True)) == [
        (user, item, float(rating)) for user, item, rating in expected
    ]
    assert ratings.report.duplicates_dropped == len(rows) - len(expected)


# ---------------------------------------------------------------------------------------------
# Memory guard: refuse what would not fit, before reading it whole
# ---------------------------------------------------------------------------------------------


def _uniform_rows(count: int) -> bytes:
    """A header and ``count`` rating lines of 23 bytes each."""
    rows = "".join(f"A{k:08d},B{k % 997:09d},{1 + k % 5}\n" for k in range(count))
    return ("UserID,ProductID,Rating\n" + rows).encode()


def _estimated_rows(message: str) -> float:
    """The "about N ratings" figure of a memory-guard message."""
    found = re.search(r"about ([\d.,]+)( million)? ratings", message)
    assert found, message
    number = float(found.group(1).replace(",", ""))
    return number * 1e6 if found.group(2) else number


def test_available_memory_is_read_from_the_system():
    available = ratings_module.available_memory()
    assert isinstance(available, int) and available > 0
    with open("/proc/meminfo") as meminfo:  # Linux: never more than MemTotal
        total = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemTotal:"))
    assert available <= total


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("ratings.csv", lambda data: data),
        ("ratings.csv.gz", lambda data: gzip.compress(data, mtime=0)),  # trailer gives the size
        ("ratings.csv.bz2", bz2.compress),  # no trailer: the ratio of the first megabyte
    ],
)
def test_memory_guard_estimates_the_rows_before_reading(name, compress):
    content = compress(_uniform_rows(100_000))  # 2.4 MB of text
    message = error_of(content, name, memory_budget=1 << 20)
    assert "would need about" in message and "the memory budget is 1 MB" in message
    assert "Split the file or use a machine with more memory" in message
    assert 90_000 <= _estimated_rows(message) <= 110_000
    # With room enough, the same bytes load.
    assert len(load_bytes(content, name, memory_budget=1 << 30).frame) == 100_000


def test_memory_guard_uses_the_module_budget_and_the_machine(monkeypatch):
    content = _uniform_rows(2_000)
    monkeypatch.setattr(ratings_module, "MEMORY_BUDGET", 4096)
    assert "the memory budget is 4 KB" in error_of(content)
    monkeypatch.setattr(ratings_module, "MEMORY_BUDGET", None)
    monkeypatch.setattr(ratings_module, "available_memory", lambda: 2048)
    assert "this machine has 2 KB free" in error_of(content)
    monkeypatch.setattr(ratings_module, "available_memory", lambda: None)  # unknown: no check
    assert len(load_bytes(content).frame) == 2_000


def test_memory_guard_for_parquet_json_and_products():
    table = pa.table(
        {"user": [f"u{k}" for k in range(5_000)], "item": ["x", "y"] * 2_500, "rating": [1.0, 5.0] * 2_500}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    # The Parquet footer holds the exact row count.
    assert "about 5,000 ratings" in error_of(buffer.getvalue(), "r.parquet", memory_budget=1024)
    lines = "".join(f'{{"user": "u{k}", "item": "x{k % 3}", "rating": {1 + k % 5}}}\n' for k in range(3_000))
    assert 2_700 <= _estimated_rows(error_of(lines.encode(), "r.jsonl", memory_budget=1024)) <= 3_300
    array = (
        "[" + ",".join(f'{{"user": "u{k}", "item": "x", "rating": {1 + k % 5}}}' for k in range(3_000)) + "]"
    )
    assert "would need about" in error_of(array.encode(), "r.json", memory_budget=1024)
    with pytest.raises(RecsysError, match="the memory budget is 1 KB"):
        load_products(upload(b"ProductID,Title\n" + b"B0001,Cable\n" * 500, "p.csv"), memory_budget=1024)


def test_decompression_stops_at_the_budget():
    # The first megabyte looks like ordinary ratings (so the estimate is small), then 1 GB of
    # zeros follow in further gzip members: decompression must stop at the budget.
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 10**9, size=(60_000, 2))
    text = "UserID,ProductID,Rating\n" + "".join(f"U{u},I{i},{1 + u % 5}\n" for u, i in ids)
    content = gzip.compress(text.encode(), mtime=0) + gzip.compress(bytes(16 << 20), mtime=0) * 64
    message = error_of(content, "ratings.csv.gz", memory_budget=64 << 20)
    assert "would need more than 64 MB of memory" in message


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "1GB"])
def test_memory_budget_must_be_a_positive_number_of_bytes(bad):
    with pytest.raises(RecsysError, match="memory_budget must be a positive number of bytes"):
        load_bytes(SIMPLE, memory_budget=bad)


# ---------------------------------------------------------------------------------------------
# Hostile input that the corpus (tests/data/test_corpus.py) does not cover
# ---------------------------------------------------------------------------------------------


def test_spreadsheet_or_double_compression_inside_gzip():
    assert "Excel workbook" in error_of(gzip.compress(_xlsx()), "r.csv.gz")
    assert "compressed twice" in error_of(gzip.compress(gzip.compress(SIMPLE)), "r.csv.gz")


def test_parquet_with_an_absurd_footer_is_refused_before_parsing():
    content = b"PAR1" + b"\x00" * 64 + (1 << 30).to_bytes(4, "little") + b"PAR1"
    assert "metadata alone is 1.0 GB" in error_of(content, "r.parquet")


def test_xml_is_named():
    assert "XML document" in error_of(b'<?xml version="1.0"?>\n<ratings><r user="a"/></ratings>\n')
    # A header in angle brackets is still a header.
    ratings = load_bytes(b"<user>,<item>,<rating>\nA,B,5\nC,D,4\n", columns="user=1,item=2,rating=3")
    assert ratings.frame["user"].tolist() == ["A", "C"]


def test_compressed_parquet():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"user": ["a", "b"], "item": ["x", "y"], "rating": [1.0, 5.0]}), buffer)
    ratings = load_bytes(gzip.compress(buffer.getvalue()), "r.parquet.gz")
    assert ratings.report.format == "parquet.gz"
    assert ratings.frame["item"].tolist() == ["x", "y"]


def test_identical_bad_rows_are_reported_at_their_own_lines():
    message = error_of(b"user,item,rating\nA,B,5\nC,D\nC,D\nE,F,4\n")
    assert "line 3: 'C,D'; line 4: 'C,D'" in message


def test_old_mac_line_endings_and_line_separator_inside_ids():
    ratings = load_bytes(b"UserID,ProductID,Rating\rA1,0001,5\rA2,0002,3\r")
    assert ratings.frame["user"].tolist() == ["A1", "A2"]
    # U+2028 is a line break for str.splitlines but not for CSV: the ID keeps it.
    ratings = load_bytes("UserID,ProductID,Rating\nA\u2028B,0001,5\nC,0002,3\n".encode())
    assert ratings.frame["user"].tolist() == ["A\u2028B", "C"]


def test_rows_of_delimiters_between_ratings_do_not_shift_line_numbers():
    content = b"user;item;rating\nA;B;5\n;;\n;;\nC;D;x\n"
    message = error_of(content)
    assert "line 5 ('x')" in message


def test_quoted_line_breaks_in_a_tab_separated_file_and_blank_tab_rows():
    content = b'user\titem\trating\tnote\nA\tB\t5\t"two\nlines"\n\t\t\t\nC\tD\tbad\tx\n'
    assert "line 5 ('bad')" in error_of(content)


def test_a_file_ending_inside_a_multibyte_character():
    assert "not UTF-8" in error_of(b"user,item,rating\nA,B,5\nC,D,4\n\xe2\x82")


# ---------------------------------------------------------------------------------------------
# Uploaded file objects
# ---------------------------------------------------------------------------------------------


def test_uploaded_file_object_with_name_in_messages():
    ratings = load_ratings(upload(SIMPLE, "my upload.csv"))
    assert ratings.report.source == "my upload.csv"
    assert len(ratings.frame) == 2
    message = error_of(b"a,b\n", "my upload.csv")
    assert "my upload.csv" in message


def test_uploaded_file_object_read_position_does_not_matter():
    buffer = upload(gzip.compress(SIMPLE), "r.csv.gz")
    buffer.read()  # already consumed, as after a preview in the app
    assert len(load_ratings(buffer).frame) == 2


def test_open_binary_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(SIMPLE)
    with path.open("rb") as handle:
        ratings = load_ratings(handle)
    assert ratings.report.source == str(path)
    assert ratings.frame["item"].tolist() == ["0594481813", "B00001"]


def test_wrong_source_type():
    with pytest.raises(RecsysError, match="file path"):
        load_ratings(12345)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Ratings.from_frame, LoadReport, products
# ---------------------------------------------------------------------------------------------


def test_ratings_from_frame_validates_like_a_file():
    frame = pd.DataFrame(
        {"UserID": ["a", "b", "a"], "ProductID": ["x", "x", "x"], "Rating": [5, 3, 1], "Timestamp": [3, 1, 2]}
    )
    ratings = Ratings.from_frame(frame)
    assert ratings.report.duplicates_dropped == 1
    assert ratings.frame[["user", "item", "rating"]].values.tolist() == [["a", "x", 5.0], ["b", "x", 3.0]]
    assert ratings.frame["user"].dtype == "str"
    with pytest.raises(RecsysError, match="row 2"):
        Ratings.from_frame(frame.assign(Rating=[5, None, 1]))


def test_load_report_fields():
    report = load_bytes(SIMPLE).report
    assert isinstance(report, LoadReport)
    assert report.format == "csv"
    assert report.has_header is True and report.delimiter == ","
    assert report.source_columns == ("UserID", "ProductID", "Rating", "Timestamp")
    assert report.column_map == ColumnMap(user="UserID", item="ProductID", rating="Rating", time="Timestamp")
    assert report.rows_read == 2 and report.duplicates_dropped == 0 and report.kcore_dropped == 0


def test_load_products_from_amazon_meta_json_lines():
    products = load_products(FIXTURES / "amazon_meta.jsonl")
    assert list(products.columns) == ["item", "name", "category"]
    assert products["item"].tolist() == ["B07PARENT01", "0972683275", "B000UNNAMED"]
    assert products["name"].tolist() == ["USB-C Cable, 2 m", "Lens Cap 52 mm", "B000UNNAMED"]
    assert products["category"].tolist() == ["All Electronics", "Camera & Photo", "All Electronics"]


def test_load_products_csv_keeps_first_of_each_item_and_joins_category_lists():
    content = b"ProductID,Title,Category\n0594481813,Cable,Electronics\nB1,Mouse,\n0594481813,Again,x\n"
    products = load_products(upload(content, "products.csv"))
    assert products.values.tolist() == [["0594481813", "Cable", "Electronics"], ["B1", "Mouse", ""]]
    meta = b'{"asin": "0001", "title": "Lens", "category": ["Electronics", "Camera", "Lenses"]}\n'
    assert load_products(upload(meta, "meta.json"))["category"].tolist() == ["Electronics > Camera > Lenses"]


def test_load_products_needs_names():
    with pytest.raises(RecsysError, match="no product name column"):
        load_products(upload(b"ProductID,price\n0001,9.99\n", "products.csv"))


# ---------------------------------------------------------------------------------------------
# Column failures carry the columns; peeking at the column names
# ---------------------------------------------------------------------------------------------


def test_column_failures_are_columns_errors_carrying_the_columns():
    with pytest.raises(ColumnsError, match="no rating column") as missing:
        load_bytes(b"user_id,prod_id,comment\nA,B,great\nC,D,bad\n")
    assert missing.value.available == ["user_id", "prod_id", "comment"]
    with pytest.raises(ColumnsError, match="has no column 'Stars'") as unknown:
        load_bytes(SIMPLE, columns="rating=Stars")
    assert unknown.value.available == ["UserID", "ProductID", "Rating", "Timestamp"]
    with pytest.raises(ColumnsError, match="2 columns named like 'Rating'") as ambiguous:
        load_bytes(b"UserID,ProductID,Rating,Rating\nA,B,5,4\nC,D,4,3\n")
    assert ambiguous.value.available == ["UserID", "ProductID", "Rating", "Rating.1"]
    with pytest.raises(ColumnsError, match="no header row and only 2 columns") as headerless:
        load_bytes(b"A,5\nB,4\n", columns="rating=2")
    assert headerless.value.available == ["1", "2"]
    with pytest.raises(ColumnsError, match="no user ID column") as in_frame:
        Ratings.from_frame(pd.DataFrame({"who": ["a"], "item": ["b"], "rating": [5.0]}))
    assert in_frame.value.available == ["who", "item", "rating"]
    # Value problems are not column problems.
    with pytest.raises(RecsysError) as values:
        load_bytes(b"UserID,ProductID,Rating\nA,B,five\nC,D,4\n")
    assert not isinstance(values.value, ColumnsError)


def test_peek_columns_csv_with_header():
    assert peek_columns(SIMPLE, "ratings.csv") == ["UserID", "ProductID", "Rating", "Timestamp"]
    assert peek_columns(b"\xef\xbb\xbfuser;item;stars\nu1;i1;4\n", "r.csv") == ["user", "item", "stars"]
    # Repeated names as the loader makes them unique, so that each can be chosen.
    assert peek_columns(b"UserID,ProductID,Rating,Rating\nA,B,5,4\n", "r.csv")[-2:] == ["Rating", "Rating.1"]


def test_peek_columns_csv_without_header_numbers_the_columns():
    content = b"u1,p1,5,1300000000\nu2,p2,4,1300000001\n"
    assert peek_columns(content, "b.csv") == ["column 1", "column 2", "column 3", "column 4"]
    assert peek_columns(b"A1\t0594481813\t5\n", "b.tsv") == ["column 1", "column 2", "column 3"]


def test_peek_columns_gzip_reads_only_the_start():
    rows = "".join(f"A{k},B{k % 97},{1 + k % 5}\n" for k in range(200_000))
    content = gzip.compress(("UserID,ProductID,Rating\n" + rows).encode(), mtime=0)
    assert peek_columns(content, "ratings.csv.gz", max_bytes=4096) == ["UserID", "ProductID", "Rating"]
    headerless = gzip.compress(rows.encode(), mtime=0)
    assert peek_columns(headerless, "r.gz", max_bytes=1000) == ["column 1", "column 2", "column 3"]


def test_peek_columns_json_lines_and_array():
    lines = (
        b'{"user_id": "A", "asin": "B", "rating": 5}\n'
        b'{"user_id": "C", "asin": "D", "rating": 4, "vote": 2}\n'  # keys of all sniffed records
    )
    assert peek_columns(lines, "r.jsonl") == ["user_id", "asin", "rating", "vote"]
    assert peek_columns(lines * 1000, "r.jsonl", max_bytes=60) == ["user_id", "asin", "rating"]
    array = b'[{"user": "A", "item": "B", "rating": 5},\n {"user": "C", "item": "D", "rating": 4}]'
    assert peek_columns(array, "r.json") == ["user", "item", "rating"]
    assert peek_columns(array, "r.json", max_bytes=50) == ["user", "item", "rating"]


def test_peek_columns_parquet():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"reviewerID": ["A"], "asin": ["B"], "overall": [5.0]}), buffer)
    assert peek_columns(buffer.getvalue(), "r.parquet", max_bytes=16) == ["reviewerID", "asin", "overall"]
    assert peek_columns(gzip.compress(buffer.getvalue()), "r.parquet.gz", max_bytes=16) == [
        "reviewerID",
        "asin",
        "overall",
    ]


def test_peek_columns_refuses_what_the_loader_refuses():
    with pytest.raises(RecsysError, match="empty"):
        peek_columns(b"", "r.csv")
    with pytest.raises(RecsysError, match="PNG image"):
        peek_columns(b"\x89PNG\r\n\x1a\n" + bytes(100), "r.csv")
    with pytest.raises(RecsysError, match="single column"):
        peek_columns(b"just some words\nand more\n", "r.csv")


def test_is_number():
    assert is_number("4") and is_number(" 4.5 ") and is_number("1e3") and is_number("nan")
    assert not is_number("five") and not is_number("") and not is_number("4,5")
