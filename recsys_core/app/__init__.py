"""The presentation layer, imported only by the Streamlit app and the command line: ``views``
(what the pages show, as plain data), background jobs (training, sweeps) and the board that holds
the server's running one, uploads kept on disk, and formula-safe CSV exports.
"""

from recsys_core.app._board import JobBoard
from recsys_core.app._jobs import Job, TrainingJob
from recsys_core.app._ladder_warm import fit_in_background, warm_ladder
from recsys_core.app._safety import FORMULA_PREFIXES, neutralise_csv_cells, to_safe_csv
from recsys_core.app._sweep_job import SweepJob
from recsys_core.app._uploads import UploadStore, digest

__all__ = [
    "FORMULA_PREFIXES",
    "Job",
    "JobBoard",
    "SweepJob",
    "TrainingJob",
    "UploadStore",
    "digest",
    "fit_in_background",
    "neutralise_csv_cells",
    "to_safe_csv",
    "warm_ladder",
]
