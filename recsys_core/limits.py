"""Every upper bound on a count a person can type, in one place.

Each bound is far above any useful value and low enough that a typo (``--k 100000000``,
``--n-boot 1e9``, ``--seeds 30000000``) is refused at once, before any work, with a message
naming it (:func:`recsys_core.errors.check_count` with ``most=``), instead of asking for
gigabytes or running for days. The command line, the app and the library's public functions read
them from here; ``recsys --help`` and the README list them. Nothing here imports anything.

=========================  =================================================================
bound                      where it is checked
=========================  =================================================================
``MAX_RECOMMENDATIONS``    ``recommend -n``, ``similar -n``, visitors, everyone's lists, the app
``MAX_LIST_LENGTH``        ``evaluate --k``, ``compare --k``, ranking metrics, the baselines
``MAX_RANKED_USERS``       ``evaluate --max-users``, ``compare --max-users``
``MAX_LIST_CELLS``         customers ranked x list length, in ``evaluate`` and ``compare``
``MAX_BOOTSTRAP``          ``compare --n-boot``, :func:`~recsys_core.metrics.compare_runs`
``MAX_RESAMPLE_SEED``      ``compare --seed``
``MAX_SWEEP_SEEDS``        ``sweep --seeds``, the sweeps' seeds, the app's sweep
``MAX_SWEEP_SETTINGS``     ``sweep --multipliers`` / ``--scale``: values per sweep
``MAX_SWEEP_RUNS``         settings x seeds of one sweep
``MAX_BLOCK_USERS``        ``recommend --all-users --block-users``
``MAX_MIN_RATINGS``        ``inspect --min-user-ratings`` / ``--min-item-ratings``, the Data page
``MAX_DEMO_*``             ``demo-data --users / --items / --ratings``
training settings          ``train``/``sweep`` ``--epochs --dim --batch-size --negatives
                           --neighbours --seed`` and multipliers (:class:`~recsys_core.config.TrainConfig`)
=========================  =================================================================
"""

from __future__ import annotations

#: Products in one list: ``recommend -n``, ``similar -n``, visitors, everyone's lists.
MAX_RECOMMENDATIONS = 1000
#: ``k`` of the ranking metrics and of ``compare`` (lists of ``users x k`` codes are held).
MAX_LIST_LENGTH = 1000
#: Test customers ranked by ``evaluate`` and ``compare`` (``--max-users``).
MAX_RANKED_USERS = 10_000_000
#: Customers x list length of the lists held at once by ``evaluate`` and ``compare`` (8 bytes
#: each): a large ``--max-users`` times a large ``--k`` is refused before the lists are made.
MAX_LIST_CELLS = 500_000_000
#: Bootstrap replicates of ``compare`` (each one resamples every customer).
MAX_BOOTSTRAP = 10_000
#: Seed of ``compare``'s resampling (numpy takes any size; this keeps ``seed + 2`` an int64).
MAX_RESAMPLE_SEED = 2**32 - 1
#: Seeds per setting of a sweep (one training run each).
MAX_SWEEP_SEEDS = 100
#: Multipliers (``--multipliers``) or recipe scales (``--scale``) of one sweep.
MAX_SWEEP_SETTINGS = 100
#: Training runs of one sweep: settings x seeds.
MAX_SWEEP_RUNS = 1000
#: Customers per part file of everyone's lists (``--block-users``).
MAX_BLOCK_USERS = 1 << 22
#: k-core minimums (ratings per customer or product) when loading.
MAX_MIN_RATINGS = 2**31 - 1
#: Sizes of the generated demo shop (``demo-data``).
MAX_DEMO_USERS = 10_000_000
MAX_DEMO_ITEMS = 1_000_000
MAX_DEMO_RATINGS = 100_000_000

#: Bounds of the training settings (:meth:`~recsys_core.config.TrainConfig.validate`).
MAX_EMBEDDING_DIM = 4096
MAX_BATCH_SIZE = 1_000_000
MAX_EPOCHS = 10_000
MAX_NEGATIVES = 1000
MAX_SEED = 2**32 - 1
MAX_MULTIPLIER = 1000.0
#: Most neighbours kept per product by the item-kNN blend, and the largest shrink.
MAX_NEIGHBOURS = 100_000
MAX_NEIGHBOUR_SHRINK = 1e6
#: Most training rows after oversampling (checked once the class counts are known).
MAX_OVERSAMPLED_ROWS = 200_000_000


def bounds() -> dict[str, int | float]:
    """Every bound of this module by name (for ``--help`` texts, the README and tests)."""
    return {name: value for name, value in globals().items() if name.startswith("MAX_")}
