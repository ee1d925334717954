"""Top-N lists: the one selection (:func:`select_top`, never sorts the catalogue), one customer's
list (:func:`recommend`), everyone's lists in blocks streamed to Parquet
(:func:`recommend_all_to_parquet`), visitors folded in without retraining
(:func:`recommend_visitors`, :func:`explain_user`) and similar products (:func:`similar_items`).
"""

import lazy_loader

# Imported on first use (the stub beside this file lists the names), so that `import recsys_core`
# and the app start without torch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
