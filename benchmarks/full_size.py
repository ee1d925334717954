"""Full Amazon Electronics size on one machine: 7.8 million ratings, 4.2 million users.

1. Writes a raw-format ratings file (no header, unix seconds) of the full dataset's size with
   the demo generator (cached in ``--workdir``; about 25 s and 320 MB).
2. Runs ``recsys train FILE --preset PRESET --epochs N --runs-dir RUNS`` (``--preset``, default
   ``fast``; ``--epochs``, default 1) in a child process and
   prints its wall time per stage (the CLI's ``stages:`` line: load, split, rebalance, train
   epoch, blend, evaluate, save), each stage's peak resident memory (``VmRSS`` of the child,
   sampled every 0.2 s) and its peak memory (the child's ``ru_maxrss``), which must stay
   within 6 GB (issue 21).
3. Loads the saved run and computes everyone's top-10 with
   :func:`recsys_core.topn.recommend_all` (bounded memory, one chunk of users at a time):
   a fixed number of chunks is timed (``--rec-chunks``; ``0`` does them all) and the rate
   and the projected time for every user are printed, with this process's peak memory.
4. Prints what the embedding size means for memory at this scale: the BCE trainer holds each
   table up to four times in memory (the model's parameters, the kernel's packed parameter +
   Adam m + v), the softmax trainer three (the parameters, Adam m + v); the best epoch's
   snapshot lies on disk above 256 MB (``recsys_core/training/_snapshot.py``).

Usage::

    .venv/bin/python benchmarks/full_size.py                        # full size
    .venv/bin/python benchmarks/full_size.py --scale 0.1             # a tenth, for a quick look
    .venv/bin/python benchmarks/full_size.py --preset recommended    # the default recipe, one epoch
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys_core.config import TrainConfig  # noqa: E402
from recsys_core.data import write_demo_csv  # noqa: E402

USERS, ITEMS, RATINGS = 4_200_000, 476_000, 7_800_000
MEMORY_LIMIT_GB = 6.0
#: How often the child's resident memory is read (per-stage peaks).
SAMPLE_SECONDS = 0.2
#: Copies of each embedding table in memory while training on CPU: the model's parameters and
#: the numba kernel's packed (parameter, m, v); the best epoch's snapshot lies on disk.
TRAINING_COPIES = 4


def gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.2f} GB"


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def make_file(workdir: Path, scale: float) -> Path:
    users, items, ratings = (max(1, round(n * scale)) for n in (USERS, ITEMS, RATINGS))
    path = workdir / f"amazon_size_{ratings}.csv"
    if path.exists():
        print(f"ratings file: {path} (cached, {path.stat().st_size / 1e6:,.0f} MB)")
        return path
    started = time.perf_counter()
    write_demo_csv(path, n_users=users, n_items=items, n_ratings=ratings, raw=True)
    print(
        f"ratings file: wrote {ratings:,} ratings ({users:,} users, {items:,} products) to {path} "
        f"in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:,.0f} MB)"
    )
    return path


class RssSampler:
    """The child's resident memory (``VmRSS``), read from ``/proc`` every :data:`SAMPLE_SECONDS`
    on a thread: which stage holds the peak, which ``ru_maxrss`` alone does not say."""

    def __init__(self, pid: int):
        self.pid, self.samples = pid, []  # (perf_counter, bytes)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while True:
            try:
                text = status.read_text()
            except OSError:
                return  # the child is gone
            found = re.search(r"VmRSS:\s+(\d+) kB", text)
            if found is None:
                return  # a zombie: it has exited
            self.samples.append((time.perf_counter(), int(found.group(1)) * 1024))
            time.sleep(SAMPLE_SECONDS)

    def peak_between(self, start: float, end: float) -> str:
        """The highest sample in ``[start, end]``; ``-`` when the window held none."""
        peak = max((rss for t, rss in self.samples if start <= t <= end), default=0)
        return gb(peak) if peak else "-"


def train(path: Path, runs: Path, preset: str, epochs: int) -> Path:
    """Run the CLI in a child; print its output, stage times, each stage's peak resident memory
    and the child's peak memory; return the run."""
    command = [
        sys.executable, "-m", "recsys_core.cli", "train", str(path), "--preset", preset,
        "--epochs", str(epochs), "--runs-dir", str(runs), "--quiet",
    ]  # fmt: skip
    print("$ " + " ".join(command[1:]), flush=True)
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    sampler = RssSampler(child.pid)
    lines, saved_at = [], started
    for line in child.stdout or ():
        lines.append(line.rstrip("\n"))
        if line.startswith("saved the run to"):
            saved_at = time.perf_counter()
    output = "\n".join(lines)
    _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    for line in lines:
        print(f"  | {line}")
    if code != 0:
        raise SystemExit(f"recsys train failed with exit status {code}")
    peak = usage.ru_maxrss * 1024  # kilobytes on Linux
    stages = dict(re.findall(r"(\w+) ([\d.]+) s", output.split("stages:", 1)[1].splitlines()[0]))
    print(f"train command: {wall:.1f} s wall in all (with Python start-up and imports)")
    # The stages ran one after another, the last ending when the run was saved: each one's
    # window holds its samples. Those before training are laid out from the start, those after
    # it back from the end, so the moments between stages shift no window by more than their own.
    in_all = float(re.search(r"\(([\d.]+) s in all\)", output).group(1))
    names, seconds = list(stages), [float(v) for v in stages.values()]
    split = names.index("train") if "train" in names else len(names)
    starts = [saved_at - in_all + sum(seconds[:i]) for i in range(split)]
    starts += [saved_at - sum(seconds[i:]) for i in range(split, len(names))]
    print("  stage        seconds   peak RSS")
    print(f"  {'(start-up)':<12} {'':>7} {sampler.peak_between(started, saved_at - in_all):>10}")
    for i, name in enumerate(names):
        end = starts[i + 1] if i + 1 < len(names) else saved_at
        print(f"  {name:<12} {seconds[i]:>7.1f} {sampler.peak_between(starts[i], end):>10}")
    verdict = "within" if peak <= MEMORY_LIMIT_GB * 1e9 else "OVER"
    print(f"  peak memory (ru_maxrss of the child): {gb(peak)}, {verdict} the {MEMORY_LIMIT_GB:g} GB budget")
    saved = re.search(r"saved the run to (.+) \(", output)
    if not saved:
        raise SystemExit("could not find the saved run's folder in the output")
    return Path(saved.group(1))


def recommend_everyone(run_dir: Path, chunks: int, chunk_size: int) -> tuple[int, int]:
    """Time ``recommend_all`` over ``chunks`` chunks; return the run's (users, products)."""
    from recsys_core.runs import load_run
    from recsys_core.topn import effective_chunk, recommend_all

    started = time.perf_counter()
    run = load_run(run_dir)
    loaded = time.perf_counter() - started
    step = effective_chunk(chunk_size, run.n_items)
    total_chunks = -(-run.n_users // step)
    todo = total_chunks if chunks <= 0 else min(chunks, total_chunks)
    print(
        f"top-10 for everyone: run loaded in {loaded:.1f} s; {run.n_users:,} users x {run.n_items:,} "
        f"products, "
        f"{step:,} users per chunk (at most {step * run.n_items * 4 / 1e6:,.0f} MB of scores), "
        f"{total_chunks:,} chunks; timing {todo:,}"
    )
    generator = recommend_all(run, n=10, chunk_size=chunk_size)
    first = time.perf_counter()
    next(generator)  # builds the seen-pairs matrix once: timed apart
    setup = time.perf_counter() - first
    users, rows = step, 0
    started = time.perf_counter()
    for _ in range(todo - 1):
        frame = next(generator)
        rows += len(frame)
        users += step
    seconds = time.perf_counter() - started
    users = min(users, run.n_users)
    rate = (users - step) / seconds if seconds > 0 else float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"  first chunk (with building the seen matrix) {setup:.1f} s; then {users - step:,} users in "
        f"{seconds:.1f} s = {rate:,.0f} users/s ({rows:,} recommendations)"
    )
    if todo >= total_chunks:
        print(f"  all {run.n_users:,} users done")
    elif rate > 0:
        print(
            f"  projected for all {run.n_users:,} users: {run.n_users / rate / 60:,.1f} min "
            f"(measured on {todo:,} of {total_chunks:,} chunks, not run to the end)"
        )
    else:
        print("  no rate: only the first chunk was timed (--rec-chunks 2 or more for one)")
    print(f"  peak memory of this process (loading the run and recommending): {gb(peak)}")
    return run.n_users, run.n_items


def memory_table(n_users: int, n_items: int) -> None:
    fast = TrainConfig.preset("fast").embedding_dim
    print(
        f"embedding memory at {n_users:,} users + {n_items:,} products "
        f"(float32; x{TRAINING_COPIES} while training: model, packed param + Adam m + v):"
    )
    for dim in sorted({fast, 32, 64, 200}):
        one = (n_users + n_items) * (dim + 1) * 4  # + 1: the bias
        label = " (fast preset)" if dim == fast else " (notebook)" if dim == 200 else ""
        print(f"  dim {dim:>3}{label:<15} one copy {gb(one):>9}, training {gb(one * TRAINING_COPIES):>9}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument("--workdir", help="where the ratings file and the run go (default: a temp folder)")
    parser.add_argument("--rec-chunks", type=int, default=300, help="chunks of users to time (0: all)")
    parser.add_argument("--chunk-size", type=int, default=4096, help="recommend_all's chunk_size")
    parser.add_argument("--preset", default="fast", help="the recipe to train (fast, recommended, ...)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs to train (each one's time is printed)")
    args = parser.parse_args(argv)

    print(f"{load()}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="recsys-full-size-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        path = make_file(workdir, args.scale)
        run_dir = train(path, workdir / "runs", args.preset, args.epochs)
        print(load())
        memory_table(*recommend_everyone(run_dir, args.rec_chunks, args.chunk_size))
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
