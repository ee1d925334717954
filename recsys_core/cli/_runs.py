"""``recsys runs``: list the saved runs of a runs folder, broken ones included, with the reason.

Hooked into the command line by :func:`add_runs_parser`; :func:`cmd_runs` prints one line per
run (id, name, data set, created, status) or, with ``--json``, a list of objects.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from recsys_core.settings import runs_dir

_COLUMNS = ("id", "name", "data set", "created", "status")


def add_runs_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``runs`` command to the subcommands ``sub`` of the ``recsys`` parser."""
    runs = sub.add_parser("runs", help="list the saved runs of a runs folder (broken ones with the reason)")
    runs.add_argument("--runs-dir", help="the runs folder (default: the app's, RECSYS_RUNS_DIR)")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=cmd_runs)


def cmd_runs(args: argparse.Namespace, out: TextIO) -> int:
    """List the runs, newest first; exit 0 even when some are broken (they are listed as such)."""
    from recsys_core.runs import RunRegistry  # pulls in torch: only when the command runs

    root = Path(args.runs_dir) if args.runs_dir else runs_dir()
    if not root.exists():  # listing never creates the folder
        out.write("[]\n" if args.json else f"no saved runs in {root}\n")
        return 0
    registry = RunRegistry(root)
    rows = [
        {
            "id": record.run_id,
            "name": record.name,
            "data set": record.dataset,
            "created": record.created_at,
            "status": record.status,
            "problem": record.problem,
        }
        for record in registry.list(include_broken=True)
    ]
    if args.json:
        out.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return 0
    if not rows:
        out.write(f"no saved runs in {registry.root}\n")
        return 0
    widths = {c: min(max(len(c), *(len(_cell(r[c])) for r in rows)), 60) for c in _COLUMNS}
    out.write("  ".join(c.ljust(widths[c]) for c in _COLUMNS).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(_cell(row[c])[: widths[c]].ljust(widths[c]) for c in _COLUMNS).rstrip() + "\n")
        if row["problem"]:
            out.write(f"    {_cell(row['problem'])}\n")
    broken = sum(row["status"] == "broken" for row in rows)
    out.write(f"{len(rows)} run(s) in {registry.root}" + (f", {broken} broken" if broken else "") + "\n")
    return 0


def _cell(value: object) -> str:
    # One line per run whatever a name holds: control characters become spaces.
    return "".join(ch if ch.isprintable() else " " for ch in str(value or "-"))
