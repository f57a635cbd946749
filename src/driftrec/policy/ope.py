"""Off-policy evaluation: what would a new policy have earned on a log collected by another one?

Given logged rounds (context, shown ``action`` at list ``position``, observed ``reward``, the logging
policy's propensity ``pscore``) and the evaluation policy's ``action_dist`` (n, n_actions, len_list),
each estimator returns per-round values whose mean is the policy value:

- **IPS**: ``w * r`` with importance weight ``w = pi_e(a|x,k) / pscore`` (optionally clipped at ``clip``);
  unbiased when the propensities are right, high variance when the policies differ.
- **SNIPS**: ``w * r / mean(w)`` (never clipped); a little bias, much less variance.
- **DM** (direct method): ``sum_a pi_e(a|x,k) q(x,a,k)`` with a reward model ``q``; low variance,
  biased as much as ``q`` is wrong.
- **DR** (doubly robust): DM plus ``w * (r - q(x,a,k))``; unbiased if either the propensities or ``q``
  are right. ``clip`` bounds ``w`` (bias for variance).

Confidence intervals are percentile bootstraps of the mean of the per-round values (resampling rounds),
drawn from NumPy's legacy ``RandomState(seed)`` in the order Open Bandit Pipeline draws them, so that
with the same seed the intervals equal obp's (``benchmarks/ope_vs_obp.py`` checks to 1e-6).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ESTIMATORS",
    "BootstrapConfig",
    "Estimate",
    "LoggedFeedback",
    "bootstrap_interval",
    "estimate",
    "estimate_all",
    "fit_reward_model",
    "round_values",
]

EstimatorName = Literal["ips", "snips", "dm", "dr"]
ESTIMATORS: tuple[EstimatorName, ...] = ("ips", "snips", "dm", "dr")

Array = NDArray[np.float64]


@dataclass(frozen=True)
class LoggedFeedback:
    """Logged bandit rounds: ``reward`` (n,), ``action`` (n,) int, ``pscore`` (n,) in (0, 1],
    ``position`` (n,) int (0 for single-slot logs), optional ``context`` (n, d)."""

    reward: Array
    action: NDArray[np.int64]
    pscore: Array
    position: NDArray[np.int64]
    context: Array | None = None

    def __post_init__(self) -> None:
        n = self.reward.shape[0]
        for name in ("reward", "action", "pscore", "position"):
            value = getattr(self, name)
            if value.ndim != 1 or value.shape[0] != n:
                raise ValueError(f"{name} must be 1-d of length {n} (like reward), got shape {value.shape}")
        if n == 0:
            raise ValueError("logged feedback is empty")
        if not np.all(np.isfinite(self.reward)):
            raise ValueError("reward contains NaN or inf")
        if not np.all((self.pscore > 0) & (self.pscore <= 1)):
            raise ValueError("pscore must be in (0, 1] for every round (IPS divides by it)")
        if self.action.min() < 0 or self.position.min() < 0:
            raise ValueError("action and position must be >= 0")
        if self.context is not None and (self.context.ndim != 2 or self.context.shape[0] != n):
            raise ValueError(f"context must be (n, d) with n = {n}, got shape {self.context.shape}")

    @classmethod
    def from_arrays(
        cls,
        reward: ArrayLike,
        action: ArrayLike,
        pscore: ArrayLike,
        position: ArrayLike | None = None,
        context: ArrayLike | None = None,
    ) -> LoggedFeedback:
        r = np.asarray(reward, dtype=np.float64)
        return cls(
            reward=r,
            action=np.asarray(action, dtype=np.int64),
            pscore=np.asarray(pscore, dtype=np.float64),
            position=np.zeros(r.shape[0], np.int64) if position is None else np.asarray(position, np.int64),
            context=None if context is None else np.asarray(context, dtype=np.float64),
        )

    @property
    def n_rounds(self) -> int:
        return int(self.reward.shape[0])


@dataclass(frozen=True)
class BootstrapConfig:
    """Percentile bootstrap: ``n_samples`` resamples, two-sided level ``1 - alpha``, legacy-RNG ``seed``."""

    n_samples: int = 10_000
    alpha: float = 0.05
    seed: int = 12_345
    chunk_rows: int = 5_000_000

    def __post_init__(self) -> None:
        if self.n_samples < 2:
            raise ValueError(f"n_samples must be >= 2, got {self.n_samples}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {self.chunk_rows}")


@dataclass(frozen=True)
class Estimate:
    """Policy value and its bootstrap interval (``mean`` is the bootstrap mean, kept for comparisons)."""

    estimator: str
    value: float
    lower: float
    upper: float
    bootstrap_mean: float

    def to_dict(self) -> dict[str, float | str]:
        return {
            "estimator": self.estimator,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "bootstrap_mean": self.bootstrap_mean,
        }


def _check_action_dist(data: LoggedFeedback, action_dist: Array) -> None:
    if action_dist.ndim != 3 or action_dist.shape[0] != data.n_rounds:
        raise ValueError(
            f"action_dist must be (n_rounds={data.n_rounds}, n_actions, len_list), got {action_dist.shape}"
        )
    if data.action.max() >= action_dist.shape[1] or data.position.max() >= action_dist.shape[2]:
        raise ValueError("a logged action or position is outside action_dist's (n_actions, len_list)")
    if np.any(action_dist < 0) or not np.allclose(action_dist.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("action_dist must be >= 0 and sum to 1 over actions for every round and position")


def _weights(data: LoggedFeedback, action_dist: Array, clip: float) -> Array:
    rows = np.arange(data.n_rounds)
    w: Array = action_dist[rows, data.action, data.position] / data.pscore
    return np.minimum(w, clip) if math.isfinite(clip) else w


def _direct(data: LoggedFeedback, action_dist: Array, q_hat: Array) -> Array:
    if q_hat.shape != action_dist.shape:
        raise ValueError(f"q_hat shape {q_hat.shape} != action_dist shape {action_dist.shape}")
    rows = np.arange(data.n_rounds)
    pi = action_dist[rows, :, data.position]
    q = q_hat[rows, :, data.position]
    out: Array = (pi * q).sum(axis=1) / pi.sum(axis=1)
    return out


def round_values(
    estimator: EstimatorName,
    data: LoggedFeedback,
    action_dist: ArrayLike,
    q_hat: ArrayLike | None = None,
    clip: float = math.inf,
) -> Array:
    """Per-round contributions of one estimator; their mean is the estimate (see module docs)."""
    dist = np.asarray(action_dist, dtype=np.float64)
    _check_action_dist(data, dist)
    if not clip > 0:
        raise ValueError(f"clip must be > 0, got {clip}")
    if estimator in ("dm", "dr") and q_hat is None:
        raise ValueError(f"{estimator} needs q_hat, the reward model's (n, n_actions, len_list) predictions")
    if estimator == "ips":
        return data.reward * _weights(data, dist, clip)
    if estimator == "snips":
        w = _weights(data, dist, math.inf)  # self-normalisation already bounds it; obp does not clip here
        out: Array = data.reward * w / w.mean()
        return out
    q = np.asarray(q_hat, dtype=np.float64)
    if estimator == "dm":
        return _direct(data, dist, q)
    if estimator == "dr":
        rows = np.arange(data.n_rounds)
        factual = q[rows, data.action, data.position]
        dr: Array = _direct(data, dist, q) + _weights(data, dist, clip) * (data.reward - factual)
        return dr
    raise ValueError(f"unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}")


def bootstrap_interval(
    samples: ArrayLike, config: BootstrapConfig | None = None
) -> tuple[float, float, float]:
    """(lower, upper, bootstrap mean) of the mean of ``samples`` by percentile bootstrap.

    Index draws come from ``RandomState(seed).randint(0, n, ...)`` row after row (chunked for memory),
    the stream obp's ``RandomState.choice(samples, size=n)`` loop consumes.
    """
    cfg = config or BootstrapConfig()
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"samples must be a non-empty 1-d array, got shape {x.shape}")
    n = x.shape[0]
    rng = np.random.RandomState(cfg.seed)
    per_chunk = max(1, cfg.chunk_rows // n)
    means = np.empty(cfg.n_samples, dtype=np.float64)
    done = 0
    while done < cfg.n_samples:
        rows = min(per_chunk, cfg.n_samples - done)
        idx = rng.randint(0, n, size=(rows, n))
        means[done : done + rows] = x[idx].mean(axis=1)
        done += rows
    lower = float(np.percentile(means, 100 * (cfg.alpha / 2)))
    upper = float(np.percentile(means, 100 * (1 - cfg.alpha / 2)))
    return lower, upper, float(means.mean())


def estimate(
    estimator: EstimatorName,
    data: LoggedFeedback,
    action_dist: ArrayLike,
    q_hat: ArrayLike | None = None,
    clip: float = math.inf,
    bootstrap: BootstrapConfig | None = None,
) -> Estimate:
    """One estimator's value with its bootstrap confidence interval."""
    values = round_values(estimator, data, action_dist, q_hat, clip)
    lower, upper, boot_mean = bootstrap_interval(values, bootstrap)
    return Estimate(estimator, float(values.mean()), lower, upper, boot_mean)


def estimate_all(
    data: LoggedFeedback,
    action_dist: ArrayLike,
    q_hat: ArrayLike | None = None,
    clip: float = math.inf,
    bootstrap: BootstrapConfig | None = None,
    estimators: tuple[EstimatorName, ...] = ESTIMATORS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Estimate]:
    """Every estimator in ``estimators`` (DM/DR skipped when ``q_hat`` is None)."""
    out: dict[str, Estimate] = {}
    for name in estimators:
        if name in ("dm", "dr") and q_hat is None:
            continue
        if progress is not None:
            progress(name)
        out[name] = estimate(name, data, action_dist, q_hat, clip, bootstrap)
    return out


def _design(
    context: Array, actions: NDArray[np.int64], positions: NDArray[np.int64], n_actions: int, len_list: int
) -> Array:
    """Context, one-hot action, one-hot position and action x position: what a linear reward model sees."""
    n = context.shape[0]
    a = np.zeros((n, n_actions))
    a[np.arange(n), actions] = 1.0
    p = np.zeros((n, len_list))
    p[np.arange(n), positions] = 1.0
    ap = np.zeros((n, n_actions * len_list))
    ap[np.arange(n), actions * len_list + positions] = 1.0
    return np.hstack([context, a, p, ap])


def fit_reward_model(
    data: LoggedFeedback,
    n_actions: int,
    len_list: int,
    model_factory: Callable[[], Any] | None = None,
    n_folds: int = 1,
    seed: int = 0,
    model_params: Mapping[str, Any] | None = None,
) -> Array:
    """Reward model predictions ``q_hat`` (n, n_actions, len_list) for DM/DR.

    Fits a scikit-learn estimator (default: logistic regression for 0/1 rewards, ridge otherwise) on
    context + action + position features. With ``n_folds > 1`` each round is predicted by a model that
    did not see it (cross-fitting), which keeps DR's correction term honest.
    """
    if data.context is None:
        raise ValueError("fit_reward_model needs data.context")
    if n_folds < 1:
        raise ValueError(f"n_folds must be >= 1, got {n_folds}")
    binary = bool(np.isin(data.reward, (0.0, 1.0)).all())
    if model_factory is None:
        from sklearn.linear_model import LogisticRegression, Ridge

        params = dict(model_params or {})

        def default_model() -> Any:
            return LogisticRegression(max_iter=1000, **params) if binary else Ridge(**params)

        model_factory = default_model
    n = data.n_rounds
    x = _design(data.context, data.action, data.position, n_actions, len_list)
    folds = np.zeros(n, np.int64) if n_folds == 1 else np.random.default_rng(seed).permutation(n) % n_folds
    q_hat = np.empty((n, n_actions, len_list), dtype=np.float64)
    grid_a = np.repeat(np.arange(n_actions), len_list)
    grid_p = np.tile(np.arange(len_list), n_actions)
    for fold in range(n_folds):
        test = folds == fold
        train = ~test if n_folds > 1 else test
        model = model_factory().fit(x[train], data.reward[train])
        rows = np.flatnonzero(test)
        for start in range(0, rows.shape[0], 512):
            chunk = rows[start : start + 512]
            ctx = np.repeat(data.context[chunk], n_actions * len_list, axis=0)
            xa = _design(
                ctx, np.tile(grid_a, chunk.shape[0]), np.tile(grid_p, chunk.shape[0]), n_actions, len_list
            )
            pred = model.predict_proba(xa)[:, 1] if binary else model.predict(xa)
            q_hat[chunk] = np.asarray(pred, dtype=np.float64).reshape(chunk.shape[0], n_actions, len_list)
    return q_hat
