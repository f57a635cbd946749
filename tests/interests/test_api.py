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
    }  # fmt: skip
    for name in driftrec.interests.__all__:
        assert hasattr(driftrec.interests, name)
