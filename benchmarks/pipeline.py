"""Two-stage pipeline benchmark: NDCG@10 of retrieval alone vs retrieval + CTR ranking, same split.

Global temporal split (train < valid_start <= validation < test_start <= test). The retriever (SASRec,
and most-popular as a second, weaker retriever) is fitted on train; the ranker (DIEN-style by default)
is trained on the retriever's top-N candidates at valid_start, labelled by what each user touched in
the validation period, with features from events before valid_start only. Test: candidates at
test_start from histories up to test_start, ranker features from events before test_start, targets =
distinct items touched in the test period and not before (seen items excluded, full-catalogue ranking
via ``driftrec.evaluation.evaluate_ranking``; items outside the N candidates score -inf).

Run: ``.venv/bin/python benchmarks/pipeline.py [--datasets synthetic-shop,taobao-userbehavior-head]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Any

import torch

from driftrec.data import Dataset, load_dataset
from driftrec.evaluation.results import result_record, write_result
from driftrec.models.ctr.config import CTRConfig
from driftrec.ranking.experiment import pipeline_experiment
from driftrec.training.config import TrainingConfig

RESULTS = Path(__file__).parent / "results"
UTC = dt.UTC

#: dataset -> (valid_start, test_start)
SPLITS = {
    "synthetic-shop": (dt.datetime(2024, 2, 10, tzinfo=UTC), dt.datetime(2024, 2, 20, tzinfo=UTC)),
    "taobao-userbehavior-head": (dt.datetime(2017, 12, 1, tzinfo=UTC), dt.datetime(2017, 12, 2, tzinfo=UTC)),
}


def _dataset(name: str, users: int, seed: int) -> Dataset:
    if name == "synthetic-shop":
        from driftrec.data.synthetic import SyntheticShopConfig, generate

        return generate(SyntheticShopConfig(n_users=users, seed=seed)).dataset
    return load_dataset(name)


def _retrievers(dataset: str, threads: int, seed: int) -> dict[str, dict[str, Any]]:
    """Taobao's head has 55k items for 800 users: full softmax costs ~75 s an epoch here, so its SASRec
    uses sampled softmax (256 popularity negatives, logQ-corrected) and at most 15 epochs."""
    big = dataset == "taobao-userbehavior-head"
    sasrec: dict[str, Any] = {
        "hidden": 64,
        "blocks": 2,
        "max_len": 50,
        "training": TrainingConfig(
            epochs=15 if big else 30, batch_size=128, patience=3, num_threads=threads, seed=seed, lr=1e-3
        ),
    }
    if big:
        sasrec |= {"loss": "sampled", "n_negatives": 256}
    return {"sasrec": sasrec, "most-popular": {}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default="synthetic-shop,taobao-userbehavior-head")
    parser.add_argument("--retrievers", default="sasrec,most-popular")
    parser.add_argument("--ranker", default="dien")
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    for name in args.datasets.split(","):
        retrievers = _retrievers(name, args.threads, args.seed)
        data = _dataset(name, args.users, args.seed)
        valid_start, test_start = SPLITS[name]
        for retriever in args.retrievers.split(","):
            training = TrainingConfig(
                epochs=5,
                batch_size=256,
                lr=2e-3,
                patience=2,
                monitor="AUC@valid",
                seed=args.seed,
                num_threads=args.threads,
            )
            ranker = CTRConfig(architecture=args.ranker, max_len=20, training=training)  # type: ignore[arg-type]
            run = pipeline_experiment(
                data,
                valid_start=valid_start,
                test_start=test_start,
                retriever=retriever,
                retriever_params=retrievers[retriever],
                ranker_config=ranker,
                n_candidates=args.candidates,
                seed=args.seed,
            )
            protocol = {**run.protocol, "valid_start": str(valid_start), "test_start": str(test_start)}
            params = {
                k: (v.__dict__ if isinstance(v, TrainingConfig) else v)
                for k, v in retrievers[retriever].items()
            }
            base = result_record(
                benchmark="pipeline",
                dataset=name,
                model=retriever,
                protocol=protocol,
                config={"retriever": params},
                metrics=run.retrieval,
                wall_s=run.wall_s,
                stage="retrieval alone",
            )
            staged = result_record(
                benchmark="pipeline",
                dataset=name,
                model=f"{retriever}+{args.ranker}",
                protocol=protocol,
                config={"retriever": params, "ranker": ranker.to_dict()},
                metrics=run.pipeline,
                wall_s=run.wall_s,
                baseline={"model": retriever, "metrics": base["metrics"]},
                stage="retrieval + ranking",
                **run.extra,
            )
            for record in (base, staged):
                logging.info("wrote %s", write_result(record, args.out))
            logging.info(
                "%s %s: NDCG@10 retrieval %.4f -> with ranking %.4f",
                name,
                retriever,
                run.retrieval["NDCG@10"],
                run.pipeline["NDCG@10"],
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
