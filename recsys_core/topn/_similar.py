"""Similar products: the ones whose embeddings point most nearly the same way (cosine).

Reads the run's product vectors alone; the fold-in prior (:mod:`recsys_core.topn._foldin`, built
once per run in 1.4-2 s at 48,769 products) is not needed for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from recsys_core.errors import RecsysError
from recsys_core.topn._products import with_products
from recsys_core.topn._recommend import check_n
from recsys_core.topn._select import select_top

if TYPE_CHECKING:
    from recsys_core.runs import Run


def similar_items(run: Run, item_id: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` products whose embeddings point most nearly the same way as ``item_id``'s.

    Returns
    -------
    pandas.DataFrame
        ``item, similarity`` (cosine in [-1, 1]) (+ ``name, category`` with a product table),
        most similar first (equal similarities: lower product code first), the product itself
        left out.

    Raises
    ------
    RecsysError
        When the run does not know ``item_id``.
    """
    n = check_n(n)
    code = int(run.id_map.items.get_indexer([str(item_id)])[0])
    if code < 0:
        raise RecsysError(
            f"Product {item_id!r} is not in this run's training data, so it has no profile to compare; "
            "pick a product the run was trained on."
        )
    with torch.no_grad():
        q = run.model.item_embedding.weight.detach().float().cpu()
    unit = q / q.norm(dim=1, keepdim=True).clamp(min=1e-12)
    sims = unit @ unit[code]
    sims[code] = -torch.inf
    top, values = select_top(sims.unsqueeze(0), min(n, run.n_items - 1))
    top, values = top[0], values[0]
    codes = top.numpy()
    table = pd.DataFrame(
        {"item": np.asarray(run.id_map.items[codes], dtype=object), "similarity": values.double().numpy()}
    )
    return with_products(run, table, codes)
