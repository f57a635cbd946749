"""SyntheticShopConfig validates itself and survives a JSON round trip."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from driftrec.data.synthetic import SyntheticShopConfig

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"n_users": 0}, "n_users must be an integer in [1, 100000000], got 0"),
    ({"n_users": 2.5}, "n_users must be an integer"),
    ({"n_users": True}, "n_users must be an integer"),
    ({"n_top_categories": 13}, "n_top_categories must be an integer in [1, 12], got 13"),
    ({"n_sub_categories": 0}, "n_sub_categories must be an integer in [1, 8], got 0"),
    ({"n_top_categories": 2, "n_sub_categories": 4}, "n_top_categories * n_sub_categories must be >= 9"),
    ({"n_items": 10}, "n_items must be an integer in [32, 100000000], got 10"),
    ({"n_brands": 3}, "n_brands must be an integer in [8, 3600], got 3"),
    ({"days": 0}, "days must be an integer in [1, 3650], got 0"),
    ({"start": "2024-01-01"}, "start must be a datetime.date"),
    ({"events_per_user_mean": 0.5}, "events_per_user_mean must be a number in [1.0, 1000000.0], got 0.5"),
    ({"noise": 1.5}, "noise must be a number in [0.0, 1.0], got 1.5"),
    ({"noise": float("nan")}, "noise must be a number in [0.0, 1.0], got nan"),
    ({"migration_rate": 4.0}, "migration_rate must be a number in [0.0, 3.0], got 4.0"),
    ({"max_migrations_per_user": 6}, "max_migrations_per_user must be an integer in [0, 5], got 6"),
    ({"gradual_fraction": -0.1}, "gradual_fraction must be a number in [0.0, 1.0], got -0.1"),
    ({"burst_prob": 2}, "burst_prob must be a number in [0.0, 1.0], got 2"),
    ({"burst_days": 0.0}, "burst_days must be a number in (0.0, 60.0], got 0.0"),
    ({"dominant_share": 0.4}, "dominant_share must be a number in [0.5, 1.0], got 0.4"),
    ({"n_favourites": 1}, "n_favourites must be an integer in [2, 5], got 1"),
    ({"click_prob": 0.0}, "click_prob must be a number in (0.0, 1.0], got 0.0"),
    ({"cart_prob": 1.1}, "cart_prob must be a number in (0.0, 1.0], got 1.1"),
    ({"purchase_prob": -1}, "purchase_prob must be a number in (0.0, 1.0], got -1"),
    ({"rating_prob": 1.01}, "rating_prob must be a number in [0.0, 1.0], got 1.01"),
    ({"review_prob": "0.2"}, "review_prob must be a number in [0.0, 1.0], got '0.2'"),
    ({"session_focus": 1.2}, "session_focus must be a number in [0.0, 1.0], got 1.2"),
    ({"seed": -1}, "seed must be an integer in [0, 9223372036854775807], got -1"),
]


@pytest.mark.parametrize(("changes", "message"), INVALID)
def test_invalid_configs_name_the_field_and_range(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        SyntheticShopConfig(**changes)
    assert message in str(err.value)


def test_defaults_are_valid_and_sized_for_a_demo() -> None:
    cfg = SyntheticShopConfig()
    assert (cfg.n_users, cfg.n_items, cfg.days) == (2_000, 1_000, 60)
    assert cfg.n_users * cfg.events_per_user_mean == pytest.approx(100_000)
    assert cfg.n_leaves == cfg.n_top_categories * cfg.n_sub_categories


def test_replace_validates() -> None:
    with pytest.raises(ValueError, match="noise"):
        SyntheticShopConfig().replace(noise=2.0)


def test_dict_round_trip_through_json() -> None:
    cfg = SyntheticShopConfig(n_users=10, start=dt.date(2023, 5, 17), noise=0.3, seed=9)
    assert SyntheticShopConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_from_dict_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown SyntheticShopConfig fields: n_userz"):
        SyntheticShopConfig.from_dict({"n_userz": 3})
