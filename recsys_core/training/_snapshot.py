"""The best epoch's parameters, kept until training ends: in memory, or on disk when large.

At full Amazon size one copy of the tables is 1.2 GB (embedding 64), a fifth of the default
recipe's memory budget, and it is read back only when a later epoch turns out worse. Above
:data:`SPILL_BYTES` a snapshot of CPU tensors is therefore written to an unnamed temporary file
(in ``tempfile.gettempdir()``, so ``TMPDIR`` moves it; deleted when closed, also on a crash)
and read back into the model's own tensors: the same bytes, no copy in memory. Plain writes
and reads, not a memory map, whose pages would count towards the process's resident memory.
"""

from __future__ import annotations

import tempfile
from typing import BinaryIO

import torch

#: Snapshots of at least this many bytes of CPU tensors are kept on disk (writing 1.2 GB takes
#: a second or two, against minutes per epoch at that size); smaller ones stay in memory.
SPILL_BYTES = 256 * 1024 * 1024


def _as_bytes(tensor: torch.Tensor) -> memoryview:
    """The tensor's memory as bytes (no copy: the tensor must be contiguous, on the CPU)."""
    return memoryview(tensor.reshape(-1).view(torch.uint8).numpy())


def _spillable(state: dict[str, torch.Tensor]) -> bool:
    return all(t.device.type == "cpu" and t.is_contiguous() for t in state.values())


class Snapshot:
    """A copy of a model's parameters (``state_dict``), taken and restored in place.

    Parameters
    ----------
    spill_bytes
        Snapshots of CPU tensors at least this large go to a temporary file; ``None``:
        :data:`SPILL_BYTES`.
    """

    def __init__(self, spill_bytes: int | None = None):
        self.spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        self.tensors: dict[str, torch.Tensor] | None = None
        self.file: BinaryIO | None = None
        #: The spilled tensors' names, shapes and dtypes, in the file's order.
        self.layout: list[tuple[str, torch.Size, torch.dtype]] = []

    @property
    def on_disk(self) -> bool:
        """Whether the copy lies in a temporary file."""
        return self.file is not None

    @property
    def taken(self) -> bool:
        """Whether there is a copy to restore."""
        return self.file is not None or self.tensors is not None

    def take(self, model: torch.nn.Module) -> None:
        """Copy ``model``'s parameters, over the last copy (never two copies at once)."""
        state = {name: tensor.detach() for name, tensor in model.state_dict().items()}
        size = sum(t.numel() * t.element_size() for t in state.values())
        if size >= self.spill_bytes and _spillable(state):
            self.tensors = None
            self._write(state)
        else:
            self.close()
            self.tensors = _copy_into(state, self.tensors)

    def restore(self, model: torch.nn.Module) -> None:
        """Put the copied parameters back into ``model`` (which must have the same tensors)."""
        if self.tensors is not None:
            model.load_state_dict(self.tensors)
            return
        if self.file is None:
            raise RuntimeError("No snapshot was taken.")
        state = model.state_dict()
        wanted = [(name, tensor.shape, tensor.dtype) for name, tensor in state.items()]
        if wanted != self.layout or not _spillable(state):
            raise RuntimeError("The model's parameters no longer match the snapshot's.")
        self.file.seek(0)
        with torch.no_grad():
            for tensor in state.values():
                _read_exactly(self.file, _as_bytes(tensor))

    def close(self) -> None:
        """Drop the copy (and its file)."""
        if self.file is not None:
            self.file.close()
            self.file = None
        self.layout = []
        self.tensors = None

    def _write(self, state: dict[str, torch.Tensor]) -> None:
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="recsys-best-epoch-", buffering=0)  # noqa: SIM115
        self.file.seek(0)
        for tensor in state.values():
            view = _as_bytes(tensor)
            while len(view):  # a write may be partial (Linux writes at most ~2 GB per call)
                view = view[self.file.write(view) :]
        self.file.truncate()
        self.layout = [(name, tensor.shape, tensor.dtype) for name, tensor in state.items()]


def _copy_into(
    state: dict[str, torch.Tensor], into: dict[str, torch.Tensor] | None
) -> dict[str, torch.Tensor]:
    """A copy of ``state``; written into ``into`` when it has the same tensors, so a new best
    epoch does not hold two copies of the tables at once."""
    if into is None or into.keys() != state.keys():
        return {name: tensor.clone() for name, tensor in state.items()}
    for name, tensor in state.items():
        kept = into[name]
        if kept.shape != tensor.shape or kept.dtype != tensor.dtype or kept.device != tensor.device:
            into[name] = tensor.clone()
        else:
            kept.copy_(tensor)
    return into


def _read_exactly(file: BinaryIO, view: memoryview) -> None:
    while len(view):
        got = file.readinto(view)
        if not got:
            raise RuntimeError("The snapshot's file ended early.")
        view = view[got:]
