from __future__ import annotations

import math

import numpy as np
import pytest

from driftrec.data.synthetic import STAGES
from driftrec.policy.rewards import RewardConfig, diversity_bonus, event_rewards, list_rewards


def test_defaults_follow_the_issue() -> None:
    cfg = RewardConfig()
    assert (cfg.click, cfg.cart, cfg.favourite, cfg.purchase) == (0.2, 0.5, 0.5, 1.0)
    np.testing.assert_allclose(cfg.reward_vector(STAGES), [0.0, 0.2, 0.5, 1.0])


def test_event_rewards_vectorised_with_aliases() -> None:
    cfg = RewardConfig(view=0.2)
    got = event_rewards(np.array([["pv", "buy"], ["cart", "fav"]]), config=cfg)
    np.testing.assert_allclose(got, [[0.2, 1.0], [0.5, 0.5]])


def test_price_weighting_only_on_price_events() -> None:
    cfg = RewardConfig(price_weight=1.0, price_reference=10.0, margin_rate=0.5)
    got = event_rewards(["purchase", "click", "purchase"], [40.0, 40.0, math.nan], cfg)
    np.testing.assert_allclose(got, [1.0 * 0.5 * 40 / 10, 0.2, 1.0])
    with pytest.raises(ValueError, match="needs prices"):
        event_rewards(["purchase"], config=cfg)


def test_diversity_bonus_and_list_rewards() -> None:
    np.testing.assert_allclose(diversity_bonus([[1, 1, 2, 3], [5, 5, 5, 5]], 1.0), [0.75, 0.25])
    cfg = RewardConfig(diversity_weight=0.4)
    got = list_rewards([[0.2, 0.0], [1.0, 0.5]], [["a", "b"], ["a", "a"]], cfg)
    np.testing.assert_allclose(got, [0.2 + 0.4, 1.5 + 0.2])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"click": -0.1}, "reward for 'click' must be finite and >= 0"),
        ({"purchase": math.nan}, "reward for 'purchase' must be finite"),
        ({"cart": math.inf, "purchase": math.inf}, "reward for 'cart' must be finite"),
        ({"click": 0.6}, "reward for 'click' \\(0.6\\) exceeds 'cart'"),
        ({"cart": 2.0}, "reward for 'cart' \\(2.0\\) exceeds 'purchase'"),
        (
            {"view": 0, "click": 0, "favourite": 0, "cart": 0, "purchase": 0},
            "every event reward is 0",
        ),
        ({"price_weight": 1.5}, "price_weight must be in \\[0.0, 1.0\\]"),
        ({"margin_rate": 0.0}, "margin_rate must be in \\(0.0, 1.0\\]"),
        ({"price_reference": 0.0}, "price_reference must be finite and > 0"),
        ({"diversity_weight": -1.0}, "diversity_weight must be finite and >= 0"),
        ({"price_events": ("teleport",)}, "unknown event type 'teleport'"),
    ],
)
def test_bad_configs_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RewardConfig(**kwargs)  # type: ignore[arg-type]


def test_non_monotone_allowed_explicitly_and_types_checked() -> None:
    assert RewardConfig(click=0.9, allow_non_monotone=True).click == 0.9
    with pytest.raises(TypeError, match="must be a number"):
        RewardConfig(click="0.2")  # type: ignore[arg-type]


def test_from_mapping_and_unknown_events() -> None:
    cfg = RewardConfig.from_mapping({"pv": 0.2, "buy": 1.0, "fav": 0.5})
    assert cfg.view == 0.2 and cfg.favourite == 0.5
    with pytest.raises(ValueError, match="unknown reward setting 'teleport'"):
        RewardConfig.from_mapping({"teleport": 1.0})
    with pytest.raises(ValueError, match="given twice"):
        RewardConfig.from_mapping({"buy": 1.0, "purchase": 1.0})
    with pytest.raises(ValueError, match="unknown event type 'teleport'"):
        event_rewards(["click", "teleport"])
    with pytest.raises(TypeError, match="event names"):
        event_rewards(np.array([1, 2]))
