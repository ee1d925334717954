"""``recsys sweep``, ``compare`` and ``report``: what-if runs, run diffs and HTML reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from recsys_core.cli._common import (
    add_date_format_option,
    add_train_options,
    check_cells,
    config_from_args,
    fmt,
    load_run_arg,
    parse_columns,
    print_json,
)
from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import (
    MAX_BOOTSTRAP,
    MAX_LIST_LENGTH,
    MAX_RANKED_USERS,
    MAX_RESAMPLE_SEED,
    MAX_SWEEP_SEEDS,
)


def _numbers(text: str, flag: str) -> list[float]:
    """``"1,2,4"`` -> ``[1.0, 2.0, 4.0]``, or a one-line error naming ``flag``."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise RecsysError(
            f"Cannot read {flag} {text!r}: write numbers separated by commas, e.g. 1,2,4."
        ) from None
    if not values:
        raise RecsysError(f"{flag} needs at least one number.")
    return values


def _sweep_line(record: dict[str, Any]) -> str:
    """One finished sweep run, as a progress line."""
    if "class" in record:
        setting = f"{record['class']:g}★ ×{record['multiplier']:g}"
    else:
        setting = f"recipe ×{record['scale']:g}"
    m = record["metrics"]
    model = m.get("ranking", {}).get("model", {})
    return (
        f"{setting}  seed {record['seed']}  precision {fmt(m.get('precision'))}  "
        f"recall {fmt(m.get('recall'))}  ROC AUC {fmt(m.get('roc_auc'))}  "
        f"NDCG@k {fmt(model.get('ndcg_at_k'))}  "
        f"hit@k {fmt(model.get('hit_rate_at_k'))} (liked {fmt(model.get('hit_rate_liked_at_k'))}, "
        f"disliked {fmt(model.get('hit_rate_disliked_at_k'))})  run {record['run']}\n"
    )


def cmd_sweep(args: argparse.Namespace, out: TextIO) -> int:
    """Train one run per multiplier (or recipe scale) and seed, into ``--runs-dir``."""
    from recsys_core.config import NOTEBOOK_MULTIPLIERS, parse_multipliers
    from recsys_core.sweep import check_sweep_size, sweep_class, sweep_recipe

    if (args.rating_class is None) == (args.recipe is None):
        raise RecsysError(
            "Say what to sweep: either --class R --multipliers 1,2,4 or --recipe notebook --scale 0,1,2."
        )
    check_count(args.seeds, "--seeds", most=MAX_SWEEP_SEEDS)
    # The values swept are read and counted before the ratings are loaded: a sweep too big to
    # run is refused before any work.
    if args.rating_class is not None:
        values = _numbers(args.multipliers or "", "--multipliers")
    else:
        if args.oversample is not None:
            raise RecsysError("--oversample and --recipe both set the multipliers; keep one.")
        values = _numbers(args.scale or "", "--scale")
    check_sweep_size(len(values), args.seeds)
    config = config_from_args(args)
    seeds = [config.seed + i for i in range(args.seeds)]
    from recsys_core.data import load_products, load_ratings
    from recsys_core.runs import RunRegistry

    registry = RunRegistry(args.runs_dir)
    ratings = load_ratings(args.path, columns=parse_columns(args.columns), date_format=args.date_format)
    products = load_products(args.products) if args.products else None

    def on_run(record: dict[str, Any]) -> None:
        (sys.stderr if args.json else out).write(_sweep_line(record))

    options = {"products": products, "on_run": None if args.quiet and args.json else on_run}
    if args.rating_class is not None:
        records = sweep_class(ratings, config, args.rating_class, values, seeds, registry, **options)
    else:
        recipe = NOTEBOOK_MULTIPLIERS if args.recipe == "notebook" else parse_multipliers(args.recipe)
        records = sweep_recipe(ratings, config, recipe, values, seeds, registry, **options)
    if args.json:
        print_json(records, out)
    else:
        out.write(f"saved {len(records)} runs to {registry.root}\n")
    return 0


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    """Diff two runs on the same split: metric deltas with bootstrap intervals, list overlap."""
    # Before torch is imported or the runs loaded: a typo must not allocate users x k lists or
    # loop for days.
    check_count(args.k, "--k", most=MAX_LIST_LENGTH)
    check_count(args.n_boot, "--n-boot", least=0, most=MAX_BOOTSTRAP)
    check_count(args.seed, "--seed", least=0, most=MAX_RESAMPLE_SEED)
    check_count(args.max_users, "--max-users (0: all)", least=0, most=MAX_RANKED_USERS)
    check_cells(args.max_users, args.k)
    from recsys_core.metrics import NO_DIFFERENCE, change_verdict, compare_runs

    run_a, run_b = (load_run_arg(text, args.runs_dir) for text in (args.run_a, args.run_b))
    diff = compare_runs(
        run_a, run_b, k=args.k, n_boot=args.n_boot, seed=args.seed, max_users=args.max_users or None
    )
    if args.json:
        print_json(diff, out)
        return 0
    out.write(
        f"A {run_a.name}\nB {run_b.name}\n  metric                          A         B     B - A   "
        "95 % interval        verdict\n"
    )
    verdicts = {"higher": "B higher", "lower": "B lower", "same": NO_DIFFERENCE}
    for name, m in diff["metrics"].items():
        ci = m["ci95"]
        interval = f"{fmt(ci[0])} … {fmt(ci[1])}" if ci else "n/a"
        figures = f"{fmt(m['a']):>9} {fmt(m['b']):>9} {fmt(m['delta']):>9}"
        out.write(f"  {name:<24} {figures}   {interval:<20} {verdicts[change_verdict(ci)]}\n")
    overlap = diff["overlap"]
    out.write(
        f"top-{diff['k']} overlap: mean Jaccard {fmt(overlap['mean_jaccard'], 3)}, "
        f"{100 * (overlap['share_changed'] or 0):.0f} % of customers see a different list\n"
    )
    return 0


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    """Write a self-contained HTML report of a run (optionally diffed against another)."""
    from recsys_core.report import write_report

    run = load_run_arg(args.run, args.runs_dir)
    other = load_run_arg(args.compare, args.runs_dir) if args.compare else None
    path = write_report(run, Path(args.out), compare=other)
    out.write(f"wrote the report to {path}\n")
    return 0


def add_whatif_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``sweep``, ``compare`` and ``report`` subcommands."""
    sweep = sub.add_parser("sweep", help="train one run per multiplier (or recipe scale) and seed")
    sweep.add_argument("path", help="ratings file")
    sweep.add_argument("--class", dest="rating_class", type=float, help="rating class to sweep, e.g. 1")
    sweep.add_argument(
        "--multipliers", help="factors for --class, e.g. 1,2,4; the default recipe weighs, so also 0,0.5,1,2"
    )
    sweep.add_argument("--recipe", help="or: scale a recipe, 'notebook' or e.g. 1=2.5,2=3")
    sweep.add_argument("--scale", help="recipe scales, e.g. 0,0.5,1,2 (factor m -> 1 + s*(m-1))")
    sweep.add_argument(
        "--seeds", type=int, default=3, help="runs per setting (seeds --seed, --seed+1, …; default 3)"
    )
    sweep.add_argument("--runs-dir", required=True, help="runs folder the runs are saved to")
    add_train_options(sweep)
    sweep.add_argument("--columns", help="explicit column mapping, as for inspect")
    add_date_format_option(sweep)
    sweep.add_argument("--products", help="product table (ProductID, name, category) for readable output")
    sweep.add_argument("--quiet", action="store_true", help="with --json: no progress lines on stderr")
    sweep.add_argument("--json", action="store_true")
    sweep.set_defaults(func=cmd_sweep)

    compare = sub.add_parser("compare", help="diff two runs on the same split, with bootstrap intervals")
    compare.add_argument("run_a")
    compare.add_argument("run_b")
    compare.add_argument("--runs-dir", help="read RUN_A and RUN_B as run ids in this runs folder")
    compare.add_argument("--k", type=int, default=10, help="list length")
    compare.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    compare.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    compare.add_argument("--max-users", type=int, default=20_000, help="seeded sample of test users (0: all)")
    compare.add_argument("--json", action="store_true")
    compare.set_defaults(func=cmd_compare)

    report = sub.add_parser("report", help="write a self-contained HTML report of a run")
    report.add_argument("run")
    report.add_argument("--compare", help="a second run to diff against")
    report.add_argument("--runs-dir", help="read the runs as run ids in this runs folder")
    report.add_argument("--out", required=True, help="HTML file to write")
    report.set_defaults(func=cmd_report)
