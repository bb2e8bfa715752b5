"""Fit time and log-likelihood of Dangol's models against lifetimes 0.11.3.

    .venv/bin/python benchmarks/bench_fit.py [--n 1000000] [--pareto-n 100000]

The reference package lives in its own virtualenv (created on first run under var/, never in
the project's dependencies). Both sides fit the same arrays; both parameter sets are then
scored with the same log-likelihood function in the original time unit, so "LL difference" is
a like-for-like comparison. This is a benchmark, not a test: nothing here is timed in CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import venv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dangol.analytics.betageo import BetaGeoModel  # noqa: E402
from dangol.analytics.gamma_gamma import GammaGammaModel  # noqa: E402
from dangol.analytics.pareto_nbd import ParetoNBDModel  # noqa: E402
from dangol.analytics.simulate import simulate_betageo, simulate_gamma_gamma  # noqa: E402
from dangol.analytics.summary import read_cdnow, summarize  # noqa: E402

REFERENCE_VENV = ROOT / "var" / "bench-lifetimes"
REFERENCE_PINS = ["lifetimes==0.11.3", "numpy<2", "pandas<2.2", "scipy<1.12"]
CDNOW = ROOT.parent / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
MODELS = {"bgnbd": BetaGeoModel, "pareto_nbd": ParetoNBDModel, "gamma_gamma": GammaGammaModel}


def reference_python() -> Path:
    python = REFERENCE_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating the reference venv in {REFERENCE_VENV.relative_to(ROOT)} ...")
        venv.create(REFERENCE_VENV, with_pip=True)
        # Fixed arguments built from this file's own constants.
        install = [str(python), "-m", "pip", "install", "-q", *REFERENCE_PINS]
        subprocess.run(install, check=True)  # noqa: S603
    return python


def cdnow_case() -> dict[str, np.ndarray]:
    summary = summarize(read_cdnow(CDNOW), customer="customer_id", at="date", amount="amount",
                        calibration_end="1997-09-30", unit="W")
    return {
        "x": summary["frequency"].to_numpy().astype(float),
        "t_x": summary["recency"].to_numpy(),
        "T": summary["T"].to_numpy(),
        "m": summary["monetary_value"].to_numpy(),
    }


def synthetic_case(n: int) -> dict[str, np.ndarray]:
    # CDNOW-like parameters; cohorts joining over 18 months, times recorded in whole days as a
    # shop's POS would, expressed in weeks.
    data = simulate_betageo(r=0.243, alpha=4.414, a=0.793, b=2.426, n=n, T=(1.0, 78.0), seed=42)
    age = np.round(data["T"].to_numpy() * 7) / 7
    t_x = np.minimum(np.round(data["recency"].to_numpy() * 7) / 7, age)
    x = data["frequency"].to_numpy().astype(float)
    t_x = np.where(x > 0, np.maximum(t_x, 1 / 7), 0.0)
    m = np.round(simulate_gamma_gamma(p=6.25, q=3.74, gamma=15.44, frequency=x, seed=43), 2)
    return {"x": x, "t_x": t_x, "T": age, "m": m}


def fit_ours(name: str, case: dict[str, np.ndarray], n_pareto: int) -> tuple[float, object]:
    start = time.perf_counter()
    if name == "gamma_gamma":
        model = GammaGammaModel().fit(case["x"], case["m"])
    elif name == "pareto_nbd":
        model = ParetoNBDModel().fit(case["x"][:n_pareto], case["t_x"][:n_pareto],
                                     case["T"][:n_pareto])
    else:
        model = BetaGeoModel().fit(case["x"], case["t_x"], case["T"])
    return time.perf_counter() - start, model


def score(name: str, params: dict[str, float], case: dict[str, np.ndarray], n_pareto: int) -> float:
    # The reference calls Gamma-Gamma's scale "v".
    params = {("gamma" if k == "v" else k): v for k, v in params.items()}
    model = MODELS[name].from_dict({"model": MODELS[name].kind, "params": params})
    if name == "gamma_gamma":
        keep = (case["x"] > 0) & (case["m"] > 0)
        return float(model.log_likelihood_rows(case["x"][keep], case["m"][keep]).sum())
    n = n_pareto if name == "pareto_nbd" else case["x"].size
    return float(model.log_likelihood_rows(case["x"][:n], case["t_x"][:n], case["T"][:n]).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic customers")
    parser.add_argument("--pareto-n", type=int, default=100_000,
                        help="synthetic customers for Pareto/NBD (the reference is slow)")
    parser.add_argument("--cases", default="cdnow,synthetic")
    args = parser.parse_args()
    python = reference_python()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    cases = {}
    for name in args.cases.split(","):
        cases[name] = cdnow_case() if name == "cdnow" else synthetic_case(args.n)
    arrays = {f"{c}_{k}": v for c, case in cases.items() for k, v in case.items()}
    for c, case in cases.items():
        arrays[f"{c}_pareto_n"] = np.array(min(case["x"].size, args.pareto_n))
    np.savez(work / "data.npz", **arrays)

    results = []
    for c, case in cases.items():
        n_pareto = int(arrays[f"{c}_pareto_n"])
        command = [str(python), str(ROOT / "benchmarks" / "_reference_fit.py"),
                   str(work / "data.npz"), c]
        raw = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
        reference = json.loads(raw.strip().splitlines()[-1])
        for name in MODELS:
            seconds, ours = fit_ours(name, case, n_pareto)
            ref = reference[name]
            ll_ours = score(name, ours.params_, case, n_pareto)
            ll_ref = score(name, ref["params"], case, n_pareto)
            rows = {"pareto_nbd": n_pareto,
                    "gamma_gamma": int(((case["x"] > 0) & (case["m"] > 0)).sum())}.get(
                        name, case["x"].size)
            results.append({
                "case": c, "model": name, "customers": rows,
                "ours_seconds": seconds, "reference_seconds": ref["seconds"],
                "speedup": ref["seconds"] / seconds,
                "ours_ll": ll_ours, "reference_ll": ll_ref, "ll_difference": ll_ours - ll_ref,
                "ours_params": ours.params_, "reference_params": ref["params"],
            })
    (work / "results.json").write_text(json.dumps(results, indent=2))
    header = f"{'case':10} {'model':12} {'customers':>10} {'ours s':>8} {'ref s':>8} " \
             f"{'ratio':>7} {'LL ours':>16} {'LL ours-ref':>12}"
    print(header)
    for r in results:
        print(f"{r['case']:10} {r['model']:12} {r['customers']:>10} {r['ours_seconds']:8.3f} "
              f"{r['reference_seconds']:8.2f} {r['speedup']:6.1f}x {r['ours_ll']:16.4f} "
              f"{r['ll_difference']:12.2e}")


if __name__ == "__main__":
    main()
