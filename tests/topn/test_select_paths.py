"""The one selection's two ways: one ``topk`` over a small catalogue's row, the group bound above
it. Both give the same products in the same order, ties going to the lower product code."""

from __future__ import annotations

import math

import pytest
import torch

from recsys_core.topn import select_top
from recsys_core.topn._select import DIRECT_MAX_ITEMS


def tied_and_masked(rows: int, n_items: int, seed: int) -> torch.Tensor:
    """Logits on a coarse grid (many equal values), 30 % masked, five rows with 3 candidates left."""
    gen = torch.Generator().manual_seed(seed)
    logits = (torch.randn(rows, n_items, generator=gen) * 4).round() / 4
    logits[torch.rand(rows, n_items, generator=gen) < 0.3] = -math.inf
    logits[:5, 3:] = -math.inf
    logits[:5, :3] = torch.tensor([1.0, 1.0, 0.5])  # two of them tied
    return logits


@pytest.mark.parametrize("n_items", [11, 12, 600, 2_000, DIRECT_MAX_ITEMS])
def test_one_topk_over_the_row_equals_the_group_bound(n_items: int) -> None:
    logits = tied_and_masked(300, n_items, seed=n_items)
    direct = select_top(logits, 10)
    for group in (2, 64):
        grouped = select_top(logits, 10, group=group)
        assert torch.equal(direct[0], grouped[0])
        assert torch.equal(direct[1], grouped[1])
    # Rows with 3 candidates: padded with -1 / -inf after them.
    assert (direct[0][:5, 3:] == -1).all()
    assert (direct[0][:5, :3] == torch.tensor([0, 1, 2])).all()
    # Equal logits are listed by ascending product code.
    same = (direct[1][:, 1:] == direct[1][:, :-1]) & (direct[0][:, 1:] >= 0)  # padding aside
    assert same.any()
    assert (direct[0][:, 1:][same] > direct[0][:, :-1][same]).all()


def test_a_catalogue_no_longer_than_the_list_is_sorted_whole() -> None:
    logits = tied_and_masked(20, 8, seed=1)
    items, values = select_top(logits, 10)
    assert items.shape == (20, 8)
    assert torch.equal(values, torch.sort(logits, dim=1, descending=True, stable=True).values)
