"""A trained run in memory and on disk: :class:`Run` (evaluate, recommend, recommend_new,
similar_items, save), :func:`save_run` / :func:`load_run` (checksummed folder, written atomically,
read with limits before allocating) and the runs folder's index (:class:`RunRegistry`).
"""

import lazy_loader

# Imported on first use (the stub beside this file lists the names), so that `import recsys_core`
# and the app start without torch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
