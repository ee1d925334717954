"""The Data page's column mapping (issue 22, item 7): it opens neutrally, as a question, with the
best guesses filled in, and never with a command-line hint; known names need no mapping at all."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from apptest import open_app, upload

from recsys_core.app import views


def _rows(header: str, n: int = 400) -> bytes:
    rows = [f"k{i % 40},a{(i * 7) % 90},{1 + i % 5}" for i in range(n)]
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def test_known_names_are_the_first_guess_unless_their_content_disagrees() -> None:
    sample = pd.DataFrame(
        {
            "Sterne": ["gut", "schlecht"],  # words: not the rating, whatever its name
            "Note": [4, 5],
            "Artikel": ["a1", "a2"],
            "Kunde": ["k1", "k2"],
        }
    )
    guess = views.guess_columns(sample, list(sample.columns))
    assert guess == {"user": "Kunde", "item": "Artikel", "rating": "Note", "time": None}


def test_the_mapping_opens_as_a_question_without_an_error_or_a_command_line_hint(runs_dir: Path) -> None:
    at = open_app()
    upload(at, "wer-was.csv", _rows("wer,was,wie"))
    assert not at.error
    texts = " ".join(m.value for m in [*at.markdown, *at.caption])
    assert "Tell us which column is which" in texts
    assert "we could not tell which column holds the customer, the product and the rating" in texts
    assert "previous data (built\\-in demo shop) stays loaded" in texts
    assert "--columns" not in texts and "Python" not in texts
    boxes = {b.label: b.value for b in at.selectbox}
    assert boxes["Rating"] == "wie"  # numbers 1–5: the best guess
    next(b for b in at.button if b.label == "Load with these columns").click().run()
    assert not at.error
    assert any("Loaded wer" in s.value for s in at.success)


def test_a_file_with_german_names_loads_without_the_mapping(runs_dir: Path) -> None:
    at = open_app()
    upload(at, "kunden.csv", _rows("Kunde,Artikel,Sterne"))
    assert not at.error
    assert not [b for b in at.button if b.label == "Load with these columns"]
    assert any("Loaded kunden" in s.value for s in [*at.success, *at.warning])


def test_a_refused_file_gets_no_command_line_hint_in_the_app(runs_dir: Path) -> None:
    dates = ["not a date" if i == 7 else "2020-01-01" for i in range(99)]
    rows = [f"k{i % 40},a{(i * 7) % 90},{1 + i % 5},{date}" for i, date in enumerate(dates)]
    ambiguous = [f"k{i % 40},a{(i * 7) % 90},{1 + i % 5},0{1 + i % 9}/0{1 + i % 8}/2014" for i in range(99)]
    for name, lines in (("bad-dates.csv", rows), ("ambiguous-dates.csv", ambiguous)):
        at = open_app()
        upload(at, name, ("user,item,rating,date\n" + "\n".join(lines) + "\n").encode())
        shown = " ".join(e.value for e in at.error)
        assert "date" in shown and "--" not in shown and "Python" not in shown, shown
