"""Retrieval index on a 100k-item catalogue: recall@10 and query latency of IVF and HNSW against exact search.

Vectors are real model outputs, not noise: the item embeddings of the SASRec bundle of ``serving_model.py``
(100k items), with two query sets:

* ``mips``: user states (the encoder's last position for sampled users' histories) against the raw item
  table, i.e. top-k by the model's own score, what ``/recommend`` ranks by;
* ``cosine``: unit item vectors against unit item vectors, what ``/items/{id}/similar`` ranks by.

Exact search (``IndexFlatIP``) runs in the same process on the same queries: recall is against it, and
latency is reported as a ratio to it. Queries are timed one at a time (as a request sees them) and as one
batch. FAISS runs on one thread so that the comparison is not decided by the machine's other jobs.

Run: ``.venv/bin/python benchmarks/index_recall.py [--queries 1000]``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from serving_model import ServingModelSpec, ensure_bundle

from driftrec.evaluation.results import result_record, write_result
from driftrec.serving.index import IndexConfig, ItemIndex, measure_recall

RESULTS = Path(__file__).parent / "results"
log = logging.getLogger("index_recall")

CONFIGS: dict[str, IndexConfig] = {
    "exact": IndexConfig(kind="exact"),
    "ivf-nprobe8": IndexConfig(kind="ivf", nprobe=8),
    "ivf-nprobe32": IndexConfig(kind="ivf", nprobe=32),
    "hnsw-ef64": IndexConfig(kind="hnsw", ef_search=64),
    "hnsw-ef256": IndexConfig(kind="hnsw", ef_search=256),
    # the same indexes on raw inner product, without the MIPS -> L2 transform (for comparison)
    "ivf-nprobe32-ip": IndexConfig(kind="ivf", nprobe=32, mips_transform=False),
    "hnsw-ef64-ip": IndexConfig(kind="hnsw", ef_search=64, mips_transform=False),
}


def model_vectors(bundle_dir: Path, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(item table without the padding row, user-state queries for ``n_queries`` random known users)."""
    import torch

    from driftrec.models.sequential.batches import history_batch
    from driftrec.training.device import move_batch
    from driftrec.workflows.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    model: Any = bundle.model
    network = model.network
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(bundle.known), size=min(n_queries, len(bundle.known)), replace=False)
    histories = bundle.known.take(np.sort(rows))
    network.eval()
    with torch.inference_mode():
        table = network.item_table().float().numpy()
        layout = model._layout(model.n_items)  # the scoring path's own batch layout
        parts = []
        for start in range(0, len(histories), 256):
            take = np.arange(start, min(start + 256, len(histories)))
            batch = move_batch(
                history_batch(histories.take(take), layout, append_mask=False), torch.device("cpu")
            )
            parts.append(network.encode(batch)[:, -1].float().numpy())
    return np.ascontiguousarray(table[1:]), np.concatenate(parts).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def bench_one(
    name: str,
    config: IndexConfig,
    ids: np.ndarray,
    vectors: np.ndarray,
    queries: np.ndarray,
    exact: ItemIndex,
    k: int,
) -> dict[str, Any]:
    began = time.perf_counter()
    index = exact if name == "exact" else ItemIndex.build(ids, vectors, config)
    build_s = time.perf_counter() - began
    recall = measure_recall(index, exact, queries, k)
    single = []
    for q in queries:
        t = time.perf_counter()
        index.search(q[None, :], k)
        single.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    index.search(queries, k)
    batch_ms = (time.perf_counter() - t) * 1000
    lat = np.asarray(single)
    return {
        "kind": index.kind,
        "build_s": round(build_s, 2),
        f"recall@{k}": round(recall, 4),
        "query_p50_ms": round(float(np.percentile(lat, 50)), 4),
        "query_p99_ms": round(float(np.percentile(lat, 99)), 4),
        "batch_qps": round(len(queries) / (batch_ms / 1000), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-items", type=int, default=ServingModelSpec.n_items, help="catalogue size")
    parser.add_argument("--n-users", type=int, default=ServingModelSpec.n_users, help="shoppers to train on")
    parser.add_argument("--epochs", type=int, default=ServingModelSpec.epochs)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import faiss
    import torch

    faiss.omp_set_num_threads(1)
    torch.set_num_threads(1)
    spec = ServingModelSpec(n_items=args.n_items, n_users=args.n_users, epochs=args.epochs)
    bundle_dir, _, facts = ensure_bundle(spec)
    table, user_queries = model_vectors(bundle_dir, args.queries, args.seed)
    ids = np.arange(1, table.shape[0] + 1, dtype=np.int64)
    rng = np.random.default_rng(args.seed + 1)
    unit = _unit(table)
    item_queries = unit[rng.choice(table.shape[0], size=args.queries, replace=False)]
    began = time.perf_counter()
    for space, vectors, queries in (("mips", table, user_queries), ("cosine", unit, item_queries)):
        exact = ItemIndex.build(ids, vectors, CONFIGS["exact"])
        rows: dict[str, dict[str, Any]] = {}
        for name, config in CONFIGS.items():
            rows[name] = bench_one(name, config, ids, vectors, queries, exact, args.k)
            log.info("%s %-13s %s", space, name, rows[name])
        base = rows["exact"]
        for row in rows.values():
            row["latency_ratio_vs_exact"] = round(row["query_p50_ms"] / base["query_p50_ms"], 4)
        ann = {n: r for n, r in rows.items() if n != "exact"}
        best = max(ann, key=lambda n: (ann[n][f"recall@{args.k}"], -ann[n]["query_p50_ms"]))
        metrics = {
            f"Recall@{args.k}": rows[best][f"recall@{args.k}"],
            "query_p50_ms": rows[best]["query_p50_ms"],
            "latency_ratio_vs_exact": rows[best]["latency_ratio_vs_exact"],
            **{f"{n}_Recall@{args.k}": r[f"recall@{args.k}"] for n, r in ann.items()},
            **{f"{n}_latency_ratio_vs_exact": r["latency_ratio_vs_exact"] for n, r in ann.items()},
        }
        record = result_record(
            benchmark="index-recall",
            dataset=f"synthetic-shop-{spec.n_items // 1000}k-sasrec-{space}",
            model="faiss",
            protocol={
                "space": space,
                "queries": "user states of sampled known users" if space == "mips" else "unit item vectors",
                "n_queries": len(queries),
                "k": args.k,
                "truth": "exact inner-product search (IndexFlatIP) in the same run",
                "latency": "one query per search call, FAISS on 1 thread",
            },
            config={
                "n_items": int(table.shape[0]),
                "dim": int(table.shape[1]),
                "configs": {n: c.__dict__ for n, c in CONFIGS.items()},
                "model_training": {k: facts[k] for k in ("spec", "fit_s", "epochs") if k in facts},
            },
            metrics=metrics,
            baseline={"model": "exact", "metrics": base},
            wall_s=time.perf_counter() - began,
            best_ann=best,
            rows=rows,
        )
        path = write_result(record, args.out)
        print(json.dumps({"result": str(path), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
