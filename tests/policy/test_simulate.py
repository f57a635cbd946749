from __future__ import annotations

import numpy as np
import pytest

from driftrec.data.synthetic import ShopEnvironment, SyntheticShopConfig
from driftrec.policy.bandits import GreedyPolicy
from driftrec.policy.simulate import FEATURES, PolicyContext, SimulationConfig, simulate

TINY = SimulationConfig(
    n_users=120, n_items=160, days=20, online_start_day=10, step_hours=24.0, users_per_step=30, k=3, seed=3
)


def test_simulation_accounts_and_is_deterministic() -> None:
    policies = ("random", "greedy-supervised", "linucb")
    first = simulate(TINY, policies, progress=False)
    again = simulate(TINY, policies, progress=False)
    assert first.step_days.shape == (10,)
    for name in policies:
        np.testing.assert_array_equal(first.reward[name], again.reward[name])
        # nobody beats the oracle in expectation, step by step
        assert np.all(first.expected[name] <= first.oracle + 1e-9)
        assert first.cumulative_regret()[name] >= 0
    assert first.cumulative_reward()["greedy-supervised"] > first.cumulative_reward()["random"]
    assert first.migrations_online > 0
    assert set(first.to_dict()) >= {"cumulative_reward", "cumulative_regret", "recovery"}


def test_custom_policy_factories_plug_in() -> None:
    seen: list[PolicyContext] = []

    def factory(context: PolicyContext) -> GreedyPolicy:
        seen.append(context)
        return GreedyPolicy(name="mine")

    result = simulate(TINY, ("mine",), factories={"mine": factory}, progress=False)
    assert seen[0].dim == len(FEATURES) and seen[0].train_log.n_items == TINY.n_items
    assert result.reward["mine"].sum() > 0
    with pytest.raises(ValueError, match="unknown policies"):
        simulate(TINY, ("teleport",), progress=False)


def test_bad_simulation_configs() -> None:
    with pytest.raises(ValueError, match="online_start_day"):
        SimulationConfig(days=10, online_start_day=10)
    with pytest.raises(ValueError, match="users_per_step"):
        SimulationConfig(n_users=10, users_per_step=20)
    with pytest.raises(ValueError, match="k \\(50\\) must be <= n_retrieval"):
        SimulationConfig(k=50, n_retrieval=40)


def test_environment_funnel_is_the_truth_respond_samples() -> None:
    env = ShopEnvironment(SyntheticShopConfig(n_users=20, n_items=100, seed=1), seed=0)
    t = env.config.start_datetime()
    click, cart, buy = env.funnel(np.array([0, 1]), np.array([[0, 1, 2], [3, 4, 5]]), t)
    assert click.shape == cart.shape == buy.shape == (2, 3)
    assert np.all((click > 0) & (click < 1) & (buy <= 0.95))
    favourite = env.categories.index(env.preferred_category("u000000", t))
    on = [i for i, item in enumerate(env.items()) if env.item_category(item) == env.categories[favourite]][:3]
    off = [i for i, item in enumerate(env.items()) if env.item_category(item) != env.categories[favourite]][
        :3
    ]
    p_on, _, _ = env.funnel(np.array([0]), np.array([on]), t)
    p_off, _, _ = env.funnel(np.array([0]), np.array([off]), t)
    assert p_on.mean() > p_off.mean()


def test_model_reranker_with_the_retrieval_model_equals_greedy() -> None:
    from driftrec.policy.rerank import ModelReranker

    result = simulate(
        TINY,
        ("greedy-supervised", "rerank"),
        factories={"rerank": lambda c: ModelReranker(c.retrieval, name="rerank")},
        progress=False,
    )
    np.testing.assert_allclose(result.expected["rerank"], result.expected["greedy-supervised"])
