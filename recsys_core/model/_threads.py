"""Run a block of torch work on one CPU thread.

The softmax recipe's work is many small operations: a step multiplies a batch of customers by the
catalogue (128 x 64 by 64 x a few thousand), validation and the test metrics rank blocks of a
thousand customers. At that size torch's intra-op threads cost more in synchronisation than they
save, and on a machine whose cores are busy with anything else (the app's own server, another
job) every operation waits for a descheduled thread: measured on the 2-core machine with another
process running, an epoch of the demo data took 16 s with torch's two threads and 0.2 s with one,
validation 0.4 s against 0.09 s; the test metrics at the seed's shape (20,000 customers ranked
over 48,769 products, load average 3) 16.8 s against 8.6 s. One thread also makes the trained
numbers independent of the machine's core count (a parallel reduction sums in an order that
depends on the threads).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch


class _Pin:
    """How many callers are inside :func:`one_torch_thread`, and the setting to restore.

    Counted, so that nested or concurrent blocks (two training jobs of the app) restore the
    original setting only when the last one leaves.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved = 1


_PIN = _Pin()


@contextmanager
def one_torch_thread(device: torch.device | str = "cpu") -> Iterator[None]:
    """Within the block torch runs its CPU operations on one thread (nothing changes for a CUDA
    ``device``, whose work is on the GPU); the previous thread count is restored after it."""
    if torch.device(device).type != "cpu":
        yield
        return
    with _PIN.lock:
        if _PIN.depth == 0:
            _PIN.saved = torch.get_num_threads()
            torch.set_num_threads(1)
        _PIN.depth += 1
    try:
        yield
    finally:
        with _PIN.lock:
            _PIN.depth -= 1
            if _PIN.depth == 0:
                torch.set_num_threads(_PIN.saved)
