"""Train a small SASRec on the synthetic shop, in one process or several under ``torchrun``.

    python -m driftrec.training.ddp_demo --out runs/ddp
    torchrun --standalone --nproc_per_node=2 -m driftrec.training.ddp_demo --out runs/ddp

An entry point, not a library module (nothing imports it): it reaches up into ``models`` the way the
CLI does. Every rank writes ``rank<r>.json`` (its view of the run and a checksum of its final weights,
equal on all ranks when gradients were synchronised); rank 0 also saves the model under ``model/``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

__all__ = ["main"]

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m driftrec.training.ddp_demo", description=__doc__)
    parser.add_argument("--out", required=True, type=Path, help="directory for rank files and the model")
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per process")
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="checkpoint directory (resumes if present)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    import torch

    from driftrec.data.synthetic import SyntheticShopConfig, generate
    from driftrec.models.sequential import SequentialConfig, SequentialRecommender
    from driftrec.training.config import TrainingConfig
    from driftrec.training.distributed import dist_info
    from driftrec.workflows.prepare import SplitSpec, prepare

    info = dist_info()
    shop = generate(SyntheticShopConfig(n_users=args.users, n_items=args.items, seed=args.seed))
    split = prepare(shop.dataset, SplitSpec(first_interaction_only=True)).split
    training = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=3e-3,
        patience=0,
        seed=args.seed,
        num_threads=args.threads,
    )
    config = SequentialConfig(hidden=32, blocks=1, heads=2, inner=64, max_len=20, training=training)
    model = SequentialRecommender(config).fit(
        split.train, split.valid, checkpoint_dir=args.checkpoint, resume=args.checkpoint is not None
    )
    assert model.history is not None
    args.out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        checksum = float(sum(p.double().sum().item() for p in model.network.parameters()))
    record = {
        "rank": info.rank,
        "world_size": info.world_size,
        "losses": model.history.losses,
        "metrics": [r.metrics for r in model.history.epochs],
        "sequences_per_s": [r.sequences_per_s for r in model.history.epochs],
        "weights_checksum": checksum,
    }
    (args.out / f"rank{info.rank}.json").write_text(json.dumps(record, indent=2) + "\n")
    if info.is_main:
        model.save(args.out / "model")
        log.info("saved the model to %s", args.out / "model")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
