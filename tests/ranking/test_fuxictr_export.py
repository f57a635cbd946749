"""The FuxiCTR exporter (benchmarks/ctr_vs_fuxictr.py) writes driftrec's split and sequences faithfully.

Needs no FuxiCTR virtualenv: it checks the files the peer reads, rebuilding each impression's sequence
the way FuxiCTR's LongCTR loader does (``full_item_seq[:seq_len]``, last ``max_len`` items).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl

from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.features.sequence import sequences_before
from driftrec.models.ctr.config import CTRConfig
from driftrec.ranking.impressions import ctr_task, split_by_time

BENCH = Path(__file__).parents[2] / "benchmarks"


def _exporter() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("ctr_vs_fuxictr", BENCH / "ctr_vs_fuxictr.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_matches_driftrec_split_and_sequences(tmp_path: Path) -> None:
    task = ctr_task(generate(SyntheticShopConfig(n_users=60, n_items=50, days=15, seed=4)).dataset)
    config = CTRConfig(max_len=5)
    protocol = _exporter().export("tiny", task, None, config, tmp_path)
    train, valid, test, _ = split_by_time(task.impressions, 0.1, 0.2)
    seqs = pl.read_parquet(tmp_path / "user_info.parquet").get_column("full_item_seq").to_list()
    for part, frame in (("train", train), ("valid", valid), ("test", test)):
        out = pl.read_parquet(tmp_path / f"{part}.parquet")
        assert out.height == frame.height
        np.testing.assert_array_equal(out.get_column("user_index"), frame.get_column("user"))
        np.testing.assert_array_equal(out.get_column("item_index"), frame.get_column("item"))
        np.testing.assert_array_equal(out.get_column("label"), frame.get_column("label").cast(pl.Float32))
        ours = sequences_before(
            task.log, frame.get_column("user").to_numpy(), frame.get_column("ts").to_numpy(), 5
        )
        for row, (u, n) in enumerate(
            zip(out.get_column("user_index"), out.get_column("seq_len"), strict=True)
        ):
            assert seqs[u][:n][-5:] == ours.items[row, : ours.lengths[row]].tolist()
    assert protocol["test_impressions"] == test.height
    spec = json.loads((tmp_path / "feature_map.json").read_text())
    names = [next(iter(f)) for f in spec["features"]]
    assert {"item_id", "cate_id"} <= set(names)
    assert sum(n.startswith("d_") for n in names) == len(protocol["dense_features"])
