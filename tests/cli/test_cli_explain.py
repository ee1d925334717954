"""Issue 22 on the command line: ``recsys recommend`` shows a number that separates the list and
says what it is, and ``--explain`` names products, cites what was liked and labels predicted stars."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import CliRunner


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory, run_cli: CliRunner) -> Path:
    """The default recipe (softmax + item-kNN) on a small demo shop with product names."""
    root = tmp_path_factory.mktemp("cli-explain")
    data, products = root / "demo.csv", root / "products.csv"
    code, _, err = run_cli(
        "demo-data", "--out", str(data), "--users", "400", "--items", "300", "--ratings", "8000",
        "--products", str(products),
    )  # fmt: skip
    assert code == 0, err
    run_dir = root / "run"
    code, _, err = run_cli(
        "train", str(data), "--out", str(run_dir), "--epochs", "6", "--products", str(products), "--quiet"
    )
    assert code == 0, err
    return run_dir


def _user(run_dir: Path) -> str:
    from recsys_core.runs import load_run

    run = load_run(run_dir)
    assert run.config.objective == "softmax"
    return str(run.id_map.users[run.test_users[0]])


def test_recommend_shows_a_match_that_separates_the_list(default_run: Path, run_cli: CliRunner) -> None:
    user = _user(default_run)
    code, out, err = run_cli("recommend", str(default_run), "--user", user, "-n", "8", "--json")
    assert code == 0, err
    recs = json.loads(out)
    assert all({"item", "score", "match"} <= set(r) for r in recs)
    assert recs[0]["match"] == 1.0
    matches = [r["match"] for r in recs]
    assert matches == sorted(matches, reverse=True) and len(set(matches)) == len(matches)
    code, out, err = run_cli("recommend", str(default_run), "--user", user, "-n", "8")
    assert code == 0, err
    lines = out.splitlines()
    assert "customer" in lines[0] and "user" not in lines[0].lower()
    assert lines[1].startswith("match: ") and "relative to its top suggestion" in lines[1]
    shown = [float(m) for m in re.findall(r"match (\d\.\d{3})", out)]
    assert len(shown) == 8 and shown[0] == 1.0 and len(set(shown)) > 1


def test_explain_names_products_and_labels_predicted_stars(default_run: Path, run_cli: CliRunner) -> None:
    from recsys_core.runs import load_run

    names = set(load_run(default_run).product_columns()["name"])
    code, out, err = run_cli(
        "recommend", str(default_run), "--user", _user(default_run), "-n", "5", "--explain"
    )
    assert code == 0, err
    assert "ignored unknown products" not in out and "unknown product" not in out
    assert "the model's predictions" in out
    rows = [line for line in out.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert len(rows) == 5
    assert all(any(f"({name})" in row for name in names) for row in rows)  # each suggestion named
    reasons = [row for row in rows if "because they liked" in row]
    assert reasons and all("predicted " in row for row in reasons)
    # Every cited star is at or above the "likes it" line (4 on 1-5 stars).
    assert all(float(s) >= 3.5 for s in re.findall(r"predicted (\d\.\d)★", " ".join(reasons)))


def test_new_users_cite_only_what_they_liked(default_run: Path, tmp_path: Path, run_cli: CliRunner) -> None:
    from recsys_core.runs import load_run

    items = [str(item) for item in load_run(default_run).id_map.items[:5]]
    stars = [5, 4, 5, 2, 5]
    rows = [f"V1,{item},{s}" for item, s in zip(items, stars, strict=True)]
    rows += [f"V2,{items[0]},5", "V2,no-such-product,4"]
    visitors = tmp_path / "visitors.csv"
    visitors.write_text("UserID,ProductID,Rating\n" + "\n".join(rows) + "\n")
    code, out, err = run_cli(
        "recommend", str(default_run), "--new-users", str(visitors), "-n", "10", "--explain"
    )
    assert code == 0, err
    assert "customer V1\n" in out and "customer V2; 1 unknown product(s) left out" in out
    assert "ignored unknown products: 0" not in out and "predicted" not in out
    liked = re.findall(r"because they liked (.*?)(?:;|$)", out, flags=re.MULTILINE)
    assert liked and items[3] not in " ".join(liked)  # the 2★ product is never a reason to like
    assert all(int(s) >= 4 for s in re.findall(r"(\d)★", " ".join(liked)))
    code, out, err = run_cli("recommend", str(default_run), "--new-users", str(visitors), "--json")
    assert code == 0, err
    for answer in json.loads(out):
        for rec in answer["recommendations"]:
            assert all(b["kind"] == "liked" and b["rating"] >= 4 for b in rec["because"])
            assert all(b["rating"] < 4 for b in rec["low_rated"])
