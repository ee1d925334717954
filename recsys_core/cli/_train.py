"""``recsys train``: train a model, in one process or as one rank of a ``torchrun`` job."""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from recsys_core.cli._common import (
    ProgressBar,
    add_date_format_option,
    add_train_options,
    config_from_args,
    fmt,
    parse_columns,
)
from recsys_core.errors import RecsysError

if TYPE_CHECKING:
    from recsys_core.config import TrainConfig
    from recsys_core.data import Ratings
    from recsys_core.runs import Run
    from recsys_core.training import CostModel, DistributedContext


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    """Check the options, then train (``--distributed``: as one rank of a torchrun job)."""
    config = config_from_args(args)
    if (args.out is None) == (args.runs_dir is None) and not args.dry_run:
        raise RecsysError("Say where to save the run: either --out RUN_DIR or --runs-dir RUNS_FOLDER.")
    from recsys_core.runs import check_run_destination

    check_run_destination(args.out, args.overwrite)  # a file, an over-long name: refused before any work
    from recsys_core.training import resolve_device

    resolve_device(config.device)  # --device cuda without a GPU: say so before loading anything
    if not args.distributed or args.dry_run:  # a dry run estimates once, in this process
        return _train_command(args, config, out, None)
    from recsys_core.training import init_from_env, shutdown

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

    from recsys_core.data import load_products, load_ratings
    from recsys_core.pipeline import prepare_run, train_prepared
    from recsys_core.runs import RunRegistry, save_run

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
        from recsys_core.training import train_model_ddp

        trainer = partial(train_model_ddp, gradients=args.ddp_gradients)
        out.write(
            f"distributed: {context.world_size} processes ({context.backend}), each training on its "
            f"1/{context.world_size} of every batch of {config.batch_size}\n"
        )
    start = time.perf_counter()
    ratings = load_ratings(args.path, columns=parse_columns(args.columns), date_format=args.date_format)
    products = load_products(args.products) if args.products else None
    load_seconds = time.perf_counter() - start
    out.write(
        f"loaded {len(ratings.frame):,} ratings ({ratings.frame['user'].nunique():,} users, "
        f"{ratings.frame['item'].nunique():,} products) in {time.perf_counter() - start:.1f} s\n"
    )
    checking = time.perf_counter()
    if context is None and _check_budget(args, config, ratings, out):
        return 0  # --dry-run: the estimate was the answer
    # Counting the distinct ids for the estimate takes seconds on a large file: a stage of its own.
    check = {"check": time.perf_counter() - checking} if context is None else {}
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)

    def on_epoch(report) -> None:
        bar.clear()
        out.write(
            f"epoch {report.epoch:>3}  train loss {fmt(report.train_loss)}  val loss {fmt(report.val_loss)}  "
            f"val precision {fmt(report.val_precision)}  recall {fmt(report.val_recall)}  "
            f"AUC {fmt(report.val_auc)}  {report.samples_per_second:,.0f} samples/s  {report.seconds:.1f} s\n"
        )
        out.flush()

    def on_progress(epoch: int, done: int, total: int) -> None:
        bar.update(f"epoch {epoch}", done, total)

    job = prepare_run(ratings, config)
    del ratings  # its frame (ids as strings) is not needed past the split: freed while training
    run = train_prepared(
        job, products=products, on_epoch=on_epoch, on_progress=on_progress,
        trainer=trainer, evaluate=main_rank,
    )  # fmt: skip
    bar.clear()
    if not main_rank:
        return 0
    if run.message:
        out.write(f"note: {run.message}\n")
    stages = {"load": load_seconds, **check, **run.summary.stage_seconds}
    run.summary.stage_seconds = stages
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


def _check_budget(args: argparse.Namespace, config: TrainConfig, ratings: Ratings, out: TextIO) -> bool:
    """Say what the run will take before it starts, refuse one that cannot fit in memory (unless
    ``--force``) and offer the recipes that fit; ``True`` for ``--dry-run`` (stop here)."""
    from recsys_core.training import (
        DOES_NOT_FIT,
        SLOW,
        SLOW_SECONDS,
        DataShape,
        duration_text,
        estimate_training,
        gigabytes,
        resolve_device,
    )

    frame = ratings.frame
    counts = frame["rating"].value_counts()
    shape = DataShape(
        customers=int(frame["user"].nunique()),
        products=int(frame["item"].nunique()),
        ratings=len(frame),  # an upper bound: the split holds some out
        class_counts={float(r): int(n) for r, n in counts.items()},
    )
    estimate = estimate_training(shape, config, cost=_cost_model(resolve_device(config.device)))
    line = (
        f"estimate: {estimate.summary()} (on a machine to itself; this one lets it use "
        f"{gigabytes(estimate.usable_bytes)})"
    )
    offers = "; ".join(f"{s.label} ({s.options}): {s.estimate.summary()}" for s in estimate.suggestions)
    if args.dry_run:
        out.write(line + f"; {estimate.verdict}\n")
        if offers:
            out.write(f"fits: {offers}\n")
        return True
    if estimate.verdict == DOES_NOT_FIT and not args.force:
        raise RecsysError(
            f"This recipe would need {gigabytes(estimate.peak_bytes)} of memory and this machine lets "
            f"the run use {gigabytes(estimate.usable_bytes)}. "
            + (
                f"Recipes that fit: {offers}. "
                if offers
                else "No smaller recipe fits either: use a smaller file. "
            )
            + "Add --force to try anyway."
        )
    if not args.quiet:
        print(line, file=sys.stderr)
        if estimate.verdict == SLOW and offers:
            print(
                f"note: that is over {duration_text(SLOW_SECONDS)} in all; faster: {offers}", file=sys.stderr
            )
        elif estimate.verdict == DOES_NOT_FIT:
            print("note: it may not fit in memory; trying anyway (--force)", file=sys.stderr)
    return False


def _cost_model(device: str) -> CostModel:
    """The CPU coefficients measured on the project's machine; on a GPU, measured now (a second)."""
    from recsys_core.training import CostModel, measure_cost_model

    return measure_cost_model("cuda") if device == "cuda" else CostModel()


def _print_trained(run: Run, out: TextIO) -> None:
    """The test metrics of a freshly trained run, two lines (none when it was not evaluated)."""
    metrics = run.metrics
    if metrics:
        out.write(
            f"test: precision {fmt(metrics['precision'])} (guessing 'likes it' for everyone: "
            f"{fmt(metrics['trivial_precision'])}), recall {fmt(metrics['recall'])}, "
            f"ROC AUC {fmt(metrics['roc_auc'])}\n"
        )
    ranking = metrics.get("ranking")
    if ranking:
        k = ranking["k"]
        m, p = ranking["model"], ranking["popularity"]
        out.write(
            f"top-{k}: hit rate {fmt(m['hit_rate_at_k'])} vs most-popular {fmt(p['hit_rate_at_k'])}, "
            f"NDCG {fmt(m['ndcg_at_k'])} vs {fmt(p['ndcg_at_k'])}\n"
        )


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    """The ``train`` subcommand."""
    train = sub.add_parser("train", help="train a model and save the run")
    train.add_argument("path", help="ratings file")
    train.add_argument("--out", help="run folder to create")
    train.add_argument(
        "--runs-dir", help="or: a runs folder shared with the app (indexed, any number of runs)"
    )
    train.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    add_train_options(train)
    train.add_argument("--columns", help="explicit column mapping, as for inspect")
    add_date_format_option(train)
    train.add_argument("--products", help="product table (ProductID, name, category) for readable output")
    train.add_argument("--quiet", action="store_true", help="no progress bar, no estimate")
    train.add_argument(
        "--force",
        action="store_true",
        help="train even when the estimate says the recipe does not fit in this machine's memory",
    )
    train.add_argument(
        "--dry-run",
        action="store_true",
        help="load the ratings, print the estimate of time and memory and stop (nothing is trained)",
    )
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
        "default) or whole dense tables (NCCL, the GPU default); the softmax objective (the "
        "recommended recipe) has one way and ignores it",
    )
    train.set_defaults(func=cmd_train)
