"""Pin the public surface of driftrec.interests (DESIGN.md §7, small public surface)."""

from __future__ import annotations

import driftrec.interests


def test_interests_api() -> None:
    assert set(driftrec.interests.__all__) == {
        "DEFAULT_WEIGHTS", "MIGRATION_SCHEMA", "DetectionConfig", "MigrationScores", "MultinomialCost",
        "ProfileConfig", "Profiles", "best_split_gain", "build_profiles", "category_at_level",
        "consecutive_drift", "detect_migrations", "drift_frame", "drift_summary", "evidence_around",
        "find_migrations", "iter_profiles", "js_divergence", "match_migrations", "matrix_array",
        "migration_matrix", "parse_window", "profile_frame", "score_migrations",
        # evolution and segments
        "STAGES", "EvolutionConfig", "curves_from_frame", "find_bursts", "popularity_curves",
        "popularity_stages", "smoothed_shares", "stage_array", "stages", "trajectory_summary",
        "SegmentConfig", "Segmentation", "assign_over_time", "describe_segments", "mean_shares",
        "segment_flows", "segment_names", "segment_users", "segments_over_time",
        # categories from item text
        "TOPIC_COLUMN", "TextTopicConfig", "TextTopics", "text_topics", "with_text_topics",
    }  # fmt: skip
    for name in driftrec.interests.__all__:
        assert hasattr(driftrec.interests, name)
