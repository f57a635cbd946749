"""The encoder's masks (causal, bidirectional, padding) and the losses, checked on small tensors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from driftrec.models.sequential.batches import SequenceBatch
from driftrec.models.sequential.config import SequentialConfig
from driftrec.models.sequential.encoder import attention_mask
from driftrec.models.sequential.network import SequenceNetwork, build_network
from driftrec.models.sequential.objectives import bce_loss, full_softmax_loss, sampled_softmax_loss

N_ITEMS = 30


def network(objective: str, norm: str = "pre") -> SequenceNetwork:
    torch.manual_seed(0)
    config = SequentialConfig(
        objective=objective, hidden=16, blocks=2, heads=2, inner=32, max_len=8, norm=norm
    )
    net = build_network(config, N_ITEMS)
    return net.eval()


def encode(net: SequenceNetwork, rows: list[list[int]]) -> torch.Tensor:
    with torch.no_grad():
        out: torch.Tensor = net.encode(SequenceBatch(torch.tensor(rows), None, None, None, None))
    return out


def test_attention_mask_is_causal_and_lets_padding_see_itself() -> None:
    padding = torch.tensor([[True, False, False]])
    causal = attention_mask(padding, causal=True)[0, 0].int().tolist()
    assert causal == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    both = attention_mask(padding, causal=False)[0, 0].int().tolist()
    assert both == [[1, 1, 1], [0, 1, 1], [0, 1, 1]]


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_causal_outputs_ignore_future_items(norm: str) -> None:
    net = network("causal", norm)
    base = encode(net, [[0, 0, 3, 4, 5, 6, 7, 8]])
    changed = encode(net, [[0, 0, 3, 4, 5, 9, 10, 11]])
    torch.testing.assert_close(changed[0, :5], base[0, :5], rtol=0, atol=0)
    assert not torch.allclose(changed[0, 5:], base[0, 5:])


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_masked_outputs_see_both_directions(norm: str) -> None:
    net = network("masked", norm)
    base = encode(net, [[0, 0, 3, 4, 5, 6, 7, 31]])  # 31 = [MASK]
    changed = encode(net, [[0, 0, 3, 4, 5, 6, 12, 31]])
    diff = (changed[0] - base[0]).abs().sum(dim=-1)
    assert (diff[2:] > 1e-6).all()  # every real position, before and after the change, moves


def test_padding_neither_leaks_nor_produces_nan() -> None:
    net = network("causal")
    short = encode(net, [[0, 0, 0, 0, 0, 0, 5, 6]])
    other = encode(net, [[0, 0, 0, 0, 0, 0, 5, 6], [1, 2, 3, 4, 5, 6, 7, 8]])
    assert torch.isfinite(short).all()
    torch.testing.assert_close(other[0, -2:], short[0, -2:])
    empty = encode(net, [[0] * 8])
    assert torch.isfinite(empty).all()


def test_full_softmax_is_cross_entropy_over_items_without_padding() -> None:
    torch.manual_seed(1)
    hidden, table = torch.randn(5, 4), torch.randn(N_ITEMS + 1, 4)
    targets = torch.tensor([1, 7, 30, 2, 2])
    expected = F.cross_entropy(hidden @ table[1:].T, targets - 1)
    torch.testing.assert_close(full_softmax_loss(hidden, table, targets), expected)


def test_sampled_softmax_with_every_other_item_and_uniform_q_is_the_full_softmax() -> None:
    torch.manual_seed(2)
    hidden, table = torch.randn(3, 4), torch.randn(N_ITEMS + 1, 4)
    targets = torch.tensor([4, 9, 30])
    negatives = torch.arange(1, N_ITEMS + 1)  # includes each target: accidental hits are masked out
    log_q = torch.full((N_ITEMS + 1,), -3.0)
    got = sampled_softmax_loss(hidden, table[targets], table[negatives], targets, negatives, log_q)
    torch.testing.assert_close(got, full_softmax_loss(hidden, table, targets))


def test_log_q_correction_boosts_popular_negatives_back() -> None:
    # with logQ, a negative drawn often (high q) is discounted: the loss equals a softmax over s - log q
    hidden = torch.tensor([[1.0, 0.0]])
    vectors = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]])
    targets, negatives = torch.tensor([1]), torch.tensor([2])
    log_q = torch.log(torch.tensor([1.0, 0.1, 0.9]))
    got = sampled_softmax_loss(hidden, vectors[targets], vectors[negatives], targets, negatives, log_q)
    pos, neg = 1.0 - log_q[1], 0.5 - log_q[2]
    expected = -(pos - torch.logsumexp(torch.stack([pos, neg]), 0))
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_bce_by_hand_and_collisions_dropped() -> None:
    hidden = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    pos = torch.tensor([[2.0, 0.0], [0.0, 1.0]])  # logits 2, 2
    neg = torch.tensor([[-1.0, 0.0], [0.0, 1.0]])  # logits -1, 2
    collide = torch.tensor([False, True])
    expected = (F.softplus(torch.tensor(-2.0)) * 2 + F.softplus(torch.tensor(-1.0))) / 2
    assert bce_loss(hidden, pos, neg, collide).item() == pytest.approx(expected.item())
