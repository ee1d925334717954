"""Every customer's top-N, streamed to Parquet: resumable, bounded memory, sharded over ranks.

Customers are cut into *parts* of ``block_users`` consecutive user codes; part ``i`` is computed
by rank ``i % world`` with :class:`~recsys_core.topn.BlockedTopN` and written to a
staging folder beside the output, ``.<name>.parts/``::

    job.json                 what is being computed (a fingerprint of model, exclusions, n, ids)
    part-000012.parquet      rows of part 12 (written to a temporary name, then renamed)
    part-000012.json         {"rows": …, "sha256": …, "users": [start, stop]}: the part is done

A rerun with the same fingerprint keeps every part whose record and checksum agree and
computes only the others; a different job discards the folder. When every part is done, rank 0
concatenates them (in part order, so the file does not depend on the number of ranks) into a
temporary file beside the output, renames it into place and removes the staging folder.

Columns: ``user`` and ``item`` (ids as written, strings), ``rank`` (1 = best, int32) and
``score`` (the model's score in [0, 1], float32).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
import torch

from recsys_core.errors import RecsysError, check_count
from recsys_core.files import Busy, describe_holder, exclusive, file_sha256, replacing, write_json
from recsys_core.limits import MAX_BLOCK_USERS
from recsys_core.topn._blocked import BlockedTopN, sigmoid
from recsys_core.topn._recommend import check_n

if TYPE_CHECKING:
    from recsys_core.runs import Run

#: Customers per part file: the unit of resuming (~10-30 s of work at full size).
BLOCK_USERS = 32_768
JOB_FORMAT = "recsys-topn-parts/1"
SCHEMA = pa.schema(
    [("user", pa.string()), ("rank", pa.int32()), ("item", pa.string()), ("score", pa.float32())]
)

#: ``progress(done, total)``: customers finished by this rank so far, and its share.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BatchResult:
    """What :func:`recommend_all_to_parquet` did (on this rank).

    Attributes
    ----------
    path
        The output file (written by rank 0 only).
    users
        Customers covered by the whole job.
    rows
        Rows in the output (rank 0; ``-1`` on other ranks).
    parts_computed, parts_reused
        This rank's parts computed now and kept from an earlier, interrupted run.
    seconds
        Wall time of this call.
    """

    path: Path
    users: int
    rows: int
    parts_computed: int
    parts_reused: int
    seconds: float


def staging_folder(out_path: Path) -> Path:
    """The hidden folder beside ``out_path`` that holds the finished parts."""
    return out_path.parent / f".{out_path.name}.parts"


def id_array(index: pd.Index) -> pa.Array:
    """An id index as an Arrow string array (zero-copy for Arrow-backed strings)."""
    values = index.array
    if hasattr(values, "__arrow_array__"):
        array = pa.array(values)
    else:
        array = pa.array(np.asarray(index, dtype=object), type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string())


def _fingerprint(
    run: Run, excluded: sp.csr_matrix | None, n: int, block_users: int, users: int, ids: list[pa.Array]
) -> str:
    """Everything the output depends on; a resumed job must match it exactly."""
    digest = hashlib.sha256(f"{JOB_FORMAT} n={n} block={block_users} users={users}".encode())
    for tensor in (
        run.model.user_embedding.weight,
        run.model.user_bias.weight,
        run.model.item_embedding.weight,
        run.model.item_bias.weight,
    ):
        digest.update(np.ascontiguousarray(tensor.detach().cpu().numpy()).data)
    if run.blend is not None:  # the blended lists differ from the model's
        digest.update(f"blend={run.blend.weight!r}".encode())
        digest.update(np.ascontiguousarray(run.blend.similarity.data, dtype=np.float32).data)
    if excluded is not None:
        digest.update(np.ascontiguousarray(excluded.indptr, dtype=np.int64).data)
        digest.update(np.ascontiguousarray(excluded.indices, dtype=np.int32).data)
    for array in ids:
        for buffer in array.buffers():
            if buffer is not None:
                digest.update(buffer)
    return digest.hexdigest()


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _prepare_staging(staging: Path, fingerprint: str) -> None:
    """Create the staging folder, or empty it when it holds another job's parts."""
    job = _read_json(staging / "job.json")
    if job is not None and job.get("fingerprint") == fingerprint:
        return
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    write_json(staging / "job.json", {"format": JOB_FORMAT, "fingerprint": fingerprint})


def _part_done(staging: Path, index: int, check: bool) -> dict | None:
    """The record of a finished part, or ``None`` when it is missing or does not match its file."""
    record = _read_json(staging / f"part-{index:06d}.json")
    data = staging / f"part-{index:06d}.parquet"
    if record is None or not data.is_file():
        return None
    if check and record.get("sha256") != file_sha256(data):
        return None
    return record


class _PartWriter:
    """Turns a part's codes into a Parquet table with string ids (Arrow ``take``, no Python loop)."""

    def __init__(self, ids: list[pa.Array], staging: Path):
        self.staging = staging
        self.users, self.items = ids

    def write(self, index: int, start: int, items: np.ndarray, logits: np.ndarray) -> int:
        rows, ranks = np.nonzero(items >= 0)
        scores = sigmoid(logits[rows, ranks])
        table = pa.table(
            [
                self.users.take(pa.array(rows + start, type=pa.int64())),
                pa.array((ranks + 1).astype(np.int32)),
                self.items.take(pa.array(items[rows, ranks], type=pa.int32())),
                pa.array(scores.astype(np.float32)),
            ],
            schema=SCHEMA,
        )
        data = self.staging / f"part-{index:06d}.parquet"
        with replacing(data) as temporary:
            pq.write_table(table, temporary)
        record = {"rows": len(rows), "sha256": file_sha256(data), "users": [start, start + len(items)]}
        write_json(self.staging / f"part-{index:06d}.json", record)
        return len(rows)


def _assemble(staging: Path, out_path: Path, n_parts: int, metadata: dict) -> int:
    """Concatenate the checked parts into ``out_path`` atomically; returns the row count."""
    schema = SCHEMA.with_metadata({"recsys": json.dumps(metadata)})
    total = 0
    with replacing(out_path) as temporary, pq.ParquetWriter(temporary, schema) as writer:
        for index in range(n_parts):
            record = _part_done(staging, index, check=True)
            if record is None:
                raise RecsysError(
                    f"Part {index} in {staging} is missing or damaged; rerun the same command to redo it."
                )
            table = pq.read_table(staging / f"part-{index:06d}.parquet")
            if table.num_rows != record["rows"]:
                raise RecsysError(f"Part {index} in {staging} has the wrong number of rows; rerun.")
            writer.write_table(table.replace_schema_metadata(schema.metadata))
            total += table.num_rows
    shutil.rmtree(staging, ignore_errors=True)
    return total


def check_output(out_path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """``out_path`` as a Path, after checking that it is a ``.parquet`` name, that it does not
    exist (unless ``overwrite``) and that its folder exists and can be written."""
    path = Path(out_path)
    if path.is_dir():
        raise RecsysError(f"The output {path} is a folder; give a file name such as {path / 'top.parquet'}.")
    if path.suffix.lower() != ".parquet":
        raise RecsysError(
            f"The output {path} must be a .parquet file (everyone's lists are written as Parquet); "
            f"choose a name such as {path.with_suffix('.parquet').name}."
        )
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise RecsysError(
            f"The output {path} already exists; choose another --out, or add --overwrite to replace it."
        )
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise RecsysError(f"The output folder {folder} is a file, not a folder; choose another --out.")
    if not folder.is_dir():
        raise RecsysError(f"The output folder {folder} does not exist; create it or choose another --out.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RecsysError(f"The output folder {folder} cannot be written; choose another --out.")
    return path


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            raise RecsysError(
                "Sharding over ranks needs a torch.distributed process group (start with torchrun)."
            )
        dist.barrier()


def recommend_all_to_parquet(  # noqa: PLR0913 - every option after n is keyword-only
    run: Run,
    out_path: str | os.PathLike[str],
    n: int = 10,
    *,
    exclude_seen: bool = True,
    block_users: int = BLOCK_USERS,
    threads: int | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
    shard: tuple[int, int] = (0, 1),
    max_users: int | None = None,
    overwrite: bool = False,
) -> BatchResult:
    """Write the exact top-``n`` products of every customer to ``out_path`` (Parquet).

    Parameters
    ----------
    run
        A trained or loaded run.
    out_path
        The Parquet file to create (replaced atomically when it exists).
    n
        Products per customer (fewer for customers with fewer unseen products; none for those
        who have seen everything).
    exclude_seen
        Leave out each customer's train + validation products (as :func:`recommend` does).
    block_users
        Customers per part file, the unit of resuming; part boundaries do not change the result.
    threads
        Worker threads scoring blocks side by side (each with single-threaded torch ops);
        ``None``: as many as torch's current thread count (all cores by default).
    device
        ``"cpu"`` or ``"cuda"``: where the matrix products and the selection run.
    progress
        ``progress(done, total)`` after every block of customers this rank scores. An exception
        raised in it stops the job; the finished parts stay for a rerun.
    shard
        ``(rank, world)``: this process's share of a sharded job (rank ``r`` computes parts
        ``r, r + world, …``); needs a ``torch.distributed`` process group when ``world > 1``.
        Rank 0 writes the file.
    max_users
        Only the first ``max_users`` customers (previews and benchmarks).
    overwrite
        Replace ``out_path`` when it exists (else that is refused, before any work).

    Raises
    ------
    RecsysError
        A bad setting or output name, an existing output without ``overwrite``, another process
        writing the same output (it is named), or a full disk (the finished parts are kept).
    """
    start_time = time.perf_counter()
    rank, world = shard
    n = check_n(n)
    block_users = check_count(block_users, "block_users", most=MAX_BLOCK_USERS)
    out = check_output(out_path, overwrite)
    users = run.n_users if max_users is None else max(0, min(int(max_users), run.n_users))
    excluded = run.seen_matrix() if exclude_seen else None
    staging = staging_folder(out)
    ids = [id_array(run.id_map.users), id_array(run.id_map.items)]
    fingerprint = _fingerprint(run, excluded, n, block_users, users, ids)
    with _claimed(out, fingerprint) if rank == 0 else contextlib.nullcontext():
        _barrier(world)
        n_parts = -(-users // block_users)
        mine = range(rank, n_parts, world)
        scorer_args = (run, excluded, n, device)
        try:
            computed, reused = _score_parts(
                scorer_args, staging, ids, mine, block_users, users, threads, progress
            )
            _barrier(world)
            rows = -1
            if rank == 0:
                metadata = {"run": run.name, "n": n, "exclude_seen": exclude_seen, "users": users}
                rows = _assemble(staging, out, n_parts, metadata)
        except OSError as exc:
            raise _write_failed(exc, out, staging) from exc
    return BatchResult(out, users, rows, computed, reused, time.perf_counter() - start_time)


@contextlib.contextmanager
def _claimed(out: Path, fingerprint: str) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``out`` (a second writer of the same file is refused, named)
    with the staging folder ready for the job ``fingerprint``; rank 0 speaks for its job."""
    try:
        with exclusive(out.parent / f".{out.name}.lock"):
            _prepare_staging(staging_folder(out), fingerprint)
            yield
    except Busy as busy:
        who = describe_holder(busy.holder)
        raise RecsysError(
            f"{who[:1].upper()}{who[1:]} is already writing everyone's lists to {out}; "
            "wait for it to finish (or stop it), or choose another --out."
        ) from None
    except OSError as exc:
        raise RecsysError(f"Cannot write beside the output {out} ({exc.strerror or exc}).") from exc


def _write_failed(exc: OSError, out: Path, staging: Path) -> RecsysError:
    """A plain message for a write that failed (a full disk, a quota), saying what is kept."""
    kept = len(list(staging.glob("part-*.json"))) if staging.is_dir() else 0
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        what = f"the disk is full ({reason})"
        fix = "free some space (the file needs about as much again as the parts)"
    else:
        what = f"a file could not be written ({reason})"
        fix = "fix the cause"
    return RecsysError(
        f"Writing everyone's lists to {out} stopped: {what}. The {kept:,} finished part(s) are kept in "
        f"{staging}; {fix} and rerun the same command to resume from them."
    )


def _score_parts(
    scorer_args: tuple[Run, sp.csr_matrix | None, int, str],
    staging: Path,
    ids: list[pa.Array],
    parts: range,
    block_users: int,
    users: int,
    threads: int | None,
    progress: Progress | None,
) -> tuple[int, int]:
    """Score and write this rank's parts, keeping the ones already finished: (computed, reused)."""
    total = sum(min(block_users, users - i * block_users) for i in parts)
    done = computed = reused = 0
    old_threads = torch.get_num_threads()
    workers = int(threads) if threads else old_threads
    torch.set_num_threads(1)  # parallel over blocks instead (see BlockedTopN's workers)
    try:
        run, excluded, n, device = scorer_args
        # The kNN term always reads the seen history, even when seen products are not excluded.
        history = run.seen_matrix() if run.blend is not None else None
        scorer = BlockedTopN(
            run.model, excluded, n, device=device, workers=workers, blend=run.blend, history=history
        )
        writer = _PartWriter(ids, staging)

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        for index in parts:
            lo, hi = index * block_users, min((index + 1) * block_users, users)
            if _part_done(staging, index, check=True) is not None:
                reused += 1
                advance(hi - lo)
                continue
            items, logits = scorer.top(lo, hi, on_rows=advance)
            writer.write(index, lo, items, logits)
            computed += 1
    finally:
        torch.set_num_threads(old_threads)
    return computed, reused
