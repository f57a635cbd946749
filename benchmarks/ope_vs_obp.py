"""Off-policy estimators of driftrec against Open Bandit Pipeline 0.5.7 on the Open Bandit Dataset sample.

What runs, in one command:

1. obp in its own virtualenv ``benchmarks/.venvs/obp`` (created on first use; see shared/PEERS.md): the
   0.5.7 sdist installed with ``--no-deps --ignore-requires-python`` next to numpy/scipy/pandas/
   scikit-learn/torch 2.13.0, and its OBD loader patched for pandas 3 (``axis=1`` removed from a
   ``drop(columns=...)`` call). Never a driftrec dependency, never in CI.
2. driftrec reads each OBD log (random and Bernoulli-TS logging policies, campaign ``all``) from the shared
   copy, fits its cross-fitted logistic reward model ``q_hat`` and builds an evaluation policy (a softmax of
   the standardised reward model per position, temperature ``--temperature``), then estimates the policy
   value with IPS, SNIPS, DM, DR, and IPS/DR clipped at ``--clip``, each with a percentile bootstrap
   interval (``--bootstrap`` resamples, seed ``--seed``).
3. obp's estimators get the *same* arrays (rewards, actions, positions, propensities, ``action_dist`` and
   the same ``q_hat``) and the same bootstrap seed; obp also loads its bundled copy of the sample with its
   own loader, and we check the rows equal ours.

Result: ``benchmarks/results/ope__open-bandit-dataset-small__driftrec-ope.json`` with
``max_abs_diff_vs_obp`` (largest absolute difference over every estimator's value, interval bounds and
bootstrap mean, both logs) and each estimator's value and interval. Target: <= 1e-6.

Run: ``.venv/bin/python benchmarks/ope_vs_obp.py`` (about a minute after the one-off venv setup).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from driftrec.evaluation.results import result_record, write_result
from driftrec.policy.obd import load_obd
from driftrec.policy.ope import BootstrapConfig, estimate, fit_reward_model

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "obp"
CACHE = HERE / ".cache" / "obp"
PEER_SCRIPT = HERE / "peers" / "obp_ope.py"
OBP_VERSION = "0.5.7"
TORCH_VERSION = "2.13.0"
DEPS = ("numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "seaborn", "tqdm", "pyyaml")
RESULT_PREFIX = "OBP_RESULT "
#: driftrec estimator name -> (estimator, clipped?)
VARIANTS: dict[str, tuple[str, bool]] = {
    "ips": ("ips", False),
    "snips": ("snips", False),
    "dm": ("dm", False),
    "dr": ("dr", False),
    "ips-clip": ("ips", True),
    "dr-clip": ("dr", True),
}

log = logging.getLogger("ope_vs_obp")


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _obp_version(venv: Path) -> str | None:
    python = _python(venv)
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import obp; print(obp.__version__)"], capture_output=True, text=True
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def _patch_loader(venv: Path) -> None:
    """pandas 3 refuses ``drop(columns=..., axis=1)``: drop the redundant ``axis=1`` in obp's OBD loader."""
    real = next(venv.glob("lib/python*/site-packages/obp/dataset/real.py"))
    text = real.read_text()
    old = 'columns=["item_id", "item_feature_0"], axis=1'
    if old in text:
        real.write_text(text.replace(old, 'columns=["item_id", "item_feature_0"]'))
        log.info("patched %s for pandas 3", real)


def ensure_obp_venv(venv: Path = VENV) -> str:
    """Create and fill obp's virtualenv if needed; returns obp's version."""
    version = _obp_version(venv)
    if version is None:
        python = _python(venv)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-qq"]
        subprocess.run([*pip, f"torch=={TORCH_VERSION}"], check=True)
        subprocess.run([*pip, *DEPS], check=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        sdist = CACHE / f"obp-{OBP_VERSION}.tar.gz"
        if not sdist.exists():
            subprocess.run(
                [
                    *(str(python), "-m", "pip", "download", "-qq", "--no-deps", "--no-binary", ":all:"),
                    *("--ignore-requires-python", "-d", str(CACHE), f"obp=={OBP_VERSION}"),
                ],
                check=True,
            )
        subprocess.run([*pip, "--no-deps", "--ignore-requires-python", str(sdist)], check=True)
    _patch_loader(venv)
    version = _obp_version(venv)
    if version != OBP_VERSION:
        raise RuntimeError(f"obp venv {venv} not usable (found version {version!r})")
    return version


def evaluation_policy(q_hat: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax over actions of the reward model standardised per (round, position)."""
    z = (q_hat - q_hat.mean(axis=1, keepdims=True)) / (q_hat.std(axis=1, keepdims=True) + 1e-12)
    logits = z / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def run_obp(inputs: Path, spec: dict[str, Any]) -> dict[str, Any]:
    spec_path = inputs.with_suffix(".json")
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [str(_python(VENV)), str(PEER_SCRIPT), str(inputs), str(spec_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    raise RuntimeError(f"obp run failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}")


def one_log(policy: str, args: argparse.Namespace) -> dict[str, Any]:
    obd = load_obd(policy, "all")
    data = obd.feedback
    t0 = time.perf_counter()
    q_hat = fit_reward_model(data, obd.n_actions, obd.len_list, n_folds=3, seed=args.seed)
    fit_s = time.perf_counter() - t0
    action_dist = evaluation_policy(q_hat, args.temperature)
    boot = BootstrapConfig(n_samples=args.bootstrap, alpha=args.alpha, seed=args.seed)
    ours: dict[str, dict[str, float]] = {}
    t0 = time.perf_counter()
    for name, (estimator, clipped) in VARIANTS.items():
        est = estimate(
            estimator,  # type: ignore[arg-type]
            data,
            action_dist,
            q_hat,
            clip=args.clip if clipped else float("inf"),
            bootstrap=boot,
        )
        ours[name] = {k: float(v) for k, v in est.to_dict().items() if k != "estimator"}  # type: ignore[arg-type]
    ours_s = time.perf_counter() - t0
    CACHE.mkdir(parents=True, exist_ok=True)
    inputs = CACHE / f"inputs_{policy}.npz"
    np.savez(
        inputs,
        reward=data.reward,
        action=data.action,
        pscore=data.pscore,
        position=data.position,
        action_dist=action_dist,
        q_hat=q_hat,
    )
    spec = {
        "clip": args.clip,
        "alpha": args.alpha,
        "n_bootstrap": args.bootstrap,
        "seed": args.seed,
        "behavior_policy": policy,
        "campaign": "all",
    }
    peer = run_obp(inputs, spec)
    diffs = {
        name: max(abs(ours[name][key] - peer["estimates"][name][key]) for key in ours[name])
        for name in VARIANTS
    }
    log.info("%s log: max |diff| per estimator %s", policy, diffs)
    return {
        "behavior_policy": policy,
        "n_rounds": data.n_rounds,
        "on_policy_ctr": float(data.reward.mean()),
        "driftrec": ours,
        "obp": peer["estimates"],
        "abs_diff": diffs,
        "obp_bundled_rows_equal": peer["bundled_rows_equal"],
        "obp_bundled_row_order_equal": peer["bundled_row_order_equal"],
        "reward_model_fit_s": fit_s,
        "driftrec_estimators_s": ours_s,
        "obp_estimators_s": peer["estimators_s"],
        "obp_version": peer["obp_version"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", type=int, default=10_000, help="bootstrap resamples (obp's default)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--clip", type=float, default=5.0, help="importance-weight clip of ips-clip/dr-clip")
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--setup-only", action="store_true", help="create obp's venv, then stop")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    t0 = time.perf_counter()
    version = ensure_obp_venv()
    log.info("obp %s ready in %s", version, VENV)
    if args.setup_only:
        return
    logs = [one_log(policy, args) for policy in ("random", "bts")]
    max_diff = max(max(entry["abs_diff"].values()) for entry in logs)
    metrics: dict[str, float] = {"max_abs_diff_vs_obp": max_diff}
    for entry in logs:
        for name, values in entry["driftrec"].items():
            prefix = f"{entry['behavior_policy']}/{name}"
            metrics[f"{prefix}/value"] = values["value"]
            metrics[f"{prefix}/lower"] = values["lower"]
            metrics[f"{prefix}/upper"] = values["upper"]
    record = result_record(
        benchmark="ope",
        dataset="open-bandit-dataset-small",
        model="driftrec-ope",
        protocol={
            "logs": "obd/{random,bts}/all (10,000 impressions each, 80 items, 3 positions)",
            "evaluation_policy": "softmax of the standardised cross-fitted reward model, "
            f"T={args.temperature}",
            "interval": f"percentile bootstrap, {args.bootstrap} resamples, alpha={args.alpha}, "
            f"seed={args.seed}",
            "same_inputs": "obp gets driftrec's arrays, action_dist and q_hat; obp's bundled copy is "
            "loaded by obp and its rows compared",
        },
        config=vars(args) | {"out": str(args.out)},
        metrics=metrics,
        wall_s=time.perf_counter() - t0,
        baseline={"model": f"obp {version}", "metrics": {"max_abs_diff_vs_obp": 0.0}},
        target="max_abs_diff_vs_obp <= 1e-6",
        target_met=bool(max_diff <= 1e-6),
        logs=logs,
    )
    path = write_result(record, args.out)
    print(f"max_abs_diff_vs_obp = {max_diff:.3e}  ->  {path}")


if __name__ == "__main__":
    main()
