"""Wall time and peak memory of the per-shop analytics pipeline on synthetic transactions.

    .venv/bin/python benchmarks/bench_pipeline.py                # 1,000,000 customers + reference
    .venv/bin/python benchmarks/bench_pipeline.py --customers 200000 --reference-customers 20000

The headline figure is ``dangol.analytics.scorecard.score_customers``, what a shop runs every
night: summary, models (BG/NBD and Gamma-Gamma fits, P(alive), expected visits in 90 days,
12-month CLV), rfm, cadence (with seasonality), churn (``ChurnModel.fit`` and ``predict`` at the
last day of data, timed separately as ``churn fit`` and ``churn predict``) and reasons (lifecycle
status, value at risk, reasons for everyone who needs one). Stage times come from its
``progress`` callback.

Each size runs in its own process, so that its peak resident memory (``ru_maxrss``) is its own;
the peak includes the generated transactions themselves. The reference is the same pipeline on
a tenth of the customers and purchases, measured in the same run: the ratio of the two wall
times shows how the pipeline scales (10x is linear). This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dangol.analytics.churn import ChurnModel  # noqa: E402
from dangol.analytics.scorecard import STAGES, score_customers  # noqa: E402

CUSTOMER, AT, AMOUNT = "customer_id", "at", "amount"
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 548  # about 18 months


def synthetic_transactions(customers: int, purchases: int, seed: int = 0) -> pl.DataFrame:
    """About ``purchases`` purchase lines of ``customers`` customers over 18 months.

    A third of the customers keep a weekday habit (weekly or fortnightly, missing about one
    visit in seven), the rest visit at random with customer-specific rates; customers join
    throughout the period and about 60 % of them stop visiting at some point. Some visits have
    a second line on the same day. Amounts are in won, rounded to 100. Rows come in time order,
    as a POS export would.
    """
    rng = np.random.default_rng(seed)
    per_customer = purchases / customers
    join = rng.integers(0, DAYS, customers)
    leaves = rng.random(customers) < 0.6
    stop = np.where(leaves, join + rng.exponential(240.0, customers), DAYS).astype(np.int64)
    stop = np.clip(stop, join + 1, DAYS)
    span = stop - join
    habit = rng.random(customers) < 0.35
    period = np.where(rng.random(customers) < 0.45, 7, 14)
    # Rates scaled so that the total comes out near `purchases` (lines include second lines).
    rate = rng.gamma(0.9, 1.0, customers) * per_customer / 480.0
    visits = np.where(habit, (span - 1) // period + 1, 1 + rng.poisson(rate * span))
    total = int(visits.sum())
    owner = np.repeat(np.arange(customers), visits)
    k = np.arange(total) - np.repeat(np.cumsum(visits) - visits, visits)
    random_day = join[owner] + (rng.random(total) * span[owner]).astype(np.int64)
    day = np.where(habit[owner], join[owner] + k * period[owner], random_day)
    day = np.where(k == 0, join[owner], day)
    # Habit customers miss some of their days (never the first visit).
    keep = ~habit[owner] | (k == 0) | (rng.random(total) < 0.86)
    owner, day = owner[keep], day[keep]
    extra = rng.random(owner.size) < 0.08
    owner = np.concatenate([owner, owner[extra]])
    day = np.concatenate([day, day[extra]])
    hour = np.clip(
        np.where(
            habit[owner],
            rng.integers(8, 21, customers)[owner] + rng.integers(-1, 2, owner.size),
            rng.integers(8, 22, owner.size),
        ),
        7,
        22,
    )
    minute = day * 1440 + hour * 60 + rng.integers(0, 60, owner.size)
    spend = rng.lognormal(np.log(12_000.0), 0.5, customers)
    amount = np.round(spend[owner] * rng.lognormal(0.0, 0.3, owner.size), -2)
    order = np.argsort(minute, kind="stable")
    ids = 1_000_000 + rng.permutation(customers)
    start = np.datetime64(FIRST_DAY, "us")
    return pl.DataFrame(
        {
            CUSTOMER: ids[owner[order]],
            AT: start + (minute[order] * 60_000_000).astype("timedelta64[us]"),
            AMOUNT: amount[order],
        }
    )


class _TimedChurn(ChurnModel):
    """The default churn model, recording how long ``fit`` and ``predict`` take."""

    seconds: dict[str, float]

    def fit(self, *args: Any, **kwargs: Any) -> Self:
        start = time.perf_counter()
        out = super().fit(*args, **kwargs)
        self.seconds["churn fit"] = time.perf_counter() - start
        return out

    def predict(self, *args: Any, **kwargs: Any) -> pl.DataFrame:
        start = time.perf_counter()
        out = super().predict(*args, **kwargs)
        self.seconds["churn predict"] = time.perf_counter() - start
        return out


def run_pipeline(transactions: pl.DataFrame) -> tuple[dict[str, float], dict[str, object]]:
    day = transactions[AT].max().date()
    seconds: dict[str, float] = {}
    marks: list[tuple[str, float]] = []
    churn = _TimedChurn()
    churn.seconds = {}
    start = time.perf_counter()
    card = score_customers(
        transactions,
        customer=CUSTOMER,
        at=AT,
        amount=AMOUNT,
        asof=day,
        churn=churn,
        progress=lambda stage: marks.append((stage, time.perf_counter())),
    )
    end = time.perf_counter()
    for (stage, began), (_, ended) in zip(marks, [*marks[1:], ("", end)], strict=True):
        seconds[stage] = ended - began
    seconds["total"] = end - start
    seconds.update(churn.seconds)
    customers = card.customers
    backtest = card.models["churn"]["backtest"]
    facts = {
        "customers": customers.height,
        "purchases": transactions.height,
        "cutoff": day.isoformat(),
        "bgnbd": {k: round(v, 4) for k, v in card.models["bgnbd"]["params"].items()},
        "mean_p_alive": float(customers["p_alive"].mean()),
        "expected_visits_90d": float(customers["expected_visits_90d"].sum()),
        "clv_total": float(customers["clv"].sum()),
        "mean_churn_probability": float(customers["churn_probability"].mean()),
        "statuses": card.models["statuses"],
        "churn_chosen": card.models["churn"]["chosen"],
        "churn_auc": backtest.get("auc"),
        "churn_ece": backtest.get("ece"),
        "churn_baseline_auc": backtest.get("baselines", {}).get("days_since_last"),
        "churn_training_rows": backtest.get("n_train"),
        "with_reasons": int(customers["reason_keys"].is_not_null().sum()),
    }
    return seconds, facts


def worker(customers: int, purchases: int, seed: int) -> dict[str, object]:
    start = time.perf_counter()
    transactions = synthetic_transactions(customers, purchases, seed=seed)
    generated = time.perf_counter() - start
    seconds, facts = run_pipeline(transactions)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "generate_seconds": generated,
        "stages": seconds,
        "total_seconds": seconds["total"],
        "peak_rss_mb": peak_mb,
        **facts,
    }


def run_worker(customers: int, purchases: int, seed: int) -> dict[str, object]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--customers",
        str(customers),
        "--purchases",
        str(purchases),
        "--seed",
        str(seed),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=None, help="default: 10 per customer")
    parser.add_argument(
        "--reference-customers",
        type=int,
        default=None,
        help="default: a tenth of --customers (0 to skip)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    purchases = args.purchases or 10 * args.customers
    if args.worker:
        print(json.dumps(worker(args.customers, purchases, args.seed)))
        return
    reference_customers = (
        args.customers // 10 if args.reference_customers is None else args.reference_customers
    )
    runs = {}
    if reference_customers:
        share = reference_customers / args.customers
        runs["reference"] = run_worker(reference_customers, round(purchases * share), args.seed)
    runs["full"] = run_worker(args.customers, purchases, args.seed)
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    (work / "pipeline.json").write_text(json.dumps(runs, indent=2))

    names = list(runs)
    rows = [*STAGES, "churn fit", "churn predict", "total"]
    print(f"{'stage':14} " + " ".join(f"{n + ' s':>12}" for n in names))
    for stage in rows:
        print(f"{stage:14} " + " ".join(f"{runs[n]['stages'][stage]:12.2f}" for n in names))
    print(f"{'peak MB':14} " + " ".join(f"{runs[n]['peak_rss_mb']:12.0f}" for n in names))
    for n in names:
        r = runs[n]
        print(
            f"{n}: {r['customers']:,} customers, {r['purchases']:,} purchase lines, "
            f"cut-off {r['cutoff']}, churn model {r['churn_chosen']} "
            f"(backtest AUC {r['churn_auc']:.4f}, ECE {r['churn_ece']:.4f}, "
            f"days-since-last {r['churn_baseline_auc']:.4f}), "
            f"{r['with_reasons']:,} with reasons; data generated in {r['generate_seconds']:.1f} s"
        )
        print(f"  statuses {r['statuses']}")
    if "reference" in runs:
        ratio = runs["full"]["total_seconds"] / runs["reference"]["total_seconds"]
        size = runs["full"]["customers"] / runs["reference"]["customers"]
        print(f"wall-time ratio full / reference: {ratio:.1f}x for {size:.1f}x the customers")


if __name__ == "__main__":
    main()
