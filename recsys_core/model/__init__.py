"""What scores a (customer, product) pair: :class:`NCF` (embeddings + biases, dot → sigmoid), the
item-kNN :class:`Blend` added to its logits wherever a top-N is ranked, and the objectives'
constants that training and fold-in share, and :func:`one_torch_thread` for the many small torch
operations of training and ranking.
"""

import lazy_loader

# Imported on first use (the stub beside this file lists the names), so that `import recsys_core`
# and the app start without torch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
