"""Training and scoring speed of driftrec's SASRec against RecBole 1.2.1's SASRec, side by side in one run.

Both train the same model on the same data (amazon-s3rec-beauty, leave-one-out, max length 50, hidden 64,
inner 256, 2 blocks, 2 heads, dropout 0.5, post-LN, GELU, full-catalogue cross-entropy, Adam lr 1e-3
constant, no clipping, batch 256, 2 torch threads), one after the other on this machine:

1. RecBole runs in its own virtualenv (``benchmarks/.venvs/recbole``, created and filled on first use:
   ``torch==2.13.0``, ``recbole==1.2.1`` and the pins its dependencies need) as a subprocess,
   ``benchmarks/peers/recbole_sasrec.py``, on an atomic ``.inter`` file written from the very interactions
   driftrec trains on (position in the user's sequence as the timestamp). PyTorch anomaly detection,
   which importing RecBole switches on, is switched off again (otherwise RecBole is ~1.6x slower).
2. driftrec's ``SequentialRecommender`` then trains in this process, at least ``--epochs`` epochs and on
   until its validation NDCG@10 reaches RecBole's best (at most ``--driftrec-max-epochs``).

**What an epoch means.** RecBole turns every prefix of every training sequence into one instance with
one target (131,413 instances on Beauty) and steps the optimiser every 256 instances (514 steps). driftrec
feeds each training sequence once and predicts the next item at every position; with
``sliding_window=True`` sequences longer than 51 are tiled so that every event is a target exactly once
(22,512 windows of 22,363 users on Beauty, 88 steps, the same 131,413 targets). Both epochs thus carry
the same supervision, every next-item target of the training part once, but "sequences per second"
means different things (an instance vs a whole sequence), so the result reports next-item **targets per
second** for both, the **wall time per epoch**, and, because one epoch of the two is not the same number
of optimiser steps, the **training time to reach RecBole's best validation NDCG@10** (RecBole's
cumulative training seconds up to its best epoch; driftrec's up to its first epoch at or above that
value). Validation time is not counted in either and is reported apart.

**Metric convention.** RecBole's sequential evaluation ranks the whole catalogue without masking items
already in the history; driftrec's validation and test here do the same (``exclude_seen=False``), so
both NDCG@10 values are the same quantity. They are a little lower than the ``exclude_seen=True`` figures
of ``benchmarks/sequential.py``, which mask the history.

**Scoring.** Full-catalogue ranking of every test user, 4,096 users per batch for both: the library's
own evaluation call (scores + top-k + metrics) and the bare forward pass, each in users per second.

Result: ``benchmarks/results/speed__amazon-s3rec-beauty__sasrec.json`` (DESIGN.md §3 shape), with
``metrics.ratio_vs_peer`` = RecBole seconds per epoch / driftrec seconds per epoch (> 1: driftrec faster).
A run on a subset of users (``--users``) is named after the subset and goes to ``benchmarks/.cache/speed``
unless ``--out`` says otherwise, so a quick test never overwrites the real result.

Run: ``.venv/bin/python benchmarks/speed_vs_recbole.py --epochs 3`` (full data; on an idle 2-core machine
about 13 min of RecBole, 3 epochs as in shared/PEERS.md, then driftrec's epochs; never beside another job);
quick check: ``.venv/bin/python benchmarks/speed_vs_recbole.py --users 2000 --epochs 1 --out /tmp/speed``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from peer_venv import PeerVenv, ensure_peer_venv, repo_relative, venv_python

from driftrec.data import load_dataset
from driftrec.data.dataset import Dataset
from driftrec.evaluation.ranking import RankingConfig, evaluate_ranking
from driftrec.evaluation.results import result_record, write_result
from driftrec.models.sequential import SequentialConfig, SequentialRecommender
from driftrec.training import EpochRecord, TrainingConfig
from driftrec.workflows.prepare import Prepared, SplitSpec, prepare

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SUBSET_RESULTS = HERE / ".cache" / "speed"
VENV = HERE / ".venvs" / "recbole"
CACHE = HERE / ".cache" / "recbole"
PEER_SCRIPT = HERE / "peers" / "recbole_sasrec.py"
DATASET = "amazon-s3rec-beauty"
RECBOLE_VERSION = "1.2.1"
TORCH_VERSION = "2.13.0"
#: Install steps for the peer's virtualenv, in order (see shared/PEERS.md): torch first (pip takes the CPU
#: wheel from this machine's disk), then RecBole, then the pins its dependencies need on Python 3.11
#: (ray 2.6.3 imports pkg_resources and uses ``np.bool8``).
INSTALL_STEPS: tuple[tuple[str, ...], ...] = (
    (f"torch=={TORCH_VERSION}",),
    (f"recbole=={RECBOLE_VERSION}",),
    ("setuptools<81", "numpy<2", "pandas<2.3", "scipy<1.16", "scikit-learn<1.7"),
)
RESULT_PREFIX = "RECBOLE_RESULT "
THREADS = 2
BATCH = 256
EVAL_BATCH = 4096
MAX_LEN = 50
RATIO_DEFINITION = (
    "ratio_vs_peer = recbole_epoch_s / driftrec_epoch_s (median training seconds per epoch, each epoch "
    "carrying every next-item target of the training part once); > 1 means driftrec is faster. "
    "time_to_target_ratio = recbole_time_to_recbole_best_valid_s / driftrec_time_to_recbole_best_valid_s, "
    "same direction."
)

log = logging.getLogger("speed_vs_recbole")


# ------------------------------------------------------------------------------------ peer virtualenv
PEER = PeerVenv(
    name="RecBole",
    path=VENV,
    probe=(
        "import recbole, torch; from recbole.trainer import Trainer; "
        "from recbole.model.sequential_recommender import SASRec; "
        "print(recbole.__version__, torch.__version__.split('+')[0])"
    ),
    expected=(RECBOLE_VERSION, TORCH_VERSION),
    install_steps=INSTALL_STEPS,
)


def ensure_recbole_venv() -> tuple[str, str]:
    """RecBole's own virtualenv, created once (see peer_venv)."""
    return ensure_peer_venv(PEER)


# ---------------------------------------------------------------------------------------------- data
def load_data(users: int | None, seed: int = 0) -> Prepared:
    """The benchmark's interactions, optionally a seeded random subset of users.

    The item table is left out, so the catalogue is the items with events: the same catalogue RecBole
    builds from the ``.inter`` file (on the whole of Beauty every item has events anyway).
    """
    dataset = load_dataset(DATASET)
    events = dataset.events
    if users is not None:
        ids = events.get_column("user_id").unique().sort().to_numpy()
        if users < ids.size:
            keep = np.random.default_rng(seed).choice(ids, size=users, replace=False)
            events = events.filter(pl.col("user_id").is_in(keep.tolist()))
    return prepare(Dataset(dataset.name, events, None, None, dict(dataset.meta)), SplitSpec())


def write_inter(prepared: Prepared, folder: Path, name: str) -> Path:
    """RecBole's atomic file ``folder/name/name.inter`` of the encoded log, written atomically (tmp +
    rename); the timestamp is the event's position in its user's sequence (the data holds order only)."""
    log_ = prepared.log
    order = np.lexsort((log_.ts, log_.user))
    user, item = log_.user[order], log_.item[order]
    offsets = log_.user_offsets()
    position = np.arange(user.size, dtype=np.int64) - offsets[user]
    frame = pl.DataFrame(
        {"user_id:token": user, "item_id:token": item, "timestamp:float": position.astype(np.float64)}
    )
    path = folder / name / f"{name}.inter"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".inter.tmp")
    frame.write_csv(tmp, separator="\t")
    os.replace(tmp, path)
    return path


def train_targets(prepared: Prepared) -> int:
    """Next-item targets in the training part: every event but each user's first."""
    counts = np.bincount(prepared.split.train.user)[1:]
    return int(np.maximum(counts - 1, 0).sum())


# ------------------------------------------------------------------------------------------- RecBole
def run_recbole(name: str, epochs: int, seed: int) -> dict[str, Any]:
    """Run the peer script in RecBole's venv; its log is streamed (and kept in the cache); returns its
    result line parsed."""
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    command = [
        str(venv_python(VENV)),
        str(PEER_SCRIPT),
        "--data-path", str(CACHE / "data"),
        "--dataset", name,
        "--epochs", str(epochs),
        "--threads", str(THREADS),
        "--batch-size", str(BATCH),
        "--eval-batch-size", str(EVAL_BATCH),
        "--max-len", str(MAX_LEN),
        "--seed", str(seed),
        "--checkpoint-dir", str(CACHE / "saved"),
    ]  # fmt: skip
    log.info("RecBole: %s", " ".join(command))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(THREADS)}
    result: dict[str, Any] | None = None
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            command, cwd=CACHE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if line.startswith(RESULT_PREFIX):
                result = json.loads(line[len(RESULT_PREFIX) :])
            else:
                print(f"  [recbole] {line.rstrip()}", file=sys.stderr, flush=True)
        code = proc.wait()
    if code != 0 or result is None:
        raise RuntimeError(f"RecBole run failed (exit {code}); its log: {log_path}")
    relative: dict[str, Any] = repo_relative(result)
    return relative


# ------------------------------------------------------------------------------------------ driftrec
def driftrec_config(max_epochs: int, seed: int) -> SequentialConfig:
    """SASRec as RecBole configures it (see the module docstring); every field named, none left to a
    default that could drift."""
    return SequentialConfig(
        objective="causal",
        loss="full",
        max_len=MAX_LEN,
        sliding_window=True,  # every training event a target once, as RecBole's prefix instances
        hidden=64,
        blocks=2,
        heads=2,
        inner=256,
        dropout=0.5,  # RecBole: hidden_dropout_prob 0.5 and attn_dropout_prob 0.5
        norm="post",  # RecBole's Transformer is post-LN
        fusion="id",
        score_batch_size=256,
        training=TrainingConfig(
            epochs=max_epochs,
            batch_size=BATCH,
            lr=1e-3,
            weight_decay=0.0,  # AdamW without decay = Adam, RecBole's learner
            warmup=0.0,
            decay="constant",  # RecBole keeps the learning rate constant
            clip_norm=0.0,  # RecBole: clip_grad_norm None
            patience=0,  # the validation below decides when to stop
            valid_users=0,
            seed=seed,
            device="cpu",
            num_threads=THREADS,
        ),
    )


MATCHED = {
    "architecture": "hidden 64, inner 256, 2 blocks, 2 heads, GELU, post-LN, learned positions, tied output",
    "dropout": "0.5 on embeddings, attention weights and sub-layer outputs (RecBole: hidden and attn 0.5)",
    "loss": "full-catalogue softmax cross-entropy at every target",
    "optimiser": "Adam(W without weight decay), lr 1e-3 constant, no gradient clipping",
    "batch": "256 per optimiser step (RecBole: prefix instances; driftrec: whole sequences)",
    "max_len": MAX_LEN,
    "threads": THREADS,
    "supervision_per_epoch": "every next-item target of the training part once (sliding_window=True)",
    "evaluation": "full ranking, seen items not masked (RecBole's sequential convention), 4096 users/batch",
}
DIFFERENCES = [
    "RecBole makes one instance per target (the prefix before it, up to 50 items); driftrec one sequence per "
    "user window with a target at every position, so an epoch has far fewer driftrec optimiser steps (see "
    "steps_per_epoch of both): hence the time-to-NDCG figure.",
    "In driftrec's tiled windows for sequences longer than 51, the first targets of an earlier window see "
    "fewer than 50 items of context; RecBole's prefixes always see up to 50.",
    "driftrec's feed-forward applies dropout also between its two layers; RecBole only after the second.",
    "LayerNorm eps: RecBole 1e-12, driftrec torch's default 1e-5.",
    "driftrec uses torch's fused scaled_dot_product_attention; RecBole its own matmul/softmax attention.",
]


def run_driftrec(
    prepared: Prepared, min_epochs: int, max_epochs: int, target: float | None, seed: int
) -> tuple[SequentialRecommender, dict[str, Any]]:
    """Train until ``min_epochs`` are done and validation NDCG@10 (seen items not masked, all users)
    reached ``target``, or ``max_epochs``; validated here rather than by the model's own validator, which
    masks seen items."""
    config = driftrec_config(max(max_epochs, min_epochs), seed)
    model = SequentialRecommender(config)
    valid = prepared.split.valid
    n_items = prepared.log.n_items
    ranking = RankingConfig(ks=(10,), exclude_seen=False, batch_size=EVAL_BATCH)
    validations: list[dict[str, float]] = []
    reached: list[int] = []

    def validate(record: EpochRecord) -> bool:
        started = time.perf_counter()
        metrics = evaluate_ranking(model.score, valid, n_items, ranking, progress=False).metrics
        validations.append(
            {
                "valid_s": time.perf_counter() - started,
                "NDCG@10": metrics["NDCG@10"],
                "HR@10": metrics["HR@10"],
            }
        )
        if target is not None and metrics["NDCG@10"] >= target and not reached:
            reached.append(record.epoch)
        log.info(
            "driftrec epoch %d: train %.1fs, valid NDCG@10 %.4f (RecBole best %s)",
            record.epoch,
            record.train_seconds,
            metrics["NDCG@10"],
            "n/a" if target is None else f"{target:.4f}",
        )
        return record.epoch >= min_epochs and (target is None or bool(reached))

    started = time.perf_counter()
    model.fit(prepared.split.train, None, on_epoch_end=validate)
    fit_s = time.perf_counter() - started
    history = model.history
    assert history is not None
    epochs = [
        {
            "epoch": r.epoch,
            "train_s": round(r.train_seconds, 3),
            "valid_s": round(v["valid_s"], 3),
            "loss": round(r.loss, 6),
            "sequences_per_s": round(r.sequences_per_s, 1),
            "sequences": round(r.sequences_per_s * r.train_seconds),
            "valid_NDCG@10": round(v["NDCG@10"], 6),
            "valid_HR@10": round(v["HR@10"], 6),
        }
        for r, v in zip(history.epochs, validations, strict=True)
    ]
    first = reached[0] if reached else None
    sequences = epochs[0]["sequences"] if epochs else 0
    summary = {
        "config": dataclasses.asdict(config),
        "sequences": sequences,
        "steps_per_epoch": -(-sequences // BATCH),
        "epochs": epochs,
        "fit_s": round(fit_s, 3),
        "reached_recbole_best_at_epoch": first,
        "time_to_recbole_best_valid_s": (
            None if first is None else round(sum(e["train_s"] for e in epochs[:first]), 3)
        ),
    }
    return model, summary


def driftrec_scoring(model: SequentialRecommender, prepared: Prepared) -> dict[str, Any]:
    """Full-catalogue ranking of every test user: evaluation call, then the bare scoring call."""
    test = prepared.split.test
    n_items = prepared.log.n_items
    ranking = RankingConfig(ks=(10,), exclude_seen=False, batch_size=EVAL_BATCH)
    started = time.perf_counter()
    result = evaluate_ranking(model.score, test, n_items, ranking, progress=False)
    eval_s = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, len(test), EVAL_BATCH):
        rows = np.arange(start, min(start + EVAL_BATCH, len(test)), dtype=np.int64)
        model.score(test.histories.take(rows))
    forward_s = time.perf_counter() - started
    return {
        "test": {"NDCG@10": result.metrics["NDCG@10"], "HR@10": result.metrics["HR@10"]},
        "test_users": len(test),
        "test_eval_s": round(eval_s, 3),
        "test_forward_s": round(forward_s, 3),
    }


# -------------------------------------------------------------------------------------------- result
def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def build_record(
    prepared: Prepared,
    users: int | None,
    peer: dict[str, Any],
    ours: dict[str, Any],
    scoring: dict[str, Any],
    driftrec_rss_mb: float,
    wall_s: float,
) -> dict[str, Any]:
    targets = train_targets(prepared)
    r_epochs, d_epochs = peer["epochs"], ours["epochs"]
    r_epoch_s = _median([e["train_s"] for e in r_epochs])
    d_epoch_s = _median([e["train_s"] for e in d_epochs])
    best = peer["best_epoch"]
    r_time = sum(e["train_s"] for e in r_epochs[:best])
    d_time = ours["time_to_recbole_best_valid_s"]
    metrics: dict[str, float] = {
        "ratio_vs_peer": r_epoch_s / d_epoch_s,
        "driftrec_epoch_s": d_epoch_s,
        "recbole_epoch_s": r_epoch_s,
        "driftrec_targets_per_s": targets / d_epoch_s,
        "recbole_targets_per_s": peer["train_instances"] / r_epoch_s,
        "driftrec_sequences_per_s": _median([e["sequences_per_s"] for e in d_epochs]),
        "driftrec_scoring_users_per_s": scoring["test_users"] / scoring["test_eval_s"],
        "recbole_scoring_users_per_s": peer["test_users"] / peer["test_eval_s"],
        "driftrec_forward_users_per_s": scoring["test_users"] / scoring["test_forward_s"],
        "recbole_forward_users_per_s": peer["test_users"] / peer["test_forward_s"],
        "recbole_time_to_recbole_best_valid_s": r_time,
        "recbole_best_valid_NDCG@10": peer["best_valid_NDCG@10"],
        "driftrec_best_valid_NDCG@10": max(e["valid_NDCG@10"] for e in d_epochs),
        "NDCG@10": scoring["test"]["NDCG@10"],
        "HR@10": scoring["test"]["HR@10"],
    }
    if d_time is not None:
        metrics["driftrec_time_to_recbole_best_valid_s"] = d_time
        metrics["time_to_target_ratio"] = r_time / d_time
    subset = f"-{users}users" if users is not None else ""
    return result_record(
        benchmark="speed",
        dataset=DATASET + subset,
        model="sasrec",
        protocol={
            **prepared.split.protocol,
            "ranking": "full",
            "exclude_seen": False,
            "exclude_seen_note": "RecBole's sequential evaluation does not mask history items; "
            "driftrec's validation and test here do the same, so both NDCG@10 are one quantity",
            "max_len": MAX_LEN,
            "valid_users": "all",
            "threads": THREADS,
            "order": "RecBole first (subprocess, own venv), then driftrec in this process, same machine",
        },
        config={"driftrec": ours["config"], "matched": MATCHED, "differences": DIFFERENCES},
        metrics=metrics,
        wall_s=wall_s,
        baseline={
            "model": f"RecBole {peer['recbole']} SASRec",
            "metrics": {
                "epoch_s": r_epoch_s,
                "targets_per_s": round(peer["train_instances"] / r_epoch_s, 1),
                "scoring_users_per_s": round(peer["test_users"] / peer["test_eval_s"], 1),
                "forward_users_per_s": round(peer["test_users"] / peer["test_forward_s"], 1),
                "best_valid_NDCG@10": peer["best_valid_NDCG@10"],
                "time_to_best_valid_s": round(r_time, 3),
                "test_NDCG@10": peer["test"]["NDCG@10"],
                "test_Recall@10": peer["test"]["Recall@10"],
            },
            "anomaly_detection": "switched off after import (RecBole switches it on at import: "
            f"{peer['anomaly_detection_on_import']}; during the run: {peer['anomaly_detection_during_run']})",
            "checkpoint_loading": "best checkpoint loaded with torch.load(weights_only=False) (torch >= 2.6)",
            "torch": peer["torch"],
            "threads": peer["threads"],
            "train_instances": peer["train_instances"],
            "steps_per_epoch": peer["steps_per_epoch"],
            "best_epoch": best,
            "epochs": r_epochs,
            "data_prep_s": peer["data_prep_s"],
            "test_eval_s": peer["test_eval_s"],
            "test_forward_s": peer["test_forward_s"],
            "peak_rss_mb": peer["peak_rss_mb"],
            "data": {
                "users": peer["n_users"],
                "items": peer["n_items"],
                "prefix_instances": peer["prefix_instances"],
            },
            "config": peer["config"],
        },
        ratio_definition=RATIO_DEFINITION,
        supervision_note=(
            "RecBole trains on every prefix of every training sequence (one target per instance); driftrec "
            "on each sequence at once (a target at every position). Both epochs carry every next-item "
            "target once, so epoch time and targets/s compare like with like; sequences/s do not (driftrec's "
            "counts whole sequences). Optimiser steps per epoch differ, hence time to RecBole's best "
            "validation NDCG@10 as the second figure. Times are training only; validation is listed apart."
        ),
        data={
            "users": prepared.log.n_users,
            "items": prepared.log.n_items,
            "interactions": int(prepared.log.item.size),
            "train_targets": targets,
            "subset_users": users,
        },
        driftrec={
            "training_sequences": ours["sequences"],
            "steps_per_epoch": ours["steps_per_epoch"],
            "epochs": d_epochs,
            "reached_recbole_best_at_epoch": ours["reached_recbole_best_at_epoch"],
            "time_to_recbole_best_valid_s": d_time,
            "fit_s": ours["fit_s"],
            **scoring,
            "peak_rss_mb": driftrec_rss_mb,
        },
        driftrec_peak_rss_mb=driftrec_rss_mb,
        recbole_peak_rss_mb=peer["peak_rss_mb"],
        peak_rss_note="top-level peak_rss_mb is the largest of this process and its children (RecBole, pip)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=3, help="RecBole epochs, and driftrec's minimum")
    parser.add_argument(
        "--driftrec-max-epochs",
        type=int,
        default=30,
        help="driftrec goes on past --epochs until it reaches RecBole's best valid NDCG@10, at most this",
    )
    parser.add_argument("--users", type=int, default=None, help="a seeded random subset of users (tests)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--out", type=Path, default=None, help="default: benchmarks/results (subsets: .cache)"
    )
    parser.add_argument("--setup-only", action="store_true", help="create RecBole's venv, then stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = args.out or (RESULTS if args.users is None else SUBSET_RESULTS)

    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    if load_at_start > 0.5:
        log.warning("load average %.2f: another job is running, so timings will be off", load_at_start)
    ensure_recbole_venv()
    if args.setup_only:
        return 0
    prepared = load_data(args.users)
    name = "s3rec-beauty" if args.users is None else f"s3rec-beauty-{args.users}u"
    path = write_inter(prepared, CACHE / "data", name)
    log.info(
        "data: %d users, %d items, %d interactions, %d training targets -> %s",
        prepared.log.n_users,
        prepared.log.n_items,
        prepared.log.item.size,
        train_targets(prepared),
        path,
    )
    peer = run_recbole(name, args.epochs, args.seed)
    target = float(peer["best_valid_NDCG@10"])
    log.info(
        "RecBole: %.1fs per epoch (median), best valid NDCG@10 %.4f at epoch %d",
        _median([e["train_s"] for e in peer["epochs"]]),
        target,
        peer["best_epoch"],
    )
    if peer["train_instances"] != train_targets(prepared):
        log.warning(
            "RecBole has %d training instances, driftrec %d targets",
            peer["train_instances"],
            train_targets(prepared),
        )
    model, ours = run_driftrec(prepared, args.epochs, args.driftrec_max_epochs, target, args.seed)
    scoring = driftrec_scoring(model, prepared)
    driftrec_rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    record = build_record(
        prepared, args.users, peer, ours, scoring, driftrec_rss, time.perf_counter() - started
    )
    record["load_avg_1m_at_start"] = round(load_at_start, 2)  # > ~0.5 on 2 cores: timings not clean
    result_path = write_result(record, out)
    m = record["metrics"]
    log.info(
        "epoch: RecBole %.1fs, driftrec %.1fs (ratio %.2f, >1 = driftrec faster); to RecBole's best valid "
        "NDCG@10: RecBole %.1fs, driftrec %s; scoring users/s: RecBole %.0f, driftrec %.0f -> %s",
        m["recbole_epoch_s"],
        m["driftrec_epoch_s"],
        m["ratio_vs_peer"],
        m["recbole_time_to_recbole_best_valid_s"],
        f"{m['driftrec_time_to_recbole_best_valid_s']:.1f}s"
        if "driftrec_time_to_recbole_best_valid_s" in m
        else "not reached",
        m["recbole_scoring_users_per_s"],
        m["driftrec_scoring_users_per_s"],
        result_path,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
