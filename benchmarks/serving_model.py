"""The model the serving benchmarks serve: a SASRec trained briefly on a 100k-item synthetic shop (cached).

Shared by ``serving_load.py`` and ``index_recall.py`` so both measure the same catalogue and embeddings.
The shop and the bundle are written once under ``benchmarks/.cache/serving`` (untracked) and reused; the
training is short (a couple of epochs, sampled softmax) because these benchmarks measure serving, but the
bundle's validation NDCG@10 is recorded next to a popularity baseline so that "trained" is checked.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CACHE = Path(__file__).parent / ".cache" / "serving"

log = logging.getLogger("serving_model")


@dataclass(frozen=True)
class ServingModelSpec:
    """Catalogue and training size; the cache key is built from every field."""

    n_items: int = 100_000
    n_users: int = 25_000
    events_per_user: float = 50.0
    popularity_exponent: float = 0.3  # flat enough that nearly every catalogue item appears in the log
    epochs: int = 3
    hidden: int = 64
    threads: int = 2
    seed: int = 3

    def key(self) -> str:
        return f"shop{self.n_items}x{self.n_users}_e{self.epochs}_h{self.hidden}_s{self.seed}"


def serve_with_process_threads(bundle_dir: Path) -> None:
    """Store ``training.num_threads = 0`` in the bundle: scoring then uses the server process's threads.

    Training threads are a training setting; a served model that forces 2 intra-op threads per request
    makes every torch op wait on a second OpenMP thread, which on a loaded 2-core machine cost ~30x
    (measured: 400 ms vs 14.5 ms per /recommend scoring call). The server runs with OMP_NUM_THREADS=1.
    """
    path = bundle_dir / "model" / "model.json"
    config = json.loads(path.read_text())
    section = config.get("config", config).get("training", {})
    if section.get("num_threads", 0) != 0:
        section["num_threads"] = 0
        path.write_text(json.dumps(config, indent=2))


def ensure_bundle(spec: ServingModelSpec | None = None) -> tuple[Path, Path, dict[str, Any]]:
    """(bundle dir, shop data dir, training facts); trains on first use, then loads from the cache."""
    spec = spec or ServingModelSpec()
    root = CACHE / spec.key()
    bundle_dir, data_dir, facts_file = root / "bundle", root / "data", root / "training.json"
    if facts_file.exists() and (bundle_dir / "bundle.json").exists():
        serve_with_process_threads(bundle_dir)
        return bundle_dir, data_dir, json.loads(facts_file.read_text())

    import torch

    from driftrec.data.synthetic import SyntheticShopConfig, generate
    from driftrec.workflows.prepare import SplitSpec
    from driftrec.workflows.training import train_bundle

    torch.set_num_threads(spec.threads)
    began = time.perf_counter()
    shop = generate(
        SyntheticShopConfig(
            n_users=spec.n_users,
            n_items=spec.n_items,
            events_per_user_mean=spec.events_per_user,
            popularity_exponent=spec.popularity_exponent,
            seed=spec.seed,
        )
    )
    shop.dataset.save(data_dir)
    log.info("shop: %d events in %.0fs", shop.dataset.events.height, time.perf_counter() - began)
    params = {
        "loss": "sampled",
        "n_negatives": 256,
        "max_len": 50,
        "hidden": spec.hidden,
        "training": {
            "epochs": spec.epochs,
            "batch_size": 256,
            "lr": 2e-3,
            "patience": 0,
            "valid_users": 2000,
            "device": "cpu",
            "num_threads": spec.threads,
            "seed": spec.seed,
        },
    }
    split = SplitSpec(protocol="leave-one-out", first_interaction_only=True)
    bundle, fit_s = train_bundle(shop.dataset, "sasrec", params, split, data_dir=data_dir)
    bundle.save(bundle_dir)
    serve_with_process_threads(bundle_dir)
    history = getattr(bundle.model, "history", None)
    epochs = [
        {"epoch": r.epoch, "loss": round(r.loss, 4), "seconds": round(r.seconds, 1), **r.metrics}
        for r in (history.epochs if history is not None else [])
    ]
    facts = {
        "spec": asdict(spec),
        "params": params,
        "fit_s": round(fit_s, 1),
        "n_model_items": len(bundle.items),
        "n_events": shop.dataset.events.height,
        "epochs": epochs,
    }
    facts_file.write_text(json.dumps(facts, indent=2, default=str))
    log.info("bundle: %d items, fit %.0fs -> %s", len(bundle.items), fit_s, bundle_dir)
    return bundle_dir, data_dir, facts


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(json.dumps(ensure_bundle()[2], indent=2, default=str))
