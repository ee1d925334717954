# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._files import file_sha256
from ._folder import (
    FORMAT_VERSION,
    MAX_RUN_NAME_BYTES,
    check_run_destination,
    load_run,
    read_run_summary,
    save_run,
)
from ._names import closest_preset, dataset_label, run_name
from ._registry import TEMP_PREFIX, RunRecord, RunRegistry, shared_ladders
from ._run import Run
from ._summary import BlendRecord, DatasetRecord, RunSummary
