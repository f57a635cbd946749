"""Value-based policy learning on the sequence model: SQN (Xin et al., SIGIR 2020) and its controls.

The causal Transformer's hidden state at position t is the user state s_t. Two heads read it:

- the **supervised head**: the tied item table, full-softmax cross-entropy on the next item (SASRec);
- the **Q-head**: a linear layer giving Q(s_t, a) for every item a, trained on the logged action
  a_t (the next item) with the one-step TD target ``y = r_t + gamma * (1 - done_t) * V(s_{t+1})``,
  where r_t is the reward of the next event's behaviour (view/click/cart/purchase, via
  :class:`~driftrec.policy.rewards.RewardConfig`).

``V(s')`` depends on the variant:

- ``"qlearning"``: double Q-learning (van Hasselt et al. 2016): the online network picks
  a* = argmax_a Q_online(s', a) and the target network values it, Q_target(s', a*);
  with ``double=False`` plain max_a Q_target(s', a);
- ``"sarsa"``: on-policy, the logged next action a_{t+1}: Q_target(s', a_{t+1});
- ``"reward"``: the decisive ablation: the same head, loss and weight but **no TD target** (y = r_t,
  i.e. gamma = 0), so any gain of Q-learning over it comes from bootstrapping, not from an extra loss;
- ``"none"``: the supervised model alone (no second head is trained).

The joint loss is ``CE + q_weight * 0.5 * mean((Q(s_t, a_t) - y)^2)`` and both losses train the shared
encoder, as in SQN. The target network is a frozen copy of encoder + Q-head, moved towards the online
weights by Polyak averaging (``target_update="soft"``, rate ``tau``) or copied every ``target_period``
steps (``"periodic"``). The update runs at the start of each training ``forward``, i.e. right after
the previous optimiser step, so the generic training loop needs no hook.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import Tensor, nn

from driftrec.data.interactions import InteractionLog
from driftrec.data.schema import EVENT_TYPES
from driftrec.models.sequential.batches import BatchLayout, SequenceBatch, TrainingExamples, ranges
from driftrec.models.sequential.config import SequentialConfig
from driftrec.models.sequential.network import SequenceNetwork
from driftrec.models.sequential.objectives import full_softmax_loss
from driftrec.policy.rewards import RewardConfig

__all__ = [
    "OFFLINE_REWARDS",
    "RANK_HEADS",
    "TARGET_UPDATES",
    "VARIANTS",
    "RLBatch",
    "RLExamples",
    "SQNConfig",
    "SQNObjective",
    "hard_update",
    "soft_update",
    "td_targets",
]

VARIANTS = ("qlearning", "sarsa", "reward", "none")
TARGET_UPDATES = ("soft", "periodic")
RANK_HEADS = ("supervised", "q")
#: The offline protocol's rewards (issue 5): view and click 0.2, cart and favourite 0.5, purchase 1.0.
OFFLINE_REWARDS = RewardConfig(view=0.2, click=0.2, favourite=0.5, cart=0.5, purchase=1.0)


def _one_of(options: tuple[str, ...]) -> str:
    return "one of " + ", ".join(repr(o) for o in options)


def _real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value))


@dataclass(frozen=True)
class SQNConfig:
    """variant: "qlearning", "sarsa", "reward" (aux-loss ablation, no TD target) or "none" (supervised);
    gamma in [0, 1): discount; q_weight: weight of the Q loss next to the CE loss (1 = SQN's equal sum);
    double: double-Q argmax (online net picks, target net values; Q-learning only);
    target_update "soft" (Polyak, rate ``tau`` per step) or "periodic" (copy every ``target_period``
    steps); rank_by: head that ranks at test time, "supervised" (SQN's choice) or "q";
    rewards: reward per event type; sequence: the Transformer and its training section (causal, full CE).
    """

    variant: str = "qlearning"
    gamma: float = 0.5
    q_weight: float = 1.0
    double: bool = True
    target_update: str = "soft"
    tau: float = 0.01
    target_period: int = 100
    rank_by: str = "supervised"
    rewards: RewardConfig = field(default_factory=lambda: OFFLINE_REWARDS)
    sequence: SequentialConfig = field(default_factory=lambda: SequentialConfig(behaviours=True))

    def __post_init__(self) -> None:
        if isinstance(self.rewards, Mapping):
            object.__setattr__(self, "rewards", RewardConfig.from_mapping(self.rewards))
        if isinstance(self.sequence, Mapping):
            object.__setattr__(self, "sequence", SequentialConfig(**self.sequence))
        checks = (
            ("variant", self.variant in VARIANTS, _one_of(VARIANTS)),
            ("gamma", _real(self.gamma) and 0 <= self.gamma < 1, "a number in [0, 1)"),
            ("q_weight", _real(self.q_weight) and self.q_weight > 0, "a number > 0"),
            ("double", isinstance(self.double, bool), "a bool"),
            ("target_update", self.target_update in TARGET_UPDATES, _one_of(TARGET_UPDATES)),
            ("tau", _real(self.tau) and 0 < self.tau <= 1, "a number in (0, 1]"),
            (
                "target_period",
                isinstance(self.target_period, int)
                and not isinstance(self.target_period, bool)
                and self.target_period >= 1,
                "an integer >= 1",
            ),
            ("rank_by", self.rank_by in RANK_HEADS, _one_of(RANK_HEADS)),
            ("rewards", isinstance(self.rewards, RewardConfig), "a RewardConfig"),
            ("sequence", isinstance(self.sequence, SequentialConfig), "a SequentialConfig"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"SQNConfig.{name} must be {allowed}, got {getattr(self, name)!r}")
        seq = self.sequence
        if seq.objective != "causal" or seq.loss != "full" or seq.uses_text or seq.categories:
            raise ValueError(
                "SQNConfig.sequence must be a causal, full-softmax, id-only SequentialConfig "
                f"(got objective={seq.objective!r}, loss={seq.loss!r}, fusion={seq.fusion!r}, "
                f"categories={seq.categories})"
            )
        if self.variant == "none" and self.rank_by == "q":
            raise ValueError("SQNConfig.rank_by='q' needs a trained Q-head: variant 'none' has none")

    @property
    def has_q_head(self) -> bool:
        return self.variant != "none"

    @property
    def bootstraps(self) -> bool:
        return self.variant in ("qlearning", "sarsa")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["rewards"] = self.rewards.to_dict()
        return out


# --------------------------------------------------------------------------------------- TD targets
def td_targets(
    rewards: Tensor,
    done: Tensor,
    gamma: float,
    mode: str,
    next_q_target: Tensor | None = None,
    next_q_online: Tensor | None = None,
    next_actions: Tensor | None = None,
) -> Tensor:
    """One-step TD targets ``r + gamma * (1 - done) * V(s')`` for P transitions.

    rewards (P,), done (P,) bool (no bootstrap from a terminal state); next_q_target (P, A) and
    next_q_online (P, A) are Q-values of s' over the A actions (column j = item j + 1); next_actions
    (P,) the logged next items in 1..A (SARSA; 0 where done).
    mode "qlearning": max_a Q_target(s', a) or, with next_q_online, the double-Q value
    Q_target(s', argmax_a Q_online(s', a)); "sarsa": Q_target(s', a_next); "reward": r alone.
    """
    if mode == "reward":
        return rewards.clone()
    if next_q_target is None:
        raise ValueError(f"mode {mode!r} needs next_q_target")
    if mode == "qlearning":
        if next_q_online is None:
            value = next_q_target.max(dim=1).values
        else:
            best = next_q_online.argmax(dim=1, keepdim=True)
            value = next_q_target.gather(1, best).squeeze(1)
    elif mode == "sarsa":
        if next_actions is None:
            raise ValueError("mode 'sarsa' needs next_actions (the logged next items)")
        column = (next_actions - 1).clamp(min=0).unsqueeze(1)
        value = next_q_target.gather(1, column).squeeze(1)
    else:
        raise ValueError(f"mode must be one of 'qlearning', 'sarsa', 'reward', got {mode!r}")
    return rewards + gamma * (~done).to(rewards.dtype) * value


@torch.no_grad()
def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """theta_target <- tau * theta_online + (1 - tau) * theta_target (Polyak averaging)."""
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.lerp_(o, tau)


@torch.no_grad()
def hard_update(target: nn.Module, online: nn.Module) -> None:
    """theta_target <- theta_online."""
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.copy_(o)


# ------------------------------------------------------------------------------------------ batches
class RLBatch(NamedTuple):
    """A causal training batch plus what the TD target needs; B = batch, L = max_len."""

    seq: SequenceBatch  # inputs w[:-1], targets w[1:] (the logged actions)
    next_seq: SequenceBatch  # next states: the window shifted by one event (inputs w[1:])
    rewards: Tensor  # (B, L) float32 reward of the target event's behaviour; 0 where no target
    done: Tensor  # (B, L) bool: the target is the user's last event (terminal next state)
    next_actions: Tensor  # (B, L) int64 logged item after the target (SARSA); 0 where done or none


class RLExamples:
    """Causal windows of a log (the ones :class:`TrainingExamples` makes) turned into ``RLBatch``.

    The next state s_{t+1} of position t is read from a second pass over the window shifted by one
    event (its inputs are the targets ``w[1:]``), so every position, including the last of a window,
    has its next state; it lacks the window's first event, a one-event loss of context.
    """

    def __init__(
        self, log: InteractionLog, layout: BatchLayout, rewards: RewardConfig, sliding: bool
    ) -> None:
        self.base = TrainingExamples(log, layout, objective="causal", sliding_window=sliding, loss="full")
        self.layout = layout
        self.item = log.item
        self.event = log.event.astype(np.int64)
        reward_of_code = np.array([rewards.reward_of(name) for name in EVENT_TYPES], dtype=np.float32)
        self.reward = reward_of_code[self.event]
        ends = log.user_offsets()[2:]
        self.is_last = np.zeros(len(log), dtype=bool)
        self.is_last[ends[ends > 0] - 1] = True
        self.next_item = np.zeros(len(log), dtype=np.int64)
        self.next_item[:-1] = np.where(self.is_last[:-1], 0, log.item[1:])

    def __len__(self) -> int:
        return len(self.base)

    def collate(self, indices: NDArray[np.int64], rng: np.random.Generator) -> RLBatch:
        seq = self.base.collate(indices, rng)
        starts, stops = self.base.starts[indices], self.base.stops[indices]
        size, width = indices.shape[0], self.layout.max_len
        n_in = stops - starts - 1
        rows = np.repeat(np.arange(size), n_in)
        cols = ranges(width - n_in, n_in)
        nxt = ranges(starts, n_in) + 1  # the target event of each position
        rewards = np.zeros((size, width), dtype=np.float32)
        rewards[rows, cols] = self.reward[nxt]
        done = np.zeros((size, width), dtype=bool)
        done[rows, cols] = self.is_last[nxt]
        next_actions = np.zeros((size, width), dtype=np.int64)
        next_actions[rows, cols] = self.next_item[nxt]
        time = None
        if seq.time_buckets is not None and self.base.time is not None:
            t = np.zeros((size, width), dtype=np.int64)
            t[rows, cols] = self.base.time[nxt]
            time = torch.from_numpy(t)
        behaviour = None
        if seq.behaviours is not None:
            b = np.zeros((size, width), dtype=np.int64)
            b[rows, cols] = self.event[nxt] + 1
            behaviour = torch.from_numpy(b)
        assert seq.targets is not None
        next_seq = SequenceBatch(seq.targets.clone(), None, time, behaviour, None)
        return RLBatch(
            seq, next_seq, torch.from_numpy(rewards), torch.from_numpy(done), torch.from_numpy(next_actions)
        )


# ---------------------------------------------------------------------------------------- objective
class QHead(nn.Module):
    """Q(s, a) for every item a: a linear map of the user state (column j = item j + 1)."""

    def __init__(self, hidden: int, n_items: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden, n_items)
        nn.init.normal_(self.linear.weight, std=0.02)
        nn.init.zeros_(self.linear.bias)

    def forward(self, state: Tensor) -> Tensor:
        out: Tensor = self.linear(state)
        return out


class _Critic(nn.Module):
    """Encoder + Q-head, the unit the target network copies."""

    def __init__(self, network: SequenceNetwork, head: QHead) -> None:
        super().__init__()
        self.network = network
        self.head = head

    def forward(self, batch: SequenceBatch) -> Tensor:
        """(B, L, n_items) Q-values at every position."""
        out: Tensor = self.head(self.network.encode(batch))
        return out


class SQNObjective(nn.Module):
    """CE on the supervised head + the configured Q loss; ``forward(batch)`` is the scalar training loss.

    ``last_losses`` keeps the latest (ce, q) values for logging and tests.
    """

    def __init__(self, network: SequenceNetwork, config: SQNConfig) -> None:
        super().__init__()
        self.config = config
        self.network = network
        self.q_head = QHead(config.sequence.hidden, network.n_items) if config.has_q_head else None
        self.target: _Critic | None = None
        if config.bootstraps:
            assert self.q_head is not None
            self.target = copy.deepcopy(_Critic(network, self.q_head))
            self.target.requires_grad_(False)
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))
        self.last_losses: tuple[float, float] = (0.0, 0.0)

    def _step(self) -> int:
        return int(self.get_buffer("steps").item())

    def online_critic(self) -> _Critic:
        if self.q_head is None:
            raise ValueError("variant 'none' has no Q-head")
        return _Critic(self.network, self.q_head)

    def update_target(self) -> None:
        """Move the target network towards the online one (soft) or copy it (periodic, on schedule)."""
        if self.target is None:
            return
        online = self.online_critic()
        if self.config.target_update == "soft":
            soft_update(self.target, online, self.config.tau)
        elif self._step() % self.config.target_period == 0:
            hard_update(self.target, online)

    def forward(self, batch: RLBatch) -> Tensor:
        seq = batch.seq
        if seq.targets is None:
            raise ValueError("a training batch needs targets")
        if self.training:
            if self._step() > 0:
                self.update_target()  # after the previous optimiser step
            self.get_buffer("steps").add_(1)
        hidden = self.network.encode(seq)
        selected = seq.targets > 0
        h = hidden[selected]
        actions = seq.targets[selected]
        ce = full_softmax_loss(h, self.network.item_table(), actions)
        if self.q_head is None:
            self.last_losses = (float(ce.detach()), 0.0)
            return ce
        q_taken = self.q_head(h).gather(1, (actions - 1).unsqueeze(1)).squeeze(1)
        y = self._targets(batch, selected)
        q_loss = 0.5 * F.mse_loss(q_taken, y)
        self.last_losses = (float(ce.detach()), float(q_loss.detach()))
        return ce + self.config.q_weight * q_loss

    @torch.no_grad()
    def _targets(self, batch: RLBatch, selected: Tensor) -> Tensor:
        rewards, done = batch.rewards[selected], batch.done[selected]
        if not self.config.bootstraps:
            return td_targets(rewards, done, 0.0, "reward")
        assert self.target is not None and self.q_head is not None
        next_q_target = self.target(batch.next_seq)[selected]
        if self.config.variant == "sarsa":
            return td_targets(
                rewards,
                done,
                self.config.gamma,
                "sarsa",
                next_q_target,
                next_actions=batch.next_actions[selected],
            )
        next_q_online = (
            self.q_head(self.network.encode(batch.next_seq)[selected]) if self.config.double else None
        )
        return td_targets(rewards, done, self.config.gamma, "qlearning", next_q_target, next_q_online)
