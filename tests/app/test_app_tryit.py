"""Issue 14 in the app: Try it yourself (fold-in) and the Recommend page's "because" lines and
similar products (AppTest; the browser test is tests/app/test_e2e_tryit.py); and their view helpers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from tryit_runs import save_demo_run

from recsys_core.app import views
from recsys_core.settings import RUNS_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder holding one small fast-recipe run on demo data (trained once per module)."""
    folder = tmp_path_factory.mktemp("tryit") / "runs"
    save_demo_run(folder)
    return folder


@pytest.fixture
def with_run(trained_runs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RUNS_DIR_ENV, str(trained_runs))
    return trained_runs


def _tryit() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/tryit.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _suggestions(at: AppTest) -> list[str]:
    """The numbered lines of the suggestions list (each "**rank. name**  \\n:gray[… because …]"):
    the first numbered ones, as the suggestions' column comes before the most popular one."""
    return [m.value for m in at.markdown if re.match(r"\*\*\d+\. ", m.value)][: _n(at)]


def _n(at: AppTest) -> int:
    return int(next(b for b in at.number_input if b.label == "How many").value)


def test_without_a_run_the_page_says_to_train_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "empty"))
    at = _tryit()
    assert [t.value for t in at.title] == ["Try it yourself"]
    assert any("Train one first" in i.value for i in at.info)
    assert [link.value for link in at.get("page_link")] == ["Train a model"]


def test_a_random_customer_fills_ratings_and_gets_explained_suggestions(with_run: Path) -> None:
    at = _tryit()
    assert any("Give stars to a few products" in i.value for i in at.info)  # nothing rated yet
    _button(at, "Start from a random real customer's ratings").click().run()
    assert not at.exception, [e.value for e in at.exception]
    rated = at.session_state["tryit_ratings"]
    assert 1 <= len(rated) <= 15 and set(rated.values()) <= {1, 2, 3, 4, 5}
    assert any(c.value.startswith("Started from customer") for c in at.caption)
    assert "2. Suggested for you" in [h.value for h in at.subheader]
    lines = [m.value for m in at.markdown if "because you liked" in m.value]
    assert lines, "no suggestion says why"  # (one explained only by what they disliked has none)
    assert any("★" in line for line in lines)
    # Clear empties the ratings with one click; the page asks for stars again.
    _button(at, "Clear my ratings").click().run()
    assert at.session_state["tryit_ratings"] == {}
    assert any("Give stars to a few products" in i.value for i in at.info)
    assert not [m for m in at.markdown if "because you liked" in m.value]


def _found_stars(at: AppTest) -> list:
    return [f for f in at.feedback if str(f.key).startswith("tryit_found_")]


def test_giving_stars_updates_the_suggestions(with_run: Path) -> None:
    at = _tryit()
    assert len(_found_stars(at)) == 8  # the most rated products, each with five stars
    items = [str(f.key).removeprefix("tryit_found_") for f in _found_stars(at)[:3]]
    for i in range(3):
        _found_stars(at)[i].set_value(4).run()  # index 4 = five stars
    assert at.session_state["tryit_ratings"] == dict.fromkeys(items, 5)
    before = _suggestions(at)
    assert len(before) == _n(at)
    assert not any(f"ID {item}" in " ".join(before) for item in items)  # never their own products
    # The same product shows the same stars in "your ratings"; one star there changes the list.
    mine = next(f for f in at.feedback if f.key == f"tryit_mine_{items[0]}")
    assert mine.value == 4
    mine.set_value(0).run()
    assert at.session_state["tryit_ratings"][items[0]] == 1
    assert _found_stars(at)[0].value == 0
    assert _suggestions(at) != before


def test_unknown_products_only_fall_back_to_most_popular(with_run: Path) -> None:
    at = _tryit()
    at.session_state["tryit_ratings"] = {"no-such-product": 5, "nor-this-one": 2}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "2. Most popular (nothing to go on yet)" in [h.value for h in at.subheader]
    assert any("None of the products you rated is known" in w.value for w in at.warning)
    assert any("2 of your rated products are not known" in c.value for c in at.caption)
    assert any("not a product this model knows" in m.value for m in at.markdown)


def test_search_finds_products_by_name_category_or_id() -> None:
    products = pd.DataFrame(
        {
            "item": ["A1", "B2", "C3"],
            "ratings": [30, 20, 10],
            "name": ["Garden Hose", "Rake Pro", "Hose Reel"],
            "category": ["Garden", "Garden", "Tools"],
        }
    )
    assert views.search_products(products, "hose")["item"].tolist() == ["A1", "C3"]
    assert views.search_products(products, "garden pro")["item"].tolist() == ["B2"]
    assert views.search_products(products, "c3")["item"].tolist() == ["C3"]
    assert views.search_products(products, "", limit=2)["item"].tolist() == ["A1", "B2"]
    only_ids = products[["item", "ratings"]]
    assert views.search_products(only_ids, "b")["item"].tolist() == ["B2"]


def test_search_reads_a_bounded_number_of_distinct_words(monkeypatch) -> None:
    """Issue 23, item 12: each word was a pass over the catalogue (10,000 words: 54 s)."""
    products = pd.DataFrame(
        {"item": ["A1", "B2", "C3"], "ratings": [3, 2, 1], "name": ["Garden Hose", "Rake Pro", "Hose Reel"]}
    )
    assert views.query_words("hose HOSE ho garden hose") == ["garden", "hose"]  # "ho" is inside "hose"
    flood = " ".join(f"w{k}" for k in range(10_000))
    assert len(views.query_words(flood)) == views.MAX_QUERY_WORDS
    passes = []
    contains = pd.Series.str.contains  # the accessor class (StringMethods)

    def counting(self, pat, *args, **kwargs):
        passes.append(pat)
        return contains(self, pat, *args, **kwargs)

    monkeypatch.setattr(pd.Series.str, "contains", counting)
    assert views.search_products(products, "hose " * 10_000)["item"].tolist() == ["A1", "C3"]
    assert passes == ["hose"]
    passes.clear()
    assert views.search_products(products, flood).empty
    assert len(passes) == 1  # no product has the first word: the others are not looked for
    assert views.search_products(products, "reel hose garden hose reel")["item"].tolist() == []
    assert views.search_products(products, "reel " * 5000 + "hose")["item"].tolist() == ["C3"]


def test_stars_map_onto_the_runs_scale_and_read_in_words() -> None:
    assert [views.stars_to_rating(k, 1, 5) for k in range(1, 6)] == [1, 2, 3, 4, 5]
    assert views.stars_to_rating(5, 1, 10) == 10 and views.stars_to_rating(1, 0, 1) == 0
    assert views.rating_to_stars(4.4, 1, 5) == 4 and views.rating_to_stars(10, 1, 10) == 5
    assert views.rating_to_stars(np.nan, 1, 5) == 5 and views.rating_to_stars(1, 1, 1) == 5
    because = [
        {"item": "A1", "rating": 5.0, "weight": 0.3, "kind": "liked"},
        {"item": "Z9", "rating": 4.0, "weight": 0.1, "kind": "liked"},
    ]
    line = views.because_line(because, {"A1": "Garden Hose"}, 1, 5)
    assert line == "because you liked Garden Hose (★★★★★), product Z9 (★★★★☆)"
    three = [*because, {"item": "B2", "rating": 5.0, "weight": 0.05, "kind": "liked"}]
    line = views.because_line(three, {"A1": "Garden Hose", "B2": "Rake"}, 1, 5, who="they")
    assert line == "because they liked Garden Hose and Rake (★★★★★), product Z9 (★★★★☆)"
    # A low star that pushed the profile away is said as what it is.
    unlike = [because[0], {"item": "K1", "rating": 1.0, "weight": 0.02, "kind": "less like"}]
    line = views.because_line(unlike, {"A1": "Garden Hose", "K1": "Kettle"}, 1, 5)
    assert line == "because you liked Garden Hose (★★★★★); less like Kettle (★☆☆☆☆), which you rated low"
    assert views.because_line([], {}, 1, 5) == ""
    low = [[{"item": "Z9", "rating": 2.0, "weight": 0.4}], [], [{"item": "Z9", "rating": 2.0, "weight": 0.2}]]
    note = views.low_rating_note(low, {"Z9": "Vantor Headphones"}, 1, 5)
    assert note.startswith("Your ★★☆☆☆ for Vantor Headphones also raised 2 of these 3 suggestions")
    assert "counts as interest" in note
    assert views.low_rating_note([[], []], {}, 1, 5) == ""
    frame = views.visitor_frame({"A1": 5, "B2": 1}, 1, 10)
    assert frame.to_dict("list") == {
        "user": ["visitor", "visitor"],
        "item": ["A1", "B2"],
        "rating": [10.0, 1.0],
    }


def _recommend() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/recommend.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _suggestion_lines(at: AppTest) -> list[str]:
    """Recommend's suggestion lines ("**rank. name**  \n:gray[… match … · because they liked …]")."""
    return [m.value for m in at.markdown if re.match(r"\*\*\d+\. ", m.value) and "match " in m.value]


def test_recommend_shows_because_lines_similar_products_and_the_popularity_curve(with_run: Path) -> None:
    at = _recommend()
    lines = _suggestion_lines(at)
    assert len(lines) == 10
    assert sum("because they liked" in line for line in lines) >= len(lines) // 2
    like = next(b for b in at.selectbox if b.label == "Show products like…")
    first = re.match(r"\*\*1\. (.*?)\*\*", lines[0]).group(1)
    assert like.options[0] == f"{first} ({like.value})"  # the first suggestion
    similar = next(d.value for d in at.dataframe if "similarity" in d.value.columns)
    assert len(similar) == 5 and like.value not in set(similar["item"])
    assert similar["similarity"].between(-1, 1).all()
    like.set_value(re.search(r"\(([^()]*)\)$", like.options[1]).group(1)).run()
    again = next(d.value for d in at.dataframe if "similarity" in d.value.columns)
    assert again["item"].tolist() != similar["item"].tolist()
    assert any("customers who like" in c.value.lower() for c in at.caption)
    assert "Where the suggestions sit among all products" in [h.value for h in at.subheader]


def test_recommend_opens_on_a_typical_customer_with_history_beside_matches(with_run: Path) -> None:
    """Issue 22, items 2 and 8: a customer with 10-30 ratings first; their ratings beside the list;
    each suggestion's match (1 = the top one) and reason under its name, with a tooltip."""
    at = _recommend()
    customer = next(b for b in at.selectbox if b.label.startswith("Customer"))
    history = at.dataframe[0].value
    assert 10 <= len(history) <= 30 and f"· {len(history)} ratings" in customer.format_func(customer.value)
    assert {"rating", "held back"} <= set(history.columns) and history["held back"].sum() == 1
    heading = next(h for h in at.subheader if h.value == "Suggested for this customer")
    assert "relative to its top suggestion" in heading.proto.help
    lines = _suggestion_lines(at)
    matches = [re.search(r"match ([\d.]+) %", line).group(1) for line in lines]
    assert matches[0] == "100" and len(set(matches)) > 1  # the number separates the list
    assert [float(m) for m in matches] == sorted((float(m) for m in matches), reverse=True)
    rated = {str(name) for name in history["name"]}
    for line in lines:
        why = line.split("because they liked ", 1)[-1] if "because they liked" in line else ""
        assert not re.search(r"\(★{1,3}☆", why.split(";")[0])  # only 4★ and 5★ are reasons to like
        assert not rated & {re.match(r"\*\*\d+\. (.*?)\*\*", line).group(1)}  # never a rated product


def test_recommend_shows_product_ids_for_a_file_without_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, item 8: without a product table every suggestion and rated product shows its ID."""
    save_demo_run(tmp_path / "runs", names=False, epochs=2)
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    at = _recommend()
    lines = _suggestion_lines(at)
    assert len(lines) == 10 and all(re.match(r"\*\*\d+\. product \S+\*\*", line) for line in lines)
    history = at.dataframe[0]
    assert "item" in history.value.columns and "name" not in history.value.columns
    assert history.proto.columns and "product ID" in history.proto.columns


def _rate_five(at: AppTest, stars: list[int]) -> list[str]:
    items = [str(f.key).removeprefix("tryit_found_") for f in _found_stars(at)[: len(stars)]]
    at.session_state["tryit_ratings"] = dict(zip(items, stars, strict=True))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return items


@pytest.fixture(scope="module")
def default_recipe_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with one run of the default recipe (softmax + item-kNN), whose fold-in counts
    every rating, low or high, as interest."""
    folder = tmp_path_factory.mktemp("tryit-default") / "runs"
    save_demo_run(folder, preset="recommended")
    return folder


@pytest.mark.parametrize("recipe", ["fast", "recommended"])
def test_tryit_reasons_cite_what_the_visitor_liked(
    recipe: str, trained_runs: Path, default_recipe_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, item 1: after 5★, 4★, 5★, 2★, 5★ no line gives the 2★ product as a reason to like a
    suggestion, nor, after it becomes 1★, the 1★ one; a low star shows only as "less like" or in
    the note under the list, which the default recipe needs (a low rating still pulls)."""
    monkeypatch.setenv(RUNS_DIR_ENV, str(default_recipe_runs if recipe == "recommended" else trained_runs))
    at = _tryit()
    for low in (2, 1):
        _rate_five(at, [5, 4, 5, low, 5])
        lines = _suggestions(at)
        assert sum("because you liked" in line for line in lines) >= len(lines) // 2
        for line in lines:
            liked = (
                line.split("because you liked ", 1)[-1].split(";")[0] if "because you liked" in line else ""
            )
            assert "★" * low + "☆" * (5 - low) not in liked
        notes = [c.value for c in at.caption if "counts as interest" in c.value]
        assert all(("★" * low + "☆" * (5 - low)) in note for note in notes)
        if recipe == "recommended":
            assert notes, "the low rating raised suggestions, and the page says so"
