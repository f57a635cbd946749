"""Pin the public surface: changing it must be a conscious act (DESIGN.md §7, small public surface)."""

from __future__ import annotations

import driftrec.data
import driftrec.evaluation
import driftrec.models


def test_data_api() -> None:
    expected = {
        "Dataset", "IdMap", "InteractionLog", "Histories", "Split", "EvalSet", "read_events", "read_items",
        "load_dataset", "available_datasets", "clean", "k_core", "leave_one_out", "temporal_split",
        "pseudonymise_ids", "DataValidationError", "RowError", "ValidationReport", "dataset_stats",
    }  # fmt: skip
    assert expected <= set(driftrec.data.__all__)
    for name in driftrec.data.__all__:
        assert hasattr(driftrec.data, name)


def test_models_and_evaluation_api() -> None:
    assert {"Recommender", "create", "load_model", "MODELS"} <= set(driftrec.models.__all__)
    assert {"evaluate_ranking", "RankingConfig", "ndcg_at_k", "auc", "log_loss"} <= set(
        driftrec.evaluation.__all__
    )
    for module in (driftrec.models, driftrec.evaluation):
        for name in module.__all__:
            assert hasattr(module, name)
