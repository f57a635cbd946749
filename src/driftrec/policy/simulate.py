"""Online evaluation in the synthetic shop: policies serve lists, simulated users react, interests migrate.

The story of one run (:func:`simulate`):

1. Generate the shop (``SyntheticShopConfig``); the log before ``online_start_day`` trains the retrieval
   model (any registered driftrec model, item-kNN by default). The rest of the period is online.
2. Every ``step_hours`` a batch of ``users_per_step`` users (the same users and times for every policy)
   asks for a list of ``k`` items. Candidates are the retrieval model's top ``n_retrieval`` items for the
   user's *live* history plus the best-scored item of every leaf category (so that a policy can find a
   category the history does not point to). Each (user, candidate) pair gets features from the user
   state (:data:`FEATURES`).
3. The policy picks ``k`` candidates; :class:`~driftrec.data.synthetic.ShopEnvironment` samples the
   reactions at that time, with the user's *current* latent interest (planted migrations included); the
   :class:`~driftrec.policy.rewards.RewardConfig` turns the deepest funnel stage into a reward per slot.
4. The policy updates; clicked (or deeper) items join the user's live history. With ``organic=True``
   the shop's own later events (users browsing by themselves) also join it, as they would in a real shop.

Every policy faces its own copy of the environment with the same seed (common random numbers), so
differences come from the policies. Besides the realised reward, each slate's *expected* reward is
computed from the environment's ground truth (:meth:`ShopEnvironment.funnel`), and so is the oracle's
(the k items of highest expected reward in the whole catalogue, best first): regret = oracle - policy.
For users with an abrupt planted migration inside the online period, the ratio of the policy's expected
reward to the oracle's is kept by days since the migration, to see which policy recovers faster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories, InteractionLog, encode_events
from driftrec.data.schema import EVENT_CODE
from driftrec.data.synthetic import STAGES, ShopEnvironment, SyntheticShopConfig, generate
from driftrec.data.synthetic.behaviour import examination_probability
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
    UserLeafThompson,
)
from driftrec.policy.rerank import sqn_factory
from driftrec.policy.rewards import RewardConfig
from driftrec.progress import track

__all__ = [
    "DEFAULT_POLICIES",
    "FEATURES",
    "POLICY_FACTORIES",
    "PolicyContext",
    "SimulationConfig",
    "SimulationResult",
    "simulate",
]

#: Pair features, in column order.
FEATURES: tuple[str, ...] = (
    "bias",
    "retrieval_score",  # min-max scaled per user
    "recent_leaf_share",  # share of the item's leaf among the user's last `recent` history items
    "history_leaf_share",  # share of the item's leaf in the user's whole live history (last `max_history`)
    "popularity",  # log1p(count in the training log) / max
    "log_price_ratio",  # log(price / median price of its leaf): observable, drives purchases
)
DEFAULT_POLICIES: tuple[str, ...] = (
    "random",
    "greedy-supervised",
    "epsilon-greedy",
    "ucb1",
    "thompson-beta",
    "linucb",
    "thompson-linear",
    "linear-greedy",
)


@dataclass(frozen=True)
class SimulationConfig:
    """Shop size and period, online protocol, retrieval model and reward (see module docs)."""

    n_users: int = 1000
    n_items: int = 600
    days: int = 60
    online_start_day: int = 30
    step_hours: float = 12.0
    users_per_step: int = 200
    k: int = 5
    n_retrieval: int = 40
    retrieval: str = "itemknn"
    retrieval_params: Mapping[str, Any] = field(default_factory=dict)
    recent: int = 5
    max_history: int = 50
    organic: bool = True
    migration_rate: float = 1.0
    seed: int = 0
    reward: RewardConfig = field(default_factory=RewardConfig)

    def __post_init__(self) -> None:
        for name in ("n_users", "n_items", "days", "users_per_step", "k", "n_retrieval", "recent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not 1 <= self.online_start_day < self.days:
            raise ValueError(f"online_start_day must be in [1, days), got {self.online_start_day}")
        if not (math.isfinite(self.step_hours) and self.step_hours > 0):
            raise ValueError(f"step_hours must be > 0, got {self.step_hours}")
        if self.users_per_step > self.n_users:
            raise ValueError(f"users_per_step ({self.users_per_step}) exceeds n_users ({self.n_users})")
        if self.k > self.n_retrieval:
            raise ValueError(f"k ({self.k}) must be <= n_retrieval ({self.n_retrieval})")
        if self.max_history < self.recent:
            raise ValueError(f"max_history ({self.max_history}) must be >= recent ({self.recent})")

    def shop_config(self) -> SyntheticShopConfig:
        return SyntheticShopConfig(
            n_users=self.n_users,
            n_items=self.n_items,
            days=self.days,
            migration_rate=self.migration_rate,
            seed=self.seed,
        )


@dataclass(frozen=True)
class PolicyContext:
    """What a policy factory may use: feature width, seed, the training log and the retrieval model."""

    dim: int
    seed: int
    train_log: InteractionLog
    retrieval: Any
    steps: int
    n_users: int = 0
    item_leaf: NDArray[np.int64] | None = None  # (n_items + 1,) leaf index per item id, -1 = padding


PolicyFactory = Callable[[PolicyContext], Policy]

#: Named policies; add your own (e.g. a Q-learning re-ranker) with ``POLICY_FACTORIES[name] = factory``.
POLICY_FACTORIES: dict[str, PolicyFactory] = {
    "random": lambda c: RandomPolicy(seed=c.seed),
    "greedy-supervised": lambda c: GreedyPolicy(),
    "epsilon-greedy": lambda c: EpsilonGreedy(
        c.dim, EpsilonSchedule(0.2, 0.02, max(c.steps // 4, 1)), gamma=0.98, seed=c.seed
    ),
    "ucb1": lambda c: UCB1(c=0.2, gamma=0.98),
    "thompson-beta": lambda c: BetaThompson(gamma=0.98, seed=c.seed),
    "linucb": lambda c: LinUCB(c.dim, alpha=0.3, gamma=0.98),
    "thompson-linear": lambda c: LinearThompson(c.dim, v=0.3, gamma=0.98, seed=c.seed),
    # ablation: LinUCB's model without optimism, what learning the features buys without exploring
    "linear-greedy": lambda c: LinUCB(c.dim, alpha=0.0, gamma=0.98, name="linear-greedy"),
    "thompson-user-leaf": lambda c: UserLeafThompson(c.n_users, _require_leaf(c), seed=c.seed),
    # the Q-learning sequence model (SQN, driftrec.policy.sqn_model) trained on the log, served greedily;
    # not in DEFAULT_POLICIES: it trains a Transformer per run (minutes on CPU)
    "sqn-qlearning": lambda c: sqn_factory("qlearning", name="sqn-qlearning")(c),
    "sqn-qlearning-qhead": lambda c: sqn_factory("qlearning", rank_by="q", name="sqn-qlearning-qhead")(c),
}


def _require_leaf(context: PolicyContext) -> NDArray[np.int64]:
    if context.item_leaf is None:
        raise ValueError("this policy needs PolicyContext.item_leaf")
    return context.item_leaf


@dataclass
class SimulationResult:
    """Per policy: reward and regret per step; recovery curves after planted abrupt migrations."""

    config: SimulationConfig
    step_days: NDArray[np.float64]  # (T,) day of each step since the shop's start
    reward: dict[str, NDArray[np.float64]]  # realised reward per step (sum over the batch's slates)
    expected: dict[str, NDArray[np.float64]]  # expected reward per step
    oracle: NDArray[np.float64]  # oracle's expected reward per step
    recovery_days: NDArray[np.float64]  # (R,) bin centres, days since a planted migration
    recovery: dict[str, NDArray[np.float64]]  # mean expected/oracle ratio per bin
    recovery_counts: NDArray[np.int64]
    migrations_online: int
    wall_s: dict[str, float]

    def cumulative_reward(self) -> dict[str, float]:
        return {name: float(r.sum()) for name, r in self.reward.items()}

    def cumulative_regret(self) -> dict[str, float]:
        return {name: float((self.oracle - e).sum()) for name, e in self.expected.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "step_days": self.step_days.tolist(),
            "reward": {k: v.tolist() for k, v in self.reward.items()},
            "expected": {k: v.tolist() for k, v in self.expected.items()},
            "oracle": self.oracle.tolist(),
            "recovery_days": self.recovery_days.tolist(),
            "recovery": {k: v.tolist() for k, v in self.recovery.items()},
            "recovery_counts": self.recovery_counts.tolist(),
            "migrations_online": self.migrations_online,
            "cumulative_reward": self.cumulative_reward(),
            "cumulative_regret": self.cumulative_regret(),
            "wall_s": self.wall_s,
        }


@dataclass(frozen=True)
class _World:
    """Everything the online phase shares between policies."""

    env_config: SyntheticShopConfig
    train_log: InteractionLog
    retrieval: Any
    item_leaf: NDArray[np.int64]  # (n_items + 1,), -1 for padding
    leaf_items: list[NDArray[np.int64]]
    popularity: NDArray[np.float64]  # (n_items + 1,)
    log_price_ratio: NDArray[np.float64]
    n_leaves: int
    start_histories: list[list[int]]  # per user index
    start_events: list[list[int]]  # event codes (EVENT_TYPES) aligned with start_histories
    organic_user: NDArray[np.int64]  # online organic events (user index, dense item, day)
    organic_item: NDArray[np.int64]
    organic_event: NDArray[np.int64]
    organic_day: NDArray[np.float64]
    migration_day: NDArray[np.float64]  # per user index: first abrupt migration in the online period, or nan
    user_ids: list[str]
    item_ids: list[str]


def _build_world(cfg: SimulationConfig) -> _World:
    from driftrec.models.registry import create

    shop = generate(cfg.shop_config())
    env = ShopEnvironment(shop, seed=cfg.seed)
    user_ids, item_ids = env.users(), env.items()
    users, items = IdMap.build(pl.Series(user_ids)), IdMap.build(pl.Series(item_ids))
    start = cfg.shop_config().start_datetime()
    cut = start + dt.timedelta(days=cfg.online_start_day)
    events = shop.dataset.events.filter(pl.col("event").is_in(["view", "click", "cart", "purchase"]))
    train_events = events.filter(pl.col("ts") < cut)
    train_log, _, _ = encode_events(train_events, users, items)
    retrieval = create(cfg.retrieval, **dict(cfg.retrieval_params)).fit(train_log)
    catalogue = shop.dataset.items
    if catalogue is None:
        raise ValueError("the synthetic shop has no item catalogue")
    category_index = {name: i for i, name in enumerate(env.categories)}
    leaf = np.full(len(item_ids) + 1, -1, dtype=np.int64)
    dense = items.encode(catalogue.get_column("item_id"))
    leaf[dense] = [category_index[c] for c in catalogue.get_column("category").to_list()]
    price = np.ones(len(item_ids) + 1)
    price[dense] = catalogue.get_column("price").to_numpy()
    n_leaves = len(env.categories)
    log_ratio = np.zeros(len(item_ids) + 1)
    leaf_items = []
    for c in range(n_leaves):
        members = np.flatnonzero(leaf == c)
        leaf_items.append(members)
        if members.size:
            log_ratio[members] = np.log(price[members] / np.median(price[members]))
    pop = np.log1p(train_log.item_popularity().astype(np.float64))
    pop /= max(pop.max(), 1e-12)
    histories = train_log.histories(np.arange(1, len(user_ids) + 1))
    start_hist = [histories.sequence(b)[-cfg.max_history :].tolist() for b in range(len(user_ids))]
    assert histories.event is not None
    start_events = [
        histories.event[histories.offsets[b] : histories.offsets[b + 1]][-cfg.max_history :].tolist()
        for b in range(len(user_ids))
    ]
    online = events.filter(pl.col("ts") >= cut).sort("ts")
    organic_user = users.encode(online.get_column("user_id")) - 1
    organic_item = items.encode(online.get_column("item_id"))
    organic_event = online.get_column("event").replace_strict(EVENT_CODE, return_dtype=pl.Int64).to_numpy()
    organic_day = (online.get_column("ts") - start).dt.total_microseconds().to_numpy() / 86_400e6
    truth = shop.truth.filter((pl.col("kind") == "abrupt") & (pl.col("ts") >= cut)).sort("ts")
    migration_day = np.full(len(user_ids), np.nan)
    first = truth.group_by("user_id", maintain_order=True).first()
    idx = users.encode(first.get_column("user_id")) - 1
    migration_day[idx] = (first.get_column("ts") - start).dt.total_microseconds().to_numpy() / 86_400e6
    return _World(
        env_config=cfg.shop_config(),
        train_log=train_log,
        retrieval=retrieval,
        item_leaf=leaf,
        leaf_items=leaf_items,
        popularity=pop,
        log_price_ratio=log_ratio,
        n_leaves=n_leaves,
        start_histories=start_hist,
        start_events=start_events,
        organic_user=np.asarray(organic_user, dtype=np.int64),
        organic_item=np.asarray(organic_item, dtype=np.int64),
        organic_event=np.asarray(organic_event, dtype=np.int64),
        organic_day=organic_day,
        migration_day=migration_day,
        user_ids=user_ids,
        item_ids=item_ids,
    )


def _leaf_shares(world: _World, histories: Sequence[list[int]], last: int | None) -> NDArray[np.float64]:
    """(B, n_leaves) share of each leaf among each history's last ``last`` items (all when None)."""
    out = np.zeros((len(histories), world.n_leaves))
    for b, h in enumerate(histories):
        window = h if last is None else h[-last:]
        if window:
            leaves = world.item_leaf[np.asarray(window, dtype=np.int64)]
            out[b] = np.bincount(leaves, minlength=world.n_leaves) / len(window)
    return out


def _candidates(
    world: _World,
    cfg: SimulationConfig,
    users: NDArray[np.int64],
    live: list[list[int]],
    live_events: list[list[int]],
) -> Candidates:
    hist_lists = [live[u] for u in users]
    base = Histories.from_lists(hist_lists, user=(users + 1).tolist())
    events = np.fromiter((e for u in users for e in live_events[u]), dtype=np.int8, count=base.items.shape[0])
    histories = Histories(base.user, base.offsets, base.items, None, events)
    scores = np.asarray(world.retrieval.score(histories), dtype=np.float64)
    scores[:, 0] = -np.inf
    top = np.argpartition(-scores, cfg.n_retrieval - 1, axis=1)[:, : cfg.n_retrieval]
    per_leaf = np.stack(
        [members[np.argmax(scores[:, members], axis=1)] for members in world.leaf_items if members.size],
        axis=1,
    )
    items = np.concatenate([top, per_leaf], axis=1).astype(np.int64)
    order = np.argsort(items, axis=1, kind="stable")
    sorted_items = np.take_along_axis(items, order, axis=1)
    duplicate_sorted = np.zeros_like(sorted_items, dtype=bool)
    duplicate_sorted[:, 1:] = sorted_items[:, 1:] == sorted_items[:, :-1]
    duplicate = np.zeros_like(duplicate_sorted)
    np.put_along_axis(duplicate, order, duplicate_sorted, axis=1)
    items = np.where(duplicate, 0, items)
    cand_scores = np.where(items > 0, np.take_along_axis(scores, items, axis=1), -np.inf)
    finite = np.where(np.isfinite(cand_scores), cand_scores, np.nan)
    low, high = np.nanmin(finite, axis=1, keepdims=True), np.nanmax(finite, axis=1, keepdims=True)
    scaled = np.nan_to_num((finite - low) / np.where(high > low, high - low, 1.0), nan=0.0)
    recent = _leaf_shares(world, hist_lists, cfg.recent)
    whole = _leaf_shares(world, hist_lists, None)
    leaves = world.item_leaf[items].clip(min=0)
    rows = np.arange(users.shape[0])[:, None]
    features = np.stack(
        [
            np.ones(items.shape),
            scaled,
            recent[rows, leaves],
            whole[rows, leaves],
            world.popularity[items],
            world.log_price_ratio[items],
        ],
        axis=2,
    )
    return Candidates(items, cand_scores, features * (items > 0)[:, :, None], histories, users)


def _append(items: list[int], events: list[int], new: list[int], codes: list[int], keep: int) -> None:
    """Append to a live history (items and event codes in step), keeping the last ``keep``."""
    items.extend(new)
    events.extend(codes)
    del items[:-keep]
    del events[:-keep]


def _expected_slot_value(
    p_click: NDArray[np.float64],
    p_cart: NDArray[np.float64],
    p_buy: NDArray[np.float64],
    r: NDArray[np.float64],
) -> NDArray[np.float64]:
    """E[reward | examined] from the funnel probabilities and rewards per stage (view, click, cart, buy)."""
    out: NDArray[np.float64] = (
        (1 - p_click) * r[0]
        + p_click * (1 - p_cart) * r[1]
        + p_click * p_cart * (1 - p_buy) * r[2]
        + p_click * p_cart * p_buy * r[3]
    )
    return out


def simulate(
    cfg: SimulationConfig,
    policies: Sequence[str] = DEFAULT_POLICIES,
    factories: Mapping[str, PolicyFactory] | None = None,
    progress: bool | None = None,
) -> SimulationResult:
    """Run every named policy through the same online period (see module docs)."""
    import time

    registry = {**POLICY_FACTORIES, **(factories or {})}
    unknown = [p for p in policies if p not in registry]
    if unknown:
        raise ValueError(f"unknown policies {unknown}; known: {', '.join(registry)}")
    world = _build_world(cfg)
    start = cfg.shop_config().start_datetime()
    step_days = np.arange(cfg.online_start_day, cfg.days, cfg.step_hours / 24.0)
    schedule_rng = np.random.default_rng(cfg.seed + 1_000_003)
    schedule = [
        np.sort(schedule_rng.choice(cfg.n_users, cfg.users_per_step, replace=False)) for _ in step_days
    ]
    stage_reward = cfg.reward.reward_vector(STAGES)
    stage_event = [EVENT_CODE[name] for name in STAGES]
    exam = examination_probability(np.arange(cfg.k, dtype=np.float64), world.env_config.position_bias)
    oracle_env = ShopEnvironment(world.env_config, seed=cfg.seed)
    all_items = np.arange(len(world.item_ids))
    oracle = np.zeros(step_days.shape[0])
    for s, (day, users) in enumerate(zip(step_days, schedule, strict=True)):
        t = start + dt.timedelta(days=float(day))
        funnel = oracle_env.funnel(users, np.broadcast_to(all_items, (users.shape[0], all_items.shape[0])), t)
        value = _expected_slot_value(*funnel, stage_reward)
        best = -np.sort(-value, axis=1)[:, : cfg.k]
        oracle[s] = float((best * exam).sum())
    bins = np.arange(-5.0, 16.0, 1.0)
    reward: dict[str, NDArray[np.float64]] = {}
    expected: dict[str, NDArray[np.float64]] = {}
    recovery: dict[str, NDArray[np.float64]] = {}
    counts = np.zeros(bins.shape[0] - 1, dtype=np.int64)
    wall: dict[str, float] = {}
    for p_index, name in enumerate(policies):
        t0 = time.perf_counter()
        context = PolicyContext(
            len(FEATURES),
            cfg.seed * 1000 + p_index,
            world.train_log,
            world.retrieval,
            len(step_days),
            cfg.n_users,
            world.item_leaf,
        )
        policy = registry[name](context)
        env = ShopEnvironment(world.env_config, seed=cfg.seed)
        live = [list(h) for h in world.start_histories]
        live_events = [list(e) for e in world.start_events]
        organic_pos = 0
        realised, exp_value = np.zeros(step_days.shape[0]), np.zeros(step_days.shape[0])
        ratio_sum, ratio_n = np.zeros(bins.shape[0] - 1), np.zeros(bins.shape[0] - 1, dtype=np.int64)
        steps = track(
            enumerate(zip(step_days, schedule, strict=True)), f"online: {name}", len(step_days), progress
        )
        for s, (day, users) in steps:
            if cfg.organic:
                end = int(np.searchsorted(world.organic_day, day, side="right"))
                for u, i, e in zip(
                    world.organic_user[organic_pos:end],
                    world.organic_item[organic_pos:end],
                    world.organic_event[organic_pos:end],
                    strict=True,
                ):
                    _append(live[u], live_events[u], [int(i)], [int(e)], cfg.max_history)
                organic_pos = end
            t = start + dt.timedelta(days=float(day))
            cands = _candidates(world, cfg, users, live, live_events)
            chosen = policy.select(cands, cfg.k)
            shown = np.take_along_axis(cands.items, chosen, axis=1)
            stage, _ = env.respond_batch(
                [world.user_ids[u] for u in users], [[world.item_ids[i - 1] for i in row] for row in shown], t
            )
            slot_rewards = stage_reward[stage]
            policy.update(Feedback(cands, chosen, slot_rewards))
            realised[s] = float(slot_rewards.sum())
            per_user = (_expected_slot_value(*env.funnel(users, shown - 1, t), stage_reward) * exam).sum(
                axis=1
            )
            exp_value[s] = float(per_user.sum())
            best_funnel = oracle_env.funnel(
                users, np.broadcast_to(all_items, (users.shape[0], all_items.shape[0])), t
            )
            since = day - world.migration_day[users]
            inside = np.isfinite(since) & (since >= bins[0]) & (since < bins[-1])
            if inside.any():
                best_value = -np.sort(-_expected_slot_value(*best_funnel, stage_reward)[inside], axis=1)[
                    :, : cfg.k
                ]
                ratio = per_user[inside] / np.maximum((best_value * exam).sum(axis=1), 1e-12)
                which = np.digitize(since[inside], bins) - 1
                np.add.at(ratio_sum, which, ratio)
                np.add.at(ratio_n, which, 1)
            for b, u in enumerate(users):
                hit = stage[b] >= 1
                if hit.any():
                    codes = [stage_event[int(x)] for x in stage[b][hit]]
                    _append(live[u], live_events[u], shown[b][hit].tolist(), codes, cfg.max_history)
        reward[name], expected[name] = realised, exp_value
        recovery[name] = ratio_sum / np.maximum(ratio_n, 1)
        counts = ratio_n
        wall[name] = time.perf_counter() - t0
    return SimulationResult(
        config=cfg,
        step_days=step_days,
        reward=reward,
        expected=expected,
        oracle=oracle,
        recovery_days=(bins[:-1] + bins[1:]) / 2,
        recovery=recovery,
        recovery_counts=counts,
        migrations_online=int(np.isfinite(world.migration_day).sum()),
        wall_s=wall,
    )
