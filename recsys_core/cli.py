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
from recsys_core.runs_command import add_runs_parser

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
    from recsys_core.runs import check_run_destination

    check_run_destination(args.out, args.overwrite)  # a file, an over-long name: refused before any work
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
        from recsys_core.distributed import train_model_ddp

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
    from recsys_core.ladder import ladder_for
    from recsys_core.runs import load_run

    run = load_run(Path(args.run_dir))
    max_users = args.max_users or None
    result = evaluate_run(run, k=args.k, max_users=max_users)
    ranking = result["ranking"]
    if not args.no_baselines:
        ranking["baselines"] = ladder_for(run, Path(args.run_dir), k=args.k, max_users=max_users)
    if args.json:
        _print_json(result, out)
        return 0
    out.write(f"run {args.run_dir}\n")
    out.write(
        f"  precision {_f(result['precision'])}  (trivial baseline {_f(result['trivial_precision'])})\n"
        f"  recall    {_f(result['recall'])}\n  f1        {_f(result['f1'])}\n"
        f"  ROC AUC   {_f(result['roc_auc'])}\n  threshold {_f(result['threshold'], 3)}\n"
    )
    _print_ranking(ranking, out)
    return 0


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
    for key in ("hit_rate_at_k", "ndcg_at_k", "precision_at_k", "recall_at_k", "coverage"):
        cells = (f"{_f(m[key])} ±{_f(m.get(key + '_se'), 3)}" for m in columns.values())
        out.write(f"    {key:<16}" + "".join(f"{cell:>18}" for cell in cells) + "\n")
    for entry in ranking.get("baselines", {}).values():
        if "skipped" in entry:
            out.write(f"    {entry['label']} skipped: {entry['skipped']}\n")


def cmd_recommend(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.recommend import recommend
    from recsys_core.runs import load_run

    if args.all_users:
        from recsys_core.batch_cli import cmd_recommend_all

        return cmd_recommend_all(args, out)
    if args.n < 1:
        raise RecsysError("-n must be at least 1.")
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


def _numbers(text: str, flag: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise RecsysError(
            f"Cannot read {flag} {text!r}: write numbers separated by commas, e.g. 1,2,4."
        ) from None
    if not values:
        raise RecsysError(f"{flag} needs at least one number.")
    return values


def cmd_sweep(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.config import NOTEBOOK_MULTIPLIERS, parse_multipliers
    from recsys_core.ratings import load_products, load_ratings
    from recsys_core.registry import RunRegistry
    from recsys_core.sweep import sweep_class, sweep_recipe

    if (args.rating_class is None) == (args.recipe is None):
        raise RecsysError(
            "Say what to sweep: either --class R --multipliers 1,2,4 or --recipe notebook --scale 0,1,2."
        )
    if args.seeds < 1:
        raise RecsysError("--seeds must be at least 1.")
    config = _config_from_args(args)
    seeds = [config.seed + i for i in range(args.seeds)]
    registry = RunRegistry(args.runs_dir)
    ratings = load_ratings(args.path, columns=_columns(args.columns))
    products = load_products(args.products) if args.products else None

    def on_run(record: dict[str, Any]) -> None:
        setting = (
            f"{record['class']:g}★ ×{record['multiplier']:g}"
            if "class" in record
            else f"recipe ×{record['scale']:g}"
        )
        m = record["metrics"]
        ndcg = m.get("ranking", {}).get("model", {}).get("ndcg_at_k")
        line = (
            f"{setting}  seed {record['seed']}  precision {_f(m.get('precision'))}  "
            f"recall {_f(m.get('recall'))}  ROC AUC {_f(m.get('roc_auc'))}  NDCG@k {_f(ndcg)}  "
            f"run {record['run']}\n"
        )
        (sys.stderr if args.json else out).write(line)

    options = {"products": products, "on_run": None if args.quiet and args.json else on_run}
    if args.rating_class is not None:
        multipliers = _numbers(args.multipliers or "", "--multipliers")
        records = sweep_class(ratings, config, args.rating_class, multipliers, seeds, registry, **options)
    else:
        if args.oversample is not None:
            raise RecsysError("--oversample and --recipe both set the multipliers; keep one.")
        recipe = NOTEBOOK_MULTIPLIERS if args.recipe == "notebook" else parse_multipliers(args.recipe)
        scales = _numbers(args.scale or "", "--scale")
        records = sweep_recipe(ratings, config, recipe, scales, seeds, registry, **options)
    if args.json:
        _print_json(records, out)
    else:
        out.write(f"saved {len(records)} runs to {registry.root}\n")
    return 0


def _load_run_arg(text: str, runs_dir: str | None) -> Run:
    """A run folder, or with ``--runs-dir`` a run id in that runs folder."""
    from recsys_core.registry import RunRegistry
    from recsys_core.runs import load_run

    return RunRegistry(runs_dir).load(text) if runs_dir else load_run(Path(text))


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.diff import compare_runs

    run_a, run_b = (_load_run_arg(text, args.runs_dir) for text in (args.run_a, args.run_b))
    diff = compare_runs(
        run_a, run_b, k=args.k, n_boot=args.n_boot, seed=args.seed, max_users=args.max_users or None
    )
    if args.json:
        _print_json(diff, out)
        return 0
    out.write(
        f"A {run_a.name}\nB {run_b.name}\n  metric                  A         B     B - A   95 % interval\n"
    )
    for name, m in diff["metrics"].items():
        ci = m["ci95"]
        interval = f"{_f(ci[0])} … {_f(ci[1])}" if ci else "n/a"
        out.write(f"  {name:<16} {_f(m['a']):>9} {_f(m['b']):>9} {_f(m['delta']):>9}   {interval}\n")
    overlap = diff["overlap"]
    out.write(
        f"top-{diff['k']} overlap: mean Jaccard {_f(overlap['mean_jaccard'], 3)}, "
        f"{100 * (overlap['share_changed'] or 0):.0f} % of customers see a different list\n"
    )
    return 0


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from recsys_core.report import write_report

    run = _load_run_arg(args.run, args.runs_dir)
    other = _load_run_arg(args.compare, args.runs_dir) if args.compare else None
    path = write_report(run, Path(args.out), compare=other)
    out.write(f"wrote the report to {path}\n")
    return 0


# -- parser -----------------------------------------------------------------------------------


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    """The recipe options of ``train`` (and ``sweep``), read back by :func:`_config_from_args`."""
    parser.add_argument("--preset", default="notebook", help="notebook (the reference recipe) or fast")
    parser.add_argument("--oversample", help="per-class multipliers, e.g. 1=2.5,2=3,3=2 (1 = untouched)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--dim", type=int, help="embedding size")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float, help="Adam learning rate")
    parser.add_argument("--threshold", type=float, help="score at or above it predicts 'likes it'")
    parser.add_argument("--split", help="auto, leave-last-out, random or temporal")
    parser.add_argument("--objective", help="rating, ranking or hybrid")
    parser.add_argument("--negatives", type=int, help="sampled unrated products per rating (ranking)")
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument("--seed", type=int)


def _add_whatif_commands(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser("sweep", help="train one run per multiplier (or recipe scale) and seed")
    sweep.add_argument("path", help="ratings file")
    sweep.add_argument("--class", dest="rating_class", type=float, help="rating class to sweep, e.g. 1")
    sweep.add_argument("--multipliers", help="factors for --class, e.g. 1,2,4")
    sweep.add_argument("--recipe", help="or: scale a recipe, 'notebook' or e.g. 1=2.5,2=3")
    sweep.add_argument("--scale", help="recipe scales, e.g. 0,0.5,1,2 (factor m -> 1 + s*(m-1))")
    sweep.add_argument("--seeds", type=int, default=1, help="runs per setting (seeds --seed, --seed+1, …)")
    sweep.add_argument("--runs-dir", required=True, help="runs folder the runs are saved to")
    _add_train_options(sweep)
    sweep.add_argument("--columns", help="explicit column mapping, as for inspect")
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recsys", description="Train, evaluate and query NCF recommenders on ratings.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_data_commands(sub)
    _add_train_command(sub)
    _add_query_commands(sub)
    _add_whatif_commands(sub)
    add_runs_parser(sub)
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
    _add_train_options(train)
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
    rec.add_argument("--explain", action="store_true", help="add 'because' (rated products) to each item")
    from recsys_core.batch_cli import add_all_users_arguments

    add_all_users_arguments(rec)
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
