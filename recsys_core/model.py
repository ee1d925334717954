"""The neural collaborative-filtering model: embeddings + biases, dot product, sigmoid."""

from __future__ import annotations

import torch
from torch import nn


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
    """

    def __init__(self, n_users: int, n_items: int, embedding_dim: int = 200, seed: int | None = None):
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
                param.copy_(torch.rand(param.shape, generator=generator) * 0.1 - 0.05)

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
    def score_all_items(self, users: torch.Tensor) -> torch.Tensor:
        """Logits of every item for each user: shape ``(len(users), n_items)``.

        Logits rank exactly as scores do and skip one pass over the matrix.
        """
        p = self.user_embedding.weight[users]
        logits = p @ self.item_embedding.weight.T
        logits += self.user_bias.weight[users]
        logits += self.item_bias.weight.T
        return logits
