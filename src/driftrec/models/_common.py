"""Plumbing the baselines share: one ``recommend``, one on-disk format, one way to finish scores.

Keeping these in one place means every baseline masks, ranks, saves and loads the same way,
so the contract test checks one behaviour rather than seven copies of it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file

from driftrec.data.interactions import Histories
from driftrec.models.base import mask_seen, top_k

MODEL_JSON = "model.json"
ARRAYS_FILE = "arrays.safetensors"
FORMAT_VERSION = 1


class RecommendMixin:
    """``recommend`` written once: score, optionally mask the history, take the top k."""

    def score(self, histories: Histories) -> NDArray[np.float32]:
        raise NotImplementedError

    def recommend(self, histories: Histories, k: int, exclude_seen: bool = True) -> NDArray[np.int64]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        scores = self.score(histories)
        if exclude_seen:
            mask_seen(scores, histories)
        return top_k(scores, k)


def check_histories(histories: Histories, n_items: int) -> None:
    """Reject item ids the model cannot place (0 is padding, ids above n_items are unknown)."""
    if histories.items.size and (histories.items.min() < 1 or histories.items.max() > n_items):
        raise ValueError(
            f"history item ids must lie in 1..{n_items} (the catalogue seen in fit); "
            f"got {int(histories.items.min())}..{int(histories.items.max())}"
        )


def finish_scores(scores: NDArray[Any]) -> NDArray[np.float32]:
    """float32, C-contiguous, column 0 (padding) = -inf: the shape every caller relies on.

    Copies unless ``scores`` is already a fresh array of its own, so a caller that edits the result
    (``mask_seen`` does) can never write into a model's parameters.
    """
    out: NDArray[np.float32] = np.require(scores, np.float32, ["C_CONTIGUOUS", "WRITEABLE", "OWNDATA"])
    out[:, 0] = -np.inf
    return out


def popularity_fallback(popularity: NDArray[Any]) -> NDArray[np.float32]:
    """Scores in [-1, 0) ordered by popularity: below any positive model score, still a full ranking."""
    pop = np.asarray(popularity, dtype=np.float64)
    scaled: NDArray[np.float64] = pop / (pop.max(initial=0.0) + 1.0) - 1.0
    return scaled.astype(np.float32)


def history_matrix(histories: Histories, n_items: int, half_life: float | None = None) -> sp.csr_matrix:
    """(B, n_items+1) history matrix; binary, or weighted 0.5**(steps_back / half_life).

    With a half-life, an item seen several times keeps the weight of its latest occurrence,
    so repetition does not outweigh recency.
    """
    if half_life is None:
        return histories.to_csr(n_items)
    rows = histories.row_index()
    steps_back = histories.offsets[1:][rows] - 1 - np.arange(histories.items.shape[0])
    weights = np.power(0.5, steps_back / half_life)
    key = rows * (n_items + 1) + histories.items
    # the latest occurrence of a (row, item) pair is the first one in reversed order
    _, first_rev = np.unique(key[::-1], return_index=True)
    keep = histories.items.shape[0] - 1 - first_rev
    mat = sp.csr_matrix(
        (weights[keep].astype(np.float32), (rows[keep], histories.items[keep])),
        shape=(len(histories), n_items + 1),
    )
    mat.sort_indices()
    return mat


@dataclass(frozen=True)
class Saved:
    """What ``read_model`` hands back: metadata, dense arrays and sparse matrices."""

    config: dict[str, Any]
    n_users: int
    n_items: int
    arrays: dict[str, NDArray[Any]]
    sparse: dict[str, sp.csr_matrix]


def write_model(
    directory: str | Path,
    name: str,
    config: Any,
    n_users: int,
    n_items: int,
    arrays: Mapping[str, NDArray[Any]],
    sparse: Mapping[str, sp.csr_matrix] | None = None,
) -> None:
    """``model.json`` (name, config, sizes) + ``arrays.safetensors`` + one ``<key>.npz`` per sparse matrix."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    sparse = dict(sparse or {})
    meta = {
        "model": name,
        "format_version": FORMAT_VERSION,
        "config": dataclasses.asdict(config),
        "n_users": int(n_users),
        "n_items": int(n_items),
        "sparse": sorted(sparse),
    }
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path / ARRAYS_FILE))
    for key, mat in sparse.items():
        sp.save_npz(path / f"{key}.npz", sp.csr_matrix(mat), compressed=False)
    (path / MODEL_JSON).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def read_meta(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MODEL_JSON
    if not path.is_file():
        raise FileNotFoundError(f"no {MODEL_JSON} in {directory}; was the model saved there?")
    meta: dict[str, Any] = json.loads(path.read_text())
    return meta


def read_model(directory: str | Path, name: str) -> Saved:
    """Read what ``write_model`` wrote, refusing a directory that holds a different model."""
    meta = read_meta(directory)
    if meta.get("model") != name:
        raise ValueError(f"{directory} holds model {meta.get('model')!r}, not {name!r}")
    path = Path(directory)
    arrays = dict(load_file(str(path / ARRAYS_FILE)))
    sparse = {key: sp.csr_matrix(sp.load_npz(path / f"{key}.npz")) for key in meta.get("sparse", [])}
    return Saved(meta["config"], int(meta["n_users"]), int(meta["n_items"]), arrays, sparse)


def not_fitted(model: object) -> RuntimeError:
    return RuntimeError(f"{type(model).__name__} is not fitted; call fit() or load() first")


def check_field(config: object, field: str, ok: bool, allowed: str) -> None:
    """Raise ``ValueError('<Config>.<field> must be <allowed>, got <value>')`` unless ``ok``."""
    if not ok:
        value = getattr(config, field)
        raise ValueError(f"{type(config).__name__}.{field} must be {allowed}, got {value!r}")


def is_int(value: object, low: int) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and int(value) >= low


def is_real(value: object, low: float, inclusive: bool = True) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        return False
    v = float(value)
    return bool(np.isfinite(v) and (v >= low if inclusive else v > low))
