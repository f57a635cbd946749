"""ShopEnvironment: reproducible reactions that follow each user's latent, migrating interest."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftrec.data.synthetic import (
    STAGES,
    Response,
    ShopEnvironment,
    SyntheticShop,
    SyntheticShopConfig,
    generate,
)

CFG = SyntheticShopConfig(n_users=200, n_items=400, n_brands=24, events_per_user_mean=10.0, seed=11)


@pytest.fixture(scope="module")
def shop() -> SyntheticShop:
    return generate(CFG)


@pytest.fixture(scope="module")
def env(shop: SyntheticShop) -> ShopEnvironment:
    return ShopEnvironment(shop, seed=5)


def _items_of(env: ShopEnvironment, category: str) -> list[str]:
    return [i for i in env.items() if env.item_category(i) == category]


def _migrant(shop: SyntheticShop) -> dict[str, object]:
    """A user with an abrupt migration and no burst, so the dominant leaf is the preferred one."""
    bursty = shop.truth.filter(pl.col("kind") == "burst")["user_id"]
    rows = shop.truth.filter((pl.col("kind") == "abrupt") & ~pl.col("user_id").is_in(bursty.implode()))
    return rows.row(0, named=True)


def test_responses_are_deterministic_for_a_seed(shop: SyntheticShop) -> None:
    t = CFG.start_datetime() + dt.timedelta(days=10)
    shown = [f"i{k:05d}" for k in range(20)]

    def run(seed: int) -> list[list[Response]]:
        env = ShopEnvironment(shop, seed=seed)
        return [env.respond(u, shown, t) for u in env.users()[:50]]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_environment_from_config_matches_the_shop(shop: SyntheticShop, env: ShopEnvironment) -> None:
    from_config = ShopEnvironment(CFG)
    t = CFG.start_datetime() + dt.timedelta(days=30)
    for user in ("u000000", "u000123"):
        np.testing.assert_array_equal(from_config.interest(user, t), env.interest(user, t))
    assert env.users() == shop.dataset.events["user_id"].unique(maintain_order=True).to_list()


def test_interest_is_a_distribution(env: ShopEnvironment) -> None:
    vec = env.interest("u000007", CFG.start_datetime())
    assert vec.shape == (len(env.categories),)
    assert vec.min() >= 0 and vec.sum() == pytest.approx(1.0)


def test_clicks_favour_the_current_interest(env: ShopEnvironment) -> None:
    t = CFG.start_datetime() + dt.timedelta(days=5)
    rng = np.random.default_rng(0)
    all_items = np.array(env.items())
    users, on_lists, random_lists = [], [], []
    for user in env.users()[:100]:
        pool = _items_of(env, env.preferred_category(user, t))
        for _ in range(10):
            users.append(user)
            on_lists.append([pool[int(rng.integers(len(pool)))]])
            random_lists.append([str(rng.choice(all_items))])
    on_stage, on_examined = env.respond_batch(users, on_lists, t)
    random_stage, _ = env.respond_batch(users, random_lists, t)
    assert on_examined.all()  # position 0 is always looked at
    on_rate, random_rate = (on_stage >= 1).mean(), (random_stage >= 1).mean()
    assert on_rate > 0.2 and on_rate > 3 * random_rate


def test_position_bias_lowers_clicks_further_down(env: ShopEnvironment) -> None:
    t = CFG.start_datetime() + dt.timedelta(days=5)
    user = "u000001"
    same = _items_of(env, env.preferred_category(user, t))[:1] * 10
    stage, examined = env.respond_batch([user] * 400, [same] * 400, t)
    assert examined[:, 0].mean() > examined[:, -1].mean() + 0.4
    assert (stage[:, 0] >= 1).mean() > (stage[:, -1] >= 1).mean()


def test_preference_changes_at_a_planted_migration(shop: SyntheticShop, env: ShopEnvironment) -> None:
    row = _migrant(shop)
    user, tau = str(row["user_id"]), row["ts"]
    assert isinstance(tau, dt.datetime)
    before, after = tau - dt.timedelta(hours=1), tau + dt.timedelta(hours=1)
    assert env.preferred_category(user, before) == row["from_category"]
    assert env.preferred_category(user, after) == row["to_category"]

    target = _items_of(env, str(row["to_category"]))[:5]
    rates = []
    for t in (before, after):
        stage, _ = env.respond_batch([user] * 300, [target[:1]] * 300, t)
        rates.append((stage >= 1).mean())
    assert rates[1] > 3 * rates[0]


def test_respond_returns_one_response_per_shown_item(env: ShopEnvironment) -> None:
    t = dt.datetime(2024, 1, 20)  # naive times are read as UTC
    shown = ["i00003", "i00001", "i00002"]
    responses = env.respond("u000002", shown, t)
    assert [r.item_id for r in responses] == shown and [r.position for r in responses] == [0, 1, 2]
    assert all(r.event in STAGES for r in responses)
    assert env.respond("u000002", [], t) == []


def test_unknown_ids_are_rejected(env: ShopEnvironment) -> None:
    t = CFG.start_datetime()
    with pytest.raises(KeyError, match="unknown user id 'u999999'"):
        env.interest("u999999", t)
    with pytest.raises(KeyError, match="unknown item id 'x1'"):
        env.respond("u000000", ["x1"], t)
    with pytest.raises(ValueError, match="one list per user"):
        env.respond_batch(["u000000", "u000001"], [["i00001"]], t)
