"""Issue 22, item 12: small truths the app tells (AppTest and view helpers).

The sidebar's job note goes once the job has finished, "customer" (never "user") on every page,
shares that never round to 0 % or 100 % when they are not, and a page icon served by the app.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apptest import ROOT, goto, open_app
from streamlit.testing.v1 import AppTest
from tryit_runs import save_demo_run

from recsys_core.app import TrainingJob, views

#: "user" as a word in what a page shows (ids such as "user_id" in code blocks are not shown text).
USER = re.compile(r"\busers?\b", re.IGNORECASE)


def test_shares_never_round_to_none_or_all_when_they_are_not() -> None:
    assert views.percent(0.99997, 2) == "99.997 %"  # "Not yet rated" on a sparse shop
    assert views.percent(0.0004) == "0.04 %" and views.percent(0.004) == "0.4 %"
    assert views.percent(0.8612) == "86 %" and views.percent(0.5, 2) == "50.00 %"
    assert views.percent(0.0) == "0 %" and views.percent(1.0, 2) == "100.00 %"  # exactly: as they are
    assert views.percent(1e-9) == "under 0.0001 %" and views.percent(1 - 1e-9) == "over 99.9999 %"
    assert views.percent(float("nan")) == "n/a"


def test_the_long_tail_sentence_says_when_no_product_has_a_single_rating() -> None:
    sentence = views.long_tail_sentence(
        {"top10_share": 0.31, "single_rating_share": 0.0, "median": 40.0, "max": 600.0, "min": 3.0}
    )
    assert "no product has a single rating (the least rated has 3)" in sentence
    assert not re.search(r"(?<![\d.])0 %", sentence)
    rare = views.long_tail_sentence(
        {"top10_share": 0.31, "single_rating_share": 0.0002, "median": 40.0, "max": 600.0, "min": 1.0}
    )
    assert "0.02 % of products have a single rating" in rare


def _sidebar_infos(at: AppTest) -> list[str]:
    return [i.value for i in at.sidebar.info]


def test_the_sidebar_job_note_goes_when_the_job_has_finished(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pages.parts import jobs

    job = TrainingJob.__new__(TrainingJob)  # the note only asks which kind of job runs
    monkeypatch.setattr(jobs, "running", lambda: job)
    at = open_app()
    assert any("a model is training" in text for text in _sidebar_infos(at))
    # The note sits above the data set's line: it is drawn before the page, so a rerun that
    # follows the end of the training replaces it at once instead of greying it until the end.
    texts = [e.value for e in at.sidebar if hasattr(e, "value") and isinstance(e.value, str)]
    note = next(i for i, t in enumerate(texts) if "a model is training" in t)
    data_line = next(i for i, t in enumerate(texts) if "ratings by" in t)
    assert note < data_line
    monkeypatch.setattr(jobs, "running", lambda: None)
    at.run()
    assert not at.exception
    assert not any("training" in text for text in _sidebar_infos(at))


def _shown_text(at: AppTest) -> str:
    parts = [
        e.value
        for kind in (
            "markdown",
            "caption",
            "title",
            "subheader",
            "header",
            "info",
            "warning",
            "success",
            "error",
        )
        for e in getattr(at, kind)
    ]
    widgets = [*at.selectbox, *at.number_input, *at.button, *at.radio, *at.text_input, *at.metric, *at.toggle]
    parts += [w.label for w in widgets] + [str(getattr(w, "help", "") or "") for w in widgets]
    parts += [str(o) for w in [*at.radio, *at.selectbox] for o in w.options]
    parts += [str(c) for d in at.dataframe for c in d.value.columns]
    return "\n".join(parts)


def test_every_page_says_customer_not_user(runs_dir: Path) -> None:
    save_demo_run(runs_dir)
    at = open_app()
    found = {}
    for page in ("data", "balance", "train", "compare", "recommend", "tryit"):
        goto(at, page)
        if page == "tryit":
            next(b for b in at.button if b.label.startswith("Start from a random")).click().run()
        found[page] = sorted({m.group(0) for m in USER.finditer(_shown_text(at))})
    assert not any(found.values()), found


def test_the_page_icon_is_a_file_the_app_serves() -> None:
    source = (ROOT / "app.py").read_text()
    assert (
        "page_icon=ICON" in source and ":material/" not in source.split("st.set_page_config")[1].split(")")[0]
    )
    icon = ROOT / ".streamlit" / "icon.png"
    assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
