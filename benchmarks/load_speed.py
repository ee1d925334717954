"""How fast, and in how much memory, does ``load_ratings`` read the full raw Amazon file?

The raw ``ratings_Electronics.csv`` has 7.8 million rows, no header, ``user,item,rating,unix
seconds``, 14-character user IDs and 10-character product IDs. This script writes a file of the
same shape into a temporary folder, loads it with :func:`recsys_core.data.ratings.load_ratings` in a
fresh Python process and prints the wall time of the load and that process's peak resident
memory (``ru_maxrss``; it includes the interpreter and the imported libraries).

The target on the 2-core development machine is at most 20 s and 3 GB.

Usage::

    .venv/bin/python benchmarks/load_speed.py              # 7.8 million rows
    .venv/bin/python benchmarks/load_speed.py --rows 500000
    .venv/bin/python benchmarks/load_speed.py --keep /tmp/raw.csv   # also keep the file
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The raw Amazon Electronics file: rows, users and products.
FULL_ROWS = 7_824_482
USERS_PER_ROW = 4_201_696 / FULL_ROWS
ITEMS_PER_ROW = 476_002 / FULL_ROWS
#: Star shares of the reference notebook's training split (1★ … 5★).
STAR_SHARES = np.array([0.058, 0.047, 0.085, 0.212, 0.598])

# Runs in the child process: only the load is timed; ru_maxrss is the child's own peak.
_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from recsys_core.data.ratings import load_ratings
start = time.perf_counter()
ratings = load_ratings({path!r})
seconds = time.perf_counter() - start
summary = ratings.summary()
print(json.dumps({{
    "seconds": seconds,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rows": summary["rows"], "users": summary["users"], "items": summary["items"],
    "duplicates_dropped": summary["duplicates_dropped"],
}}))
"""


def _random_ids(rng: np.random.Generator, n: int, prefix: bytes, alphabet: bytes, width: int) -> pa.Array:
    """``n`` fixed-width string IDs ``prefix + random characters``, built without a Python loop."""
    chars = np.frombuffer(alphabet, dtype=np.uint8)
    body = chars[rng.integers(0, len(chars), size=(n, width - len(prefix)))]
    head = np.broadcast_to(np.frombuffer(prefix, dtype=np.uint8), (n, len(prefix)))
    data = np.ascontiguousarray(np.hstack([head, body]))
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def write_amazon_like_csv(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write an Amazon-shaped raw ratings file: no header, ``user,item,rating,unix seconds``.

    Users and products are drawn from heavy-tailed popularity weights, as in the real file
    (most users rate once, a few products collect thousands of ratings). 15 % of product IDs
    are ISBN-like digits that start with ``0`` so that a loader parsing IDs as numbers would
    visibly corrupt them.
    """
    rng = np.random.default_rng(seed)
    n_users = max(2, round(n_rows * USERS_PER_ROW))
    n_items = max(2, round(n_rows * ITEMS_PER_ROW))
    upper = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    users = _random_ids(rng, n_users, b"A", upper, 14)
    n_isbn = n_items * 15 // 100
    items = pa.concat_arrays(
        [
            _random_ids(rng, n_isbn, b"0", b"0123456789", 10),
            _random_ids(rng, n_items - n_isbn, b"B00", upper, 10),
        ]
    )
    user_weights = rng.pareto(3.0, n_users) + 1.0
    item_weights = rng.pareto(1.6, n_items) + 1.0
    user_rows = rng.choice(n_users, size=n_rows, p=user_weights / user_weights.sum())
    item_rows = rng.choice(n_items, size=n_rows, p=item_weights / item_weights.sum())
    stars = pa.array(["1.0", "2.0", "3.0", "4.0", "5.0"])
    star_rows = rng.choice(5, size=n_rows, p=STAR_SHARES / STAR_SHARES.sum())
    day = 86_400
    first, last = 883_612_800 // day, 1_406_073_600 // day  # 1998-01-01 … 2014-07-23
    seconds = rng.integers(first, last + 1, size=n_rows, dtype=np.int64) * day
    table = pa.table(
        {
            "user": users.take(pa.array(user_rows)),
            "item": items.take(pa.array(item_rows)),
            "rating": stars.take(pa.array(star_rows)),
            "timestamp": pa.array(seconds),
        }
    )
    pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=False, quoting_style="none"))


def write_file(path: Path, n_rows: int) -> str:
    """Write the benchmark file, with the demo generator when it offers the raw layout."""
    try:
        from recsys_core.data import write_demo_csv
    except ImportError:
        write_demo_csv = None
    if write_demo_csv is not None:
        try:
            write_demo_csv(
                path,
                n_users=max(2, round(n_rows * USERS_PER_ROW)),
                n_items=max(2, round(n_rows * ITEMS_PER_ROW)),
                n_ratings=n_rows,
                seed=0,
                raw=True,
            )
            return "recsys_core.data._demo.write_demo_csv(raw=True)"
        except TypeError:  # an older signature without these keywords
            pass
    write_amazon_like_csv(path, n_rows)
    return "benchmarks/load_speed.py write_amazon_like_csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="rows to generate (default: 7.8 M)")
    parser.add_argument("--keep", type=Path, help="copy the generated file here")
    parser.add_argument("--file", type=Path, help="load this existing file instead of generating one")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        if args.file:
            path, origin = args.file, "given file"
        else:
            path = Path(tmp) / "ratings_raw.csv"
            start = time.perf_counter()
            origin = write_file(path, args.rows)
            print(f"wrote {args.rows:,} rows with {origin} in {time.perf_counter() - start:.1f} s")
            if args.keep:
                shutil.copyfile(path, args.keep)
        print(f"file: {path} ({path.stat().st_size / 1e6:,.0f} MB)")
        child = subprocess.run(
            [sys.executable, "-c", _CHILD.format(root=str(ROOT), path=str(path))],
            capture_output=True,
            text=True,
            check=False,
        )
    if child.returncode != 0:
        print(child.stdout + child.stderr, file=sys.stderr)
        return 1
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"loaded {result['rows']:,} ratings ({result['users']:,} users, {result['items']:,} products, "
        f"{result['duplicates_dropped']:,} duplicate pairs dropped)"
    )
    print(f"load_ratings wall time: {result['seconds']:.2f} s   (target <= 20 s)")
    print(
        f"peak memory (ru_maxrss of the loading process): {result['peak_rss_mb']:,.0f} MB"
        "   (target <= 3,000 MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
