"""The ranking stage: impressions and labels, the two-stage pipeline and experiments (CTR models live in
``driftrec.models.ctr``, features in ``driftrec.features``)."""

from driftrec.ranking.impressions import (
    CTRTask,
    ctr_task,
    impressions_from_views,
    sample_negatives,
    split_by_time,
)
from driftrec.ranking.pipeline import (
    PipelineConfig,
    ReRanker,
    TwoStagePipeline,
    candidate_impressions,
    retrieve,
)
from driftrec.ranking.serving_adapter import RankerReranker

__all__ = [
    "CTRTask",
    "PipelineConfig",
    "RankerReranker",
    "ReRanker",
    "TwoStagePipeline",
    "candidate_impressions",
    "ctr_task",
    "impressions_from_views",
    "retrieve",
    "sample_negatives",
    "split_by_time",
]
