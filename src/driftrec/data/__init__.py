"""Data layer: canonical schema, readers with line-numbered validation, cleaning, id maps, splits.

Lower layers never import higher ones: nothing here knows about models or serving.
"""

from driftrec.data.cleaning import (
    CleaningConfig,
    CleaningStats,
    clean,
    drop_duplicates,
    k_core,
    min_sequence_length,
)
from driftrec.data.dataset import Dataset
from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories, InteractionLog, encode_events
from driftrec.data.pseudonymise import pseudonymise_id, pseudonymise_ids
from driftrec.data.readers import read_events, read_items
from driftrec.data.registry import available_datasets, load_dataset
from driftrec.data.schema import EVENT_CODE, EVENT_TYPES, canonical_event
from driftrec.data.splits import EvalSet, Split, leave_one_out, temporal_split
from driftrec.data.stats import dataset_stats
from driftrec.data.validation import DataValidationError, RowError, ValidationReport

__all__ = [
    "EVENT_CODE",
    "EVENT_TYPES",
    "CleaningConfig",
    "CleaningStats",
    "DataValidationError",
    "Dataset",
    "EvalSet",
    "Histories",
    "IdMap",
    "InteractionLog",
    "RowError",
    "Split",
    "ValidationReport",
    "available_datasets",
    "canonical_event",
    "clean",
    "dataset_stats",
    "drop_duplicates",
    "encode_events",
    "k_core",
    "leave_one_out",
    "load_dataset",
    "min_sequence_length",
    "pseudonymise_id",
    "pseudonymise_ids",
    "read_events",
    "read_items",
    "temporal_split",
]
