"""RecBole 1.2.1 SASRec, timed epoch by epoch: run inside RecBole's own virtualenv, never driftrec's.

Started by ``benchmarks/speed_vs_recbole.py``, which writes the atomic ``.inter`` file and parses the one
line this script prints last: ``RECBOLE_RESULT {json}``. Everything else on stdout/stderr is RecBole's
own log.

What it does beyond RecBole's ``run_recbole``:
- switches PyTorch anomaly detection off after importing RecBole (importing its model package runs
  ``torch.autograd.set_detect_anomaly(True)`` in ``sine.py``, which makes training ~1.6x slower);
- times each training epoch and each validation pass by wrapping ``Trainer._train_epoch`` and
  ``Trainer._valid_epoch`` (RecBole's own ``fit`` loop runs unchanged);
- loads the best checkpoint itself with ``torch.load(..., weights_only=False)``: RecBole's
  ``evaluate(load_best_model=True)`` calls ``torch.load`` without it and fails under torch >= 2.6;
- times full-ranking evaluation of all test users (``Trainer.evaluate``: scoring + top-k + metrics) and
  the bare forward pass over the catalogue (``full_sort_predict``), each as users per second.

Run: ``benchmarks/.venvs/recbole/bin/python benchmarks/peers/recbole_sasrec.py --data-path DIR
--dataset NAME --epochs 3`` (``DIR/NAME/NAME.inter`` must exist).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-path", type=Path, required=True, help="folder holding NAME/NAME.inter")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--eval-batch-size", type=int, default=4096, help="users per evaluation batch")
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--checkpoint-dir", type=Path, required=True)
    return parser.parse_args(argv)


def recbole_config(args: argparse.Namespace) -> dict[str, Any]:
    """SASRec's own defaults (hidden 64, inner 256, 2 layers, 2 heads, dropout 0.5/0.5, GELU, CE), stated
    explicitly so a change of RecBole's defaults cannot change the benchmark silently."""
    return {
        "data_path": str(args.data_path),
        "checkpoint_dir": str(args.checkpoint_dir),
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "MAX_ITEM_LIST_LENGTH": args.max_len,
        # model (RecBole's SASRec.yaml defaults)
        "n_layers": 2,
        "n_heads": 2,
        "hidden_size": 64,
        "inner_size": 256,
        "hidden_dropout_prob": 0.5,
        "attn_dropout_prob": 0.5,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "initializer_range": 0.02,
        "loss_type": "CE",
        "train_neg_sample_args": None,  # CE over the full catalogue: no negatives
        # training (RecBole's defaults, except the batch size and the epochs)
        "learner": "adam",
        "learning_rate": 0.001,
        "weight_decay": 0.0,
        "clip_grad_norm": None,
        "train_batch_size": args.batch_size,
        "epochs": args.epochs,
        "stopping_step": args.epochs + 1,  # never stop before the asked epochs
        "eval_step": 1,
        # evaluation: leave-one-out by time (RecBole's sequential setting), full ranking
        "eval_args": {
            "split": {"LS": "valid_and_test"},
            "order": "TO",
            "group_by": "user",
            "mode": "full",
        },
        "repeatable": True,
        "metrics": ["Recall", "NDCG"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "metric_decimal_place": 6,
        "eval_batch_size": args.eval_batch_size,
        # environment
        "use_gpu": False,
        "gpu_id": "",
        "worker": 0,
        "seed": args.seed,
        "reproducibility": True,
        "show_progress": False,
        "save_dataset": False,
        "save_dataloaders": False,
        "log_wandb": False,
    }


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.argv = sys.argv[:1]  # RecBole's Config reads --key=value pairs from the command line
    warnings.filterwarnings("ignore", category=FutureWarning)  # pandas/torch.amp notes from RecBole's code
    started = time.perf_counter()
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import SASRec
    from recbole.trainer import Trainer
    from recbole.utils import init_logger, init_seed

    anomaly_on_import = torch.is_anomaly_enabled()
    torch.autograd.set_detect_anomaly(False)  # RecBole turns it on at import; off for a fair timing
    torch.set_num_threads(args.threads)

    config = Config(model="SASRec", dataset=args.dataset, config_dict=recbole_config(args))
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    torch.set_num_threads(args.threads)  # after init_seed/init_logger, in case either touched it
    log = logging.getLogger()

    t0 = time.perf_counter()
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    data_s = time.perf_counter() - t0
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = SASRec(config, train_data._dataset).to(config["device"])
    trainer = Trainer(config, model)

    epochs: list[dict[str, Any]] = []
    train_epoch, valid_epoch = trainer._train_epoch, trainer._valid_epoch

    def timed_train(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        loss = train_epoch(*a, **kw)
        epochs.append({"epoch": len(epochs) + 1, "train_s": time.perf_counter() - t, "loss": float(loss)})
        return loss

    def timed_valid(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        score, result = valid_epoch(*a, **kw)
        epochs[-1]["valid_s"] = time.perf_counter() - t
        epochs[-1]["valid"] = {k: float(v) for k, v in result.items()}
        return score, result

    trainer._train_epoch, trainer._valid_epoch = timed_train, timed_valid
    t0 = time.perf_counter()
    best_score, _ = trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    fit_s = time.perf_counter() - t0

    # The workaround for torch >= 2.6: RecBole's own loading uses weights_only=True by default and fails.
    checkpoint = torch.load(trainer.saved_model_file, map_location=trainer.device, weights_only=False)
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))
    n_test = len(test_data._dataset)
    t0 = time.perf_counter()
    test_result = trainer.evaluate(test_data, load_best_model=False, show_progress=False)
    eval_s = time.perf_counter() - t0

    model.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        for batch in test_data:
            model.full_sort_predict(batch[0].to(trainer.device))
    forward_s = time.perf_counter() - t0
    log.info("test %s; evaluation %.1fs, forward %.1fs", dict(test_result), eval_s, forward_s)
    Path(trainer.saved_model_file).unlink(missing_ok=True)  # one checkpoint per run would pile up

    best = max(range(len(epochs)), key=lambda i: epochs[i]["valid"]["ndcg@10"])
    result = {
        "recbole": __import__("recbole").__version__,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "anomaly_detection_on_import": anomaly_on_import,
        "anomaly_detection_during_run": torch.is_anomaly_enabled(),
        "config": recbole_config(args),
        "n_users": int(dataset.user_num - 1),
        "n_items": int(dataset.item_num - 1),
        "prefix_instances": int(dataset.inter_num),  # train + valid + test
        "train_instances": len(train_data._dataset),
        "steps_per_epoch": len(train_data),
        "valid_users": len(valid_data._dataset),
        "test_users": n_test,
        "data_prep_s": round(data_s, 3),
        "fit_s": round(fit_s, 3),
        "epochs": [
            {
                "epoch": e["epoch"],
                "train_s": round(e["train_s"], 3),
                "valid_s": round(e.get("valid_s", 0.0), 3),
                "loss": round(e["loss"], 6),
                "valid_NDCG@10": e.get("valid", {}).get("ndcg@10"),
                "valid_Recall@10": e.get("valid", {}).get("recall@10"),
            }
            for e in epochs
        ],
        "best_epoch": best + 1,
        "best_valid_NDCG@10": float(best_score),
        "test": {"NDCG@10": float(test_result["ndcg@10"]), "Recall@10": float(test_result["recall@10"])},
        "test_eval_s": round(eval_s, 3),
        "test_forward_s": round(forward_s, 3),
        "peak_rss_mb": peak_rss_mb(),
        "wall_s": round(time.perf_counter() - started, 3),
    }
    print("RECBOLE_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
