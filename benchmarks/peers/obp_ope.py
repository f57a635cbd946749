"""Run Open Bandit Pipeline 0.5.7's estimators on inputs prepared by ``benchmarks/ope_vs_obp.py``.

Runs inside obp's own virtualenv (Python 3.11 with ``--ignore-requires-python``), never imports driftrec.
Usage: ``python obp_ope.py INPUT.npz SPEC.json``; prints one line ``OBP_RESULT {json}``.

Also loads obp's *bundled* OBD sample with obp's own loader and reports whether its rows (action,
position, reward, propensity) equal the rows driftrec read from the shared copy.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main() -> None:
    import obp
    from obp.dataset import OpenBanditDataset
    from obp.ope import DirectMethod, DoublyRobust, InverseProbabilityWeighting
    from obp.ope import SelfNormalizedInverseProbabilityWeighting as SNIPS

    arrays = np.load(sys.argv[1])
    with open(sys.argv[2]) as handle:
        spec = json.load(handle)
    reward, action, pscore = arrays["reward"], arrays["action"], arrays["pscore"]
    position, action_dist, q_hat = arrays["position"], arrays["action_dist"], arrays["q_hat"]
    clip = float(spec["clip"])
    estimators = {
        "ips": InverseProbabilityWeighting(),
        "snips": SNIPS(),
        "dm": DirectMethod(),
        "dr": DoublyRobust(),
        "ips-clip": InverseProbabilityWeighting(lambda_=clip, estimator_name="ips-clip"),
        "dr-clip": DoublyRobust(lambda_=clip, estimator_name="dr-clip"),
    }
    out: dict[str, dict[str, float]] = {}
    t0 = time.perf_counter()
    for name, est in estimators.items():
        kwargs = {"action_dist": action_dist, "position": position}
        if name != "dm":
            kwargs.update(reward=reward, action=action, pscore=pscore)
        if name in ("dm", "dr", "dr-clip"):
            kwargs["estimated_rewards_by_reg_model"] = q_hat
        value = est.estimate_policy_value(**kwargs)
        interval = est.estimate_interval(
            **kwargs,
            alpha=spec["alpha"],
            n_bootstrap_samples=spec["n_bootstrap"],
            random_state=spec["seed"],
        )
        level = f"{100 * (1.0 - spec['alpha'])}% CI"
        out[name] = {
            "value": float(value),
            "lower": float(interval[f"{level} (lower)"]),
            "upper": float(interval[f"{level} (upper)"]),
            "bootstrap_mean": float(interval["mean"]),
        }
    seconds = time.perf_counter() - t0
    bundled = OpenBanditDataset(behavior_policy=spec["behavior_policy"], campaign=spec["campaign"])
    feedback = bundled.obtain_batch_bandit_feedback()

    def rows(a: np.ndarray, p: np.ndarray, r: np.ndarray, s: np.ndarray) -> np.ndarray:
        stacked = np.column_stack([a, p, r, s]).astype(np.float64)
        return stacked[np.lexsort(stacked.T[::-1])]

    same_rows = bool(
        np.array_equal(
            rows(feedback["action"], feedback["position"], feedback["reward"], feedback["pscore"]),
            rows(action, position, reward, pscore),
        )
    )
    same_order = bool(
        np.array_equal(feedback["action"], action)
        and np.array_equal(feedback["position"], position)
        and np.array_equal(feedback["pscore"], pscore)
    )
    result = {
        "obp_version": obp.__version__,
        "estimates": out,
        "estimators_s": seconds,
        "bundled_rows_equal": same_rows,
        "bundled_row_order_equal": same_order,
        "bundled_n_rounds": int(feedback["n_rounds"]),
    }
    print("OBP_RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
