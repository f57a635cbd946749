from __future__ import annotations

import numpy as np
import pytest

from driftrec.policy.bandits import (
    UCB1,
    BetaThompson,
    Candidates,
    EpsilonGreedy,
    EpsilonSchedule,
    Feedback,
    GreedyPolicy,
    LinearThompson,
    LinUCB,
    Policy,
    RandomPolicy,
)

MEANS = np.array([0.1, 0.2, 0.7, 0.3, 0.15])  # arm 2 (item id 3) is best


def _candidates(batch: int) -> Candidates:
    n = MEANS.shape[0]
    items = np.tile(np.arange(1, n + 1), (batch, 1))
    scores = np.tile(np.linspace(1.0, 0.0, n), (batch, 1))  # retrieval prefers the wrong arm 0
    features = np.tile(np.eye(n), (batch, 1, 1))
    return Candidates(items, scores, features)


def _play(policy: Policy, rounds: int = 200, batch: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(rounds):
        cands = _candidates(batch)
        chosen = policy.select(cands, 1)
        rewards = (rng.random(chosen.shape) < MEANS[chosen]).astype(float)
        policy.update(Feedback(cands, chosen, rewards))
        picks.append(chosen[:, 0])
    return np.asarray(picks)


@pytest.mark.parametrize(
    "policy",
    [
        UCB1(c=0.5),
        BetaThompson(seed=1),
        LinUCB(dim=5, alpha=0.5),
        LinearThompson(dim=5, v=0.3, seed=2),
        EpsilonGreedy(dim=5, schedule=EpsilonSchedule(0.3, 0.0, 20), seed=3),
    ],
    ids=lambda p: p.name,
)
def test_converges_to_the_best_arm(policy: Policy) -> None:
    picks = _play(policy)
    assert (picks[-50:] == 2).mean() > 0.9
    assert (picks[:5] == 2).mean() < 0.9  # it had to learn it


def test_greedy_and_random_do_not_learn() -> None:
    assert (_play(GreedyPolicy(), rounds=30) == 0).all()
    picks = _play(RandomPolicy(seed=4), rounds=100)
    assert 0.1 < (picks == 2).mean() < 0.3


def test_slates_are_distinct_valid_candidates() -> None:
    cands = _candidates(6)
    items = cands.items.copy()
    items[:, 4] = 0  # no candidate in the last column
    cands = Candidates(items, np.where(items > 0, cands.scores, -np.inf), cands.features)
    for policy in (UCB1(), BetaThompson(), LinUCB(dim=5), LinearThompson(dim=5), EpsilonGreedy(dim=5)):
        chosen = policy.select(cands, 4)
        assert chosen.shape == (6, 4)
        assert all(len(set(row)) == 4 and 4 not in row for row in chosen.tolist()), policy.name


def test_epsilon_schedules() -> None:
    assert EpsilonSchedule(0.2, 0.01, 10, "constant")(100) == 0.2
    exp = EpsilonSchedule(0.4, 0.01, 10, "exponential")
    assert exp(0) == 0.4 and exp(10) == pytest.approx(0.2) and exp(1000) == 0.01
    lin = EpsilonSchedule(0.5, 0.1, 4, "linear")
    assert [lin(t) for t in (0, 2, 4, 9)] == pytest.approx([0.5, 0.3, 0.1, 0.1])
    inv = EpsilonSchedule(0.3, 0.0, 5, "inverse")
    assert inv(5) == pytest.approx(0.15)
    eps = EpsilonGreedy(dim=5, schedule=exp)
    _play(eps, rounds=10)
    assert eps.epsilon == pytest.approx(0.2)
    with pytest.raises(ValueError, match="end <= start"):
        EpsilonSchedule(0.1, 0.2)
    with pytest.raises(ValueError, match="kind must be"):
        EpsilonSchedule(kind="cosine")  # type: ignore[arg-type]


def test_discounting_follows_a_moving_best_arm() -> None:
    """After the best arm moves, a discounted UCB switches; an undiscounted one is slower."""
    rng = np.random.default_rng(5)

    def run(gamma: float) -> float:
        policy = UCB1(c=0.3, gamma=gamma)
        means = MEANS.copy()
        late = []
        for step in range(300):
            if step == 150:
                means = means[::-1].copy()  # best arm moves to index 2 -> still 2; swap 2 and 4
                means[[2, 4]] = means[[4, 2]]
            cands = _candidates(8)
            chosen = policy.select(cands, 1)
            rewards = (rng.random(chosen.shape) < means[chosen]).astype(float)
            policy.update(Feedback(cands, chosen, rewards))
            if 170 <= step < 230:
                late.append((chosen[:, 0] == int(np.argmax(means))).mean())
        return float(np.mean(late))

    assert run(0.97) > run(1.0) + 0.2


def test_user_leaf_thompson_learns_each_users_leaf() -> None:
    from driftrec.policy.bandits import UserLeafThompson

    n_users, n_leaves = 4, 4
    item_leaf = np.array([-1, 0, 1, 2, 3])  # item i sits in leaf i - 1
    best = np.array([0, 1, 2, 3])  # user u clicks only leaf u
    policy = UserLeafThompson(n_users, item_leaf, prior_strength=1.0, gamma=1.0, seed=0)
    rng = np.random.default_rng(1)
    hits = []
    for _ in range(150):
        users = np.arange(n_users)
        items = np.tile(np.arange(1, n_leaves + 1), (n_users, 1))
        features = np.zeros((n_users, n_leaves, 3))
        features[:, :, 2] = 0.25  # flat prior: the history says nothing
        cands = Candidates(items, np.zeros(items.shape), features, users=users)
        chosen = policy.select(cands, 1)
        leaf = item_leaf[np.take_along_axis(items, chosen, axis=1)][:, 0]
        rewards = ((leaf == best) & (rng.random(n_users) < 0.8)).astype(float)[:, None]
        policy.update(Feedback(cands, chosen, rewards))
        hits.append(leaf == best)
    assert np.mean(hits[-30:]) > 0.9
    with pytest.raises(ValueError, match=r"needs Candidates\.users"):
        policy.select(Candidates(items, np.zeros(items.shape), features), 1)
