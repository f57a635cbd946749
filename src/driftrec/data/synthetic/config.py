"""Configuration of the synthetic shop: one frozen, self-validating dataclass.

Defaults give a quick demo (2,000 users, 1,000 items, 60 days, about 100k events). Scale by raising
``n_users`` and ``events_per_user_mean``; the catalogue size and category tree are independent knobs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from driftrec.data.synthetic.words import MAX_BRANDS, MAX_SUB_CATEGORIES, MAX_TOP_CATEGORIES

#: Interest slots a user's plan may use besides favourites and migration targets (gradual, burst).
EXTRA_SLOTS = 2


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


def _check_float(
    name: str, value: object, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}")


@dataclass(frozen=True)
class SyntheticShopConfig:
    """Every knob of the generator, grouped as catalogue, users, interest dynamics, funnel, seed.

    Probabilities of the funnel are the values for a fully on-interest item at the category's median
    price; affinity and price scale them (see :mod:`driftrec.data.synthetic.behaviour`).
    """

    # catalogue
    n_users: int = 2_000
    n_items: int = 1_000
    n_top_categories: int = 8  #: top categories, at most 12 (Electronics, Beauty, Garden, ...)
    n_sub_categories: int = 4  #: leaves per top category, at most 8
    n_brands: int = 60
    popularity_exponent: float = 1.0  #: Zipf exponent of item popularity within a leaf
    price_sigma: float = 0.45  #: log-normal spread of prices around the leaf's price level
    # time and activity
    days: int = 60
    start: dt.date = dt.date(2024, 1, 1)
    events_per_user_mean: float = 50.0  #: all behaviours together; views are scaled to hit it
    activity_sigma: float = 0.8  #: log-normal spread of user activity (heavy-tailed shoppers)
    session_length_mean: float = 6.0  #: views per session
    session_focus: float = 0.5  #: chance a view stays in the session's first category
    # interests
    n_segments: int = 6  #: latent personas with their own taste over top categories
    n_favourites: int = 3  #: leaves a user likes at the start (one dominant)
    dominant_share: float = 0.6  #: share of interest on the dominant leaf
    migration_rate: float = 0.5  #: expected abrupt migrations of the dominant leaf per user
    max_migrations_per_user: int = 3
    gradual_fraction: float = 0.3  #: users whose last favourite fades while a new leaf rises
    burst_prob: float = 0.2  #: users with one short burst of interest in a new leaf
    burst_days: float = 2.0
    burst_strength: float = 1.5  #: burst weight relative to the rest of the interest (1.5 -> 60%)
    noise: float = 0.1  #: share of views on random leaves outside the user's interests
    # funnel
    click_prob: float = 0.35
    cart_prob: float = 0.3
    purchase_prob: float = 0.5
    rating_prob: float = 0.5
    review_prob: float = 0.25
    price_sensitivity: float = 0.8  #: elasticity of funnel probabilities to price vs the leaf's level
    position_bias: float = 0.8  #: examination decays as 1 / (1 + position) ** position_bias
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int("n_users", self.n_users, 1, 100_000_000)
        _check_int("n_top_categories", self.n_top_categories, 1, MAX_TOP_CATEGORIES)
        _check_int("n_sub_categories", self.n_sub_categories, 1, MAX_SUB_CATEGORIES)
        _check_int("n_favourites", self.n_favourites, 2, 5)
        _check_int("max_migrations_per_user", self.max_migrations_per_user, 0, 5)
        need = self.n_slots + 1
        if self.n_leaves < need:
            raise ValueError(
                f"n_top_categories * n_sub_categories must be >= {need} "
                f"(n_favourites + max_migrations_per_user + {EXTRA_SLOTS + 1}), got {self.n_leaves}"
            )
        _check_int("n_items", self.n_items, self.n_leaves, 100_000_000)
        _check_int("n_brands", self.n_brands, self.n_top_categories, MAX_BRANDS)
        _check_float("popularity_exponent", self.popularity_exponent, 0.0, 3.0)
        _check_float("price_sigma", self.price_sigma, 0.0, 2.0)
        _check_int("days", self.days, 1, 3650)
        if not isinstance(self.start, dt.date) or isinstance(self.start, dt.datetime):
            raise ValueError(f"start must be a datetime.date, got {self.start!r}")
        _check_float("events_per_user_mean", self.events_per_user_mean, 1.0, 1_000_000.0)
        _check_float("activity_sigma", self.activity_sigma, 0.0, 3.0)
        _check_float("session_length_mean", self.session_length_mean, 1.0, 1000.0)
        _check_float("session_focus", self.session_focus, 0.0, 1.0)
        _check_int("n_segments", self.n_segments, 1, 1000)
        _check_float("dominant_share", self.dominant_share, 0.5, 1.0)
        _check_float("migration_rate", self.migration_rate, 0.0, float(self.max_migrations_per_user))
        _check_float("gradual_fraction", self.gradual_fraction, 0.0, 1.0)
        _check_float("burst_prob", self.burst_prob, 0.0, 1.0)
        _check_float("burst_days", self.burst_days, 0.0, float(self.days), low_open=True)
        _check_float("burst_strength", self.burst_strength, 0.0, 100.0, low_open=True)
        _check_float("noise", self.noise, 0.0, 1.0)
        _check_float("click_prob", self.click_prob, 0.0, 1.0, low_open=True)
        _check_float("cart_prob", self.cart_prob, 0.0, 1.0, low_open=True)
        _check_float("purchase_prob", self.purchase_prob, 0.0, 1.0, low_open=True)
        _check_float("rating_prob", self.rating_prob, 0.0, 1.0)
        _check_float("review_prob", self.review_prob, 0.0, 1.0)
        _check_float("price_sensitivity", self.price_sensitivity, 0.0, 5.0)
        _check_float("position_bias", self.position_bias, 0.0, 5.0)
        _check_int("seed", self.seed, 0, 2**63 - 1)

    @property
    def n_leaves(self) -> int:
        """Number of leaf categories (every item sits in exactly one)."""
        return self.n_top_categories * self.n_sub_categories

    @property
    def n_slots(self) -> int:
        """Interest slots per user: favourites, migration targets, a gradual riser and a burst."""
        return self.n_favourites + self.max_migrations_per_user + EXTRA_SLOTS

    @property
    def horizon_seconds(self) -> float:
        return float(self.days * 86_400)

    def start_datetime(self) -> dt.datetime:
        """Midnight UTC of ``start``: time zero of the shop."""
        return dt.datetime(self.start.year, self.start.month, self.start.day, tzinfo=dt.UTC)

    def replace(self, **changes: Any) -> SyntheticShopConfig:
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``start`` as ISO date)."""
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyntheticShopConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error so that typos do not pass silently."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown SyntheticShopConfig fields: {', '.join(unknown)}")
        values = dict(data)
        if isinstance(values.get("start"), str):
            values["start"] = dt.date.fromisoformat(values["start"])
        return cls(**values)
