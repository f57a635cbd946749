"""When interest in the current category fades: survival of category runs.

A run (see :func:`driftrec.interests.predict.category_runs`) lasts until the user's next event in another
category; its length, in events or in days from its first to its last event, is how long interest held.
Runs still open at the training cut-off are right-censored (we only know they lasted *at least* that
long), so lengths are estimated with the Kaplan-Meier product-limit estimator rather than by averaging.

Given that a run has lasted ``elapsed`` (events or days) so far, the prediction is the conditional median
of what remains: the smallest ``t`` with ``S(t) <= S(elapsed) / 2``, minus ``elapsed``. The median is
what minimises absolute error, the metric reported (MAE). Curves are per category, per user, or global;
a group with fewer than ``min_runs`` runs falls back to the global curve. The baseline is the global
median length of complete training runs, ignoring censoring (what one would do without a model).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.splits import to_microseconds

__all__ = ["FadeConfig", "FadeModel", "fade_cases", "kaplan_meier", "km_conditional_median", "run_lengths"]

_DAY_US: Final = 86_400_000_000
Unit = Literal["events", "days"]
Group = Literal["global", "category", "user"]


def run_lengths(runs: pl.DataFrame, unit: Unit) -> NDArray[np.float64]:
    """Length of each run: events in it, or days from its first to its last event."""
    if unit == "events":
        return runs.get_column("n_events").to_numpy().astype(np.float64)
    span = (runs.get_column("end").dt.epoch("us") - runs.get_column("start").dt.epoch("us")).to_numpy()
    return span.astype(np.float64) / _DAY_US


def kaplan_meier(
    durations: NDArray[np.floating], observed: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distinct event times ``t`` and survival ``S(t) = P(D > t)`` just after each (product-limit)."""
    d = np.asarray(durations, dtype=np.float64)
    obs = np.asarray(observed, dtype=bool)
    if d.shape != obs.shape or d.size == 0:
        raise ValueError("durations and observed must be non-empty and of one shape")
    times, inverse = np.unique(d, return_inverse=True)
    leaving = np.bincount(inverse, minlength=times.size)
    deaths = np.bincount(inverse, weights=obs.astype(np.float64), minlength=times.size)
    at_risk = d.size - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    survival = np.cumprod(1.0 - deaths / at_risk)
    return times, survival


def km_conditional_median(times: NDArray[np.float64], survival: NDArray[np.float64], elapsed: float) -> float:
    """Median remaining length of a run that has lasted ``elapsed`` so far: ``t* - elapsed``.

    ``S(elapsed)`` conditions on having lasted ``elapsed``; if the curve never halves again (heavy
    censoring), the largest time seen is the answer (a lower bound).
    """
    before = np.searchsorted(times, elapsed, side="left")  # curve value just before ``elapsed``
    s_a = 1.0 if before == 0 else float(survival[before - 1])
    later = np.flatnonzero((times >= elapsed) & (survival <= 0.5 * s_a))
    t_star = float(times[later[0]]) if later.size else float(times[-1])
    return max(t_star - elapsed, 0.0)


@dataclass(frozen=True)
class FadeConfig:
    """unit: "events" or "days"; group: one curve per "category", per "user" or one "global" curve;
    min_runs: runs a group needs for its own curve (else the global one)."""

    unit: Unit = "events"
    group: Group = "category"
    min_runs: int = 20

    def __post_init__(self) -> None:
        if self.unit not in ("events", "days"):
            raise ValueError(f"unit must be 'events' or 'days', got {self.unit!r}")
        if self.group not in ("global", "category", "user"):
            raise ValueError(f"group must be 'global', 'category' or 'user', got {self.group!r}")
        if isinstance(self.min_runs, bool) or not isinstance(self.min_runs, int) or self.min_runs < 1:
            raise ValueError(f"min_runs must be an integer >= 1, got {self.min_runs!r}")


def _censored_at_cutoff(runs: pl.DataFrame) -> NDArray[np.bool_]:
    """Each user's last run before the cut-off may still be going on: censored (not observed)."""
    last = runs.select(pl.col("run") == pl.col("run").max().over("user_id")).to_series()
    return last.to_numpy().astype(bool)


class FadeModel:
    """Kaplan-Meier curves of run length, fitted on runs from events before a cut-off."""

    def __init__(self, config: FadeConfig | None = None) -> None:
        self.config = config or FadeConfig()
        self._global: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
        self._groups: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}

    def fit(self, train_runs: pl.DataFrame) -> FadeModel:
        """``train_runs``: :func:`category_runs` of the events before the cut-off (last runs censored)."""
        if train_runs.height == 0:
            raise ValueError("no training runs")
        runs = train_runs.sort("user_id", "run")
        lengths = run_lengths(runs, self.config.unit)
        observed = ~_censored_at_cutoff(runs)
        self._global = kaplan_meier(lengths, observed)
        self._groups = {}
        if self.config.group != "global":
            key = runs.get_column("category" if self.config.group == "category" else "user_id").to_numpy()
            order = np.argsort(key, kind="stable")
            keys, starts, counts = np.unique(key[order], return_index=True, return_counts=True)
            for k, s, c in zip(keys.tolist(), starts.tolist(), counts.tolist(), strict=True):
                if c >= self.config.min_runs:
                    rows = order[s : s + c]
                    self._groups[str(k)] = kaplan_meier(lengths[rows], observed[rows])
        return self

    def predict(self, runs: pl.DataFrame, elapsed: float | None = None) -> NDArray[np.float64]:
        """Remaining length of each run in ``runs`` given it has lasted ``elapsed`` (default: its first
        event, i.e. 1 event or 0 days): the conditional median of its group's curve."""
        if self._global is None:
            raise RuntimeError("FadeModel is not fitted: call fit(train_runs) first")
        a = (1.0 if self.config.unit == "events" else 0.0) if elapsed is None else float(elapsed)
        column = "category" if self.config.group != "user" else "user_id"
        keys = runs.get_column(column).to_list() if self.config.group != "global" else [None] * runs.height
        cache: dict[object, float] = {}
        out = np.empty(runs.height, dtype=np.float64)
        for i, k in enumerate(keys):
            if k not in cache:
                times, surv = self._groups.get(str(k), self._global) if k is not None else self._global
                cache[k] = km_conditional_median(times, surv, a)
            out[i] = cache[k]
        return out


def fade_cases(
    events: pl.DataFrame,
    items: pl.DataFrame,
    test_start: dt.datetime | int,
    *,
    level: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(training runs from events before T, complete test runs starting at or after T).

    A test run is complete when the user has a later run (so its end is known); the user's last run in
    the log is left out (censored by the end of the log).
    """
    from driftrec.interests.predict import category_runs  # predict imports models: keep this module light

    t = to_microseconds(test_start)
    train = category_runs(events.filter(pl.col("ts").dt.epoch("us") < t), items, level=level)
    runs = category_runs(events, items, level=level)
    last = runs.group_by("user_id").agg(pl.col("run").max().alias("last"))
    test = (
        runs.join(last, on="user_id")
        .filter((pl.col("start").dt.epoch("us") >= t) & (pl.col("run") < pl.col("last")))
        .drop("last")
    )
    return train, test
