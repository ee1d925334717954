"""The stars in a Try it yourself link (issue 22, item 9): short and readable for ordinary product
IDs, exact for any ID, and what is not 1 to 5 stars is counted as refused, never guessed."""

from __future__ import annotations

from pages.parts.query import parse_stars, stars_text


def test_ordinary_ids_stay_readable() -> None:
    assert stars_text({"B00X4WHP5E": 5, "p-12_a.b": 4}) == "B00X4WHP5E:5,p-12_a.b:4"


def test_any_id_comes_back_exactly() -> None:
    stars = {"a,b": 5, "x:y": 1, "50% off": 3, "Käse & Brot": 4, "": 2}
    text = stars_text({k: v for k, v in stars.items() if k})
    assert parse_stars(text) == ({k: v for k, v in stars.items() if k}, 0)


def test_what_is_not_one_to_five_stars_is_refused() -> None:
    stars, refused = parse_stars("p1:5,p2:0,p3:6,p4:4.5,p5:,:5,p6,p7:3")
    assert stars == {"p1": 5, "p7": 3}
    assert refused == 6
