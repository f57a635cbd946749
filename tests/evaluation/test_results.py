"""The one result shape of DESIGN.md §3, and the file it is written to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftrec.evaluation import results
from driftrec.evaluation.results import result_record, write_result

# DESIGN.md §3, in its order
SHAPE_KEYS = [
    "benchmark",
    "dataset",
    "model",
    "protocol",
    "config",
    "metrics",
    "baseline",
    "wall_s",
    "peak_rss_mb",
    "machine",
    "commit",
]


def _record() -> dict[str, Any]:
    record: dict[str, Any] = result_record(
        benchmark="sequential",
        dataset="amazon-s3rec-beauty",
        model="sasrec",
        protocol={"split": "leave-one-out", "ranking": "full", "exclude_seen": True, "max_len": 50},
        config={"dim": 64},
        metrics={"HR@10": 0.123456789, "NDCG@10": 1 / 3},
        wall_s=1.23456,
        baseline={"model": "pop", "metrics": {"HR@10": 0.01}},
    )
    return record


def test_result_record_has_the_shared_shape() -> None:
    record = _record()  # machine, memory and commit filled in for real
    assert list(record) == SHAPE_KEYS
    assert record["metrics"] == {"HR@10": 0.123457, "NDCG@10": 0.333333}  # rounded to 6 places
    assert record["wall_s"] == 1.235
    assert record["protocol"]["split"] == "leave-one-out"
    assert record["baseline"] == {"model": "pop", "metrics": {"HR@10": 0.01}}
    assert isinstance(record["peak_rss_mb"], float) and record["peak_rss_mb"] > 0
    assert isinstance(record["machine"], str) and "cpu" in record["machine"]
    assert isinstance(record["commit"], str) and record["commit"]
    json.dumps(record)  # serialisable as is


def test_result_record_keeps_extra_keys_and_defaults_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "machine_description", lambda: "2 cpu, no gpu")
    record = result_record(
        benchmark="ctr",
        dataset="d",
        model="m",
        protocol={},
        config={},
        metrics={"AUC": 0.7},
        wall_s=0.0,
        notes="x",
    )
    assert list(record) == [*SHAPE_KEYS, "notes"]
    assert record["baseline"] is None and record["machine"] == "2 cpu, no gpu"


@pytest.mark.parametrize(
    ("names", "filename"),
    [
        (("sequential", "amazon-s3rec-beauty", "sasrec"), "sequential__amazon-s3rec-beauty__sasrec.json"),
        (("ctr", "ml 1m/v2", "lr+text"), "ctr__ml-1m-v2__lr+text.json"),
        (("serving", "synthetic", "pop@k=10"), "serving__synthetic__pop-k-10.json"),
    ],
)
def test_write_result_filename_and_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: tuple[str, str, str], filename: str
) -> None:
    monkeypatch.setattr(results, "machine_description", lambda: "2 cpu, no gpu")
    benchmark, dataset, model = names
    record = result_record(
        benchmark=benchmark, dataset=dataset, model=model, protocol={}, config={}, metrics={}, wall_s=0.5
    )
    path = write_result(record, tmp_path / "benchmarks" / "results")  # creates the directory
    assert path == tmp_path / "benchmarks" / "results" / filename
    assert json.loads(path.read_text()) == record
    assert path.read_text().endswith("\n")
