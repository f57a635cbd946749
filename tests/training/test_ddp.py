"""A real two-process DistributedDataParallel run on the CPU (gloo), started by torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from driftrec.data.interactions import Histories
from driftrec.models import load_model


def test_torchrun_two_processes_train_one_model(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DRIFTREC_PROGRESS": "0"}
    env.pop("WORLD_SIZE", None)
    env.pop("RANK", None)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "driftrec.training.ddp_demo",
        "--out",
        str(tmp_path),
        "--users",
        "300",
        "--epochs",
        "3",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    losses = ranks[0]["losses"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert ranks[1]["losses"] == losses  # the logged loss is averaged over both ranks
    # gradients were averaged: both processes end with the same weights
    assert ranks[0]["weights_checksum"] == ranks[1]["weights_checksum"]
    # only rank 0 evaluated
    assert all(m for m in ranks[0]["metrics"]) and not any(m for m in ranks[1]["metrics"])
    model = load_model(tmp_path / "model")
    scores = model.score(Histories.from_lists([[1, 2, 3], []]))
    assert np.isfinite(scores[:, 1:]).all()
