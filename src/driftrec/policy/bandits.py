"""Exploration re-rankers: pick k of a retrieval model's candidates, learn from what users did.

Every policy sees a :class:`Candidates` batch (B users x C candidate items from a retrieval model, with the
retrieval scores and a feature vector per (user, item) pair built from the user's state) and answers
``select(candidates, k)`` with (B, k) column indices into the candidates, best slot first; after the
users react, ``update(feedback)`` gets the slot rewards. Batches are vectorised; all randomness comes from
the policy's own seeded generator.

- :class:`GreedyPolicy` (no learning): the retrieval model's order, i.e. the supervised model served as is.
- :class:`RandomPolicy`: k candidates uniformly (the floor).
- :class:`EpsilonGreedy`: ridge-regression value of each pair; each slot explores a random candidate with
  probability ``epsilon(t)`` from an :class:`EpsilonSchedule` (constant, linear, exponential, 1/t decay).
- :class:`UCB1`: per-item mean reward plus ``c * sqrt(2 ln N / n_i)`` (context-free; unseen items first,
  ties broken by retrieval order).
- :class:`BetaThompson`: per-item Beta posterior of "the item earned a reward", sampled per user.
- :class:`LinUCB`: one shared ridge model on pair features, optimism ``alpha * sqrt(x' A^-1 x)``.
- :class:`LinearThompson`: the same model, a parameter vector drawn from ``N(theta, v^2 A^-1)`` per user.

Discounting (``gamma`` < 1 on the linear models and item statistics) forgets old evidence at every
update, which lets a policy follow interests that move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from driftrec.data.interactions import Histories

__all__ = [
    "UCB1",
    "BetaThompson",
    "Candidates",
    "EpsilonGreedy",
    "EpsilonSchedule",
    "Feedback",
    "GreedyPolicy",
    "LinUCB",
    "LinearThompson",
    "Policy",
    "RandomPolicy",
    "UserLeafThompson",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Candidates:
    """One batch of re-ranking problems.

    items:    (B, C) int64 item ids (any id space the policy's statistics use); 0 = no candidate
    scores:   (B, C) float64 retrieval scores, -inf where items == 0
    features: (B, C, d) float64 pair features from the user state (for contextual policies)
    histories: optional (B) live histories in the retrieval model's id space (sequence-model re-rankers)
    """

    items: I64
    scores: F64
    features: F64
    histories: Histories | None = None  # the users' live histories, for policies that score sequences
    users: I64 | None = None  # (B,) user indices, for policies with per-user state

    def __post_init__(self) -> None:
        if self.items.ndim != 2 or self.scores.shape != self.items.shape:
            raise ValueError(
                f"items and scores must both be (B, C), got {self.items.shape}, {self.scores.shape}"
            )
        if self.features.ndim != 3 or self.features.shape[:2] != self.items.shape:
            raise ValueError(f"features must be (B, C, d), got {self.features.shape}")

    @property
    def valid(self) -> NDArray[np.bool_]:
        return self.items > 0


@dataclass(frozen=True)
class Feedback:
    """What happened to the slates: ``chosen`` (B, k) column indices, ``rewards`` (B, k) per slot."""

    candidates: Candidates
    chosen: I64
    rewards: F64

    def __post_init__(self) -> None:
        if self.chosen.shape != self.rewards.shape or self.chosen.shape[0] != self.candidates.items.shape[0]:
            raise ValueError("chosen and rewards must both be (B, k) with the candidates' B")

    def shown_items(self) -> I64:
        out: I64 = np.take_along_axis(self.candidates.items, self.chosen, axis=1)
        return out

    def shown_features(self) -> F64:
        """(B * k, d) features of the shown pairs, row order matching ``rewards.ravel()``."""
        feats = self.candidates.features
        rows = np.repeat(np.arange(feats.shape[0]), self.chosen.shape[1])
        out: F64 = feats[rows, self.chosen.ravel()]
        return out


class Policy(Protocol):
    name: str

    def select(self, candidates: Candidates, k: int) -> I64: ...

    def update(self, feedback: Feedback) -> None: ...


def top_k_columns(values: F64, valid: NDArray[np.bool_], k: int) -> I64:
    """(B, k) column indices of the largest ``values`` among ``valid`` ones, best first (stable ties)."""
    if k < 1 or k > values.shape[1]:
        raise ValueError(f"k must be in [1, {values.shape[1]}], got {k}")
    masked = np.where(valid, values, -np.inf)
    order: I64 = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    return order


def _rank_prior(candidates: Candidates) -> F64:
    """A tiny tie-breaker favouring the retrieval order (0 for the best, down to -1e-6)."""
    c = candidates.items.shape[1]
    ranks = np.argsort(np.argsort(-candidates.scores, axis=1, kind="stable"), axis=1)
    out: F64 = -1e-6 * ranks / max(c, 1)
    return out


@dataclass
class GreedyPolicy:
    """The supervised retrieval model's own top-k: exploits and never learns from feedback."""

    name: str = "greedy-supervised"

    def select(self, candidates: Candidates, k: int) -> I64:
        return top_k_columns(candidates.scores, candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        return None


@dataclass
class RandomPolicy:
    """k valid candidates uniformly at random."""

    seed: int = 0
    name: str = "random"
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def select(self, candidates: Candidates, k: int) -> I64:
        return top_k_columns(self._rng.random(candidates.scores.shape), candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        return None


@dataclass(frozen=True)
class EpsilonSchedule:
    """epsilon(t) for update count t: constant, linear to ``end`` over ``steps``, exponential with
    half-life ``steps``, or inverse ``start / (1 + t / steps)``; never below ``end``."""

    start: float = 0.2
    end: float = 0.01
    steps: int = 50
    kind: Literal["constant", "linear", "exponential", "inverse"] = "exponential"

    def __post_init__(self) -> None:
        if not (0 <= self.end <= self.start <= 1):
            raise ValueError(f"need 0 <= end <= start <= 1, got start={self.start}, end={self.end}")
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.kind not in ("constant", "linear", "exponential", "inverse"):
            raise ValueError(f"kind must be constant, linear, exponential or inverse, got {self.kind!r}")

    def __call__(self, t: int) -> float:
        if self.kind == "constant":
            return self.start
        if self.kind == "linear":
            value = self.start + (self.end - self.start) * min(t / self.steps, 1.0)
        elif self.kind == "exponential":
            value = self.start * 0.5 ** (t / self.steps)
        else:
            value = self.start / (1.0 + t / self.steps)
        return max(self.end, value)


@dataclass
class _Ridge:
    """Shared ridge regression with discounting: A = gamma A + X'X (+ (1-gamma) lam I), b = gamma b + X'r."""

    dim: int
    lam: float = 1.0
    gamma: float = 1.0
    a: F64 = field(init=False)
    b: F64 = field(init=False)

    def __post_init__(self) -> None:
        if self.lam <= 0:
            raise ValueError(f"ridge lam must be > 0, got {self.lam}")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        self.a = self.lam * np.eye(self.dim)
        self.b = np.zeros(self.dim)

    def update(self, x: F64, r: F64) -> None:
        if x.shape[1] != self.dim:
            raise ValueError(f"features have {x.shape[1]} columns, the model {self.dim}")
        self.a = self.gamma * self.a + x.T @ x + (1 - self.gamma) * self.lam * np.eye(self.dim)
        self.b = self.gamma * self.b + x.T @ r

    def solve(self) -> tuple[F64, F64]:
        """(theta, A^-1)."""
        a_inv: F64 = np.asarray(np.linalg.inv(self.a), dtype=np.float64)
        theta: F64 = a_inv @ self.b
        return theta, a_inv


@dataclass
class EpsilonGreedy:
    """Ridge value of each (user, item) pair; each slot explores with probability ``schedule(t)``."""

    dim: int
    schedule: EpsilonSchedule = field(default_factory=EpsilonSchedule)
    lam: float = 1.0
    gamma: float = 1.0
    seed: int = 0
    name: str = "epsilon-greedy"
    t: int = field(init=False, default=0)
    _model: _Ridge = field(init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._model = _Ridge(self.dim, self.lam, self.gamma)
        self._rng = np.random.default_rng(self.seed)

    @property
    def epsilon(self) -> float:
        return self.schedule(self.t)

    def select(self, candidates: Candidates, k: int) -> I64:
        theta, _ = self._model.solve()
        value = candidates.features @ theta + _rank_prior(candidates)
        greedy = top_k_columns(value, candidates.valid, candidates.items.shape[1])
        noise = top_k_columns(self._rng.random(value.shape), candidates.valid, candidates.items.shape[1])
        explore = self._rng.random((value.shape[0], k)) < self.epsilon
        chosen = np.full((value.shape[0], k), -1, dtype=np.int64)
        taken = ~candidates.valid
        rows = np.arange(value.shape[0])
        for slot in range(k):
            source = np.where(explore[:, slot, None], noise, greedy)
            free = ~np.take_along_axis(taken, source, axis=1)
            pick = source[rows, free.argmax(axis=1)]
            chosen[:, slot] = pick
            taken[rows, pick] = True
        return chosen

    def update(self, feedback: Feedback) -> None:
        self._model.update(feedback.shown_features(), feedback.rewards.ravel())
        self.t += 1


@dataclass
class _ItemStats:
    """Discounted per-item counts and reward sums, grown on demand to the largest item id seen."""

    gamma: float = 1.0
    n: F64 = field(default_factory=lambda: np.zeros(1))
    s: F64 = field(default_factory=lambda: np.zeros(1))

    def grow(self, max_item: int) -> None:
        if max_item >= self.n.shape[0]:
            extra = max_item + 1 - self.n.shape[0]
            self.n = np.concatenate([self.n, np.zeros(extra)])
            self.s = np.concatenate([self.s, np.zeros(extra)])

    def update(self, items: I64, rewards: F64) -> None:
        self.grow(int(items.max(initial=0)))
        self.n *= self.gamma
        self.s *= self.gamma
        np.add.at(self.n, items.ravel(), 1.0)
        np.add.at(self.s, items.ravel(), rewards.ravel())


@dataclass
class UCB1:
    """Per-item UCB1: mean slot reward + ``c * sqrt(2 ln N / n_i)``; unseen items are tried first."""

    c: float = 1.0
    gamma: float = 1.0
    name: str = "ucb1"
    _stats: _ItemStats = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.c < 0:
            raise ValueError(f"c must be >= 0, got {self.c}")
        self._stats = _ItemStats(self.gamma)

    def select(self, candidates: Candidates, k: int) -> I64:
        self._stats.grow(int(candidates.items.max(initial=0)))
        n = self._stats.n[candidates.items]
        s = self._stats.s[candidates.items]
        total = max(float(self._stats.n.sum()), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(n > 0, s / n + self.c * np.sqrt(2.0 * math.log(total) / n), np.inf)
        value = np.where(np.isinf(bound), 1e9, bound) + _rank_prior(candidates)
        return top_k_columns(value, candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        self._stats.update(feedback.shown_items(), feedback.rewards)


@dataclass
class BetaThompson:
    """Per-item Beta(alpha0 + successes, beta0 + failures), success = any reward > 0; one draw per pair."""

    alpha0: float = 1.0
    beta0: float = 1.0
    gamma: float = 1.0
    seed: int = 0
    name: str = "thompson-beta"
    _wins: _ItemStats = field(init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.alpha0 <= 0 or self.beta0 <= 0:
            raise ValueError("alpha0 and beta0 must be > 0")
        self._wins = _ItemStats(self.gamma)
        self._rng = np.random.default_rng(self.seed)

    def select(self, candidates: Candidates, k: int) -> I64:
        self._wins.grow(int(candidates.items.max(initial=0)))
        n = self._wins.n[candidates.items]
        wins = self._wins.s[candidates.items]
        draw = self._rng.beta(self.alpha0 + wins, self.beta0 + n - wins)
        return top_k_columns(draw + _rank_prior(candidates), candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        self._wins.update(feedback.shown_items(), (feedback.rewards > 0).astype(np.float64))


@dataclass
class LinUCB:
    """Shared linear model on pair features with optimism ``alpha * sqrt(x' A^-1 x)`` (Li et al. 2010)."""

    dim: int
    alpha: float = 1.0
    lam: float = 1.0
    gamma: float = 1.0
    name: str = "linucb"
    _model: _Ridge = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        self._model = _Ridge(self.dim, self.lam, self.gamma)

    def select(self, candidates: Candidates, k: int) -> I64:
        theta, a_inv = self._model.solve()
        x = candidates.features
        width = np.sqrt(np.maximum(np.einsum("bcd,de,bce->bc", x, a_inv, x), 0.0))
        value = x @ theta + self.alpha * width + _rank_prior(candidates)
        return top_k_columns(value, candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        self._model.update(feedback.shown_features(), feedback.rewards.ravel())


@dataclass
class LinearThompson:
    """Shared linear-Gaussian model; each user's slate ranked by its own draw theta ~ N(theta, v^2 A^-1)."""

    dim: int
    v: float = 0.5
    lam: float = 1.0
    gamma: float = 1.0
    seed: int = 0
    name: str = "thompson-linear"
    _model: _Ridge = field(init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.v < 0:
            raise ValueError(f"v must be >= 0, got {self.v}")
        self._model = _Ridge(self.dim, self.lam, self.gamma)
        self._rng = np.random.default_rng(self.seed)

    def select(self, candidates: Candidates, k: int) -> I64:
        theta, a_inv = self._model.solve()
        chol = np.linalg.cholesky((a_inv + a_inv.T) / 2 + 1e-12 * np.eye(self.dim))
        z = self._rng.standard_normal((candidates.items.shape[0], self.dim))
        draws = theta[None, :] + self.v * z @ chol.T  # (B, d)
        value = np.einsum("bcd,bd->bc", candidates.features, draws) + _rank_prior(candidates)
        return top_k_columns(value, candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        self._model.update(feedback.shown_features(), feedback.rewards.ravel())


@dataclass
class UserLeafThompson:
    """Per-user Thompson sampling over item categories (leaves), to find where a user's interest went.

    Each (user, leaf) has a discounted Beta posterior of "a shown item of this leaf earned a reward"; its
    prior mean follows the pair feature ``prior_feature`` (the leaf's share in the user's recent events)
    with weight ``prior_strength``. A slate ranks candidates by a draw for their leaf plus
    ``retrieval_weight`` times the scaled retrieval score (``score_feature``), so leaves the history does
    not point to are still tried now and then, and a leaf that stops paying loses its place.
    """

    n_users: int
    item_leaf: I64  # (n_items + 1,) leaf of each item id, -1 for padding
    prior_strength: float = 4.0
    retrieval_weight: float = 0.1
    gamma: float = 0.9
    prior_feature: int = 2
    score_feature: int = 1
    seed: int = 0
    name: str = "thompson-user-leaf"
    _n: F64 = field(init=False, repr=False)
    _s: F64 = field(init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.prior_strength <= 0 or not 0 < self.gamma <= 1:
            raise ValueError("prior_strength must be > 0 and gamma in (0, 1]")
        n_leaves = int(self.item_leaf.max()) + 1
        self._n = np.zeros((self.n_users, n_leaves))
        self._s = np.zeros((self.n_users, n_leaves))
        self._rng = np.random.default_rng(self.seed)

    def _users(self, candidates: Candidates) -> I64:
        if candidates.users is None:
            raise ValueError(f"{self.name} needs Candidates.users")
        return candidates.users

    def select(self, candidates: Candidates, k: int) -> I64:
        users = self._users(candidates)
        leaves = self.item_leaf[candidates.items].clip(min=0)
        rows = users[:, None]
        n, wins = self._n[rows, leaves], self._s[rows, leaves]
        prior_mean = np.clip(candidates.features[:, :, self.prior_feature], 0.02, 0.98)
        a = self.prior_strength * prior_mean + wins
        b = self.prior_strength * (1 - prior_mean) + n - wins
        # one draw per (user, leaf): draw for every candidate, then copy the draw of its leaf's first one
        draw = self._rng.beta(a, b)
        first = np.zeros_like(leaves)
        group = np.where(candidates.valid, leaves, -1)  # padding never shares a draw with a real leaf
        order = np.argsort(group, axis=1, kind="stable")
        sorted_leaves = np.take_along_axis(group, order, axis=1)
        starts = np.ones_like(sorted_leaves, dtype=bool)
        starts[:, 1:] = sorted_leaves[:, 1:] != sorted_leaves[:, :-1]
        idx = np.where(starts, np.arange(leaves.shape[1])[None, :], 0)
        np.maximum.accumulate(idx, axis=1, out=idx)
        np.put_along_axis(first, order, np.take_along_axis(order, idx, axis=1), axis=1)
        leaf_draw = np.take_along_axis(draw, first, axis=1)
        value = leaf_draw + self.retrieval_weight * candidates.features[:, :, self.score_feature]
        return top_k_columns(value + _rank_prior(candidates), candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        users = self._users(feedback.candidates)
        self._n[users] *= self.gamma
        self._s[users] *= self.gamma
        leaves = self.item_leaf[feedback.shown_items()].clip(min=0)
        rows = np.repeat(users, leaves.shape[1])
        np.add.at(self._n, (rows, leaves.ravel()), 1.0)
        np.add.at(self._s, (rows, leaves.ravel()), (feedback.rewards.ravel() > 0).astype(np.float64))
