"""Online policies in the synthetic shop over seeds: cumulative reward, regret, recovery after migrations.

Each seed is a different shop (catalogue, users, planted migrations) and environment; within a seed every
policy serves the same users at the same times against its own copy of the environment (same seed).
The retrieval model (item-kNN fit on the first ``online_start_day`` days) supplies the candidates;
``greedy-supervised`` serves its top-k as is. See ``driftrec.policy.simulate`` for the protocol.

Writes ``benchmarks/results/online__synthetic-shop__policies.json`` (``benchmark: "online"``, metrics
``cumulative_reward/<policy>`` mean over seeds, with per-seed values, spreads and regrets in
``per_policy``) and ``benchmarks/results/online__synthetic-shop__policies.png``.

Run: ``.venv/bin/python benchmarks/online_policies.py`` (5 seeds, about 2 minutes on 2 busy cores).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from driftrec.evaluation.results import result_record, write_result
from driftrec.policy.plots import plot_online
from driftrec.policy.simulate import DEFAULT_POLICIES, SimulationConfig, simulate

HERE = Path(__file__).resolve().parent
log = logging.getLogger("online_policies")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--users-per-step", type=int, default=200)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--online-start-day", type=int, default=30)
    parser.add_argument(
        "--no-organic", action="store_true", help="users' own browsing does not reach histories"
    )
    parser.add_argument("--policies", default=",".join(DEFAULT_POLICIES))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--tag", default="", help="suffix of the result's model name")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import torch

    torch.set_num_threads(1)
    policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    t0 = time.perf_counter()
    runs = []
    for seed in range(args.seeds):
        cfg = SimulationConfig(
            n_users=args.users,
            n_items=args.items,
            users_per_step=args.users_per_step,
            days=args.days,
            online_start_day=args.online_start_day,
            organic=not args.no_organic,
            seed=seed,
        )
        result = simulate(cfg, policies)
        log.info(
            "seed %d: cumulative reward %s",
            seed,
            {k: round(v, 1) for k, v in result.cumulative_reward().items()},
        )
        runs.append(result)
    per_policy: dict[str, dict[str, Any]] = {}
    for name in policies:
        rewards = np.array([r.cumulative_reward()[name] for r in runs])
        regrets = np.array([r.cumulative_regret()[name] for r in runs])
        expected = np.array([float(r.expected[name].sum()) for r in runs])
        after = np.array([float(r.recovery[name][r.recovery_days > 0].mean()) for r in runs])
        before = np.array([float(r.recovery[name][r.recovery_days < 0].mean()) for r in runs])
        per_policy[name] = {
            "cumulative_reward": rewards.tolist(),
            "cumulative_reward_mean": float(rewards.mean()),
            "cumulative_reward_sd": float(rewards.std(ddof=1)) if len(runs) > 1 else 0.0,
            "cumulative_expected_reward_mean": float(expected.mean()),
            "cumulative_regret": regrets.tolist(),
            "cumulative_regret_mean": float(regrets.mean()),
            "share_of_oracle_before_migration": float(before.mean()),
            "share_of_oracle_after_migration_0_15d": float(after.mean()),
        }
    greedy = "greedy-supervised"
    adaptive = [p for p in policies if p not in ("random", greedy)]
    comparison: dict[str, Any] = {}
    if greedy in policies and adaptive:
        best = max(adaptive, key=lambda p: per_policy[p]["cumulative_reward_mean"])
        margin = np.array(per_policy[best]["cumulative_reward"]) - np.array(
            per_policy[greedy]["cumulative_reward"]
        )
        comparison = {
            "best_adaptive": best,
            "margin_vs_greedy_per_seed": margin.tolist(),
            "margin_vs_greedy_mean": float(margin.mean()),
            "relative_gain_vs_greedy": float(margin.mean() / per_policy[greedy]["cumulative_reward_mean"]),
            "wins_over_seeds": int((margin > 0).sum()),
            "seeds": len(runs),
        }
    metrics = {f"cumulative_reward/{p}": per_policy[p]["cumulative_reward_mean"] for p in policies}
    metrics |= {f"cumulative_regret/{p}": per_policy[p]["cumulative_regret_mean"] for p in policies}
    cfg0 = runs[0].config
    suffix = f"-{args.tag}" if args.tag else ""
    png = args.out / f"online__synthetic-shop__policies{suffix}.png"
    plot_online(
        png,
        runs[0].step_days,
        {p: [r.expected[p] / r.oracle for r in runs] for p in policies},
        runs[0].recovery_days,
        {p: [r.recovery[p] for r in runs] for p in policies},
        title=f"Synthetic shop, {len(runs)} seeds, {cfg0.n_users} users x {cfg0.n_items} items, "
        f"k={cfg0.k}, organic={'on' if cfg0.organic else 'off'}",
    )
    record = result_record(
        benchmark="online",
        dataset="synthetic-shop",
        model=f"policies{suffix}",
        protocol={
            "environment": "ShopEnvironment (planted migrations, position bias, funnel)",
            "train": f"retrieval model fit on days [0, {cfg0.online_start_day})",
            "online": f"days [{cfg0.online_start_day}, {cfg0.days}), a step every {cfg0.step_hours} h, "
            f"{cfg0.users_per_step} users per step, lists of k={cfg0.k}",
            "candidates": f"retrieval top {cfg0.n_retrieval} + best-scored item of every leaf",
            "reward": cfg0.reward.to_dict(),
            "regret": "oracle (true top-k by expected reward over the catalogue) minus the policy's expected",
            "seeds": list(range(len(runs))),
        },
        config={k: v for k, v in vars(args).items() if k != "out"},  # where it was written is not config
        metrics=metrics,
        wall_s=time.perf_counter() - t0,
        baseline={
            "model": greedy,
            "metrics": {"cumulative_reward": per_policy.get(greedy, {}).get("cumulative_reward_mean")},
        },
        per_policy=per_policy,
        comparison=comparison,
        oracle_cumulative_expected_reward=[float(r.oracle.sum()) for r in runs],
        migrations_online=[r.migrations_online for r in runs],
        recovery_days=runs[0].recovery_days.tolist(),
        recovery_mean={p: np.mean([r.recovery[p] for r in runs], axis=0).round(4).tolist() for p in policies},
        plot=str(png.relative_to(HERE.parent)) if png.is_relative_to(HERE.parent) else str(png),
    )
    path = write_result(record, args.out)
    print(f"{path}\n{png}")
    for p in policies:
        d = per_policy[p]
        mean, sd, regret = d["cumulative_reward_mean"], d["cumulative_reward_sd"], d["cumulative_regret_mean"]
        print(f"{p:18s} {mean:9.1f} ± {sd:6.1f}  regret {regret:9.1f}")
    if comparison:
        print(comparison)


if __name__ == "__main__":
    main()
