"""Resident memory by stage of ``recsys train``, in one process: where the peak is, what precedes it.

Runs the command line in this process with a thread that reads ``VmRSS`` from
``/proc/self/status`` every 50 ms, while the pipeline's steps are wrapped to label the samples
(loading, preparing, the blend's similarity, the trainer's set-up, each epoch and its end,
restoring the best epoch, the blend's weight, evaluation, saving; the similarity is labelled
apart only where it is built before training, for tables of 256 MB or more, not where it runs
beside the trainer). torch's tensors are invisible
to ``tracemalloc``; the resident memory sees everything. Prints, per label in order, its time
span and the memory when it began, its highest and when it ended, then the peak and
``ru_maxrss``. Linux only.

Usage (the arguments are ``recsys``'s)::

    .venv/bin/python benchmarks/memory_stages.py train FILE --preset recommended --epochs 1 \\
        --runs-dir /tmp/runs --quiet

With ``benchmarks/full_size.py --scale 0.25 --workdir DIR``'s file this is how the default
recipe's memory at full size was taken apart (docs/scaling.md, "The default recipe at full size").
"""

from __future__ import annotations

import functools
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLE_SECONDS = 0.05


class Labels:
    """The current stage's label and the samples ``(seconds, bytes, label)`` taken under it."""

    def __init__(self) -> None:
        self.label = "start-up"
        self.samples: list[tuple[float, int, str]] = []
        self.started = time.perf_counter()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            self.samples.append((time.perf_counter() - self.started, _rss(), self.label))
            time.sleep(SAMPLE_SECONDS)

    def wrap(self, owner: object, name: str, label: str) -> None:
        """Label the samples taken while ``owner.name`` runs (and ``label.done`` after it)."""
        function: Callable = getattr(owner, name)

        @functools.wraps(function)
        def labelled(*args, **kwargs):
            self.label = label
            try:
                return function(*args, **kwargs)
            finally:
                self.label = f"{label}.done"

        setattr(owner, name, labelled)

    def report(self) -> None:
        spans: dict[str, list[float]] = {}
        for seconds, rss, label in self.samples:
            span = spans.setdefault(label, [seconds, seconds, rss, rss, rss])
            span[1], span[3], span[4] = seconds, max(span[3], rss), rss
        print(f"{'stage':<20}{'from s':>8}{'to s':>8}{'GB in':>8}{'max':>8}{'out':>8}")
        for label, (start, end, first, peak, last) in spans.items():
            gigabytes = "".join(f"{rss / 1e9:>8.3f}" for rss in (first, peak, last))
            print(f"{label:<20}{start:>8.1f}{end:>8.1f}{gigabytes}")
        seconds, rss, label = max(self.samples, key=lambda sample: sample[1])
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        where = f"at {seconds:.1f} s ({label})"
        print(f"peak sampled {rss / 1e9:.3f} GB {where}; ru_maxrss {maxrss / 1e9:.3f} GB")


def _rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main(argv: list[str]) -> int:
    labels = Labels()
    import recsys_core.data as data
    import recsys_core.pipeline as pipeline
    import recsys_core.runs as runs
    import recsys_core.training._epochs as epochs
    import recsys_core.training._softmax as softmax

    labels.wrap(data, "load_ratings", "load")
    labels.wrap(pipeline, "prepare_data", "prepare")
    labels.wrap(pipeline, "_similarity", "similarity")
    labels.wrap(pipeline, "fit_blend", "blend")
    labels.wrap(pipeline, "evaluate_run", "evaluate")
    labels.wrap(softmax.SoftmaxSteps, "__init__", "steps set-up")
    labels.wrap(softmax.NdcgJudge, "__init__", "judge set-up")
    labels.wrap(softmax.SoftmaxSteps, "epoch", "epoch")
    labels.wrap(epochs.EpochBook, "__init__", "book set-up")
    labels.wrap(epochs.EpochBook, "end_epoch", "end of epoch")
    labels.wrap(epochs.EpochBook, "result", "restore")
    labels.wrap(runs.RunRegistry, "save", "save")
    from recsys_core.cli import main as recsys

    code = recsys(argv)
    labels.label = "end"
    time.sleep(2 * SAMPLE_SECONDS)
    labels.report()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
