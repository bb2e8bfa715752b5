"""Wall time and peak memory of the per-shop analytics pipeline on synthetic transactions.

    .venv/bin/python benchmarks/bench_pipeline.py                # 1,000,000 customers + reference
    .venv/bin/python benchmarks/bench_pipeline.py --customers 200000 --reference-customers 20000

Stages, in the order the product runs them for a shop (see ``dangol.analytics.scorecard``):
summary (``summarize``), models (BG/NBD and Gamma-Gamma fits, P(alive), expected visits in 90
days, 12-month CLV), rfm (``rfm_scores``), cadence (``cadence``), churn (``ChurnModel.fit`` and
``predict`` at the last day of data) and reasons (``explain`` for the at-risk customers).

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

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dangol.analytics.betageo import BetaGeoModel  # noqa: E402
from dangol.analytics.cadence import cadence  # noqa: E402
from dangol.analytics.churn import ChurnModel  # noqa: E402
from dangol.analytics.clv import customer_lifetime_value  # noqa: E402
from dangol.analytics.gamma_gamma import GammaGammaModel  # noqa: E402
from dangol.analytics.reasons import explain  # noqa: E402
from dangol.analytics.rfm import rfm_scores  # noqa: E402
from dangol.analytics.summary import summarize  # noqa: E402

CUSTOMER, AT, AMOUNT = "customer_id", "at", "amount"
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 548  # about 18 months
STAGES = ("summary", "models", "rfm", "cadence", "churn", "reasons")


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


def run_pipeline(transactions: pl.DataFrame) -> tuple[dict[str, float], dict[str, object]]:
    day = transactions[AT].max().date()
    keys = {"customer": CUSTOMER, "at": AT}
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def done(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    summary = summarize(transactions, **keys, amount=AMOUNT, calibration_end=day, unit="D")
    done("summary")
    rfm = (summary["frequency"], summary["recency"], summary["T"])
    purchases = BetaGeoModel().fit(*rfm)
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    spend = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    p_alive = purchases.conditional_probability_alive(*rfm)
    expected = purchases.conditional_expected_number_of_purchases(90, *rfm)
    clv = customer_lifetime_value(
        purchase_model=purchases,
        spend_model=spend,
        frequency=summary["frequency"],
        recency=summary["recency"],
        T=summary["T"],
        monetary_value=summary["monetary_value"],
        unit="D",
    )
    done("models")
    segments = rfm_scores(summary)
    done("rfm")
    rhythm = cadence(transactions, **keys, asof=day)
    done("cadence")
    churn = ChurnModel().fit(transactions, **keys, amount=AMOUNT, cutoff=day)
    scored = churn.predict(transactions, **keys, amount=AMOUNT, cutoff=day)
    done("churn")
    reasons = explain(scored, customer=CUSTOMER, rhythm=rhythm)
    done("reasons")
    facts = {
        "customers": summary.height,
        "purchases": transactions.height,
        "cutoff": day.isoformat(),
        "bgnbd": {k: round(v, 4) for k, v in purchases.params_.items()},
        "mean_p_alive": float(np.mean(p_alive)),
        "expected_visits_90d": float(np.sum(expected)),
        "clv_total": float(np.sum(clv)),
        "segments": int(segments["segment"].n_unique()),
        "regulars": int(rhythm["regular"].sum()),
        "churn_chosen": churn.chosen_,
        "churn_auc": churn.backtest_.get("auc"),
        "churn_baseline_auc": churn.backtest_.get("baselines", {}).get("days_since_last"),
        "churn_training_rows": churn.backtest_.get("n_train"),
        "at_risk": reasons.height,
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
        "total_seconds": sum(seconds.values()),
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
    print(f"{'stage':10} " + " ".join(f"{n + ' s':>12}" for n in names))
    for stage in STAGES:
        print(f"{stage:10} " + " ".join(f"{runs[n]['stages'][stage]:12.2f}" for n in names))
    print(f"{'total':10} " + " ".join(f"{runs[n]['total_seconds']:12.2f}" for n in names))
    print(f"{'peak MB':10} " + " ".join(f"{runs[n]['peak_rss_mb']:12.0f}" for n in names))
    for n in names:
        r = runs[n]
        print(
            f"{n}: {r['customers']:,} customers, {r['purchases']:,} purchase lines, "
            f"cut-off {r['cutoff']}, churn model {r['churn_chosen']} "
            f"(backtest AUC {r['churn_auc']}, days-since-last {r['churn_baseline_auc']}), "
            f"{r['at_risk']:,} at risk; data generated in {r['generate_seconds']:.1f} s"
        )
    if "reference" in runs:
        ratio = runs["full"]["total_seconds"] / runs["reference"]["total_seconds"]
        size = runs["full"]["customers"] / runs["reference"]["customers"]
        print(f"wall-time ratio full / reference: {ratio:.1f}x for {size:.1f}x the customers")


if __name__ == "__main__":
    main()
