"""Runs inside the separate reference venv (lifetimes 0.11.3): fits and times, prints JSON.

Usage: python _reference_fit.py DATA.npz CASE [CASE ...] where CASE is cdnow or synthetic.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

warnings.filterwarnings("ignore")


def _timed(make, *args):
    start = time.perf_counter()
    model = make().fit(*args)
    return time.perf_counter() - start, {k: float(v) for k, v in model.params_.items()}


def main() -> None:
    data = np.load(sys.argv[1])
    models = sys.argv[3].split(",") if len(sys.argv) > 3 else ["bgnbd", "pareto_nbd", "gamma_gamma"]
    case = sys.argv[2]
    x, t_x, age, m = (data[f"{case}_{k}"] for k in ("x", "t_x", "T", "m"))
    out = {}
    if "bgnbd" in models:
        out["bgnbd"] = _timed(BetaGeoFitter, x, t_x, age)
    if "pareto_nbd" in models:
        n = int(data[f"{case}_pareto_n"])
        out["pareto_nbd"] = _timed(ParetoNBDFitter, x[:n], t_x[:n], age[:n])
    if "gamma_gamma" in models:
        repeat = (x > 0) & (m > 0)
        out["gamma_gamma"] = _timed(GammaGammaFitter, x[repeat], m[repeat])
    print(json.dumps({name: {"seconds": s, "params": p} for name, (s, p) in out.items()}))


if __name__ == "__main__":
    main()
