"""Classical top-k baselines fitted on the training split: the ladder the model has to climb.

Most popular < item-kNN < EASE / iALS on binary implicit feedback (every observed rating is an
interaction). Each is a :class:`Scorer` (``fit(train) -> self``, ``score(users) -> float32
block``); :func:`top_k_scored` masks seen items and takes the top k with the contract of
``recsys_core.topn.top_unseen``; :func:`tune` picks hyper-parameters on validation.
"""

import lazy_loader

# Imported on first use (the stub beside this file lists the names), so that `import recsys_core`
# and the app start without torch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
