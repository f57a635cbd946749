"""Sequence Transformers on the Amazon benchmarks, next to the published numbers, one JSON per run.

Leave-one-out, full ranking over the whole catalogue, seen items excluded (as in the cited sources),
max length 50. Training uses the train part, early stopping on a fixed subset of validation users
(NDCG@10), and the best epoch is evaluated on all test users. Checkpoints go to
``benchmarks/.cache/ckpt/<experiment>`` after every epoch: a run stopped by ``--budget-min`` (or by
anything else) continues from there with the same command.

Run: ``.venv/bin/python benchmarks/sequential.py --experiments s3rec-sasrec-ce[,...] [--budget-min 60]``
(``--stop-epoch N`` pauses every experiment after epoch N, to compare variants at an equal budget.)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from driftrec.data import load_dataset
from driftrec.data.splits import item_cold_start
from driftrec.evaluation.ranking import RankingConfig, evaluate_ranking
from driftrec.evaluation.results import result_record, write_result
from driftrec.features import TextTuningConfig
from driftrec.features.text_tuning import TUNING_FILE
from driftrec.models import create
from driftrec.models.sequential import SequentialConfig, SequentialRecommender
from driftrec.training import EpochRecord, TrainingConfig
from driftrec.workflows.prepare import Prepared, SplitSpec, prepare

RESULTS = Path(__file__).parent / "results"
CACHE = Path(__file__).parent / ".cache"

#: Published full-ranking leave-one-out figures, with their sources (context for every result file).
PUBLISHED: dict[str, dict[str, dict[str, float]]] = {
    "amazon-sasrec-bert4rec": {
        "SASRec (BCE), BERT4Rec paper protocol": {"HR@10": 0.0246, "NDCG@10": 0.0126},
        "BERT4Rec": {"HR@10": 0.0338, "NDCG@10": 0.0187},
        "SASRec (full CE)": {"HR@10": 0.0533, "NDCG@10": 0.0327},
    },
    "amazon-s3rec-beauty": {
        "SASRec": {"Recall@10": 0.0605, "NDCG@10": 0.0318},
        "HSTU": {"Recall@10": 0.0704, "NDCG@10": 0.0389},
        "SASRec (sampled softmax)": {"Recall@10": 0.0921, "NDCG@10": 0.0531},
        "eSASRec": {"Recall@10": 0.0928, "NDCG@10": 0.0523},
    },
    "amazon-unisrec-scientific": {
        "VQ-Rec": {"Recall@10": 0.1211, "NDCG@10": 0.0643, "Recall@50": 0.2369, "NDCG@50": 0.0897},
    },
}


@dataclass(frozen=True)
class Experiment:
    dataset: str
    model: str  # result name: sasrec, bert4rec, sasrec+text, text-only
    config: SequentialConfig
    text: bool = False
    ks: tuple[int, ...] = (5, 10, 20, 50)
    cold_start: float = 0.0  # share of items held out of training (item cold-start split)
    warm_start: str | None = None  # an experiment whose best checkpoint this one starts from
    text_tuning: TextTuningConfig | None = None  # tune the text encoder on the training split first
    notes: dict[str, Any] = field(default_factory=dict)


def _training(**kw: Any) -> TrainingConfig:
    base: dict[str, Any] = {
        "epochs": 200,
        "batch_size": 128,
        "lr": 1e-3,
        "patience": 5,
        "eval_every": 1,
        "valid_users": 5000,
        "seed": 42,
        "num_threads": 2,
        "warmup": 0.0,
        "decay": "linear",
    }
    base.update(kw)
    return TrainingConfig(**base)


def _seq(**kw: Any) -> SequentialConfig:
    base: dict[str, Any] = {
        "max_len": 50,
        "hidden": 64,
        "blocks": 2,
        "heads": 2,
        "inner": 256,
        "dropout": 0.5,
        "training": _training(),
    }
    base.update(kw)
    return SequentialConfig(**base)


def _one_block(dropout: float, patience: int = 10, bf16: bool = False, **kw: Any) -> SequentialConfig:
    """One block, one head, constant lr 1e-3: the eSASRec authors' published Beauty setting."""
    training = _training(decay="constant", patience=patience, **({"precision": "bf16"} if bf16 else {}))
    return _seq(blocks=1, heads=1, dropout=dropout, training=training, **kw)


EXPERIMENTS: dict[str, Experiment] = {
    "beauty-sasrec-ce": Experiment(
        "amazon-sasrec-bert4rec",
        "sasrec",
        _seq(loss="full", training=_training(epochs=60, precision="bf16")),
    ),
    # Beauty's validation NDCG@10 is noisy from epoch to epoch: patience 5 stopped both runs while they
    # still improved; a run resumed with more patience continues as if it had never stopped (training.loop)
    # 54k items: a full-softmax epoch takes ~7 min on one core; 2,048 shared popularity negatives with
    # logQ correction approximate it at a fraction of the cost (the eSASRec/gSASRec line of work)
    "beauty-sasrec-sampled": Experiment(
        "amazon-sasrec-bert4rec",
        "sasrec-sampled",
        _seq(loss="sampled", n_negatives=2048, training=_training(epochs=200, precision="bf16", patience=10)),
    ),
    "beauty-sasrec-sampled-8k": Experiment(
        "amazon-sasrec-bert4rec",
        "sasrec-sampled-8k",
        _seq(loss="sampled", n_negatives=8192, training=_training(epochs=200, precision="bf16", patience=10)),
    ),
    # the sampled run's best weights, finished with the exact full softmax: a few ~7-minute epochs
    "beauty-sasrec-sampled+ce": Experiment(
        "amazon-sasrec-bert4rec",
        "sasrec-sampled+ce",
        _seq(loss="full", training=_training(epochs=10, lr=3e-4, precision="bf16", patience=3)),
        warm_start="beauty-sasrec-sampled",
    ),
    # the S3-Rec Beauty setting that learned fastest (1 block, 1 head, dropout 0.2, constant lr), on 54k items
    "beauty-sasrec-sampled-1block": Experiment(
        "amazon-sasrec-bert4rec",
        "sasrec-sampled-1block",
        _one_block(0.2, bf16=True, loss="sampled", n_negatives=2048),
    ),
    "beauty-bert4rec": Experiment(
        "amazon-sasrec-bert4rec",
        "bert4rec",
        _seq(
            objective="masked",
            loss="full",
            mask_prob=0.4,
            dropout=0.3,
            training=_training(epochs=100, precision="bf16", patience=15),
        ),
    ),
    # bf16 autocast on the big full-softmax runs: ~2.4x faster steps on this CPU (docs/sequential.md)
    "s3rec-sasrec-ce": Experiment(
        "amazon-s3rec-beauty", "sasrec", _seq(loss="full", training=_training(precision="bf16", patience=10))
    ),
    # the eSASRec authors' Beauty setting (1 block, 1 head, dropout 0.2, constant lr 1e-3; their loss is
    # sampled softmax with 256 negatives, ours the exact full softmax over the 12k items)
    "s3rec-sasrec-ce-1block": Experiment(
        "amazon-s3rec-beauty",
        "sasrec-1block",
        _one_block(0.2, patience=20, bf16=True, loss="full"),
    ),
    # more dropout against the overfitting after epoch 15 above (hidden 256, dropout 0.2 overfit sooner:
    # best validation NDCG@10 0.0625 at epoch 10, falling to 0.054 by epoch 17; stopped, not kept)
    "s3rec-sasrec-ce-1block-d05": Experiment(
        "amazon-s3rec-beauty",
        "sasrec-1block-dropout0.5",
        _one_block(0.5, patience=20, bf16=True, loss="full"),
    ),
    "s3rec-sasrec-sampled": Experiment(
        "amazon-s3rec-beauty", "sasrec-sampled", _seq(loss="sampled", n_negatives=256)
    ),
    "scientific-id": Experiment("amazon-unisrec-scientific", "sasrec", _seq(loss="full")),
    "scientific-text": Experiment(
        "amazon-unisrec-scientific", "text-only", _seq(loss="full", fusion="text"), text=True
    ),
    "scientific-id+text": Experiment(
        "amazon-unisrec-scientific", "sasrec+text", _seq(loss="full", fusion="id+text"), text=True
    ),
    "scientific-coldstart-text": Experiment(
        "amazon-unisrec-scientific", "text-only-coldstart", _seq(loss="full", fusion="text"), text=True,
        cold_start=0.1,
    ),
    "scientific-coldstart-id+text": Experiment(
        "amazon-unisrec-scientific", "sasrec+text-coldstart", _seq(loss="full", fusion="id+text"), text=True,
        cold_start=0.1,
    ),
    # id_dropout: a third of the items are text-only at each step, so the text path stands alone too
    "scientific-id+text-iddrop": Experiment(
        "amazon-unisrec-scientific", "sasrec+text-iddrop",
        _seq(loss="full", fusion="id+text", id_dropout=0.3), text=True,
    ),
    "scientific-id+text-iddrop05": Experiment(
        "amazon-unisrec-scientific", "sasrec+text-iddrop05",
        _seq(loss="full", fusion="id+text", id_dropout=0.5), text=True,
    ),
    "scientific-id-1block": Experiment(
        "amazon-unisrec-scientific", "sasrec-1block",
        _one_block(0.2, loss="full"),
    ),
    "scientific-id+text-iddrop05-1block": Experiment(
        "amazon-unisrec-scientific", "sasrec+text-iddrop05-1block",
        _one_block(0.2, loss="full", fusion="id+text", id_dropout=0.5),
        text=True,
    ),
    # dropout 0.5, which lifted S3-Rec Beauty's 1-block model above dropout 0.2
    "scientific-id+text-iddrop05-1block-d05": Experiment(
        "amazon-unisrec-scientific", "sasrec+text-iddrop05-1block-dropout0.5",
        _one_block(0.5, loss="full", fusion="id+text", id_dropout=0.5),
        text=True,
    ),
    # more of the items text-only at each step: text carried the Recall@50 gains so far
    "scientific-id+text-iddrop07-1block-d05": Experiment(
        "amazon-unisrec-scientific", "sasrec+text-iddrop07-1block-dropout0.5",
        _one_block(0.5, loss="full", fusion="id+text", id_dropout=0.7),
        text=True,
    ),
    "scientific-id-1block-d05": Experiment(
        "amazon-unisrec-scientific", "sasrec-1block-dropout0.5",
        _one_block(0.5, loss="full"),
    ),
    # MiniLM's top 2 layers tuned on ~20k consecutive item pairs of the training split (in-batch negatives)
    "scientific-id+text-iddrop05-1block-tuned": Experiment(
        "amazon-unisrec-scientific", "sasrec+tunedtext-iddrop05-1block",
        _one_block(0.2, loss="full", fusion="id+text", id_dropout=0.5),
        text=True, text_tuning=TextTuningConfig(num_threads=1),
    ),
    # cold start, text only, the 1-block setting: MiniLM as it is, and tuned on the training split
    "scientific-coldstart-text-1block": Experiment(
        "amazon-unisrec-scientific", "text-only-coldstart-1block",
        _one_block(0.2, loss="full", fusion="text"),
        text=True, cold_start=0.1,
    ),
    "scientific-coldstart-text-1block-tuned": Experiment(
        "amazon-unisrec-scientific", "tunedtext-only-coldstart-1block",
        _one_block(0.2, loss="full", fusion="text"),
        text=True, cold_start=0.1, text_tuning=TextTuningConfig(num_threads=1),
    ),
    "scientific-coldstart-id+text-iddrop": Experiment(
        "amazon-unisrec-scientific", "sasrec+text-iddrop-coldstart",
        _seq(loss="full", fusion="id+text", id_dropout=0.3), text=True, cold_start=0.1,
    ),
}  # fmt: skip


def cold_split(prepared: Prepared, share: float, seed: int = 0) -> Prepared:
    """Hold a random ``share`` of the items with events out of training (item cold-start)."""
    rng = np.random.default_rng(seed)
    items = np.unique(prepared.log.item)
    cold = np.sort(rng.choice(items, size=round(share * items.size), replace=False))
    return dataclasses.replace(prepared, split=item_cold_start(prepared.split, cold))


def popularity_baseline(prepared: Prepared, ranking: RankingConfig) -> dict[str, Any]:
    """Most-popular fitted on the same training part, evaluated on the same test users."""
    model = create("most-popular").fit(prepared.split.train)
    result = evaluate_ranking(model.score, prepared.split.test, prepared.log.n_items, ranking, progress=False)
    return {"model": "most-popular", "metrics": {k: round(v, 6) for k, v in result.metrics.items()}}


def tuned_encoder(prepared: Prepared, tuning: TextTuningConfig, cold_start: float) -> Path:
    """MiniLM tuned on the consecutive item pairs of this split's training part (cached by config)."""
    from driftrec.features import tune_item_text_encoder

    key = hashlib.sha256(json.dumps([dataclasses.asdict(tuning), cold_start]).encode()).hexdigest()[:12]
    out = CACHE / "text-tuned" / f"{prepared.dataset.name}-{key}"
    if not (out / TUNING_FILE).is_file():
        assert prepared.dataset.items is not None
        tune_item_text_encoder(prepared.split.train, prepared.items, prepared.dataset.items, tuning, out)
    return out


def item_text(prepared: Prepared, encoder: Path | None = None) -> np.ndarray:
    """MiniLM vectors of every item's text, aligned with the dense ids (cached on disk); ``encoder``: a
    tuned copy of MiniLM to use instead."""
    from driftrec.features import TextEncoderConfig, item_text_matrix

    items = prepared.dataset.items
    if items is None:
        raise ValueError(f"{prepared.dataset.name} has no item text")
    config = TextEncoderConfig() if encoder is None else TextEncoderConfig(model=str(encoder))
    embeddings = item_text_matrix(prepared.items, items, config, progress=True)
    logging.info("text for %d of %d items", int(embeddings.has_text.sum()), len(prepared.items))
    return embeddings.matrix


def _train_seconds(experiment: str) -> float:
    """Training seconds a checkpointed experiment spent over all its epochs (for warm-started costs)."""
    trainer = json.loads((CACHE / "ckpt" / experiment / "trainer.json").read_text())
    return round(sum(e["seconds"] for e in trainer["history"]["epochs"]), 1)


def run(
    name: str, budget_s: float | None, out: Path, stop_epoch: int | None = None, threads: int | None = None
) -> dict[str, Any] | None:
    exp = EXPERIMENTS[name]
    if threads is not None:  # e.g. two experiments side by side, one core each
        training = dataclasses.replace(exp.config.training, num_threads=threads)
        exp = dataclasses.replace(exp, config=dataclasses.replace(exp.config, training=training))
    prepared = prepare(load_dataset(exp.dataset), SplitSpec())
    if exp.cold_start:
        prepared = cold_split(prepared, exp.cold_start)
    encoder = None
    if exp.text_tuning is not None:
        encoder = tuned_encoder(prepared, exp.text_tuning, exp.cold_start)
    text = item_text(prepared, encoder) if exp.text else None
    model = SequentialRecommender(exp.config, item_text=text)
    started = time.perf_counter()

    def over_budget(record: EpochRecord) -> bool:
        if stop_epoch is not None and record.epoch >= stop_epoch:
            return True
        return budget_s is not None and time.perf_counter() - started > budget_s

    warm_start = None
    if exp.warm_start is not None:
        warm_start = CACHE / "ckpt" / exp.warm_start / "best.safetensors"
        if not warm_start.is_file():
            raise SystemExit(f"{name} starts from {exp.warm_start}'s best checkpoint: run that first")
    model.fit(
        prepared.split.train,
        prepared.split.valid,
        checkpoint_dir=CACHE / "ckpt" / name,
        resume=True,
        on_epoch_end=over_budget,
        warm_start=warm_start,
    )
    train_s = time.perf_counter() - started
    history = model.history
    assert history is not None
    finished = history.stopped_early or len(history.epochs) >= exp.config.training.epochs
    ranking = RankingConfig(ks=exp.ks, exclude_seen=True, seen_targets="miss", batch_size=256)
    t0 = time.perf_counter()
    result = evaluate_ranking(model.score, prepared.split.test, prepared.log.n_items, ranking)
    eval_s = time.perf_counter() - t0
    epochs = history.epochs
    training = exp.config.training
    record = result_record(
        benchmark="sequential",
        dataset=exp.dataset,
        model=exp.model,
        protocol={
            **prepared.split.protocol,
            **result.protocol,
            "max_len": exp.config.max_len,
            "early_stopping": f"valid {training.monitor} on {training.valid_users} users",
        },
        config=dataclasses.asdict(exp.config)
        | {
            "text_encoder": None if not exp.text else "all-MiniLM-L6-v2" + (" (tuned)" if encoder else ""),
            "text_tuning": None
            if encoder is None
            else json.loads((encoder / "driftrec_tuning.json").read_text()),
        },
        metrics=result.metrics,
        wall_s=train_s + eval_s,
        baseline={**popularity_baseline(prepared, ranking), "published": PUBLISHED.get(exp.dataset, {})},
        experiment=name,
        warm_start=exp.warm_start,
        warm_start_train_s=None if exp.warm_start is None else _train_seconds(exp.warm_start),
        finished=finished,
        epochs_run=len(epochs),
        best_epoch=history.best_epoch,
        best_valid=history.best_metric,
        train_s_this_run=round(train_s, 1),
        train_s_total=round(sum(r.seconds for r in epochs), 1),
        sequences_per_s=round(float(np.median([r.sequences_per_s for r in epochs])), 1) if epochs else None,
        eval_s=round(eval_s, 1),
    )
    path = write_result(record, out)
    m = result.metrics
    logging.info(
        "%s: HR@10 %.4f NDCG@10 %.4f (finished=%s) -> %s", name, m["HR@10"], m["NDCG@10"], finished, path
    )
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--experiments", default=",".join(EXPERIMENTS))
    parser.add_argument("--budget-min", type=float, default=None, help="stop training after this (resumable)")
    parser.add_argument(
        "--stop-epoch", type=int, default=None, help="pause after this epoch (same schedule; resumable)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: the experiment's, 2)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    budget = None if args.budget_min is None else args.budget_min * 60
    for name in args.experiments.split(","):
        run(name, budget, args.out, args.stop_epoch, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
