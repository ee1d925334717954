"""How good a run is: classification metrics next to the trivial baseline, every ranking metric
from ONE per-user hit/NDCG kernel with its standard error, beyond-accuracy measures, and run
diffs with a paired bootstrap (:func:`compare_runs`). :func:`evaluate_run` scores a run's test split.
"""

import lazy_loader

# Imported on first use (the stub beside this file lists the names), so that `import recsys_core`
# and the app start without torch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
