"""``recsys recommend RUN --all-users --out FILE.parquet``: everyone's top-N from the command line.

In one process it uses every core; under ``torchrun --nproc_per_node=N`` (the same command)
each rank computes its share of the customers and rank 0 writes the file::

    torchrun --nproc_per_node=2 -m recsys_core.cli recommend RUN --all-users --out top.parquet -n 10

Imported by the argument parser (:mod:`recsys_core.cli._query`), so it imports nothing heavy at
module level.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from recsys_core.cli._common import ProgressBar
from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_BLOCK_USERS, MAX_RECOMMENDATIONS

if TYPE_CHECKING:
    from recsys_core.runs import Run
    from recsys_core.training import DistributedContext

#: A rank waits this long for the slowest one at the end (the shares are equal, so ~minutes).
BARRIER_MINUTES = 240.0


def add_all_users_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--all-users`` options of ``recsys recommend``."""
    parser.add_argument(
        "--all-users", action="store_true", help="every user's top-N, written to --out (Parquet)"
    )
    parser.add_argument("--out", help="with --all-users: the Parquet file to write")
    parser.add_argument(
        "--exclude-seen",
        dest="exclude_seen",
        action="store_true",
        default=True,
        help="leave out each user's train + validation products (the default)",
    )
    parser.add_argument(
        "--include-seen", dest="exclude_seen", action="store_false", help="rank every product"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda: where to score")
    parser.add_argument(
        "--block-users", type=int, default=None, help="users per part file (the unit of resuming)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="with --all-users: replace an existing --out file"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _torchrun_world() -> int:
    """The number of ranks when started by torchrun, else 1."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) if "RANK" in os.environ else 1
    except ValueError:
        return 1


def cmd_recommend_all(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``recommend --all-users`` (one process, or one rank of a torchrun job)."""
    if args.user is not None:
        raise RecsysError("Give either --user ID or --all-users, not both.")
    if not args.out:
        raise RecsysError("--all-users needs --out FILE.parquet: where to write everyone's lists.")
    n = check_count(args.n, "-n", most=MAX_RECOMMENDATIONS)  # before importing torch
    if args.block_users is not None:
        check_count(args.block_users, "--block-users", most=MAX_BLOCK_USERS)
    from recsys_core.runs import load_run
    from recsys_core.topn import BLOCK_USERS, check_output
    from recsys_core.training import resolve_device

    block_users = BLOCK_USERS if args.block_users is None else args.block_users
    out_path = check_output(args.out, args.overwrite)  # an existing file is never replaced silently
    device = resolve_device(args.device)
    run = load_run(Path(args.run_dir))
    context = None
    if _torchrun_world() > 1:
        from recsys_core.training import init_from_env

        context = init_from_env(args.device, timeout_minutes=BARRIER_MINUTES)
    try:
        return _write(args, out, Job(run, out_path, n, block_users, device), context)
    finally:
        if context is not None:
            from recsys_core.training import shutdown

            shutdown()


@dataclass(frozen=True)
class Job:
    """The checked inputs of one ``--all-users`` command."""

    run: Run
    out_path: Path
    n: int
    block_users: int
    device: str


def _write(args: argparse.Namespace, out: TextIO, job: Job, context: DistributedContext | None) -> int:
    from recsys_core.topn import recommend_all_to_parquet

    main = context is None or context.is_main
    if not main:
        out = io.StringIO()
    bar = ProgressBar(sys.stderr, enabled=main and not args.quiet, unit="users")
    result = recommend_all_to_parquet(
        job.run,
        job.out_path,
        job.n,
        exclude_seen=args.exclude_seen,
        block_users=job.block_users,
        threads=None if context is not None else os.cpu_count(),
        device=job.device if context is None else context.device,
        progress=lambda done, total: bar.update("top-N", done, total),
        shard=(0, 1) if context is None else (context.rank, context.world_size),
        overwrite=args.overwrite,
    )
    bar.clear()
    if main:
        rate = result.users / result.seconds if result.seconds > 0 else 0.0
        kept = f", {result.parts_reused} part(s) kept from an earlier run" if result.parts_reused else ""
        ranks = f" on {context.world_size} ranks" if context is not None else ""
        out.write(
            f"wrote {result.rows:,} recommendations for {result.users:,} users to {result.path} in "
            f"{result.seconds:.1f} s ({rate:,.0f} users/s{ranks}{kept})\n"
        )
    return 0
