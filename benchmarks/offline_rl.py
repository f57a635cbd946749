"""Offline RL on multi-behaviour logs: supervised SASRec vs its aux-loss ablation vs SQN (Q-learning, SARSA).

Protocol (SQN, Xin et al. SIGIR 2020): users split 70/10/20 into train/valid/test once (split seed 0,
the same for every variant and seed); every event of a test user after their first is a next-item
target; full ranking over the catalogue, seen items not excluded; targets grouped by behaviour:
"purchase" (the target event is a purchase) and "click" (every other behaviour: page view, click,
favourite, cart). Rewards of the logged next event: view/click 0.2, cart/favourite 0.5, purchase 1.0.
Every variant ranks with its supervised head (SQN's choice); the Q-head's own ranking is reported as
``q_head_*`` for the TD variants. All variants train the same number of epochs (no early stopping, so
no variant gets a different budget). One JSON per (dataset, variant) with the mean over seeds as
``metrics``, the per-seed values and the standard deviation (the "spread") beside it.

Datasets: ``taobao`` = taobao-userbehavior-head (pv/cart/fav/buy) after a (5, 3)-core; ``synthetic`` =
synthetic shop (20,000 users, 1,000 items, seed 0) with its view/click/cart/purchase events (>= 1M).

Run: ``.venv/bin/python benchmarks/offline_rl.py --datasets taobao,synthetic --seeds 0,1,2``
Per-run results are cached (``--cache``), so a stopped run continues where it was with the same command.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from driftrec.data import load_dataset
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.evaluation.results import result_record, write_result
from driftrec.models.sequential.config import SequentialConfig
from driftrec.policy.sqn import SQNConfig
from driftrec.policy.sqn_data import prepare_log, split_users
from driftrec.policy.sqn_eval import next_item_metrics
from driftrec.policy.sqn_model import SQNRecommender
from driftrec.training.config import TrainingConfig

RESULTS = Path(__file__).parent / "results"
CACHE = Path(__file__).parent / ".cache" / "offline_rl_runs.jsonl"
VARIANTS = ("none", "reward", "qlearning", "sarsa")
MODEL_NAMES = {
    "none": "sasrec",
    "reward": "sasrec-aux-reward",
    "qlearning": "sasrec-sqn-qlearning",
    "sarsa": "sasrec-sqn-sarsa",
}
#: (epochs, batch size) per dataset: the small Taobao subset needs many small steps, the 1M-event shop
#: one pass of large ones (what the shared 2-core machine allows for 4 variants x 3 seeds).
DEFAULT_BUDGET = {"taobao": (20, 32), "synthetic": (1, 128)}
DATASET_NAMES = {"taobao": "taobao-userbehavior-head", "synthetic": "synthetic-shop-20000x1000"}
PUBLISHED = {
    "source": "Xin et al., Self-Supervised Reinforcement Learning for Recommender Systems, SIGIR 2020, "
    "Table 3 (RetailRocket, not available here)",
    "sasrec_purchase_NDCG@10": 0.451,
    "sasrec_sqn_purchase_NDCG@10": 0.481,
}

log = logging.getLogger("offline_rl")


def load_log(name: str) -> tuple[Any, dict[str, Any]]:
    if name == "taobao":
        events = load_dataset(DATASET_NAMES[name]).events
        log_, facts = prepare_log(events, user_k=5, item_k=3)
        return log_, {**facts, "k_core": {"user_k": 5, "item_k": 3}}
    shop = generate(SyntheticShopConfig(n_users=20_000, n_items=1_000, events_per_user_mean=55.0, seed=0))
    log_, facts = prepare_log(shop.dataset.events, user_k=2, item_k=1)
    return log_, {**facts, "k_core": {"user_k": 2, "item_k": 1}, "generator_seed": 0}


def make_config(variant: str, seed: int, args: argparse.Namespace) -> SQNConfig:
    training = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=0,
        seed=seed,
        device="cpu",
        num_threads=args.threads,
    )
    sequence = SequentialConfig(
        max_len=args.max_len,
        hidden=args.hidden,
        blocks=args.blocks,
        heads=2,
        inner=4 * args.hidden,
        dropout=args.dropout,
        behaviours=True,
        sliding_window=True,
        training=training,
    )
    return SQNConfig(variant=variant, gamma=args.gamma, tau=args.tau, sequence=sequence)


def run_one(variant: str, seed: int, split: Any, args: argparse.Namespace) -> dict[str, Any]:
    config = make_config(variant, seed, args)
    started = time.perf_counter()
    model = SQNRecommender(config).fit(split.train)
    train_s = time.perf_counter() - started
    result = next_item_metrics(model, split.test)
    metrics = {f"{g}_{m}": v for g in ("purchase", "click") for m, v in result[g].items()}
    if config.has_q_head and config.bootstraps:
        q = next_item_metrics(model, split.test, head="q")
        metrics.update({f"q_head_{g}_{m}": v for g in ("purchase", "click") for m, v in q[g].items()})
    assert model.history is not None
    return {
        "variant": variant,
        "seed": seed,
        "metrics": metrics,
        "n_targets": result["n_targets"],
        "train_s": train_s,
        "final_loss": model.history.epochs[-1].loss,
        "config": config.to_dict(),
    }


def summarise(
    dataset: str, facts: dict[str, Any], runs: list[dict[str, Any]], args: argparse.Namespace
) -> None:
    by_variant = {v: [r for r in runs if r["variant"] == v] for v in VARIANTS}
    means: dict[str, dict[str, float]] = {}
    for variant, rs in by_variant.items():
        if rs:
            means[variant] = {k: float(np.mean([r["metrics"][k] for r in rs])) for k in rs[0]["metrics"]}
    for variant, rs in by_variant.items():
        if not rs:
            continue
        keys = list(rs[0]["metrics"])
        spread = {
            k: float(np.std([r["metrics"][k] for r in rs], ddof=1)) if len(rs) > 1 else 0.0 for k in keys
        }
        protocol = {
            "split": "users 70/10/20 train/valid/test (split seed 0)",
            "targets": "every event of a test user after the first; next-item",
            "ranking": "full",
            "exclude_seen": False,
            "groups": {"purchase": "target event is a purchase", "click": "every other behaviour"},
            "rewards": {"view": 0.2, "click": 0.2, "favourite": 0.5, "cart": 0.5, "purchase": 1.0},
            "ranked_by": "supervised head (q_head_* metrics: the Q-head's own ranking)",
            "max_len": args.max_len,
            "epochs": args.epochs,
            "subset": facts,
            "n_targets": rs[0]["n_targets"],
            "seeds": [r["seed"] for r in rs],
        }
        baseline = None
        if variant != "none" and "none" in means:
            baseline = {
                "model": MODEL_NAMES["none"],
                "metrics": {k: round(v, 6) for k, v in means["none"].items()},
            }
        record = result_record(
            benchmark="offline-rl",
            dataset=DATASET_NAMES[dataset],
            model=MODEL_NAMES[variant],
            protocol=protocol,
            config=rs[0]["config"],
            metrics=means[variant],
            wall_s=float(sum(r["train_s"] for r in rs)),
            baseline=baseline,
            spread_std={k: round(v, 6) for k, v in spread.items()},
            per_seed=[{"seed": r["seed"], **{k: round(v, 6) for k, v in r["metrics"].items()}} for r in rs],
            others={v: {k: round(x, 6) for k, x in m.items()} for v, m in means.items() if v != variant},
            published=PUBLISHED,
        )
        path = write_result(record, args.out)
        log.info("wrote %s", path)
    for variant, m in means.items():
        n = len(by_variant[variant])
        sd = (
            float(np.std([r["metrics"]["purchase_NDCG@10"] for r in by_variant[variant]], ddof=1))
            if n > 1
            else 0
        )
        log.info(
            "%s %-10s purchase NDCG@10 %.4f ± %.4f  HR@10 %.4f | click NDCG@10 %.4f  HR@10 %.4f (n=%d)",
            dataset,
            variant,
            m["purchase_NDCG@10"],
            sd,
            m["purchase_HR@10"],
            m["click_NDCG@10"],
            m["click_HR@10"],
            n,
        )


def markdown_table(directory: Path) -> str:
    """Mean ± std over seeds of every variant on every dataset, from the written result files."""
    lines = [
        "| dataset | variant | seeds | purchase HR@10 | purchase NDCG@10 | click HR@10 | click NDCG@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for path in sorted(directory.glob("offline-rl__*.json")):
        rec = json.loads(path.read_text())
        m, sd = rec["metrics"], rec["spread_std"]
        cells = [
            f"{m[k]:.4f} ± {sd[k]:.4f}"
            for k in ("purchase_HR@10", "purchase_NDCG@10", "click_HR@10", "click_NDCG@10")
        ]
        lines.append(
            f"| {rec['dataset']} | {rec['model']} | {len(rec['per_seed'])} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="taobao,synthetic")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=None, help="default: 20 on taobao, 1 on synthetic")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="default: 32 on taobao, 128 on synthetic"
    )
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=1)
    parser.add_argument("--max-len", type=int, default=20)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--gamma", type=float, default=0.5)
    parser.add_argument("--tau", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    given_epochs, given_batch = args.epochs, args.batch_size
    for dataset in args.datasets.split(","):
        args.epochs = given_epochs or DEFAULT_BUDGET[dataset][0]
        args.batch_size = given_batch or DEFAULT_BUDGET[dataset][1]
        settings = {
            k: getattr(args, k)
            for k in ("epochs", "batch_size", "lr", "hidden", "blocks", "max_len", "dropout", "gamma", "tau")
        }
        log_, facts = load_log(dataset)
        split = split_users(log_, valid=0.1, test=0.2, seed=0)
        log.info("%s: %s", dataset, facts)
        cached = []
        if args.cache.exists():
            for line in args.cache.read_text().splitlines():
                row = json.loads(line)
                if row["dataset"] == dataset and row["settings"] == settings:
                    cached.append(row)
        runs = list(cached)
        for seed in (int(s) for s in args.seeds.split(",")):
            for variant in args.variants.split(","):
                if any(r["variant"] == variant and r["seed"] == seed for r in runs):
                    continue
                row = {"dataset": dataset, "settings": settings, **run_one(variant, seed, split, args)}
                log.info("%s seed %d %s: %s (%.0fs)", dataset, seed, variant, row["metrics"], row["train_s"])
                with args.cache.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                runs.append(row)
        summarise(dataset, facts, runs, args)
    print(markdown_table(args.out))


if __name__ == "__main__":
    main()
