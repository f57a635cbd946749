"""SQN: TD targets by hand, batches with rewards/terminals/next actions, target updates, learning."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import torch

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.schema import EVENT_CODE
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.models.sequential.batches import BatchLayout
from driftrec.models.sequential.config import SequentialConfig
from driftrec.models.sequential.network import build_network
from driftrec.policy.rewards import RewardConfig
from driftrec.policy.sqn import (
    OFFLINE_REWARDS,
    RLExamples,
    SQNConfig,
    SQNObjective,
    hard_update,
    soft_update,
    td_targets,
)
from driftrec.policy.sqn_data import prepare_log, split_users
from driftrec.policy.sqn_eval import group_metrics, next_item_metrics, next_item_ranks
from driftrec.policy.sqn_model import SQNRecommender
from driftrec.training.config import TrainingConfig

# ------------------------------------------------------------------------------------ TD targets


def test_qlearning_target_is_reward_plus_discounted_max_and_stops_at_terminals() -> None:
    rewards = torch.tensor([0.2, 1.0, 0.5])
    done = torch.tensor([False, True, False])
    next_q = torch.tensor([[0.1, 0.7, 0.3], [5.0, 5.0, 5.0], [-1.0, -2.0, -0.5]])
    y = td_targets(rewards, done, 0.9, "qlearning", next_q)
    # by hand: 0.2 + 0.9 * 0.7; terminal: 1.0 alone; 0.5 + 0.9 * (-0.5)
    assert torch.allclose(y, torch.tensor([0.2 + 0.9 * 0.7, 1.0, 0.5 - 0.45]))


def test_double_q_takes_argmax_from_online_net_and_value_from_target_net() -> None:
    rewards = torch.tensor([0.2, 0.5])
    done = torch.tensor([False, False])
    target_q = torch.tensor([[1.0, 9.0, 2.0], [4.0, 0.0, 3.0]])
    online_q = torch.tensor([[0.0, 0.1, 0.9], [0.0, 0.2, 0.1]])  # picks item 3, then item 2
    y = td_targets(rewards, done, 0.5, "qlearning", target_q, next_q_online=online_q)
    assert torch.allclose(y, torch.tensor([0.2 + 0.5 * 2.0, 0.5 + 0.5 * 0.0]))
    plain = td_targets(rewards, done, 0.5, "qlearning", target_q)
    assert torch.allclose(plain, torch.tensor([0.2 + 0.5 * 9.0, 0.5 + 0.5 * 4.0]))


def test_sarsa_target_uses_the_logged_next_action() -> None:
    rewards = torch.tensor([0.2, 0.2, 1.0])
    done = torch.tensor([False, False, True])
    target_q = torch.tensor([[1.0, 9.0, 2.0], [4.0, 0.0, 3.0], [7.0, 7.0, 7.0]])
    next_actions = torch.tensor([3, 2, 0])  # items are 1-based: item 3 = column 2
    y = td_targets(rewards, done, 0.5, "sarsa", target_q, next_actions=next_actions)
    assert torch.allclose(y, torch.tensor([0.2 + 0.5 * 2.0, 0.2 + 0.5 * 0.0, 1.0]))


def test_reward_mode_has_no_bootstrap() -> None:
    rewards = torch.tensor([0.2, 1.0])
    y = td_targets(rewards, torch.tensor([False, False]), 0.9, "reward", torch.ones(2, 3))
    assert torch.equal(y, rewards)


def test_td_targets_reject_missing_inputs() -> None:
    with pytest.raises(ValueError, match="needs next_q_target"):
        td_targets(torch.zeros(1), torch.zeros(1, dtype=torch.bool), 0.5, "qlearning")
    with pytest.raises(ValueError, match="needs next_actions"):
        td_targets(torch.zeros(1), torch.zeros(1, dtype=torch.bool), 0.5, "sarsa", torch.zeros(1, 2))
    with pytest.raises(ValueError, match="mode must be"):
        td_targets(torch.zeros(1), torch.zeros(1, dtype=torch.bool), 0.5, "dqn", torch.zeros(1, 2))


# ----------------------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variant": "dqn"}, "SQNConfig.variant must be one of"),
        ({"gamma": 1.0}, r"SQNConfig.gamma must be a number in \[0, 1\)"),
        ({"q_weight": 0}, "SQNConfig.q_weight must be a number > 0"),
        ({"target_update": "slow"}, "SQNConfig.target_update must be one of"),
        ({"tau": 0.0}, r"SQNConfig.tau must be a number in \(0, 1\]"),
        ({"target_period": 0}, "SQNConfig.target_period must be an integer >= 1"),
        ({"rank_by": "both"}, "SQNConfig.rank_by must be one of"),
        ({"sequence": SequentialConfig(objective="masked")}, "causal, full-softmax"),
        ({"variant": "none", "rank_by": "q"}, "needs a trained Q-head"),
    ],
)
def test_bad_configs_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SQNConfig(**kwargs)  # type: ignore[arg-type]


def test_config_round_trips_through_a_dict() -> None:
    cfg = SQNConfig(variant="sarsa", gamma=0.3, rewards=RewardConfig(view=0.1, click=0.2))
    assert SQNConfig(**cfg.to_dict()) == cfg


# ---------------------------------------------------------------------------------------- batches


def _tiny_log() -> InteractionLog:
    """User 1: items 1 2 3 4 (view, click, cart, purchase); user 2: items 2 1 (view, purchase)."""
    code = EVENT_CODE
    events = np.array(
        [code["view"], code["click"], code["cart"], code["purchase"], code["view"], code["purchase"]], np.int8
    )
    return InteractionLog(
        user=np.array([1, 1, 1, 1, 2, 2], np.int64),
        item=np.array([1, 2, 3, 4, 2, 1], np.int64),
        ts=np.arange(6, dtype=np.int64) * 1_000_000,
        event=events,
        value=np.full(6, np.nan, np.float32),
        n_users=2,
        n_items=4,
    )


def test_rl_batch_carries_rewards_terminals_next_actions_and_next_states() -> None:
    examples = RLExamples(_tiny_log(), BatchLayout(4, 4, behaviours=True), OFFLINE_REWARDS, sliding=False)
    batch = examples.collate(np.array([0, 1], np.int64), np.random.default_rng(0))
    assert batch.seq.targets is not None
    # user 1: inputs [0,1,2,3] -> targets [0,2,3,4]; rewards of click, cart, purchase
    assert batch.seq.items[0].tolist() == [0, 1, 2, 3]
    assert batch.seq.targets[0].tolist() == [0, 2, 3, 4]
    assert torch.allclose(batch.rewards[0], torch.tensor([0.0, 0.2, 0.5, 1.0]))
    assert batch.done[0].tolist() == [False, False, False, True]
    assert batch.next_actions[0].tolist() == [0, 3, 4, 0]  # SARSA's a_{t+1}; none after the last event
    # the next state's inputs are the window shifted by one event, with the targets' behaviours
    assert batch.next_seq.items[0].tolist() == [0, 2, 3, 4]
    assert batch.next_seq.behaviours is not None
    assert batch.next_seq.behaviours[0].tolist() == [
        0,
        EVENT_CODE["click"] + 1,
        EVENT_CODE["cart"] + 1,
        EVENT_CODE["purchase"] + 1,
    ]
    # user 2: one transition, terminal, reward of a purchase
    assert batch.seq.targets[1].tolist() == [0, 0, 0, 1]
    assert batch.rewards[1, -1].item() == 1.0 and bool(batch.done[1, -1])


def test_window_boundary_is_not_terminal_when_the_user_goes_on() -> None:
    examples = RLExamples(_tiny_log(), BatchLayout(2, 4), OFFLINE_REWARDS, sliding=True)
    starts, stops = examples.base.starts, examples.base.stops
    first = int(np.flatnonzero((starts == 0) & (stops == 2))[0])  # user 1's earlier window: items 1 2
    batch = examples.collate(np.array([first], np.int64), np.random.default_rng(0))
    assert batch.seq.targets is not None and batch.seq.targets[0].tolist() == [0, 2]
    assert batch.done[0].tolist() == [False, False]  # the user goes on with item 3: not terminal
    assert batch.next_actions[0].tolist() == [0, 3]


# --------------------------------------------------------------------------------- target network


def test_soft_update_is_polyak_averaging_and_hard_update_copies() -> None:
    online, target = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = target.weight.detach().clone()
    soft_update(target, online, 0.25)
    assert torch.allclose(target.weight, 0.25 * online.weight + 0.75 * before)
    hard_update(target, online)
    assert torch.equal(target.weight, online.weight)


def _objective(variant: str, **kwargs: object) -> tuple[SQNObjective, RLExamples]:
    seq = SequentialConfig(max_len=4, hidden=8, blocks=1, heads=1, inner=16, dropout=0.0, behaviours=True)
    cfg = SQNConfig(variant=variant, sequence=seq, **kwargs)  # type: ignore[arg-type]
    torch.manual_seed(0)
    log = _tiny_log()
    examples = RLExamples(log, BatchLayout(4, 4, behaviours=True), cfg.rewards, sliding=False)
    return SQNObjective(build_network(seq, log.n_items), cfg), examples


def test_target_network_is_frozen_and_follows_the_update_rule() -> None:
    objective, examples = _objective("qlearning", target_update="soft", tau=0.5)
    assert objective.target is not None
    assert not any(p.requires_grad for p in objective.target.parameters())
    optimizer = torch.optim.SGD([p for p in objective.parameters() if p.requires_grad], lr=0.5)
    batch = examples.collate(np.array([0, 1], np.int64), np.random.default_rng(0))
    objective.train()
    for _ in range(2):
        target_before = objective.target.head.linear.weight.detach().clone()
        online_before = objective.q_head.linear.weight.detach().clone()  # type: ignore[union-attr]
        loss = objective(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # the second forward moved the target half-way towards the online weights of after step 1
    assert torch.allclose(objective.target.head.linear.weight, 0.5 * online_before + 0.5 * target_before)


def test_periodic_update_copies_every_period_steps() -> None:
    objective, examples = _objective("sarsa", target_update="periodic", target_period=2)
    assert objective.target is not None and objective.q_head is not None
    optimizer = torch.optim.SGD([p for p in objective.parameters() if p.requires_grad], lr=0.5)
    batch = examples.collate(np.array([0, 1], np.int64), np.random.default_rng(0))
    objective.train()
    snapshots = []
    for _ in range(3):
        snapshots.append(objective.q_head.linear.weight.detach().clone())
        loss = objective(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        snapshots[-1] = (snapshots[-1], objective.target.head.linear.weight.detach().clone())
    initial = snapshots[0][1]
    assert torch.equal(snapshots[1][1], initial)  # step 2 (steps=1): no copy
    assert torch.equal(snapshots[2][1], snapshots[2][0])  # step 3 (steps=2): copied the online weights
    assert not torch.equal(snapshots[2][1], initial)


def test_aux_ablation_has_the_same_head_but_no_target_network() -> None:
    reward, _ = _objective("reward")
    q, _ = _objective("qlearning")
    assert reward.target is None and reward.q_head is not None
    shapes = [p.shape for p in reward.parameters()]
    assert shapes == [p.shape for n, p in q.named_parameters() if not n.startswith("target.")]
    none, _ = _objective("none")
    assert none.q_head is None


# ------------------------------------------------------------------------------------ learning


def _shop_log() -> InteractionLog:
    shop = generate(SyntheticShopConfig(n_users=120, n_items=60, events_per_user_mean=20.0, days=10, seed=3))
    log, _ = prepare_log(shop.dataset.events, user_k=2, item_k=1)
    return log


@pytest.mark.parametrize("variant", ["qlearning", "sarsa", "reward"])
def test_loss_decreases_on_a_tiny_synthetic_shop(variant: str) -> None:
    log = _shop_log()
    split = split_users(log, 0.1, 0.2, seed=0)
    training = TrainingConfig(epochs=6, batch_size=16, lr=5e-3, patience=0, device="cpu", num_threads=1)
    seq = SequentialConfig(
        max_len=8, hidden=16, blocks=1, heads=1, inner=32, dropout=0.0, behaviours=True, training=training
    )
    model = SQNRecommender(SQNConfig(variant=variant, sequence=seq)).fit(split.train)
    assert model.history is not None
    losses = [r.loss for r in model.history.epochs]
    assert losses[-1] < 0.9 * losses[0]
    metrics = next_item_metrics(model, split.test)
    assert metrics["n_targets"]["purchase"] > 0
    assert 0.0 <= metrics["purchase"]["NDCG@10"] <= metrics["purchase"]["HR@10"] <= 1.0


def test_save_and_load_give_identical_scores(tmp_path: object) -> None:
    log = _shop_log()
    training = TrainingConfig(epochs=1, batch_size=32, patience=0, device="cpu", num_threads=1)
    seq = SequentialConfig(
        max_len=8, hidden=16, blocks=1, heads=1, inner=32, behaviours=True, training=training
    )
    model = SQNRecommender(SQNConfig(variant="qlearning", rank_by="q", sequence=seq)).fit(log)
    path = tmp_path / "sqn"  # type: ignore[operator]
    model.save(path)
    again = SQNRecommender.load(path)
    hist = log.histories(np.arange(1, 6, dtype=np.int64))
    assert np.allclose(model.score(hist), again.score(hist))
    assert np.allclose(model.score(hist, head="supervised"), again.score(hist, head="supervised"))


def test_group_metrics_by_hand() -> None:
    ranks = np.array([0, 1, 9, 10, 50], np.int64)
    m = group_metrics(ranks)
    assert m["HR@10"] == pytest.approx(3 / 5)
    assert m["NDCG@10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(11)) / 5)


def test_prepare_log_keeps_actions_and_applies_the_core() -> None:
    events = pl.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b"],
            "item_id": ["x", "y", "x", "x", "y"],
            "ts": pl.Series([1, 2, 3, 4, 5]).cast(pl.Datetime("us", "UTC")),
            "event": ["view", "purchase", "rating", "view", "cart"],
            "value": [None] * 5,
        },
        schema_overrides={"value": pl.Float32},
    )
    log, facts = prepare_log(events, user_k=2, item_k=2)
    assert facts == {"events": 4, "users": 2, "items": 2, "purchases": 1}
    assert EVENT_CODE["rating"] not in set(log.event.tolist())


def test_next_item_ranks_match_scoring_each_prefix_alone() -> None:
    log = _tiny_log()
    training = TrainingConfig(epochs=1, batch_size=2, patience=0, device="cpu", num_threads=1)
    seq = SequentialConfig(
        max_len=4, hidden=8, blocks=1, heads=1, inner=16, dropout=0.0, behaviours=True, training=training
    )
    model = SQNRecommender(SQNConfig(variant="qlearning", sequence=seq)).fit(log)
    ranks, codes = next_item_ranks(model, log)
    hist = log.histories()
    expected_ranks, expected_codes = [], []
    for b in range(len(hist)):
        lo, hi = int(hist.offsets[b]), int(hist.offsets[b + 1])
        for t in range(lo + 1, hi):  # every event after a user's first is a target
            prefix = Histories(
                np.array([b + 1]), np.array([0, t - lo]), log.item[lo:t], log.ts[lo:t], log.event[lo:t]
            )
            scores = model.score(prefix)[0]
            expected_ranks.append(int((scores > scores[log.item[t]]).sum()))
            expected_codes.append(int(log.event[t]))
    assert sorted(zip(ranks.tolist(), codes.tolist(), strict=True)) == sorted(
        zip(expected_ranks, expected_codes, strict=True)
    )
