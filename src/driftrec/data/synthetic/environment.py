"""The synthetic shop as an environment: show a user a list, observe what they do.

The environment rebuilds the same world as ``generate(config)`` (catalogue and planted interest
changes come from ``config.seed``), so a policy trained in it faces the users whose logs it was given.
Its own random stream (``seed``) drives only the sampled reactions, which are therefore reproducible
given the seed and the order of calls.

A shown list is read top-down: position ``k`` (0-based) is examined with probability
``1 / (1 + k) ** position_bias``; an examined item goes through the click, cart, purchase funnel of
:mod:`~driftrec.data.synthetic.behaviour`, driven by the affinity of the item's leaf to the user's
latent interest *at time t* (planted migrations included) and by its price. Rewards are not decided
here: the caller maps events to rewards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from driftrec.data.synthetic.behaviour import STAGES, examination_probability, funnel_probabilities
from driftrec.data.synthetic.config import SyntheticShopConfig
from driftrec.data.synthetic.shop import SyntheticShop
from driftrec.data.synthetic.users import leaf_interest, slot_weights
from driftrec.data.synthetic.world import STREAM_ENVIRONMENT, build_world, stream


@dataclass(frozen=True)
class Response:
    """What one shown item led to.

    ``event`` is the deepest funnel stage reached: ``"view"`` (shown, not clicked, whether or not it was
    examined), ``"click"``, ``"cart"`` or ``"purchase"``. ``examined`` is latent (a real log never
    has it) and is there for diagnostics of position bias.
    """

    item_id: str
    position: int
    event: str
    examined: bool


class ShopEnvironment:
    """Users who react to recommendation lists like the synthetic shop's users (see module docs)."""

    def __init__(self, shop_or_config: SyntheticShop | SyntheticShopConfig, seed: int | None = None) -> None:
        config = shop_or_config.config if isinstance(shop_or_config, SyntheticShop) else shop_or_config
        self._world = build_world(config)
        self._rng = stream(config.seed if seed is None else seed, STREAM_ENVIRONMENT)
        self._start = config.start_datetime()

    @property
    def config(self) -> SyntheticShopConfig:
        return self._world.config

    @property
    def categories(self) -> tuple[str, ...]:
        """Leaf category paths, in the order of :meth:`interest` vectors."""
        return self._world.catalog.categories

    def users(self) -> list[str]:
        return self._world.user_ids.to_list()

    def items(self) -> list[str]:
        return self._world.catalog.item_ids.to_list()

    def item_category(self, item_id: str) -> str:
        return self.categories[int(self._world.catalog.item_leaf[self._item_index([item_id])[0]])]

    def interest(self, user_id: str, t: dt.datetime) -> np.ndarray:
        """Ground-truth latent interest over :attr:`categories` at ``t`` (sums to 1; noise excluded)."""
        return leaf_interest(
            self._world.plans, self._user_index(user_id), self._seconds(t), len(self.categories)
        )

    def preferred_category(self, user_id: str, t: dt.datetime) -> str:
        """The leaf with the highest latent interest at ``t``."""
        return self.categories[int(np.argmax(self.interest(user_id, t)))]

    def respond(self, user_id: str, shown_item_ids: Sequence[str], t: dt.datetime) -> list[Response]:
        """Sample one user's reaction to a ranked list shown at ``t``."""
        if len(shown_item_ids) == 0:
            return []
        stage, examined = self._sample(
            np.array([self._user_index(user_id)]),
            self._item_index(shown_item_ids)[None, :],
            np.array([self._seconds(t)]),
        )
        return [
            Response(item_id, position, STAGES[int(stage[0, position])], bool(examined[0, position]))
            for position, item_id in enumerate(shown_item_ids)
        ]

    def respond_batch(
        self,
        user_ids: Sequence[str],
        shown_item_ids: Sequence[Sequence[str]],
        t: dt.datetime | Sequence[dt.datetime],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`respond` for B users shown K items each (one ``t`` or one per user).

        Returns ``stage`` (B, K) int64 indexing :data:`STAGES` and ``examined`` (B, K) bool.
        """
        users = np.array([self._user_index(u) for u in user_ids], dtype=np.int64)
        lengths = {len(row) for row in shown_item_ids}
        if len(shown_item_ids) != users.shape[0] or len(lengths) > 1:
            raise ValueError("respond_batch needs one list per user, all of the same length")
        items = np.array([self._item_index(row) for row in shown_item_ids], dtype=np.int64).reshape(
            users.shape[0], -1
        )
        times = [t] * users.shape[0] if isinstance(t, dt.datetime) else list(t)
        if len(times) != users.shape[0]:
            raise ValueError(f"respond_batch got {len(times)} times for {users.shape[0]} users")
        return self._sample(users, items, np.array([self._seconds(x) for x in times]))

    def funnel(
        self, user_index: np.ndarray, item_index: np.ndarray, t: dt.datetime | Sequence[dt.datetime]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ground truth behind :meth:`respond_batch`, for oracles and regret (draws no random numbers).

        ``user_index`` (B,) and ``item_index`` (B, K) are 0-based indices (``u000123`` -> 123); returns
        P(click | examined), P(cart | click), P(purchase | cart), each (B, K), at ``t`` (one or per user).
        """
        users = np.asarray(user_index, dtype=np.int64)
        times = [t] * users.shape[0] if isinstance(t, dt.datetime) else list(t)
        return self._funnel(
            users, np.asarray(item_index, dtype=np.int64), np.array([self._seconds(x) for x in times])
        )

    def _funnel(
        self, users: np.ndarray, items: np.ndarray, seconds: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        world = self._world
        weights = slot_weights(world.plans, users, seconds)  # (B, S)
        leaves = world.catalog.item_leaf[items]  # (B, K)
        hit = world.plans.leaf[users][:, None, :] == leaves[:, :, None]  # (B, K, S)
        top = weights.max(axis=1, keepdims=True)
        affinity = (hit * weights[:, None, :]).sum(axis=2) / np.where(top > 0, top, 1.0)
        return funnel_probabilities(affinity, world.catalog.item_price_ratio[items], self.config)

    def _sample(
        self, users: np.ndarray, items: np.ndarray, seconds: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        n_rows, n_shown = items.shape
        p_click, p_cart, p_purchase = self._funnel(users, items, seconds)
        u = self._rng.random((4, n_rows, n_shown))
        examined = u[0] < examination_probability(
            np.arange(n_shown, dtype=np.float64), self.config.position_bias
        )
        clicked = examined & (u[1] < p_click)
        carted = clicked & (u[2] < p_cart)
        bought = carted & (u[3] < p_purchase)
        stage = clicked.astype(np.int64) + carted + bought
        return stage, examined

    def _seconds(self, t: dt.datetime) -> float:
        aware = t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
        return (aware - self._start).total_seconds()

    def _user_index(self, user_id: str) -> int:
        return _parse_id(user_id, "u", self.config.n_users, "user")

    def _item_index(self, item_ids: Sequence[str]) -> np.ndarray:
        n = self._world.catalog.n_items
        return np.array([_parse_id(i, "i", n, "item") for i in item_ids], dtype=np.int64)


def _parse_id(value: str, prefix: str, n: int, what: str) -> int:
    """Index of an id like ``u000123``; ids are zero-padded indices, so no lookup table is needed."""
    digits = value[1:]
    if not value.startswith(prefix) or not digits.isdigit() or int(digits) >= n:
        raise KeyError(f"unknown {what} id {value!r} (expected {prefix} + an index below {n})")
    return int(digits)
