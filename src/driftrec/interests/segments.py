"""Segments of shoppers: clusters of users by what they care about, and how segments move over time.

Users are clustered with scikit-learn k-means on one of two views, or both side by side:

- ``"profile"``: the square root of each user's mean category shares over active windows. The square
  root makes Euclidean distance the Hellinger distance between distributions, which k-means can use;
  raw shares would let one dominant category decide everything.
- ``"vectors"``: any learned user vectors (an array aligned with the users, e.g. a sequence model's
  user states), L2-normalised so that direction, not activity, decides.

A segmentation is described by its size, top categories, migrations flowing into and out of its
categories (:func:`~driftrec.interests.migration_matrix` per segment), and by how many users sit in it
window by window: each user's smoothed interest at a window is assigned to the nearest profile centroid,
which also gives segment -> segment flows of users over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score

from driftrec.interests.evolution import EvolutionConfig, smoothed_shares
from driftrec.interests.profiles import Profiles

FEATURES = ("profile", "vectors", "both")
_MINIBATCH_FROM = 50_000  # users; above this MiniBatchKMeans keeps fitting to seconds


@dataclass(frozen=True)
class SegmentConfig:
    """``n_segments`` clusters on ``features``; ``vector_weight`` scales the vector block in ``"both"``."""

    n_segments: int = 6
    features: Literal["profile", "vectors", "both"] = "profile"
    vector_weight: float = 1.0
    seed: int = 0
    silhouette_sample: int = 5_000

    def __post_init__(self) -> None:
        if isinstance(self.n_segments, bool) or not isinstance(self.n_segments, int) or self.n_segments < 1:
            raise ValueError(f"n_segments must be an integer >= 1, got {self.n_segments!r}")
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, got {self.features!r}")
        w = self.vector_weight
        if not isinstance(w, int | float) or isinstance(w, bool) or not (math.isfinite(w) and w > 0):
            raise ValueError(f"vector_weight must be a finite number > 0, got {w!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if isinstance(self.silhouette_sample, bool) or not isinstance(self.silhouette_sample, int):
            raise ValueError(f"silhouette_sample must be an integer, got {self.silhouette_sample!r}")


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Cluster of every user, the mean category shares of each segment, and fit quality."""

    assignments: pl.DataFrame  # user_id, segment (Int32)
    categories: tuple[str, ...]
    centroid_shares: np.ndarray  # (K, C) mean category shares of each segment's users
    profile_centers: np.ndarray | None  # (K, C) k-means centres in sqrt-share space (None: vectors only)
    silhouette: float  # NaN when it cannot be computed (one segment, or fewer users than segments)
    config: SegmentConfig

    @property
    def n_segments(self) -> int:
        return int(self.centroid_shares.shape[0])


def mean_shares(profiles: Profiles) -> np.ndarray:
    """(U, C) each user's category shares averaged over their active windows (each window counts once)."""
    shares, active = profiles.shares(), profiles.active()
    n = np.maximum(active.sum(axis=1), 1)[:, None]
    out: np.ndarray = shares.sum(axis=1) / n
    return out


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: np.ndarray = np.divide(vectors, norm, out=np.zeros_like(vectors), where=norm > 0)
    return out


def segment_users(
    profiles: Profiles, config: SegmentConfig | None = None, vectors: np.ndarray | None = None
) -> Segmentation:
    """Cluster the users of ``profiles`` (row ``i`` of ``vectors`` belongs to ``profiles.user_ids[i]``)."""
    cfg = config if config is not None else SegmentConfig()
    n_users = profiles.shape[0]
    base = mean_shares(profiles)
    blocks: list[np.ndarray] = []
    if cfg.features in ("profile", "both"):
        blocks.append(np.sqrt(base))
    if cfg.features in ("vectors", "both"):
        if vectors is None:
            raise ValueError(f"features={cfg.features!r} needs vectors (one row per user)")
        vec = np.asarray(vectors, dtype=np.float64)
        if vec.ndim != 2 or vec.shape[0] != n_users or not np.isfinite(vec).all():
            raise ValueError(f"vectors must be a finite ({n_users}, d) array, got shape {vec.shape}")
        blocks.append(_normalise(vec) * cfg.vector_weight)
    x = np.hstack(blocks)
    k = min(cfg.n_segments, n_users)
    estimator: KMeans | MiniBatchKMeans
    if n_users >= _MINIBATCH_FROM:
        estimator = MiniBatchKMeans(n_clusters=k, random_state=cfg.seed, n_init=3, batch_size=4096)
    else:
        estimator = KMeans(n_clusters=k, random_state=cfg.seed, n_init=4)
    labels = estimator.fit_predict(x).astype(np.int32)
    # order segments by size, largest first, so that segment 0 is always the main one
    sizes = np.bincount(labels, minlength=k)
    rank = np.empty(k, dtype=np.int32)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k, dtype=np.int32)
    labels = rank[labels]
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    centroid_shares = np.zeros((k, base.shape[1]))
    np.add.at(centroid_shares, labels, base)
    centroid_shares /= np.maximum(counts, 1.0)[:, None]
    centers = None
    if cfg.features != "vectors":
        root = np.sqrt(base)
        centers = np.zeros_like(centroid_shares)
        np.add.at(centers, labels, root)
        centers /= np.maximum(counts, 1.0)[:, None]
    silhouette = math.nan
    if 1 < k < n_users and len(set(labels.tolist())) > 1:
        sample = min(cfg.silhouette_sample, n_users)
        silhouette = float(silhouette_score(x, labels, sample_size=sample, random_state=cfg.seed))
    return Segmentation(
        assignments=pl.DataFrame(
            {"user_id": profiles.user_ids, "segment": pl.Series(labels, dtype=pl.Int32)}
        ),
        categories=profiles.categories,
        centroid_shares=centroid_shares,
        profile_centers=centers,
        silhouette=silhouette,
        config=cfg,
    )


def segment_names(segmentation: Segmentation, *, top: int = 2) -> dict[int, str]:
    """Readable names such as ``"S0: Books > Fiction + Toys > Dolls"`` from each segment's top categories."""
    out = {}
    for k, row in enumerate(segmentation.centroid_shares):
        best = [segmentation.categories[int(c)] for c in np.argsort(-row)[:top] if row[c] > 0]
        out[k] = f"S{k}: " + " + ".join(best)
    return out


def segments_over_time(
    segmentation: Segmentation, profiles: Profiles, config: EvolutionConfig | None = None
) -> pl.DataFrame:
    """Users per segment and window: ``window_start, segment, n_users, share``.

    Each user's smoothed interest at each window (from their first active window on) is assigned to the
    nearest profile centre; with vector-only segments the static assignment is counted instead.
    """
    n_users, n_windows, _ = profiles.shape
    started = np.logical_or.accumulate(profiles.active(), axis=1)
    if segmentation.profile_centers is None:
        static = segmentation.assignments["segment"].to_numpy()
        labels = np.broadcast_to(static[:, None], (n_users, n_windows))
    else:
        labels = assign_over_time(segmentation, profiles, config)
    k = segmentation.n_segments
    w_idx = np.broadcast_to(np.arange(n_windows)[None, :], (n_users, n_windows))
    counts = np.bincount((w_idx * k + labels)[started], minlength=n_windows * k).reshape(n_windows, k)
    totals = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return pl.DataFrame(
        {
            "window_start": profiles.window_starts.gather(np.repeat(np.arange(n_windows), k)),
            "segment": pl.Series(np.tile(np.arange(k), n_windows), dtype=pl.Int32),
            "n_users": counts.reshape(-1).astype(np.int64),
            "share": (counts / totals).reshape(-1),
        }
    )


def assign_over_time(
    segmentation: Segmentation, profiles: Profiles, config: EvolutionConfig | None = None
) -> np.ndarray:
    """(U, W) nearest profile centre of every user's smoothed interest at every window."""
    if segmentation.profile_centers is None:
        raise ValueError("segments were fitted on vectors only: there are no profile centres to assign to")
    if tuple(profiles.categories) != tuple(segmentation.categories):
        raise ValueError("profiles and segmentation have different category lists")
    root = np.sqrt(smoothed_shares(profiles, config))
    centers = segmentation.profile_centers
    # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 is the same for every centre
    score = np.einsum("uwc,kc->uwk", root, centers) - 0.5 * (centers**2).sum(axis=1)
    out: np.ndarray = score.argmax(axis=2).astype(np.int32)
    return out


def segment_flows(segmentation: Segmentation, profiles: Profiles) -> pl.DataFrame:
    """Users moving between segments from their first to their last active window:
    ``from_segment, to_segment, n_users`` (staying users included, ``from == to``)."""
    labels = assign_over_time(segmentation, profiles)
    active = profiles.active()
    has = active.any(axis=1)
    n_windows = active.shape[1]
    first = np.argmax(active, axis=1)
    last = n_windows - 1 - np.argmax(active[:, ::-1], axis=1)
    rows = np.flatnonzero(has)
    frame = pl.DataFrame(
        {
            "from_segment": pl.Series(labels[rows, first[rows]], dtype=pl.Int32),
            "to_segment": pl.Series(labels[rows, last[rows]], dtype=pl.Int32),
        }
    )
    grouped = frame.group_by("from_segment", "to_segment").agg(n_users=pl.len())
    return grouped.sort("from_segment", "to_segment")


def describe_segments(
    segmentation: Segmentation,
    migrations: pl.DataFrame | None = None,
    *,
    top: int = 3,
) -> pl.DataFrame:
    """One row per segment: ``segment, name, n_users, share_of_users, top_categories`` (list of
    ``"name (share)"``), and with ``migrations`` also ``n_migrations, top_in`` (categories gaining most
    interest by migration inside the segment), ``top_out`` (losing most) and ``top_flow`` (the largest
    from -> to flow)."""
    names = segment_names(segmentation)
    sizes = segmentation.assignments.group_by("segment").agg(n_users=pl.len())
    total = segmentation.assignments.height
    rows = []
    for k, row in enumerate(segmentation.centroid_shares):
        best = np.argsort(-row)[:top]
        rows.append(
            {
                "segment": k,
                "name": names[k],
                "top_categories": [f"{segmentation.categories[int(c)]} ({row[c]:.0%})" for c in best],
            }
        )
    schema: dict[str, pl.DataType] = {
        "segment": pl.Int32(),
        "name": pl.String(),
        "top_categories": pl.List(pl.String()),
    }
    out = (
        pl.DataFrame(rows, schema=schema)
        .join(sizes, on="segment", how="left")
        .with_columns(pl.col("n_users").fill_null(0).cast(pl.Int64))
        .with_columns(share_of_users=pl.col("n_users") / max(total, 1))
    )
    if migrations is None:
        return out.sort("segment")
    tagged = migrations.join(segmentation.assignments, on="user_id", how="inner")

    def ranked(column: str, alias: str) -> pl.DataFrame:
        return (
            tagged.group_by("segment", column)
            .agg(n=pl.len())
            .sort("segment", "n", column, descending=[False, True, False])
            .group_by("segment", maintain_order=True)
            .agg(pl.format("{} ({})", pl.col(column), pl.col("n")).head(top).alias(alias))
        )

    flows = (
        tagged.group_by("segment", "from_category", "to_category")
        .agg(n=pl.len())
        .sort("segment", "n", "from_category", "to_category", descending=[False, True, False, False])
        .group_by("segment", maintain_order=True)
        .first()
        .select("segment", pl.format("{} -> {} ({})", "from_category", "to_category", "n").alias("top_flow"))
    )
    counts = tagged.group_by("segment").agg(n_migrations=pl.len())
    for part in (counts, ranked("to_category", "top_in"), ranked("from_category", "top_out"), flows):
        out = out.join(part, on="segment", how="left")
    return out.with_columns(pl.col("n_migrations").fill_null(0).cast(pl.Int64)).sort("segment")
