"""Interest migration and evolution analytics: profiles, drift, migration events and their scoring.

Typical use::

    from driftrec.interests import ProfileConfig, build_profiles, find_migrations, migration_matrix

    profiles = build_profiles(events, items, ProfileConfig(level=0, window="7d"))  # (users, windows, cats)
    migrations = find_migrations(events, items)  # user_id, ts, from/to_category, magnitude, kind, ...
    flows = migration_matrix(migrations, segments)  # platform-level from -> to, overall and per segment
    bursts = find_bursts(profiles)  # short jumps of one category that come back down
    segmentation = segment_users(profiles, SegmentConfig(n_segments=6))  # k-means on interest profiles
    topics = text_topics(events, items, TextTopicConfig(n_topics=8))  # no categories? cluster item text
"""

from __future__ import annotations

from driftrec.interests.drift import consecutive_drift, drift_frame, drift_summary, js_divergence
from driftrec.interests.evaluate import MigrationScores, evidence_around, match_migrations, score_migrations
from driftrec.interests.evolution import (
    STAGES,
    EvolutionConfig,
    curves_from_frame,
    find_bursts,
    popularity_curves,
    popularity_stages,
    smoothed_shares,
    stage_array,
    stages,
    trajectory_summary,
)
from driftrec.interests.migration import (
    MIGRATION_SCHEMA,
    DetectionConfig,
    MultinomialCost,
    best_split_gain,
    detect_migrations,
    find_migrations,
    matrix_array,
    migration_matrix,
)
from driftrec.interests.profiles import (
    DEFAULT_WEIGHTS,
    ProfileConfig,
    Profiles,
    build_profiles,
    category_at_level,
    iter_profiles,
    parse_window,
    profile_frame,
)
from driftrec.interests.segments import (
    Segmentation,
    SegmentConfig,
    assign_over_time,
    describe_segments,
    mean_shares,
    segment_flows,
    segment_names,
    segment_users,
    segments_over_time,
)
from driftrec.interests.text_topics import (
    TOPIC_COLUMN,
    TextTopicConfig,
    TextTopics,
    text_topics,
    with_text_topics,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "MIGRATION_SCHEMA",
    "STAGES",
    "TOPIC_COLUMN",
    "DetectionConfig",
    "EvolutionConfig",
    "MigrationScores",
    "MultinomialCost",
    "ProfileConfig",
    "Profiles",
    "SegmentConfig",
    "Segmentation",
    "TextTopicConfig",
    "TextTopics",
    "assign_over_time",
    "best_split_gain",
    "build_profiles",
    "category_at_level",
    "consecutive_drift",
    "curves_from_frame",
    "describe_segments",
    "detect_migrations",
    "drift_frame",
    "drift_summary",
    "evidence_around",
    "find_bursts",
    "find_migrations",
    "iter_profiles",
    "js_divergence",
    "match_migrations",
    "matrix_array",
    "mean_shares",
    "migration_matrix",
    "parse_window",
    "popularity_curves",
    "popularity_stages",
    "profile_frame",
    "score_migrations",
    "segment_flows",
    "segment_names",
    "segment_users",
    "segments_over_time",
    "smoothed_shares",
    "stage_array",
    "stages",
    "text_topics",
    "trajectory_summary",
    "with_text_topics",
]
