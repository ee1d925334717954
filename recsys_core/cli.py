"""The ``recsys`` command line: the same pipeline as the app, headless.

Exit status 0 on success, 2 with a single ``error: …`` line on bad input (never a traceback),
1 for an unexpected internal failure (``--debug`` shows its traceback), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from recsys_core.errors import RecsysError

if TYPE_CHECKING:
    from recsys_core.config import TrainConfig
    from recsys_core.distributed import DistributedContext
    from recsys_core.ratings import ColumnMap
    from recsys_core.runs import Run


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes through the same one-line contract."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise RecsysError(f"{message} (see `{self.prog} --help`)")


def _columns(text: str | None) -> ColumnMap | None:
    from recsys_core.ratings import ColumnMap

    return ColumnMap.parse(text) if text else None


def _f(value: float | None, digits: int = 4) -> str:
    """A metric for humans: ``n/a`` when undefined (e.g. AUC with one class in the test split)."""
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def _print_json(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# -- commands ---------------------------------------------------------------------------------


def cmd_demo_data(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.demo import write_demo_csv

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
    from recsys_core.ratings import load_ratings

    ratings = load_ratings(
        args.path,
        columns=_columns(args.columns),
        min_user_ratings=args.min_user_ratings,
        min_item_ratings=args.min_item_ratings,
    )
    summary = ratings.summary()
    if args.json:
        _print_json(summary, out)
        return 0
    out.write(f"{args.path}\n")
    out.write(f"  ratings   {summary['rows']:>12,}\n")
    out.write(f"  users     {summary['users']:>12,}\n")
    out.write(f"  products  {summary['items']:>12,}\n")
    total = max(summary["rows"], 1)
    for value, count in sorted(summary["rating_counts"].items(), key=lambda kv: -float(kv[0])):
        out.write(f"  {value:>5}★   {count:>12,}  ({100 * count / total:5.1f} %)\n")
    if summary["time_min"]:
        out.write(f"  time      {summary['time_min']} … {summary['time_max']}\n")
    if summary["duplicates_dropped"]:
        out.write(f"  duplicate (user, product) pairs dropped: {summary['duplicates_dropped']:,}\n")
    return 0


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    from recsys_core.config import TrainConfig, parse_multipliers

    overrides = {
        "epochs": args.epochs,
        "embedding_dim": args.dim,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "split": args.split,
        "seed": args.seed,
        "threshold": args.threshold,
        "objective": args.objective,
        "negatives": args.negatives,
        "device": args.device,
    }
    if args.oversample is not None:
        overrides["multipliers"] = parse_multipliers(args.oversample)
    return TrainConfig.preset(args.preset, **overrides)


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    config = _config_from_args(args)
    if (args.out is None) == (args.runs_dir is None):
        raise RecsysError("Say where to save the run: either --out RUN_DIR or --runs-dir RUNS_FOLDER.")
    from recsys_core.training import resolve_device

    resolve_device(config.device)  # --device cuda without a GPU: say so before loading anything
    if not args.distributed:
        return _train_command(args, config, out, None)
    from recsys_core.distributed import init_from_env, shutdown

    context = init_from_env(config.device)
    try:
        if not context.is_main:
            # Other ranks train their shards silently and write nothing: rank 0 reports and saves.
            args.quiet = True
            out = io.StringIO()
        return _train_command(args, config, out, context)
    finally:
        shutdown()


def _train_command(
    args: argparse.Namespace, config: TrainConfig, out: TextIO, context: DistributedContext | None
) -> int:
    """``train``, in one process or (``context`` set) as one rank of a ``torchrun`` job."""
    from functools import partial

    from recsys_core.pipeline import train_run
    from recsys_core.progress import ProgressBar
    from recsys_core.ratings import load_products, load_ratings
    from recsys_core.registry import RunRegistry
    from recsys_core.runs import save_run

    main_rank = context is None or context.is_main
    out_dir = Path(args.out) if args.out else None
    registry = None
    if main_rank:
        registry = RunRegistry(args.runs_dir) if args.runs_dir else None  # fail before training, not after
        if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()) and not args.overwrite:
            raise RecsysError(
                f"The output folder {out_dir} already holds files; choose another --out or add --overwrite."
            )
    trainer = None
    if context is not None:
        from recsys_core.distributed import check_objective, train_model_ddp

        check_objective(config)  # before loading the ratings

        trainer = partial(train_model_ddp, gradients=args.ddp_gradients)
        out.write(
            f"distributed: {context.world_size} processes ({context.backend}), each training on its "
            f"1/{context.world_size} of every batch of {config.batch_size}\n"
        )
    start = time.perf_counter()
    ratings = load_ratings(args.path, columns=_columns(args.columns))
    products = load_products(args.products) if args.products else None
    load_seconds = time.perf_counter() - start
    out.write(
        f"loaded {len(ratings.frame):,} ratings ({ratings.frame['user'].nunique():,} users, "
        f"{ratings.frame['item'].nunique():,} products) in {time.perf_counter() - start:.1f} s\n"
    )
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)

    def on_epoch(report) -> None:
        bar.clear()
        out.write(
            f"epoch {report.epoch:>3}  train loss {_f(report.train_loss)}  val loss {_f(report.val_loss)}  "
            f"val precision {_f(report.val_precision)}  recall {_f(report.val_recall)}  "
            f"AUC {_f(report.val_auc)}  {report.samples_per_second:,.0f} samples/s  {report.seconds:.1f} s\n"
        )
        out.flush()

    def on_progress(epoch: int, done: int, total: int) -> None:
        bar.update(f"epoch {epoch}", done, total)

    run = train_run(
        ratings, config, products=products, on_epoch=on_epoch, on_progress=on_progress,
        trainer=trainer, evaluate=main_rank,
    )  # fmt: skip
    bar.clear()
    if not main_rank:
        return 0
    if run.message:
        out.write(f"note: {run.message}\n")
    stages = {"load": load_seconds, **run.split_summary.get("stage_seconds", {})}
    run.split_summary["stage_seconds"] = stages
    saving = time.perf_counter()
    if registry is not None:
        path = registry.save(run).path
    else:
        path = save_run(run, out_dir, overwrite=args.overwrite)
    stages = {**stages, "save": time.perf_counter() - saving}
    _print_trained(run, out)
    out.write("stages: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages.items()) + "\n")
    out.write(f"saved the run to {path} ({time.perf_counter() - start:.1f} s in all)\n")
    return 0


def _print_trained(run: Run, out: TextIO) -> None:
    """The test metrics of a freshly trained run, two lines (none when it was not evaluated)."""
    metrics = run.metrics
    if metrics:
        out.write(
            f"test: precision {_f(metrics['precision'])} (guessing 'likes it' for everyone: "
            f"{_f(metrics['trivial_precision'])}), recall {_f(metrics['recall'])}, "
            f"ROC AUC {_f(metrics['roc_auc'])}\n"
        )
    ranking = metrics.get("ranking")
    if ranking:
        k = ranking["k"]
        m, p = ranking["model"], ranking["popularity"]
        out.write(
            f"top-{k}: hit rate {_f(m['hit_rate_at_k'])} vs most-popular {_f(p['hit_rate_at_k'])}, "
            f"NDCG {_f(m['ndcg_at_k'])} vs {_f(p['ndcg_at_k'])}\n"
        )


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.evaluation import evaluate_run
    from recsys_core.runs import load_run

    run = load_run(Path(args.run_dir))
    result = evaluate_run(run, k=args.k, max_users=args.max_users or None)
    if args.json:
        _print_json(result, out)
        return 0
    out.write(f"run {args.run_dir}\n")
    out.write(
        f"  precision {_f(result['precision'])}  (trivial baseline {_f(result['trivial_precision'])})\n"
        f"  recall    {_f(result['recall'])}\n  f1        {_f(result['f1'])}\n"
        f"  ROC AUC   {_f(result['roc_auc'])}\n  threshold {_f(result['threshold'], 3)}\n"
    )
    ranking = result["ranking"]
    out.write(
        f"  top-{ranking['k']} ranking over {ranking['users']:,} of {ranking['test_users']:,} test users"
        "       model    most-popular\n"
    )
    for key in ("hit_rate_at_k", "ndcg_at_k", "precision_at_k", "recall_at_k", "coverage"):
        out.write(f"    {key:<16} {_f(ranking['model'][key]):>8}  {_f(ranking['popularity'][key]):>8}\n")
    return 0


def cmd_recommend(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.recommend import recommend
    from recsys_core.runs import load_run

    if args.n < 1:
        raise RecsysError("-n must be at least 1.")
    run = load_run(Path(args.run_dir))
    if args.new_users or args.explain:
        return _recommend_foldin(args, run, out)
    if args.user is None:
        raise RecsysError("Say whom to recommend for: --user ID, or --new-users FILE for visitors.")
    recs = recommend(run, args.user, n=args.n)
    if args.json:
        columns = [c for c in ("item", "score", "name") if c in recs.table.columns]
        records = recs.table[columns].to_dict(orient="records")
        if not recs.known_user:
            print(f"note: {recs.message}", file=sys.stderr)
        _print_json(records, out)
        return 0
    if recs.message:
        out.write(f"{recs.message}\n")
    for row in recs.table.itertuples(index=False):
        name = f"  {row.name}" if "name" in recs.table.columns and isinstance(row.name, str) else ""
        out.write(f"{row.rank:>3}. {row.item}  {row.score:.4f}{name}\n")
    return 0


def _recommend_foldin(args: argparse.Namespace, run: Run, out: TextIO) -> int:
    """``recommend --new-users FILE`` (visitors folded in) or ``--user ID --explain``."""
    from recsys_core.foldin import explain_user, recommend_visitors
    from recsys_core.ratings import load_ratings

    if args.new_users:
        answers = recommend_visitors(run, load_ratings(args.new_users).frame, n=args.n)
    else:
        if args.user is None:
            raise RecsysError("--explain needs --user ID.")
        answers = [explain_user(run, args.user, n=args.n)]
    records = [answer.to_dict() for answer in answers]
    if args.json:
        _print_json(records if args.new_users else records[0]["recommendations"], out)
        return 0
    for record in records:
        label = " (most popular: no rated product is known to the run)" if record["fallback"] else ""
        out.write(f"{record['user']}{label}; ignored unknown products: {record['ignored']}\n")
        for rank, rec in enumerate(record["recommendations"], 1):
            because = ", ".join(f"{b['item']} {b['rating']:g}★" for b in rec["because"])
            out.write(
                f"{rank:>3}. {rec['item']}  {rec['score']:.4f}"
                + (f"  because {because}" if because else "")
                + "\n"
            )
    return 0


def cmd_similar(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.foldin import similar_items
    from recsys_core.runs import load_run

    table = similar_items(load_run(Path(args.run_dir)), args.item, n=args.n)
    if args.json:
        _print_json(table[["item", "similarity"]].to_dict(orient="records"), out)
        return 0
    for row in table.itertuples(index=False):
        out.write(f"{row.item}  {row.similarity:.4f}\n")
    return 0


# -- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recsys", description="Train, evaluate and query NCF recommenders on ratings.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_data_commands(sub)
    _add_train_command(sub)
    _add_query_commands(sub)
    return parser


def _add_data_commands(sub: argparse._SubParsersAction) -> None:
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
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(func=cmd_inspect)


def _add_train_command(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train a model and save the run")
    train.add_argument("path", help="ratings file")
    train.add_argument("--out", help="run folder to create")
    train.add_argument(
        "--runs-dir", help="or: a runs folder shared with the app (indexed, any number of runs)"
    )
    train.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    train.add_argument(
        "--preset",
        default="recommended",
        help="recommended (default: the best top-N lists), fast, or notebook (the reference recipe)",
    )
    train.add_argument("--oversample", help="per-class multipliers, e.g. 1=2.5,2=3,3=2 (1 = untouched)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--dim", type=int, help="embedding size")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, help="Adam learning rate")
    train.add_argument("--threshold", type=float, help="score at or above it predicts 'likes it'")
    train.add_argument("--split", help="auto, leave-last-out, random or temporal")
    train.add_argument("--objective", help="rating, ranking, hybrid or softmax")
    train.add_argument("--negatives", type=int, help="sampled unrated products per rating (ranking)")
    train.add_argument("--device", help="auto, cpu or cuda")
    train.add_argument("--seed", type=int)
    train.add_argument("--columns", help="explicit column mapping, as for inspect")
    train.add_argument("--products", help="product table (ProductID, name, category) for readable output")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--distributed",
        action="store_true",
        help="one rank of a torchrun job: DistributedDataParallel, rank 0 saves "
        "(torchrun --nproc_per_node=N -m recsys_core.cli train ... --distributed)",
    )
    train.add_argument(
        "--ddp-gradients",
        default="auto",
        choices=["auto", "sparse", "dense"],
        help="with --distributed: all-reduce sparse gradients of the touched rows (gloo, the CPU "
        "default) or whole dense tables (NCCL, the GPU default)",
    )
    train.set_defaults(func=cmd_train)


def _add_query_commands(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser("evaluate", help="metrics of a saved run on its test split")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--k", type=int, default=10, help="list length for the ranking metrics")
    evaluate.add_argument(
        "--max-users", type=int, default=20_000, help="rank a seeded sample of this many test users (0: all)"
    )
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=cmd_evaluate)

    rec = sub.add_parser("recommend", help="top-N unseen products for one user")
    rec.add_argument("run_dir")
    rec.add_argument("--user")
    rec.add_argument("-n", type=int, default=5)
    rec.add_argument("--json", action="store_true")
    rec.add_argument("--new-users", help="ratings file of visitors (user, product, rating): fold them in")
    rec.add_argument("--explain", action="store_true", help="add 'because' (rated products) to each item")
    rec.set_defaults(func=cmd_recommend)

    similar = sub.add_parser("similar", help="products whose profiles are most alike (cosine)")
    similar.add_argument("run_dir")
    similar.add_argument("--item", required=True)
    similar.add_argument("-n", type=int, default=10)
    similar.add_argument("--json", action="store_true")
    similar.set_defaults(func=cmd_similar)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args, out))
    except RecsysError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # an internal failure: one line unless --debug
        if debug:
            raise
        print(
            f"error: internal error ({type(exc).__name__}: {exc}); rerun with --debug for details",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
