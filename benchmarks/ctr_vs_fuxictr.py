"""CTR peer comparison: FuxiCTR's DIN and DIEN on exactly the impressions, split and features of
``benchmarks/ctr.py``, scored by driftrec's metric code.

Per dataset (synthetic shop, Taobao head):
1. ``benchmarks/ctr.py``'s ``build_task`` builds the impressions; ``split_by_time(..., 0.1, 0.2)`` cuts
   train / validation / test by global time; a ``CTRRanker`` with the benchmark's default ``CTRConfig``
   computes the point-in-time inputs of every impression (the same call its ``fit``/``predict`` make);
2. they are written for FuxiCTR's LongCTR loader to ``benchmarks/.cache/fuxictr/<dataset>/``: the
   engineered features (standardised with the train mean/std, as driftrec does) as ``numeric`` fields, the
   item id, category and (synthetic shop) the PCA-reduced MiniLM text vector as item fields, and the
   behaviour sequence as each user's time-ordered items plus the count before the impression. The exporter
   checks that the last ``max_len`` items FuxiCTR will cut equal driftrec's ``sequences_before`` exactly;
3. ``benchmarks/peers/fuxictr_ctr.py`` trains DIN and DIEN in FuxiCTR's own virtualenv
   (``benchmarks/.venvs/fuxictr``, created on first use: torch 2.13.0 CPU first, then fuxictr 2.3.10 and
   its dependencies) and writes its test predictions;
4. AUC, gAUC, LogLoss come from ``driftrec.evaluation.ctr.ctr_metrics`` on those predictions, the same
   function that scores driftrec's models; ``baseline`` of each record = driftrec's ``dien`` (and the
   ``din`` metrics beside it) from ``benchmarks/results/ctr__<dataset>__{dien,din}.json``, checked to be
   on the same split (same train/valid/test sizes and cut times).

Run: ``.venv/bin/python benchmarks/ctr_vs_fuxictr.py [--datasets synthetic-shop,taobao-userbehavior-head]
[--models DIN,DIEN] [--epochs 8]`` (``--setup-only`` creates the virtualenv and stops).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

sys.path.insert(0, str(Path(__file__).parent))

from ctr import bootstrap_auc, build_task
from peer_venv import PeerVenv, ensure_peer_venv, repo_relative, venv_python

from driftrec.evaluation.ctr import ctr_metrics
from driftrec.evaluation.results import result_record, write_result
from driftrec.features.sequence import sequences_before
from driftrec.models.ctr.config import CTRConfig
from driftrec.models.ctr.ranker import CTRRanker
from driftrec.ranking.impressions import CTRTask, split_by_time

HERE = Path(__file__).parent
RESULTS = HERE / "results"
VENV = HERE / ".venvs" / "fuxictr"
CACHE = HERE / ".cache" / "fuxictr"
PEER_SCRIPT = HERE / "peers" / "fuxictr_ctr.py"
FUXICTR_VERSION = "2.3.10"
TORCH_VERSION = "2.13.0"
#: Install steps, in order: torch first (pip takes the CPU wheel from this machine's disk and later steps
#: then keep it), then FuxiCTR and its declared dependencies (``ray[data]`` included: FuxiCTR's
#: preprocessing and parquet loader import it at package import time, even though this benchmark
#: does not use Ray).
INSTALL_STEPS: tuple[tuple[str, ...], ...] = (
    (f"torch=={TORCH_VERSION}",),
    (f"fuxictr=={FUXICTR_VERSION}",),
)
RESULT_PREFIX = "FUXICTR_RESULT "
VALID, TEST = 0.1, 0.2
DATASETS = "synthetic-shop,taobao-userbehavior-head"

log = logging.getLogger("ctr_vs_fuxictr")


# ------------------------------------------------------------------------------------ peer virtualenv
PEER = PeerVenv(
    name="FuxiCTR",
    path=VENV,
    probe=(
        "import fuxictr, torch; from model_zoo.LongCTR import DIN, DIEN; "
        "from model_zoo.LongCTR.longctr_dataloader import LongCTRDataLoader; "
        "print(fuxictr.__version__, torch.__version__.split('+')[0])"
    ),
    expected=(FUXICTR_VERSION, TORCH_VERSION),
    install_steps=INSTALL_STEPS,
)


def ensure_venv() -> tuple[str, str]:
    """FuxiCTR's own virtualenv, created once (see peer_venv)."""
    return ensure_peer_venv(PEER)


# ------------------------------------------------------------------------------------ export
def _seq_counts(task: CTRTask, frame: pl.DataFrame) -> np.ndarray:
    """Number of the user's events strictly before each impression (the log is sorted by user, time)."""
    log_ = task.log
    off = log_.user_offsets()
    user = frame.get_column("user").to_numpy().astype(np.int64)
    ts = frame.get_column("ts").to_numpy().astype(np.int64)
    counts = np.zeros(user.shape[0], dtype=np.int64)
    for u in np.unique(user):
        rows = np.flatnonzero(user == u)
        if 1 <= u <= log_.n_users:
            counts[rows] = np.searchsorted(log_.ts[off[u] : off[u + 1]], ts[rows], side="left")
    return counts


def export(name: str, task: CTRTask, text: np.ndarray | None, config: CTRConfig, out: Path) -> dict[str, Any]:
    """Write the three parts, the user/item tables and the feature map; return the split protocol."""
    out.mkdir(parents=True, exist_ok=True)
    train, valid, test, protocol = split_by_time(task.impressions, VALID, TEST)
    ranker = CTRRanker(
        config,
        item_category=task.attributes.category,
        item_price_level=task.attributes.price_level,
        item_text=text,
        context_columns=task.context_columns,
        numeric_columns=task.numeric_columns,
    )
    if task.context_columns:
        raise ValueError(f"{name}: categorical contexts are not exported (only synthetic shop and Taobao)")
    parts = {"train": train, "valid": valid, "test": test}
    inputs = {k: ranker.inputs(task.log, v) for k, v in parts.items()}
    names = list(ranker.dense_names or ())
    mean = inputs["train"].dense.mean(axis=0)
    std = np.maximum(inputs["train"].dense.std(axis=0), 1e-6)
    log_ = task.log
    off = log_.user_offsets()
    for part, frame in parts.items():
        x = inputs[part]
        counts = _seq_counts(task, frame)
        # FuxiCTR cuts full_item_seq[:seq_len] to its last max_len items: must be driftrec's sequence
        seq = sequences_before(log_, x.user, frame.get_column("ts").to_numpy(), config.max_len)
        for row in range(len(x)):
            u, c = int(x.user[row]), int(counts[row])
            lo = max(c - config.max_len, 0)
            expect = log_.item[off[u] + lo : off[u] + c] if c else np.zeros(0, np.int64)
            if not np.array_equal(expect, seq.items[row, : seq.lengths[row]]):
                raise AssertionError(f"{name}/{part} row {row}: exported sequence differs from driftrec's")
        dense = (x.dense - mean) / std
        table = {"user_index": x.user, "item_index": x.target, "seq_len": counts}
        table |= {f"d_{n}": dense[:, i].astype(np.float32) for i, n in enumerate(names)}
        table["label"] = x.label.astype(np.float32)
        pl.DataFrame(table).write_parquet(out / f"{part}.parquet")
    seqs = [
        log_.item[off[u] : off[u + 1]].astype(np.int64).tolist() if u else [] for u in range(log_.n_users + 1)
    ]
    pl.DataFrame({"full_item_seq": seqs}, schema={"full_item_seq": pl.List(pl.Int64)}).write_parquet(
        out / "user_info.parquet"
    )
    n_items = task.attributes.category.shape[0]
    items: dict[str, Any] = {
        "item_index": np.arange(n_items, dtype=np.int64),
        "item_id": np.arange(n_items, dtype=np.int64),
        "cate_id": task.attributes.category.astype(np.int64),
    }
    if ranker.item_text is not None:
        items["text"] = [row.tolist() for row in ranker.item_text.astype(np.float32)]
    pl.DataFrame(items).write_parquet(out / "item_info.parquet")
    dim = config.embed_dim
    features: list[dict[str, Any]] = [
        {"user_index": {"type": "meta", "source": "user"}},
        {"item_index": {"type": "meta", "source": "impression"}},
        {"seq_len": {"type": "meta", "source": "user"}},
    ]
    features += [{f"d_{n}": {"type": "numeric", "source": "context"}} for n in names]
    features += [
        {"item_id": {"type": "categorical", "source": "item", "vocab_size": n_items, "padding_idx": 0}},
        {
            "cate_id": {
                "type": "categorical",
                "source": "item",
                "vocab_size": int(task.attributes.category.max()) + 1,
                "padding_idx": 0,
            }
        },
    ]
    if ranker.item_text is not None:
        pdim = int(ranker.item_text.shape[1])
        features.append({"text": {"type": "embedding", "source": "item", "pretrain_dim": pdim}})
    feature_map = {"dataset_id": name, "labels": ["label"], "features": features, "embedding_dim": dim}
    (out / "feature_map.json").write_text(json.dumps(feature_map, indent=1))
    return {
        **task.protocol,
        **protocol,
        "features": "point-in-time (events strictly before each impression)",
        "dense_features": names,
        "text": ranker.item_text is not None,
        "export": str(out.relative_to(HERE.parent)) if out.is_relative_to(HERE.parent) else str(out),
    }


# ------------------------------------------------------------------------------------ peer run
def run_peer(data: Path, model: str, args: argparse.Namespace) -> tuple[np.ndarray, dict[str, Any]]:
    out = data / model
    cmd = [
        str(venv_python(VENV)),
        str(PEER_SCRIPT),
        "--data-dir",
        str(data),
        "--model",
        model,
        "--out",
        str(out),
        "--epochs",
        str(args.epochs),
        "--threads",
        str(args.threads),
        "--seed",
        str(args.seed),
    ]
    log.info("running %s", " ".join(cmd))
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    (data / f"{model}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"FuxiCTR {model} failed (log {data / f'{model}.log'}):\n{done.stderr[-3000:]}")
    line = [x for x in done.stdout.splitlines() if x.startswith(RESULT_PREFIX)][-1]
    info = json.loads(line[len(RESULT_PREFIX) :])
    info["wall_s"] = time.perf_counter() - started
    return np.load(out / "predictions.npy"), info


def driftrec_baseline(name: str, protocol: dict[str, Any], results: Path) -> dict[str, Any]:
    """driftrec's dien and din records on this dataset, checked to be on the very same split."""
    out: dict[str, Any] = {}
    for model in ("dien", "din"):
        path = results / f"ctr__{name}__{model}.json"
        rec = json.loads(path.read_text())
        for key in ("train_impressions", "valid_impressions", "test_impressions", "test_start_us"):
            if rec["protocol"].get(key) != protocol.get(key):
                raise ValueError(
                    f"{path}: {key} {rec['protocol'].get(key)} != this split's {protocol.get(key)}"
                )
        out[model] = {k: rec["metrics"][k] for k in ("AUC", "gAUC", "LogLoss")}
    return {
        "model": "dien",
        "metrics": out["dien"],
        "din_metrics": out["din"],
        "source": "benchmarks/results",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default=DATASETS)
    parser.add_argument("--models", default="DIN,DIEN")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--users", type=int, default=2000, help="synthetic shop users")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--setup-only", action="store_true", help="create FuxiCTR's venv, then stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    versions = ensure_venv()
    if args.setup_only:
        return 0
    config = CTRConfig()
    for name in args.datasets.split(","):
        task, text = build_task(name, args.users, args.seed)
        data = CACHE / name
        protocol = export(name, task, text, config, data)
        baseline = driftrec_baseline(name, protocol, RESULTS)
        test = pl.read_parquet(data / "test.parquet")
        labels, users = test.get_column("label").to_numpy(), test.get_column("user_index").to_numpy()
        for model in args.models.split(","):
            probs, info = run_peer(data, model, args)
            metrics = ctr_metrics(labels > 0.5, probs, users)
            log.info("%s fuxictr-%s: %s (%.0fs)", name, model.lower(), metrics, info["wall_s"])
            record = result_record(
                benchmark="ctr",
                dataset=name,
                model=f"fuxictr-{model.lower()}",
                protocol={**protocol, "early_stopping": "validation AUC, patience 2 (FuxiCTR's own)"},
                config={
                    "library": f"fuxictr {versions[0]} (torch {versions[1]}, own virtualenv)",
                    "model": f"model_zoo.LongCTR.{model}",
                    "max_len": config.max_len,
                    "batch_size": 256,
                    "epochs": args.epochs,
                    # checkpoints live in the untracked cache: record where relative to the repo
                    **{k: repo_relative(v) if k == "model_root" else v for k, v in info["params"].items()},
                },
                metrics={k: v for k, v in metrics.items() if k in ("AUC", "gAUC", "LogLoss")},
                wall_s=info["wall_s"],
                baseline=baseline,
                description=f"FuxiCTR {versions[0]} {model} (LongCTR) on driftrec's split and features",
                gauc_users=metrics.get("gAUC_users"),
                epochs_run=info["epochs_run"],
                fit_s=info["fit_s"],
                parameters=info["parameters"],
                valid_fuxictr_metrics=info["valid_fuxictr_metrics"],
                test_clicks=int(labels.sum()),
                AUC_ci95=bootstrap_auc(labels, probs),
                differences=DIFFERENCES[model],
            )
            log.info("wrote %s", write_result(record, args.out))
    return 0


#: What differs from driftrec's own din/dien on the same inputs (stored in each record).
_COMMON = [
    "item = concatenation of item-id, category (and text) embeddings of 16 each (driftrec sums them into 16)",
    "no behaviour-type embedding per sequence event (LongCTR sequences carry item fields only)",
    "each engineered feature is its own 16-d embedding (numeric field x vector); driftrec feeds the "
    "standardised values straight into the MLP",
    "Adam, lr 2e-3, FuxiCTR's lr x0.1 on a validation plateau; driftrec AdamW wd 1e-5, linear decay",
    "FuxiCTR's gradient clipping 10 (driftrec 1.0), FuxiCTR's weight initialisation",
]
DIFFERENCES = {
    "DIN": [*_COMMON, "attention MLP [64] with Dice, no softmax (FuxiCTR default; driftrec: softmax)"],
    "DIEN": [
        *_COMMON,
        "no auxiliary next-behaviour loss (LongCTR's DIEN has none; driftrec's dien uses aux weight 0.5)",
        "bilinear attention with softmax over GRU states, AUGRU (FuxiCTR defaults)",
    ],
}


if __name__ == "__main__":
    sys.exit(main())
