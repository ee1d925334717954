"""Column guessing by name (issue 22, item 7): the names people's files really use, in English and
German, are recognised where they are unambiguous; the command line keeps its ``--columns`` hint,
which the app leaves out."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from recsys_core.data import columns_by_name, load_ratings
from recsys_core.errors import ColumnsError


def _load(header: str) -> pd.DataFrame:
    rows = [f"c{i % 7},p{i % 11},{1 + i % 5},{1_300_000_000 + 60 * i}" for i in range(60)]
    text = header + "\n" + "\n".join(rows) + "\n"
    source = io.BytesIO(text.encode())
    source.name = "ratings.csv"
    return load_ratings(source).frame


@pytest.mark.parametrize(
    "header",
    [
        "userId,movieId,rating,timestamp",  # MovieLens
        "customer,product,stars,date",
        "customer_id,article,score,time",
        "Kunde,Artikel,Sterne,Datum",
        "KundenNr,Artikelnummer,Bewertung,Zeitstempel",
        "user,itemId,rating,created_at",
        "reviewer,asin,overall,unixReviewTime",
    ],
)
def test_files_with_these_names_load_without_being_told_the_columns(header: str) -> None:
    frame = _load(header)
    assert frame["user"].iloc[0] == "c0" and frame["item"].iloc[0] == "p0"
    assert frame["rating"].tolist()[:5] == [1, 2, 3, 4, 5]


def test_an_id_column_wins_over_a_bare_noun_of_the_same_field() -> None:
    found = columns_by_name(["customer", "customer_id", "product", "product_id", "stars"])
    assert found == {"user": "customer_id", "item": "product_id", "rating": "stars"}


def test_a_name_written_twice_or_unknown_is_left_to_the_person() -> None:
    assert columns_by_name(["wer", "was", "wie"]) == {}
    found = columns_by_name(["Kunde", "Artikel", "Sterne", "sterne"])
    assert found == {"user": "Kunde", "item": "Artikel"}


def test_the_command_line_hint_is_apart_from_the_reason() -> None:
    with pytest.raises(ColumnsError) as missing:
        _load("wer,was,wie,wann")
    assert "--columns user=COLUMN" in str(missing.value)
    assert "--columns" not in missing.value.reason and "Python" not in missing.value.reason
    assert str(missing.value).startswith(missing.value.reason)
    assert missing.value.available == ["wer", "was", "wie", "wann"]
