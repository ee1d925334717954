"""``recsys evaluate``, ``recommend`` and ``similar``: questions to a saved run.

``recommend --all-users`` is handed to :mod:`recsys_core.cli._batch`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from recsys_core.cli._batch import add_all_users_arguments, cmd_recommend_all
from recsys_core.cli._common import (
    ProgressBar,
    add_date_format_option,
    check_cells,
    fmt,
    json_default,
    print_json,
)
from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_LIST_LENGTH, MAX_RANKED_USERS, MAX_RECOMMENDATIONS

if TYPE_CHECKING:
    import pandas as pd

    from recsys_core.runs import Run


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    """Test metrics of a saved run, next to the baseline ladder unless ``--no-baselines``.

    The ladder shows a progress bar per classic method on a terminal; one that would not finish
    in the ladder's time budget is skipped, and the reason printed (and in ``--json``).
    """
    check_count(args.k, "--k", most=MAX_LIST_LENGTH)  # before importing torch and loading the run
    check_count(args.max_users, "--max-users (0: all)", least=0, most=MAX_RANKED_USERS)
    check_cells(args.max_users, args.k)
    from recsys_core.baselines import RUNGS
    from recsys_core.runs import load_run

    run = load_run(Path(args.run_dir))
    bar = ProgressBar(sys.stderr, unit="methods")
    started: list[str] = []

    def on_rung(label: str) -> None:  # one bar per classic method: which one is fitting, of how many
        started.append(label)
        bar.update(f"fitting {label}", len(started) - 1, len(RUNGS))

    try:
        result = run.evaluate(
            k=args.k, max_users=args.max_users or None, baselines=not args.no_baselines, on_rung=on_rung
        )
    finally:
        bar.clear()
    ranking = result["ranking"]
    if args.json:
        print_json(result, out)
        return 0
    out.write(f"run {args.run_dir}\n")
    out.write(
        f"  precision {fmt(result['precision'])}  (trivial baseline {fmt(result['trivial_precision'])})\n"
        f"  recall    {fmt(result['recall'])}\n  f1        {fmt(result['f1'])}\n"
        f"  ROC AUC   {fmt(result['roc_auc'])}\n  threshold {fmt(result['threshold'], 3)}\n"
    )
    _print_blend(run, out)
    _print_ranking(ranking, out)
    return 0


def _print_blend(run: Run, out: TextIO) -> None:
    """The item-kNN blend's weight, when the recipe asked for one."""
    blend = run.summary.blend
    if blend is None:
        return
    out.write(
        f"  item-kNN blend: weight β = {blend.weight:g} ({blend.neighbours} neighbours, "
        f"shrink {blend.shrink:g}), chosen on validation NDCG@10"
        + (" (0 = the plain model)" if not blend.weight else "")
        + "\n"
    )


def _print_ranking(ranking: dict[str, Any], out: TextIO) -> None:
    """The model next to every baseline, one column each, mean ± standard error."""
    columns = {"model": ranking["model"], "most popular": ranking["popularity"]}
    for entry in ranking.get("baselines", {}).values():
        if "skipped" not in entry and entry.get("label") != "most popular":
            columns[entry["label"]] = entry
    out.write(
        f"  top-{ranking['k']} ranking over {ranking['users']:,} of {ranking['test_users']:,} test users\n"
    )
    out.write("    " + " " * 16 + "".join(f"{name:>18}" for name in columns) + "\n")
    keys = ("hit_rate_at_k", "hit_rate_liked_at_k", "hit_rate_disliked_at_k", "ndcg_at_k")
    for key in (*keys, "precision_at_k", "recall_at_k", "coverage"):
        if all(m.get(key) is None for m in columns.values()):
            continue
        cells = (f"{fmt(m.get(key))} ±{fmt(m.get(key + '_se'), 3)}" for m in columns.values())
        out.write(f"    {key:<22}" + "".join(f"{cell:>18}" for cell in cells) + "\n")
    for entry in ranking.get("baselines", {}).values():
        if "skipped" in entry:
            out.write(f"    {entry['label']} skipped: {entry['skipped']}\n")
    out.write(_verdicts(columns))


def _verdicts(columns: dict[str, dict[str, Any]]) -> str:
    """One line: how often the model finds the held-out product next to each baseline, worded
    by the one rule (:func:`recsys_core.metrics.compare_estimates`: "N×" only when the 95 %
    intervals separate)."""
    from recsys_core.metrics import compare_estimates, how_often

    model = columns["model"]
    hit, se = model.get("hit_rate_at_k"), model.get("hit_rate_at_k_se")
    if hit is None:
        return ""
    parts = []
    for name, m in columns.items():
        other = m.get("hit_rate_at_k")
        if name == "model" or other is None:
            continue
        verdict = compare_estimates(other, m.get("hit_rate_at_k_se"), hit, se)
        parts.append(
            f"{how_often(verdict, hit, other)} {name}" + (" (within the noise)" if verdict == "same" else "")
        )
    return f"  the model finds the held-out product {'; '.join(parts)}\n" if parts else ""


def cmd_recommend(args: argparse.Namespace, out: TextIO) -> int:
    """Top-N for one customer, for visitors (``--new-users``) or for everyone (``--all-users``)."""
    if args.all_users:
        return cmd_recommend_all(args, out)
    check_count(args.n, "-n", most=MAX_RECOMMENDATIONS)  # before importing torch
    from recsys_core.runs import load_run
    from recsys_core.topn import recommend

    run = load_run(Path(args.run_dir))
    if args.new_users or args.explain:
        return _recommend_foldin(args, run, out)
    if args.user is None:
        raise RecsysError(
            "Say whom to recommend for: --user ID, --new-users FILE for visitors, or --all-users "
            "--out FILE.parquet for everyone."
        )
    recs = recommend(run, args.user, n=args.n)
    if args.json:
        columns = [c for c in ("item", "score", "match", "name") if c in recs.table.columns]
        records = recs.table[columns].to_dict(orient="records")
        if not recs.known_user:
            print(f"note: {recs.message}", file=sys.stderr)
        print_json(records, out)
        return 0
    if recs.message:
        out.write(f"{recs.message}\n")
    if recs.known_user and len(recs.table):
        out.write(f"{match_note(run)}\n")
    for row in recs.table.itertuples(index=False):
        name = f"  {row.name}" if "name" in recs.table.columns and isinstance(row.name, str) else ""
        out.write(f"{row.rank:>3}. {row.item}  match {row.match:.3f}{name}\n")
    return 0


def match_note(run: Run) -> str:
    """The header line saying what ``match`` is (the raw score is 1.000 throughout a softmax run)."""
    if run.config.objective == "softmax":
        return (
            "match: how likely the model finds it that the customer picks the product next, relative "
            "to its top suggestion (1.000 = as likely, 0.500 = half as likely)"
        )
    return (
        "match: the model's odds that the customer likes the product, relative to its top suggestion (1.000)"
    )


def _product(item: str, names: dict[str, str]) -> str:
    """``"B00X (Garden Hose)"`` where the run has the product's name, else the ID."""
    name = names.get(item, "")
    return f"{item} ({name})" if name else item


def _reasons(rec: dict[str, Any], names: dict[str, str], predicted: bool) -> str:
    """``"because they liked B1 (Hose) 5★; less like B2 2★"``: fold-in's reasons, stars labelled
    as the model's predictions where the run does not keep them."""
    stars = "predicted {:.1f}★" if predicted else "{:g}★"
    liked = [
        f"{_product(b['item'], names)} {stars.format(b['rating'])}"
        for b in rec["because"]
        if b["kind"] == "liked"
    ]
    unlike = [
        f"{_product(b['item'], names)} {stars.format(b['rating'])}"
        for b in rec["because"]
        if b["kind"] != "liked"
    ]
    parts = ([f"because they liked {', '.join(liked)}"] if liked else []) + (
        [f"less like {', '.join(unlike)}, which they rated low"] if unlike else []
    )
    return "; ".join(parts)


def _recommend_foldin(args: argparse.Namespace, run: Run, out: TextIO) -> int:
    """``recommend --new-users FILE`` (visitors folded in) or ``--user ID --explain``."""
    from recsys_core.data import load_ratings
    from recsys_core.topn import explain_user

    if args.new_users:
        visitors = load_ratings(args.new_users, date_format=args.date_format, visitors=True).frame
        return _write_visitors(args, run, visitors, out)
    if args.user is None:
        raise RecsysError("--explain needs --user ID.")
    record = explain_user(run, args.user, n=args.n).to_dict()
    if args.json:
        print_json(record["recommendations"], out)
        return 0
    # A saved run keeps which products a customer rated, not the stars: explain_user predicts them.
    _write_header(run, out, predicted=True)
    _write_record(record, out, _names(run), predicted=True)
    return 0


def _write_visitors(args: argparse.Namespace, run: Run, visitors: pd.DataFrame, out: TextIO) -> int:
    """Each block of visitors written as soon as it is ranked (a JSON array, one object per
    visitor, as ``print_json`` writes it; or the text lines), with a progress bar on a terminal."""
    from recsys_core.topn import iter_visitor_blocks

    bar = ProgressBar(sys.stderr, enabled=not args.quiet, unit="visitors")
    names = {} if args.json else _names(run)
    first = True
    try:
        for block in iter_visitor_blocks(run, visitors, n=args.n, progress=bar.update):
            for record in block.records():
                if args.json:
                    text = json.dumps(record, indent=2, default=json_default).replace("\n", "\n  ")
                    out.write(("[\n  " if first else ",\n  ") + text)
                else:
                    if first:  # after the file's check, so that a refused file prints no header
                        _write_header(run, out, predicted=False)
                    _write_record(record, out, names, predicted=False)
                first = False
    finally:
        bar.clear()
    if args.json:
        out.write("\n]\n")
    return 0


def _names(run: Run) -> dict[str, str]:
    """Product ID -> name, for the products the run has a name for."""
    names = (run.product_columns() or {}).get("name", [])
    return {str(k): str(v) for k, v in zip(run.id_map.items, names, strict=False) if v}


def _write_header(run: Run, out: TextIO, *, predicted: bool) -> None:
    """What ``match`` is, and whether the reasons' stars are the model's predictions."""
    out.write(f"{match_note(run)}\n")
    if predicted:
        out.write(
            "stars of the reasons are the model's predictions: a saved run does not keep its "
            "customers' stars\n"
        )


def _write_record(record: dict[str, Any], out: TextIO, names: dict[str, str], *, predicted: bool) -> None:
    """One customer's list as text: match, named products, reasons, and the low ratings that
    raised it (:meth:`~recsys_core.topn.VisitorRecommendations.to_dict`'s record)."""
    label = " (most popular: no rated product is known to the run)" if record["fallback"] else ""
    ignored = f"; {record['ignored']} unknown product(s) left out" if record["ignored"] else ""
    out.write(f"customer {record['user']}{label}{ignored}\n")
    low: set[str] = set()
    for rank, rec in enumerate(record["recommendations"], 1):
        because = _reasons(rec, names, predicted)
        low.update(b["item"] for b in rec["low_rated"])
        out.write(
            f"{rank:>3}. {_product(rec['item'], names)}  match {rec['match']:.3f}"
            + (f"  {because}" if because else "")
            + "\n"
        )
    if low:
        rated_low = ", ".join(_product(item, names) for item in sorted(low))
        out.write(
            f"  also raised by products rated low, as the model counts any rating as interest: {rated_low}\n"
        )


def cmd_similar(args: argparse.Namespace, out: TextIO) -> int:
    """The products most alike to ``--item`` (cosine of their profiles)."""
    check_count(args.n, "-n", most=MAX_RECOMMENDATIONS)  # before importing torch and loading the run
    from recsys_core.runs import load_run
    from recsys_core.topn import similar_items

    table = similar_items(load_run(Path(args.run_dir)), args.item, n=args.n)
    if args.json:
        print_json(table[["item", "similarity"]].to_dict(orient="records"), out)
        return 0
    for row in table.itertuples(index=False):
        out.write(f"{row.item}  {row.similarity:.4f}\n")
    return 0


def add_query_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``evaluate``, ``recommend`` and ``similar`` subcommands."""
    evaluate = sub.add_parser("evaluate", help="metrics of a saved run on its test split")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--k", type=int, default=10, help="list length for the ranking metrics")
    evaluate.add_argument(
        "--max-users", type=int, default=20_000, help="rank a seeded sample of this many test users (0: all)"
    )
    evaluate.add_argument(
        "--no-baselines",
        action="store_true",
        help="skip the classic methods (item-kNN, EASE, iALS); they are fitted on the first evaluate "
        "and cached in the run folder",
    )
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=cmd_evaluate)

    rec = sub.add_parser("recommend", help="top-N unseen products for one user, or for every user")
    rec.add_argument("run_dir")
    rec.add_argument("--user")
    rec.add_argument("-n", type=int, default=5)
    rec.add_argument("--json", action="store_true")
    rec.add_argument("--new-users", help="ratings file of visitors (user, product, rating): fold them in")
    add_date_format_option(rec)
    rec.add_argument("--explain", action="store_true", help="add 'because' (rated products) to each item")
    add_all_users_arguments(rec)
    rec.set_defaults(func=cmd_recommend)

    similar = sub.add_parser("similar", help="products whose profiles are most alike (cosine)")
    similar.add_argument("run_dir")
    similar.add_argument("--item", required=True)
    similar.add_argument("-n", type=int, default=10)
    similar.add_argument("--json", action="store_true")
    similar.set_defaults(func=cmd_similar)
