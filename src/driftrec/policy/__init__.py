"""Policy optimisation: reward design, exploration re-rankers, off-policy evaluation, online simulation.

Import-light on purpose (no torch at package import): import the submodule you need, e.g.
``from driftrec.policy.rewards import RewardConfig`` or ``from driftrec.policy.ope import estimate``.
"""

from __future__ import annotations

from driftrec.policy.rewards import RewardConfig, diversity_bonus, event_rewards, list_rewards

__all__ = ["RewardConfig", "diversity_bonus", "event_rewards", "list_rewards"]
