"""The rating head of the ``hybrid`` objective, fitted by Newton steps after every epoch."""

from __future__ import annotations

import numpy as np
import torch

from recsys_core.data import as_codes
from recsys_core.errors import RecsysError, plain
from recsys_core.model import NCF

#: so 0.3 weighs about as much as one rating: a user or product with few ratings stays near the
#: average. Chosen from 0.1, 0.3 and 1 (docs/objectives.md).
RATING_HEAD_L2 = 0.3
#: Newton rounds of :func:`fit_rating_head` after each epoch. On the dense Amazon sample the test
#: AUC settles within 0.001 after 3 rounds from scratch; converging fully would cost as much as
#: the epoch itself in late epochs, for no measurable gain.
HEAD_ROUNDS_PER_EPOCH = 5


@torch.no_grad()
def fit_rating_head(
    model: NCF,
    users: np.ndarray,
    items: np.ndarray,
    targets: np.ndarray,
    *,
    l2: float = RATING_HEAD_L2,
    max_rounds: int = 50,
    tol: float = 1e-2,
) -> int:
    """Fit the model's rating head to observed ratings, leaving the trained parameters alone.

    The head predicts ``sigmoid(a * <p_u, q_i> + c_u + c_i)`` (see
    :meth:`~recsys_core.model.NCF.add_rating_head`, added here if missing): the shared
    embeddings' agreement, scaled by one number ``a``, plus a rating bias per user and per
    product. It minimises the BCE to the scaled ratings plus ``l2 / 2 * (|c_u|^2 + |c_i|^2)``
    by alternating Newton steps (all users at once, all products at once, then ``a``), each a
    couple of vectorised passes over the ratings. The problem is convex; starting from the
    current head (the previous epoch's) a few rounds suffice.

    Parameters
    ----------
    model
        The model (any device); its head is overwritten.
    users, items, targets
        Observed training pairs and their targets in [0, 1].
    l2
        Penalty on the biases, > 0: users and products with few ratings stay near the average.
    max_rounds, tol
        Stop after ``max_rounds`` rounds or once a round moves no predicted logit by ``tol``
        (1e-2 in logits is under 0.0025 in score).

    Returns
    -------
    int
        The rounds run.
    """
    if not l2 > 0:
        raise RecsysError(f"The rating head's l2 penalty must be positive, not {plain(l2)}.")
    model.add_rating_head()
    # The Newton passes run in torch, in float64 as their sums run over all ratings: its
    # operations release the GIL, so a refit beside an epoch training on the other core
    # (recsys_core.training._judging) does not hold that epoch up, as numpy's bincount did.
    # int32 codes stay int32 (torch indexes and adds with either): no int64 copies.
    users, items = as_codes(users), as_codes(items)
    users_t, items_t = torch.from_numpy(users), torch.from_numpy(items)
    t = torch.from_numpy(np.asarray(targets, dtype=np.float64))
    dot = torch.from_numpy(model.score_pairs_chunked(users, items, "dots", dtype=np.float64))
    cu = model.rating_user_bias.detach().double().cpu().clone()
    ci = model.rating_item_bias.detach().double().cpu().clone()
    a = float(model.rating_scale[0])
    logits = a * dot + cu[users_t] + ci[items_t]

    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        before = logits.clone()
        for bias, codes in ((cu, users_t), (ci, items_t)):
            s = torch.sigmoid(logits)
            step = torch.zeros_like(bias).index_add_(0, codes, s - t).add_(bias, alpha=l2)
            step /= torch.zeros_like(bias).index_add_(0, codes, s * (1.0 - s)).add_(l2)
            # Damped: a bias far from its optimum sits where the sigmoid is flat.
            step.clamp_(-4.0, 4.0)
            bias -= step
            logits -= step[codes]
        s = torch.sigmoid(logits)
        ratio = float(((s - t) * dot).sum()) / (float((s * (1.0 - s) * dot * dot).sum()) + 1e-12)
        step_a = min(max(ratio, -1.0), 1.0)
        a -= step_a
        logits -= step_a * dot
        # Converged when the predictions stop moving. (The biases alone may keep drifting along
        # "all users +d, all products -d", which changes no prediction and barely the penalty.)
        if not len(logits) or float((logits - before).abs().max()) < tol:
            break
    model.rating_user_bias.copy_(cu)
    model.rating_item_bias.copy_(ci)
    model.rating_scale.fill_(a)
    return rounds
