"""Reward design: what one logged or simulated event is worth to the shop.

A policy can only optimise what its reward says, so the reward is an explicit, validated config rather
than constants scattered through the code. Per event type (canonical names of
:mod:`driftrec.data.schema`, aliases such as ``pv``/``buy``/``fav`` accepted on input):

======== ======= ====================================================================
event    default why
======== ======= ====================================================================
view     0.0     being shown is not an achievement (the offline protocol sets 0.2 for page views)
click    0.2     weak interest
favourite 0.5    stated intent
cart     0.5     strong intent
purchase 1.0     the goal
rating   0.0     follows a purchase that was already rewarded
review   0.0     idem
======== ======= ====================================================================

Options:

- **price/margin weighting** (``price_weight`` w in [0, 1]): the reward of events in ``price_events``
  (purchases by default) is multiplied by ``(1 - w) + w * margin_rate * price / price_reference``, so
  w = 0 ignores prices and w = 1 rewards revenue (or margin) relative to a reference price.
- **diversity** (``diversity_weight``): a list-level bonus ``diversity_weight * distinct / K`` for the
  share of distinct categories in a shown list of K items (:func:`list_rewards`).

Validation refuses negative or non-finite rewards, unknown event types, an all-zero reward, and a
funnel that pays less for deeper intent (view <= click <= cart <= purchase, favourite <= purchase)
unless ``allow_non_monotone=True`` says that is deliberate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftrec.data.schema import EVENT_TYPES, canonical_event

__all__ = ["RewardConfig", "diversity_bonus", "event_rewards", "list_rewards"]

#: Pairs (shallower, deeper) whose rewards must not decrease, unless allow_non_monotone.
_MONOTONE: tuple[tuple[str, str], ...] = (
    ("view", "click"),
    ("click", "cart"),
    ("cart", "purchase"),
    ("favourite", "purchase"),
)


@dataclass(frozen=True)
class RewardConfig:
    """Reward per event type plus optional price weighting and diversity bonus (see module docs)."""

    view: float = 0.0
    click: float = 0.2
    favourite: float = 0.5
    cart: float = 0.5
    purchase: float = 1.0
    rating: float = 0.0
    review: float = 0.0
    price_weight: float = 0.0
    price_events: tuple[str, ...] = ("purchase",)
    price_reference: float = 1.0
    margin_rate: float = 1.0
    diversity_weight: float = 0.0
    allow_non_monotone: bool = False

    def __post_init__(self) -> None:
        for name in EVENT_TYPES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"reward for {name!r} must be a number, got {type(value).__name__}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"reward for {name!r} must be finite and >= 0, got {value}")
        if all(getattr(self, name) == 0 for name in EVENT_TYPES):
            raise ValueError("every event reward is 0: a policy would have nothing to optimise")
        if not self.allow_non_monotone:
            for shallow, deep in _MONOTONE:
                if getattr(self, shallow) > getattr(self, deep):
                    raise ValueError(
                        f"reward for {shallow!r} ({getattr(self, shallow)}) exceeds {deep!r} "
                        f"({getattr(self, deep)}): deeper intent should pay at least as much; "
                        "pass allow_non_monotone=True if this is deliberate"
                    )
        _check_range("price_weight", self.price_weight, 0.0, 1.0)
        _check_range("margin_rate", self.margin_rate, 0.0, 1.0, low_open=True)
        if not math.isfinite(self.price_reference) or self.price_reference <= 0:
            raise ValueError(f"price_reference must be finite and > 0, got {self.price_reference}")
        if not math.isfinite(self.diversity_weight) or self.diversity_weight < 0:
            raise ValueError(f"diversity_weight must be finite and >= 0, got {self.diversity_weight}")
        canonical = tuple(_canonical(name) for name in self.price_events)
        object.__setattr__(self, "price_events", canonical)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RewardConfig:
        """Build from a dict (JSON/CLI): event keys may be aliases (``buy``, ``pv``); unknown keys fail."""
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            name = key if key in known else canonical_event(key)
            if name is None or name not in known:
                raise ValueError(
                    f"unknown reward setting {key!r}; events: {', '.join(EVENT_TYPES)}; "
                    f"options: {', '.join(sorted(known - set(EVENT_TYPES)))}"
                )
            if name in kwargs:
                raise ValueError(f"reward setting {key!r} given twice (as {name!r})")
            kwargs[name] = tuple(value) if name == "price_events" else value
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def reward_of(self, event: str) -> float:
        """Base reward of one event type (no price weighting)."""
        return float(getattr(self, _canonical(event)))

    def reward_vector(self, names: Sequence[str]) -> NDArray[np.float64]:
        """Rewards for a code space of your own, e.g. the shop's ``STAGES``: ``vec[codes]`` maps codes."""
        return np.array([self.reward_of(name) for name in names], dtype=np.float64)


def event_rewards(
    event_types: ArrayLike, prices: ArrayLike | None = None, config: RewardConfig | None = None
) -> NDArray[np.float64]:
    """Reward of each event (any shape), vectorised over the distinct types present.

    ``event_types`` holds event names (canonical or aliases). ``prices`` (same shape) is needed only when
    ``config.price_weight > 0``; a NaN price leaves that event's reward unweighted.
    """
    cfg = config or RewardConfig()
    types = np.asarray(event_types)
    if types.dtype.kind not in "UO":
        raise TypeError(f"event_types must hold event names (strings), got dtype {types.dtype}")
    uniques, inverse = np.unique(types.astype(str), return_inverse=True)
    canonical = [_canonical(str(u)) for u in uniques]
    base = np.array([getattr(cfg, name) for name in canonical], dtype=np.float64)
    out: NDArray[np.float64] = base[inverse.reshape(types.shape)]
    if cfg.price_weight > 0:
        if prices is None:
            raise ValueError("price_weight > 0 needs prices")
        price = np.asarray(prices, dtype=np.float64)
        if price.shape != types.shape:
            raise ValueError(f"prices shape {price.shape} != event_types shape {types.shape}")
        if np.any(price[np.isfinite(price)] < 0):
            raise ValueError("prices must be >= 0")
        weighted = np.isin(np.array(canonical), np.array(cfg.price_events))[inverse.reshape(types.shape)]
        factor = (1.0 - cfg.price_weight) + cfg.price_weight * cfg.margin_rate * price / cfg.price_reference
        out = np.where(weighted & np.isfinite(price), out * factor, out)
    return out


def diversity_bonus(categories: ArrayLike, weight: float) -> NDArray[np.float64]:
    """``weight * distinct / K`` per row of a (B, K) array of category labels or codes."""
    cats = np.asarray(categories)
    if cats.ndim != 2 or cats.shape[1] == 0:
        raise ValueError(f"categories must be (B, K) with K >= 1, got shape {cats.shape}")
    ordered = np.sort(cats, axis=1)
    distinct = 1 + (ordered[:, 1:] != ordered[:, :-1]).sum(axis=1)
    bonus: NDArray[np.float64] = weight * distinct / cats.shape[1]
    return bonus


def list_rewards(
    slot_rewards: ArrayLike, categories: ArrayLike | None = None, config: RewardConfig | None = None
) -> NDArray[np.float64]:
    """Reward of each shown list: sum over its (B, K) slot rewards plus the diversity bonus."""
    cfg = config or RewardConfig()
    slots = np.asarray(slot_rewards, dtype=np.float64)
    if slots.ndim != 2:
        raise ValueError(f"slot_rewards must be (B, K), got shape {slots.shape}")
    total: NDArray[np.float64] = slots.sum(axis=1)
    if cfg.diversity_weight > 0:
        if categories is None:
            raise ValueError("diversity_weight > 0 needs the categories of the shown items")
        total = total + diversity_bonus(categories, cfg.diversity_weight)
    return total


def _canonical(event: str) -> str:
    name = canonical_event(event)
    if name is None:
        raise ValueError(f"unknown event type {event!r}; known: {', '.join(EVENT_TYPES)} (and aliases)")
    return name


def _check_range(name: str, value: float, low: float, high: float, low_open: bool = False) -> None:
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value}")
