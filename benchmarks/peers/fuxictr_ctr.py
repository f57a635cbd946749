"""FuxiCTR 2.3.10 DIN / DIEN (``model_zoo.LongCTR``) on an exported split: run inside FuxiCTR's own
virtualenv, never driftrec's.

Started by ``benchmarks/ctr_vs_fuxictr.py``, which writes, per dataset, into one folder:
``train.parquet``, ``valid.parquet``, ``test.parquet`` (one row per impression: ``user_index``,
``item_index``, ``seq_len`` = number of the user's events strictly before the impression, the engineered
features as ``numeric`` columns, ``label``), ``user_info.parquet`` (row u: ``full_item_seq`` = user u's
items in time order), ``item_info.parquet`` (row i: ``item_index``, ``item_id``, ``cate_id`` and, where
the catalogue has text, ``text``) and ``feature_map.json``. FuxiCTR's LongCTR loader then takes each
impression's sequence as ``full_item_seq[:seq_len]``, cut to the last ``max_len`` items.

What it does beyond FuxiCTR's own ``run_expid.py``:
- skips FuxiCTR's preprocessing (``FeatureProcessor``/``build_dataset``, which re-encode raw columns
  with Ray): the exporter already writes dense integer ids and the feature map;
- replaces the LongCTR batch collator by a subclass that casts the index columns back to integers
  (``ParquetDataset`` stacks all columns into one float array when numeric features are present, and the
  stock collator then indexes the user/item tables with floats);
- writes the test predictions (``predictions.npy``, in the row order of ``test.parquet``) so that the
  caller scores them with driftrec's metric code, the same as its own models.

It prints one line last: ``FUXICTR_RESULT {json}`` (epochs, seconds, FuxiCTR's own validation metrics).

Run: ``benchmarks/.venvs/fuxictr/bin/python benchmarks/peers/fuxictr_ctr.py --data-dir DIR --model DIN``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

RESULT_PREFIX = "FUXICTR_RESULT "


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--model", choices=("DIN", "DIEN"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for predictions and checkpoints")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--embedding-dim", type=int, default=16)
    parser.add_argument("--hidden", default="64,32", help="DNN hidden units")
    parser.add_argument("--max-len", type=int, default=30)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def model_params(args: argparse.Namespace) -> dict[str, Any]:
    """Everything FuxiCTR's BaseModel and the two models read, stated explicitly."""
    hidden = [int(h) for h in args.hidden.split(",")]
    return {
        "model_root": str(args.out / "checkpoints"),
        "verbose": 0,
        "metrics": ["AUC", "logloss"],
        "monitor": "AUC",
        "monitor_mode": "max",
        "early_stop_patience": args.patience,
        "reduce_lr_on_plateau": True,
        "optimizer": "adam",
        "loss": "binary_crossentropy",
        "learning_rate": args.lr,
        "embedding_dim": args.embedding_dim,
        "dnn_hidden_units": hidden,
        "dnn_activations": "ReLU",
        "net_dropout": args.dropout,
        "embedding_regularizer": None,
        "net_regularizer": None,
        "batch_norm": False,
        # DIN: FuxiCTR's defaults (Dice attention MLP of 64 units, no softmax, as in the DIN paper)
        "attention_hidden_units": [64],
        "attention_hidden_activations": "Dice",
        "din_use_softmax": False,
        # DIEN: FuxiCTR's defaults (AUGRU, bilinear attention with softmax); no auxiliary loss in LongCTR
        "gru_type": "AUGRU",
        "attention_type": "bilinear_attention",
        "use_attention_softmax": True,
        "enable_sum_pooling": False,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import numpy as np
    import torch
    from fuxictr.features import FeatureMap
    from fuxictr.pytorch.torch_utils import seed_everything
    from model_zoo.LongCTR import DIEN, DIN
    from model_zoo.LongCTR.longctr_dataloader import BatchCollator, LongCTRDataLoader
    from torch.utils.data.dataloader import default_collate

    class IntIndexCollator(BatchCollator):  # type: ignore[misc]
        """LongCTR's collator with the index columns cast to int64 before they index the tables."""

        def __call__(self, batch: Any) -> Any:
            batch_tensor = default_collate(batch)
            wanted = set(self.feature_map.features) | set(self.feature_map.labels)
            batch_dict = {c: batch_tensor[:, i] for c, i in self.column_index.items() if c in wanted}
            for col in ("user_index", "item_index", "seq_len"):
                batch_dict[col] = batch_dict[col].long()
            seqs = self.padding_seqs(
                self.user_info[batch_dict["user_index"].numpy()], batch_dict["seq_len"].numpy()
            )
            mask = (torch.from_numpy(seqs) > 0).float()
            items = np.hstack([seqs, batch_dict["item_index"].numpy().reshape(-1, 1)]).flatten()
            info = self.item_info.iloc[items]
            item_dict = {
                c: torch.from_numpy(np.array(info[c].to_list())) for c in info.columns if c in wanted
            }
            return batch_dict, item_dict, mask

    torch.set_num_threads(args.threads)
    seed_everything(seed=args.seed)
    data = args.data_dir
    spec = json.loads((data / "feature_map.json").read_text())
    params = model_params(args)
    feature_map = FeatureMap(spec["dataset_id"], str(data))
    feature_map.load(str(data / "feature_map.json"), params)

    def loader(part: str, shuffle: bool) -> Any:
        gen = LongCTRDataLoader(
            feature_map,
            str(data / f"{part}.parquet"),
            user_info=str(data / "user_info.parquet"),
            item_info=str(data / "item_info.parquet"),
            batch_size=args.batch_size,
            shuffle=shuffle,
            num_workers=0,
            max_len=args.max_len,
        )
        gen.collate_fn = IntIndexCollator(
            feature_map,
            args.max_len,
            gen.dataset.column_index,
            str(data / "user_info.parquet"),
            str(data / "item_info.parquet"),
        )
        return gen

    (args.out / "checkpoints" / spec["dataset_id"]).mkdir(parents=True, exist_ok=True)
    model_class = {"DIN": DIN, "DIEN": DIEN}[args.model]
    model = model_class(feature_map, model_id=f"{spec['dataset_id']}_{args.model}", gpu=-1, **params)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    train_gen, valid_gen, test_gen = loader("train", True), loader("valid", False), loader("test", False)
    started = time.perf_counter()
    model.fit(train_gen, validation_data=valid_gen, epochs=args.epochs, max_gradient_norm=10.0)
    fit_s = time.perf_counter() - started
    valid = model.evaluate(valid_gen)
    started = time.perf_counter()
    probs = model.predict(test_gen)
    predict_s = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "predictions.npy", probs.astype(np.float64))
    import fuxictr

    result = {
        "fuxictr": fuxictr.__version__,
        "torch": torch.__version__.split("+")[0],
        "model": args.model,
        "epochs_run": int(model._epoch_index) + 1,
        "fit_s": round(fit_s, 3),
        "predict_s": round(predict_s, 3),
        "parameters": int(n_params),
        "valid_fuxictr_metrics": {k: round(float(v), 6) for k, v in valid.items()},
        "params": params,
        "test_rows": int(probs.shape[0]),
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
