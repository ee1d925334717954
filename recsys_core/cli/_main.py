"""The ``recsys`` parser and entry point, with the exit-status contract of the command line."""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from recsys_core.cli._common import Parser
from recsys_core.cli._data import add_data_parsers
from recsys_core.cli._query import add_query_parsers
from recsys_core.cli._runs import add_runs_parser
from recsys_core.cli._train import add_train_parser
from recsys_core.cli._whatif import add_whatif_parsers
from recsys_core.errors import RecsysError
from recsys_core.settings import check_environment


def build_parser() -> argparse.ArgumentParser:
    """The full ``recsys`` argument parser; each subcommand sets ``func`` to its handler."""
    parser = Parser(prog="recsys", description="Train, evaluate and query NCF recommenders on ratings.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_data_parsers(sub)
    add_train_parser(sub)
    add_query_parsers(sub)
    add_whatif_parsers(sub)
    add_runs_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run ``recsys ARGV``; returns the exit status (0, 1 internal error, 2 bad input, 130 interrupted)."""
    out = out or sys.stdout
    if argv is not None:  # called from Python (tests, scripts): leave the collector alone
        return _run(list(argv), out, "--debug" in argv)
    # The process's own command: it builds hundreds of thousands of long-lived objects (importing
    # torch alone) and few cycles, so the cyclic collector's passes over them cost 0.3 s of a demo
    # run, and its last pass at exit 0.4 s more. Rarer passes while it runs; none over what is
    # left when it is done (the process ends right after).
    gc.set_threshold(100_000, 50, 1_000)
    try:
        code = _run(sys.argv[1:], out, "--debug" in sys.argv[1:])
    finally:
        gc.freeze()
    _leave(code)
    return code


def _leave(code: int) -> None:
    """End the process now, skipping the interpreter's teardown (freeing every module, torch's
    and MKL's state: 0.1 s of a demo run, for nothing): the exit handlers still run and the
    streams are flushed first. Only with no other non-daemon thread alive, which might still
    write (a daemon, such as the idle second core of :func:`recsys_core.model.second_core`, is
    left at exit in any case)."""
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    atexit._run_exitfuncs()  # what a normal exit runs: flushes logging, finalizers, temp files
    os._exit(code)


def _run(argv: list[str], out: TextIO, debug: bool) -> int:
    """:func:`main` once its arguments are read."""
    try:
        check_environment()  # a mistyped RECSYS_* setting: named before any work
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
