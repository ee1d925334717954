# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._files import file_sha256
from ._registry import TEMP_PREFIX, RunRecord, RunRegistry
from ._run import (
    FORMAT_VERSION,
    MAX_RUN_NAME_BYTES,
    Run,
    check_run_destination,
    load_run,
    read_run_summary,
    save_run,
)
from ._summary import BlendRecord, DatasetRecord, RunSummary
