from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from driftrec.interests import ProfileConfig, build_profiles, find_migrations
from driftrec.interests.segments import (
    SegmentConfig,
    describe_segments,
    segment_flows,
    segment_users,
    segments_over_time,
)

from .conftest import daily_log, items_frame

PUZZLES, PLANTS, FICTION = (0.9, 0.1, 0.0, 0.0), (0.0, 0.1, 0.9, 0.0), (0.0, 0.0, 0.1, 0.9)


@pytest.fixture(scope="module")
def groups() -> pl.DataFrame:
    """Four puzzle fans, four plant lovers, four readers, and three users moving Puzzles -> Plants."""
    logs = []
    for i in range(4):
        logs.append(daily_log(f"puz{i}", [PUZZLES] * 30, seed=i))
        logs.append(daily_log(f"pla{i}", [PLANTS] * 30, seed=10 + i))
        logs.append(daily_log(f"fic{i}", [FICTION] * 30, seed=20 + i))
    for i in range(3):
        logs.append(daily_log(f"mov{i}", [PUZZLES] * 15 + [PLANTS] * 15, seed=30 + i))
    return pl.concat(logs)


def _segment_of(seg: pl.DataFrame) -> dict[str, int]:
    return dict(seg.iter_rows())


def test_profile_segments_recover_the_groups(groups: pl.DataFrame) -> None:
    profiles = build_profiles(groups, items_frame(), ProfileConfig(window="1d"))
    seg = segment_users(profiles, SegmentConfig(n_segments=3))
    of = _segment_of(seg.assignments)
    for prefix in ("puz", "pla", "fic"):
        assert len({of[f"{prefix}{i}"] for i in range(4)}) == 1
    assert len({of["puz0"], of["pla0"], of["fic0"]}) == 3
    assert seg.silhouette > 0.5
    # segments are ordered by size and the shares of each centroid sum to one
    sizes = seg.assignments["segment"].value_counts().sort("segment")["count"].to_list()
    assert sizes == sorted(sizes, reverse=True)
    np.testing.assert_allclose(seg.centroid_shares.sum(axis=1), 1.0)


def test_vectors_alone_and_with_profiles(groups: pl.DataFrame) -> None:
    profiles = build_profiles(groups, items_frame(), ProfileConfig(window="1d"))
    users = profiles.user_ids.to_list()
    # learned vectors that put readers and plant lovers together, puzzle fans and movers apart
    code = {"puz": [1.0, 0.0], "pla": [0.0, 1.0], "fic": [0.0, 1.0], "mov": [0.7, 0.7]}
    vectors = np.array([code[u[:3]] for u in users]) * np.arange(1, len(users) + 1)[:, None]
    seg = segment_users(profiles, SegmentConfig(n_segments=3, features="vectors"), vectors)
    of = _segment_of(seg.assignments)
    assert of["pla0"] == of["fic3"] != of["puz1"]
    assert seg.profile_centers is None
    both = segment_users(profiles, SegmentConfig(n_segments=4, features="both"), vectors)
    assert both.assignments.height == len(users)
    with pytest.raises(ValueError, match="needs vectors"):
        segment_users(profiles, SegmentConfig(features="vectors"))
    with pytest.raises(ValueError, match="finite"):
        segment_users(profiles, SegmentConfig(features="vectors"), vectors[:3])


def test_movers_change_segment_over_time(groups: pl.DataFrame) -> None:
    profiles = build_profiles(groups, items_frame(), ProfileConfig(window="1d"))
    seg = segment_users(profiles, SegmentConfig(n_segments=3))
    of = _segment_of(seg.assignments)
    flows = segment_flows(seg, profiles)
    moved = flows.filter(pl.col("from_segment") == of["puz0"], pl.col("to_segment") == of["pla0"])
    assert moved["n_users"].to_list() == [3]
    over = segments_over_time(seg, profiles)
    first, last = over["window_start"].min(), over["window_start"].max()
    plants_first = over.filter(window_start=first, segment=of["pla0"])["n_users"].item()
    plants_last = over.filter(window_start=last, segment=of["pla0"])["n_users"].item()
    assert plants_last - plants_first == 3
    assert over.group_by("window_start").agg(pl.col("share").sum())["share"].to_list() == pytest.approx(
        [1.0] * over["window_start"].n_unique()
    )


def test_describe_segments_names_categories_and_flows(groups: pl.DataFrame) -> None:
    items = items_frame()
    profiles = build_profiles(groups, items, ProfileConfig(window="1d"))
    seg = segment_users(profiles, SegmentConfig(n_segments=3))
    migrations = find_migrations(groups, items)
    table = describe_segments(seg, migrations)
    assert table["n_users"].sum() == 15
    row = table.filter(pl.col("segment") == _segment_of(seg.assignments)["mov0"]).row(0, named=True)
    assert row["top_flow"].startswith("Toys > Puzzles -> Garden > Plants")
    assert row["n_migrations"] >= 3
    assert any(name.startswith("Garden > Plants") for name in row["top_in"])
    assert all(" (" in c for c in table["top_categories"].explode().to_list())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_segments": 0}, "n_segments"), ({"features": "x"}, "features"), ({"vector_weight": 0}, "vector")],
)
def test_segment_config_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SegmentConfig(**kwargs)  # type: ignore[arg-type]
