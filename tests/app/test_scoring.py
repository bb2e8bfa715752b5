"""Scoring a shop: the snapshot in the database, the demo's planted patterns, small shops,
failures, pruning, tenancy and the command line."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from huey.contrib.djhuey import HUEY

from dangol.core.phone import format_phone
from dangol.core.tenancy import shop_scope
from dangol.customers.models import Customer
from dangol.demo.services import demo_shop_seed, ground_truth_path
from dangol.scoring import services as scoring_services
from dangol.scoring.models import CustomerScore, CustomerStatus, RunStatus, ScoringRun
from dangol.scoring.selectors import (
    at_risk_list,
    customer_score_get,
    risk_summary,
    score_queryset,
    scoring_run_latest,
)
from dangol.scoring.services import shop_score
from dangol.scoring.tasks import nightly_scoring
from dangol.segments.models import Segment, SegmentMembership
from dangol.segments.services import shop_segments_refresh
from tests.app.factories import make_customer, make_purchases, make_shop
from tests.app.test_cli import _assert_clean_failure, run_dangol

END = dt.date(2026, 11, 20)


def _precision_recall(found: set[str], truth: set[str]) -> tuple[float, float]:
    hits = len(found & truth)
    return hits / max(1, len(found)), hits / max(1, len(truth))


@pytest.mark.django_db(transaction=True)
def test_demo_planted_patterns_are_found():
    """The broken-Thursday group and the lapsed regulars by the scores, and each planted group
    by its built-in segment, against the ground-truth file."""
    shop = demo_shop_seed(slug="gt", customers=1000, months=18, seed=7, end=END)
    truth = json.loads(ground_truth_path(slug="gt").read_text())
    # Customers are matched to the ground truth by phone, as an owner would.
    from dangol.demo.generator import generate_demo

    dataset = generate_demo(customers=1000, months=18, seed=7, end=END)
    key_by_phone = {c.phone: c.key for c in dataset.customers}
    with shop_scope(shop):
        run = shop_score(shop=shop, as_of=END)
        key_of = {
            c.pk: key_by_phone[format_phone(c.phone)] for c in Customer.objects.for_shop(shop)
        }
        status_of = {key_of[s.customer_id]: s.status for s in score_queryset(shop=shop, run=run)}
    assert run.status == RunStatus.SUCCEEDED
    for pattern in ("broken_habit", "lapsed"):
        planted = set(truth["patterns"][pattern])
        found = {k for k, status in status_of.items() if status == pattern}
        precision, recall = _precision_recall(found, planted)
        assert len(planted) >= 30, pattern
        assert precision >= 0.9 and recall >= 0.9, (pattern, precision, recall)
    # The Thursday regulars who broke their habit are among them, with a Thursday reason.
    thursday_broken = [
        k
        for k in truth["patterns"]["broken_habit"]
        if truth["customers"][k]["thursday_group"] is not None
    ]
    assert thursday_broken
    with shop_scope(shop):
        scores = {key_of[s.customer_id]: s for s in score_queryset(shop=shop, run=run)}
    texts = [scores[k].reasons[0]["ko"] for k in thursday_broken if k in scores]
    assert sum("목요일" in t for t in texts) >= 0.9 * len(thursday_broken)
    _check_builtin_segments(shop, truth, key_of)
    # Honest numbers: the churn model beat nothing it was not compared with.
    churn = run.fitted["churn"]
    assert churn["not_enough_data"] is False
    assert churn["backtest"]["auc"] >= churn["backtest"]["baselines"]["days_since_last"] - 0.01


# Planted group -> the built-in segment meant to find it.
SEGMENT_FOR_GROUP = {
    "lapsed": "lapsed_regulars",
    "broken_habit": "broken_habit",
    "thursday_broken": "thursday_broken",
    "one_timer": "one_and_done",
    "summer_only": "summer_only",
}


def _check_builtin_segments(shop, truth, key_of) -> None:
    with shop_scope(shop):
        shop_segments_refresh(shop=shop)
        members = {
            s.builtin_key: {
                key_of[m.customer_id]
                for m in SegmentMembership.objects.for_shop(shop).filter(
                    segment=s, exited_at__isnull=True
                )
            }
            for s in Segment.objects.for_shop(shop).exclude(builtin_key="")
        }
    people = truth["customers"]
    groups = {name: set(keys) for name, keys in truth["patterns"].items()}
    groups["thursday_broken"] = {
        k for k in groups["broken_habit"] if people[k]["thursday_group"] is not None
    }
    # One visit says nothing about a season: single-visit summer customers are one-timers.
    groups["summer_only"] = {k for k in groups["summer_only"] if people[k]["visits"] >= 2}
    # A one-timer seen in the last 30 days may still come back: not "never came back" yet.
    end = dt.date.fromisoformat(truth["end"])
    groups["one_timer"] = {
        k
        for k in groups["one_timer"]
        if (end - dt.date.fromisoformat(people[k]["last_visit"])).days >= 30
    }
    for group, segment in SEGMENT_FOR_GROUP.items():
        precision, recall = _precision_recall(members[segment], groups[group])
        assert len(groups[group]) >= 10, group
        assert precision >= 0.9 and recall >= 0.9, (group, segment, precision, recall)


def _small_shop(slug: str, n: int):
    shop, store, _owner, product = make_shop(slug)
    customers = []
    for i in range(n):
        customer = make_customer(shop, name=f"손님{i}")
        # Regulars every 7 days, some who stopped, some one-timers.
        if i % 3 == 0:
            days = [100 + 7 * k for k in range(6)]
        elif i % 3 == 1:
            days = [1 + 7 * k for k in range(8)]
        else:
            days = [10 + i]
        make_purchases(shop, store, product, customer, days_ago=days)
        customers.append(customer)
    return shop, customers


@pytest.mark.django_db
@pytest.mark.parametrize("n", [5, 30])
def test_small_shops_get_rule_based_scores_without_errors(n):
    shop, customers = _small_shop(f"small{n}", n)
    with shop_scope(shop):
        run = shop_score(shop=shop)
        scores = list(score_queryset(shop=shop))
    assert run.status == RunStatus.SUCCEEDED and run.customers_scored == n
    assert run.fitted["churn"]["not_enough_data"] is True
    assert {s.customer_id for s in scores} == {c.pk for c in customers}
    for s in scores:
        assert 0.0 <= s.churn_probability <= 1.0 and 0.0 <= s.p_alive <= 1.0
        assert all(math.isfinite(v) for v in (s.expected_visits_90d, s.churn_probability))
        assert s.status in CustomerStatus.values
        assert 1 <= s.r_score <= 5
    stopped = [s for s, c in zip(scores, customers, strict=False) if s.days_since_last >= 100]
    assert stopped and all(s.status == CustomerStatus.LAPSED for s in stopped)
    assert all(s.reasons for s in stopped)
    json.dumps(run.fitted)  # stored parameters are plain JSON


@pytest.mark.django_db
def test_a_shop_without_sales_scores_nobody():
    shop, _store, _owner, _product = make_shop("empty")
    make_customer(shop)
    with shop_scope(shop):
        run = shop_score(shop=shop)
        assert run.status == RunStatus.SUCCEEDED and run.customers_scored == 0
        assert risk_summary(shop=shop).winnable == 0


@pytest.mark.django_db
def test_failures_are_recorded_and_write_nothing(monkeypatch):
    shop, _ = _small_shop("fails", 5)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(scoring_services, "_score_rows", broken)
    with shop_scope(shop), pytest.raises(RuntimeError):
        shop_score(shop=shop)
    with shop_scope(shop):
        run = ScoringRun.objects.for_shop(shop).get()
        assert run.status == RunStatus.FAILED and "disk full" in run.error
        assert not CustomerScore.objects.for_shop(shop).exists()
        assert scoring_run_latest(shop=shop) is None
        assert risk_summary(shop=shop) is None


@pytest.mark.django_db
def test_old_runs_are_pruned():
    shop, _customers = _small_shop("prune", 5)
    with shop_scope(shop):
        runs = [shop_score(shop=shop, keep_runs=2) for _ in range(3)]
        kept = set(ScoringRun.objects.for_shop(shop).values_list("pk", flat=True))
        assert kept == {runs[1].pk, runs[2].pk}
        assert set(CustomerScore.objects.for_shop(shop).values_list("run_id", flat=True)) == kept
        assert scoring_run_latest(shop=shop) == runs[2]


@pytest.mark.django_db
def test_merged_customers_count_for_the_survivor():
    shop, store, _owner, product = make_shop("merge")
    keep = make_customer(shop, name="남는 손님")
    gone = make_customer(shop, name="합쳐진 손님")
    make_purchases(shop, store, product, keep, days_ago=[3, 10])
    make_purchases(shop, store, product, gone, days_ago=[17, 24])
    Customer.unscoped.filter(pk=gone.pk).update(merged_into=keep)
    with shop_scope(shop):
        shop_score(shop=shop)
        (score,) = score_queryset(shop=shop)
    assert score.customer_id == keep.pk and score.visits == 4


@pytest.mark.django_db
def test_scores_stay_in_their_shop(two_shops):
    a, b = two_shops.a, two_shops.b
    with shop_scope(a.shop):
        shop_score(shop=a.shop)
        assert customer_score_get(shop=a.shop, customer=a.customer) is not None
        assert customer_score_get(shop=a.shop, customer=b.customer) is None
    with shop_scope(b.shop):
        assert scoring_run_latest(shop=b.shop) is None
        assert list(score_queryset(shop=b.shop)) == []
        assert at_risk_list(shop=b.shop) == []


@pytest.mark.django_db
def test_nightly_task_scores_every_shop(two_shops):
    HUEY.immediate = True
    try:
        assert nightly_scoring.call_local() == 2
    finally:
        HUEY.immediate = False
    for shop in (two_shops.a.shop, two_shops.b.shop):
        with shop_scope(shop):
            assert scoring_run_latest(shop=shop).customers_scored == 1


def test_score_command(tmp_path):
    env = {"DANGOL_DATA_DIR": str(tmp_path)}
    assert run_dangol("migrate", env=env).returncode == 0
    seeded = run_dangol("seed-demo", "--customers", "120", "--months", "6", env=env, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    scored = run_dangol("score", "--shop", "demo", env=env, timeout=120)
    assert scored.returncode == 0, scored.stderr
    assert "120" in scored.stdout and "이탈 위험" in scored.stdout
    _assert_clean_failure(run_dangol("score", "--shop", "nope", env=env), "nope")
    _assert_clean_failure(
        run_dangol("score", "--shop", "demo", "--as-of", "2026-02-30", env=env), "--as-of"
    )
