"""A seeded synthetic shop whose shoppers' interests migrate and evolve at known moments.

Public logs never say *when* a shopper's taste changed; this generator does. It draws a catalogue (a
two-level category tree with readable names, brands, log-normal prices, Zipf popularity, and titles,
descriptions and reviews whose words depend on the category), users with latent segments and
favourite categories, planted changes of interest (abrupt migrations of the dominant category, gradual
rise and fade, short bursts), and a multi-behaviour event log (view, click, cart, purchase, rating,
review) sampled from those interests, in the canonical schema of :mod:`driftrec.data.schema`.

Typical use::

    from driftrec.data.synthetic import SyntheticShopConfig, generate, ShopEnvironment

    shop = generate(SyntheticShopConfig(n_users=500, seed=7))
    shop.dataset.events      # canonical events, sorted by user then time
    shop.truth               # planted changes: user_id, ts, end_ts, from/to_category, kind, share
    env = ShopEnvironment(shop, seed=1)   # the same users, reacting to lists you show them

Everything is deterministic for ``config.seed`` (and the environment's ``seed``). The modules tell each
part of the generative story: :mod:`.catalog`, :mod:`.users` (interest dynamics and truth),
:mod:`.events` (sessions and the log), :mod:`.behaviour` (funnel, ratings, position bias) and
:mod:`.environment`.
"""

from __future__ import annotations

from driftrec.data.synthetic.behaviour import STAGES
from driftrec.data.synthetic.config import SyntheticShopConfig
from driftrec.data.synthetic.environment import Response, ShopEnvironment
from driftrec.data.synthetic.shop import SyntheticShop, generate, iter_events, write_shop

__all__ = [
    "STAGES",
    "Response",
    "ShopEnvironment",
    "SyntheticShop",
    "SyntheticShopConfig",
    "generate",
    "iter_events",
    "write_shop",
]
