"""``recsys demo-data`` and ``recsys inspect``: write the demo ratings, check a ratings file."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TextIO

from recsys_core.cli._common import add_date_format_option, parse_columns, print_json


def cmd_demo_data(args: argparse.Namespace, out: TextIO) -> int:
    """Write the built-in demo ratings (and optionally the product table)."""
    from recsys_core.data import write_demo_csv

    path = Path(args.out)
    products = Path(args.products) if args.products else None
    start = time.perf_counter()
    write_demo_csv(
        path,
        n_users=args.users,
        n_items=args.items,
        n_ratings=args.ratings,
        seed=args.seed,
        raw=args.raw,
        products_path=products,
    )
    seconds = time.perf_counter() - start
    out.write(f"wrote {args.ratings:,} demo ratings to {path} in {seconds:.1f} s\n")
    if products:
        out.write(f"wrote the product table to {products}\n")
    return 0


def cmd_inspect(args: argparse.Namespace, out: TextIO) -> int:
    """Load and validate a ratings file; print its summary (text or ``--json``)."""
    from recsys_core.data import load_ratings

    ratings = load_ratings(
        args.path,
        columns=parse_columns(args.columns),
        min_user_ratings=args.min_user_ratings,
        min_item_ratings=args.min_item_ratings,
        date_format=args.date_format,
    )
    summary = ratings.summary()
    if args.json:
        print_json(summary, out)
        return 0
    out.write(f"{args.path}\n")
    out.write(f"  ratings   {summary['rows']:>12,}\n")
    out.write(f"  users     {summary['users']:>12,}\n")
    out.write(f"  products  {summary['items']:>12,}\n")
    total = max(summary["rows"], 1)
    for value, count in sorted(summary["rating_counts"].items(), key=lambda kv: -float(kv[0])):
        out.write(f"  {value:>5}★   {count:>12,}  ({100 * count / total:5.1f} %)\n")
    if summary.get("likes_it_from") is not None:
        out.write(f"  likes it  from {summary['likes_it_from']}★ (on this file's scale)\n")
    if summary["time_min"]:
        out.write(f"  time      {summary['time_min']} … {summary['time_max']}\n")
    if summary["duplicates_dropped"]:
        out.write(f"  duplicate (user, product) pairs dropped: {summary['duplicates_dropped']:,}\n")
    return 0


def add_data_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``demo-data`` and ``inspect`` subcommands."""
    demo = sub.add_parser("demo-data", help="write the built-in demo ratings to a CSV file")
    demo.add_argument("--out", required=True, help="CSV path (.csv or .csv.gz)")
    demo.add_argument("--users", type=int, default=5000)
    demo.add_argument("--items", type=int, default=2000)
    demo.add_argument("--ratings", type=int, default=100_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--raw", action="store_true", help="raw Amazon layout: no header, unix seconds")
    demo.add_argument("--products", help="also write the product table (item, name, category) here")
    demo.set_defaults(func=cmd_demo_data)

    inspect = sub.add_parser("inspect", help="load and validate a ratings file, print a summary")
    inspect.add_argument("path")
    inspect.add_argument(
        "--columns", help="explicit mapping, e.g. user=UserID,item=asin,rating=overall,time=ts"
    )
    inspect.add_argument("--min-user-ratings", type=int, default=1, help="k-core: min ratings per user")
    inspect.add_argument("--min-item-ratings", type=int, default=1, help="k-core: min ratings per product")
    add_date_format_option(inspect)
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(func=cmd_inspect)
