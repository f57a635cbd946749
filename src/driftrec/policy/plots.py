"""PNG plots of online runs: reward over time, and recovery after planted migrations (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["plot_online"]


def _band(values: Sequence[NDArray[np.float64]]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    stacked = np.vstack(values)
    spread = stacked.std(axis=0) if stacked.shape[0] > 1 else np.zeros(stacked.shape[1])
    mean: NDArray[np.float64] = stacked.mean(axis=0)
    return mean, spread


def plot_online(
    path: str | Path,
    step_days: NDArray[np.float64],
    reward_share: Mapping[str, Sequence[NDArray[np.float64]]],
    recovery_days: NDArray[np.float64],
    recovery: Mapping[str, Sequence[NDArray[np.float64]]],
    title: str = "",
    smooth: int = 4,
) -> Path:
    """Two panels: expected reward / oracle per step (left) and around planted migrations (right).

    Each mapping holds one array per seed; lines are seed means, bands one standard deviation.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    kernel = np.ones(smooth) / smooth
    for name, runs in reward_share.items():
        mean, spread = _band(runs)
        if smooth > 1 and mean.shape[0] >= smooth:
            norm = np.convolve(np.ones_like(mean), kernel, mode="same")  # no dip at the edges
            mean = np.convolve(mean, kernel, mode="same") / norm
            spread = np.convolve(spread, kernel, mode="same") / norm
        (line,) = left.plot(step_days, mean, label=name, lw=1.4)
        left.fill_between(step_days, mean - spread, mean + spread, color=line.get_color(), alpha=0.12)
    left.set_xlabel("day of the shop (online period)")
    left.set_ylabel("expected reward / oracle's")
    left.set_title("Reward over time (smoothed, mean ± sd over seeds)")
    left.grid(alpha=0.3)
    for name, runs in recovery.items():
        mean, spread = _band(runs)
        (line,) = right.plot(recovery_days, mean, marker="o", ms=3, label=name, lw=1.4)
        right.fill_between(recovery_days, mean - spread, mean + spread, color=line.get_color(), alpha=0.12)
    right.axvline(0.0, color="black", ls="--", lw=1)
    right.set_xlabel("days since the user's planted abrupt migration")
    right.set_ylabel("expected reward / oracle's")
    right.set_title("Recovery after planted migrations")
    right.grid(alpha=0.3)
    right.legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
