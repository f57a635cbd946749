"""How a shopper reacts to one item: the funnel, ratings and position bias, shared by log and environment.

Story: a viewed item is clicked, then carted, then purchased, each step conditional on the previous.
Each step's probability is the configured base rate scaled by *affinity* and *price*:

- affinity ``a`` in [0, 1] is the user's current interest in the item's leaf divided by their interest
  in their favourite leaf (1 for the dominant leaf, 0 off-interest). Clicks scale by ``0.08 + 0.92 a``
  (so off-interest clicks are rare but not impossible), carts by ``0.3 + 0.7 a``, purchases by
  ``0.5 + 0.5 a``.
- price enters as ``(price / leaf median) ** -price_sensitivity``, clipped to [0.25, 2]: cheaper than
  usual for its category helps, dearer hurts.

A purchase is rated (``rating_prob``) and reviewed (``review_prob``) independently; both carry the same
1-5 star satisfaction, which rises with affinity and the item's latent quality. In a ranked list a user
examines position ``k`` (0-based) with probability ``1 / (1 + k) ** position_bias`` and only examined
items enter the funnel.
"""

from __future__ import annotations

import numpy as np

from driftrec.data.synthetic.config import SyntheticShopConfig

#: Deepest funnel stage reached by a shown item; codes index this tuple.
STAGES: tuple[str, ...] = ("view", "click", "cart", "purchase")

_CLICK_FLOOR, _CART_FLOOR, _PURCHASE_FLOOR = 0.08, 0.3, 0.5
_MAX_PROB = 0.95
_CALIBRATION_SEED, _CALIBRATION_DRAWS = 20_240_101, 20_000
#: Log-normal spread of brand price premiums (the catalogue draws them; calibration needs it too).
BRAND_SIGMA = 0.15


def price_factor(price_ratio: np.ndarray, sensitivity: float) -> np.ndarray:
    """Multiplier of funnel probabilities for an item priced ``price_ratio`` times its leaf median."""
    out: np.ndarray = np.clip(np.power(price_ratio, -sensitivity), 0.25, 2.0)
    return out


def funnel_probabilities(
    affinity: np.ndarray, price_ratio: np.ndarray, config: SyntheticShopConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(click | view), P(cart | click), P(purchase | cart) per item, all capped at 0.95."""
    pf = price_factor(price_ratio, config.price_sensitivity)
    a = np.clip(affinity, 0.0, 1.0)
    click = np.minimum(config.click_prob * (_CLICK_FLOOR + (1 - _CLICK_FLOOR) * a) * pf, _MAX_PROB)
    cart = np.minimum(config.cart_prob * (_CART_FLOOR + (1 - _CART_FLOOR) * a) * pf, _MAX_PROB)
    purchase = np.minimum(
        config.purchase_prob * (_PURCHASE_FLOOR + (1 - _PURCHASE_FLOOR) * a) * pf, _MAX_PROB
    )
    return click, cart, purchase


def satisfaction_stars(affinity: np.ndarray, quality: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1-5 stars: about 3 off-interest, about 4.5 on the favourite leaf, shifted by item quality."""
    raw = 2.9 + 1.6 * np.clip(affinity, 0.0, 1.0) + 0.6 * quality + rng.normal(0.0, 0.8, affinity.shape[0])
    out: np.ndarray = np.clip(np.rint(raw), 1, 5).astype(np.int64)
    return out


def examination_probability(positions: np.ndarray, position_bias: float) -> np.ndarray:
    """Chance that a user looks at 0-based list position ``positions`` at all."""
    out: np.ndarray = np.power(1.0 + positions, -position_bias)
    return out


def expected_events_per_view(config: SyntheticShopConfig) -> float:
    """Mean number of logged events one view brings (itself, funnel steps, ratings, reviews).

    Used to turn ``events_per_user_mean`` into a view rate. A small Monte Carlo over the initial
    favourites' weights, noise and price spread, with a fixed private seed so that the result depends on
    the config only; it ignores bursts, migrations and ratings past the horizon, so the realised total
    lands within a few percent of the target, not exactly on it.
    """
    rng = np.random.default_rng(_CALIBRATION_SEED)
    n, d = _CALIBRATION_DRAWS, config.dominant_share
    secondary = (1.0 - d) * rng.dirichlet(np.full(config.n_favourites - 1, 2.0), size=n)
    weights = np.column_stack([np.full(n, d), secondary])
    cum = np.cumsum(weights, axis=1)
    slot = np.minimum((cum <= rng.random(n)[:, None]).sum(axis=1), config.n_favourites - 1)
    affinity = weights[np.arange(n), slot] / d
    affinity[rng.random(n) < config.noise] = 0.0
    ratio = np.exp(rng.normal(0.0, config.price_sigma, n) + rng.normal(0.0, BRAND_SIGMA, n))
    click, cart, purchase = funnel_probabilities(affinity, ratio, config)
    per_view = (
        1.0 + click + click * cart + click * cart * purchase * (1.0 + config.rating_prob + config.review_prob)
    )
    return float(per_view.mean())
