"""The bundle the durability and fuzz benchmarks serve: SASRec (id+text) on a real catalogue with text.

Amazon 2018 Magazine Subscriptions has full item metadata (title, category path, brand, price,
description), so every endpoint has something real to work on: category/price filters, text search,
runtime items. Trained briefly (these benchmarks test the service, not the model) and cached under
``benchmarks/.cache/serving-real`` (untracked).
"""

from __future__ import annotations

import logging
from pathlib import Path

DATASET = "amazon2018-magazine-subscriptions"
CACHE = Path(__file__).parent / ".cache" / "serving-real"

log = logging.getLogger("serving_real_bundle")


def ensure_bundle() -> tuple[Path, Path]:
    """(bundle dir, data dir); built on first use."""
    bundle_dir, data_dir = CACHE / "bundle", CACHE / "data"
    if (bundle_dir / "bundle.json").exists():
        return bundle_dir, data_dir
    import torch

    from driftrec.data import Dataset, load_dataset
    from driftrec.workflows.prepare import SplitSpec
    from driftrec.workflows.training import train_bundle

    torch.set_num_threads(2)
    load_dataset(DATASET).save(data_dir)
    params = {
        "fusion": "id+text",
        "hidden": 32,
        "blocks": 1,
        "heads": 1,
        "inner": 64,
        "max_len": 20,
        "training": {"epochs": 2, "num_threads": 2, "device": "cpu", "patience": 0},
    }
    bundle, fit_s = train_bundle(Dataset.load(data_dir), "sasrec", params, SplitSpec(), data_dir)
    bundle.save(bundle_dir)
    log.info("trained the serving bundle on %s in %.0fs", DATASET, fit_s)
    return bundle_dir, data_dir


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(ensure_bundle())
