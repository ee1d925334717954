"""The neural collaborative-filtering model: embeddings + biases, dot product, sigmoid."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from recsys_core.data import as_codes

#: Pairs scored per call of :meth:`NCF.score_pairs_chunked`: scoring a million pairs never
#: gathers a million embeddings at once.
PAIR_CHUNK = 65_536

#: What :meth:`NCF.score_pairs_chunked` computes per pair.
PairScore = Literal["logits", "rating_logits", "rating_scores", "dots"]


class NCF(nn.Module):
    """User and item embeddings plus biases; the score is ``sigmoid(<p_u, q_i> + b_u + b_i)``.

    This is the reference notebook's architecture. Parameters are plain tensors in
    ``nn.Embedding`` modules so the trainer can update the touched rows directly (no autograd
    over the embedding tables) and the model can be saved as a flat state dict.

    Parameters
    ----------
    n_users, n_items
        Number of distinct users and items (ids are integer codes ``0..n-1``).
    embedding_dim
        Size of each embedding.
    seed
        Seeds the initialisation: uniform in [-0.05, 0.05], as Keras' default embedding init.
    rating_head
        Add the rating head at once (see :meth:`add_rating_head`); loading a saved run needs it.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        embedding_dim: int = 200,
        seed: int | None = None,
        rating_head: bool = False,
    ):
        super().__init__()
        self.n_users = int(n_users)
        self.n_items = int(n_items)
        self.embedding_dim = int(embedding_dim)
        self.user_embedding = nn.Embedding(self.n_users, self.embedding_dim)
        self.item_embedding = nn.Embedding(self.n_items, self.embedding_dim)
        self.user_bias = nn.Embedding(self.n_users, 1)
        self.item_bias = nn.Embedding(self.n_items, 1)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        with torch.no_grad():
            for param in self.parameters():
                # In place, the same numbers as ``torch.rand(shape) * 0.1 - 0.05``: that expression
                # held two temporary copies of each table (2.2 GB at full Amazon size, embedding 64).
                torch.rand(param.shape, generator=generator, out=param.data).mul_(0.1).sub_(0.05)
        if rating_head:
            self.add_rating_head()

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return self.user_embedding.weight.device

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits for the (user, item) pairs; apply ``torch.sigmoid`` for scores in [0, 1]."""
        p = self.user_embedding(users)
        q = self.item_embedding(items)
        return (p * q).sum(-1) + self.user_bias(users).squeeze(-1) + self.item_bias(items).squeeze(-1)

    @torch.no_grad()
    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores in [0, 1] for the (user, item) pairs."""
        return torch.sigmoid(self.forward(users, items))

    @torch.no_grad()
    def score_all_items(self, users: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of every item for each user: shape ``(len(users), n_items)``.

        Logits rank exactly as scores do and skip one pass over the matrix. ``out`` (float32,
        that shape, contiguous) receives them: a caller scoring block after block reuses one
        buffer, where a fresh block of tens of MB costs its page faults every time (as much as
        the matrix product at 50k products).
        """
        p = self.user_embedding.weight[users]
        if out is None:
            logits = p @ self.item_embedding.weight.T
        else:
            logits = torch.mm(p, self.item_embedding.weight.T, out=out)
        logits += self.user_bias.weight[users]
        logits += self.item_bias.weight.T
        return logits

    @torch.no_grad()
    def score_pairs_chunked(
        self, users: ArrayLike, items: ArrayLike, kind: PairScore = "logits", dtype: type = np.float32
    ) -> np.ndarray:
        """One value per (user, item) code pair as a numpy array, :data:`PAIR_CHUNK` pairs at a time.

        Parameters
        ----------
        users, items
            Integer codes of the pairs (int32 or int64: torch indexes with either).
        kind
            ``logits`` (:meth:`forward`), ``rating_logits`` (:meth:`rating_logits`),
            ``rating_scores`` (:meth:`rating_scores`) or ``dots`` (``<p_u, q_i>`` alone).
        dtype
            The array's dtype; values are computed in float32 and converted.
        """
        users, items = as_codes(users, narrow=False), as_codes(items, narrow=False)
        out = np.empty(len(users), dtype=dtype)
        if kind == "dots" and self.device.type == "cpu":
            # numpy gathers rows several times faster than torch on CPU.
            P = self.user_embedding.weight.detach().numpy()
            Q = self.item_embedding.weight.detach().numpy()
            for lo in range(0, len(users), PAIR_CHUNK):
                u, i = users[lo : lo + PAIR_CHUNK], items[lo : lo + PAIR_CHUNK]
                out[lo : lo + PAIR_CHUNK] = np.einsum("ij,ij->i", P[u], Q[i])
            return out
        score = {
            "logits": self.forward,
            "rating_logits": self.rating_logits,
            "rating_scores": self.rating_scores,
            "dots": self._dots,
        }[kind]
        for lo in range(0, len(users), PAIR_CHUNK):
            u = torch.as_tensor(users[lo : lo + PAIR_CHUNK], device=self.device)
            i = torch.as_tensor(items[lo : lo + PAIR_CHUNK], device=self.device)
            out[lo : lo + PAIR_CHUNK] = score(u, i).float().cpu().numpy()
        return out

    def _dots(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return (self.user_embedding.weight[users] * self.item_embedding.weight[items]).sum(-1)

    # -- the rating head (``hybrid`` objective) ------------------------------------------------

    @property
    def has_rating_head(self) -> bool:
        """Whether the model predicts ratings with its own head (see :meth:`add_rating_head`)."""
        return hasattr(self, "rating_scale")

    def add_rating_head(self) -> None:
        """Add a separate rating head: ``rating_scale * <p_u, q_i> + rating_user_bias[u] +
        rating_item_bias[i]``, all zero until fitted.

        The ``hybrid`` objective trains the embeddings and biases to rank (rated products above
        unrated ones), so :meth:`forward` and :meth:`score_all_items` give the recommendation
        order, and fits this head to the observed ratings, so :meth:`rating_scores` predicts
        how much a user likes a product. A single score cannot do both: "will they pick it"
        grows with popularity, "will they like it" does not. The head is stored as buffers (fitted
        in closed form by the trainer, never by an optimiser) and saved with the weights. A no-op
        when the head exists.
        """
        if self.has_rating_head:
            return
        device = self.user_embedding.weight.device
        self.register_buffer("rating_user_bias", torch.zeros(self.n_users, device=device))
        self.register_buffer("rating_item_bias", torch.zeros(self.n_items, device=device))
        self.register_buffer("rating_scale", torch.zeros(1, device=device))

    def rating_logits(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits of the predicted rating: the rating head's, or :meth:`forward`'s without one."""
        if not self.has_rating_head:
            return self.forward(users, items)
        dot = (self.user_embedding(users) * self.item_embedding(items)).sum(-1)
        return self.rating_scale * dot + self.rating_user_bias[users] + self.rating_item_bias[items]

    @torch.no_grad()
    def rating_scores(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings on the [0, 1] target scale; equal to :meth:`score_pairs` without a
        rating head. The classification metrics use these."""
        return torch.sigmoid(self.rating_logits(users, items))
