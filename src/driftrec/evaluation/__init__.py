"""Full-ranking evaluation, CTR metrics and the shared result format."""

from driftrec.evaluation.ctr import ctr_metrics, grouped_auc
from driftrec.evaluation.metrics import (
    auc,
    catalogue_coverage,
    f1_at_k,
    group_auc,
    hit_matrix,
    hr_at_k,
    log_loss,
    mrr_at_k,
    ndcg_at_k,
    novelty_at_k,
    precision_at_k,
    recall_at_k,
)
from driftrec.evaluation.ranking import RankingConfig, RankingResult, evaluate_ranking, metrics_from_hits
from driftrec.evaluation.results import result_record, write_result
from driftrec.evaluation.significance import paired_bootstrap_ci, sign_flip_p_value

__all__ = [
    "RankingConfig",
    "RankingResult",
    "auc",
    "catalogue_coverage",
    "ctr_metrics",
    "evaluate_ranking",
    "f1_at_k",
    "group_auc",
    "grouped_auc",
    "hit_matrix",
    "hr_at_k",
    "log_loss",
    "metrics_from_hits",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty_at_k",
    "paired_bootstrap_ci",
    "precision_at_k",
    "recall_at_k",
    "result_record",
    "sign_flip_p_value",
    "write_result",
]
