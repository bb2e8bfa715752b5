"""`dangol score`: score a shop's customers and refresh its segments."""

from __future__ import annotations

import argparse

from dangol.cli.common import _console, _progress, _require_migrated, _shop_or_fail
from dangol.cli.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="고객 점수 계산 / score a shop's customers")
    p.add_argument("--shop", required=True)
    p.add_argument("--as-of", help="score as of the end of this day, YYYY-MM-DD (default: today)")
    p.set_defaults(handler=cmd_score)


_SCORE_LABELS = {
    "load": "구매 불러오기 / loading purchases",
    "summary": "요약 / summarising",
    "models": "방문·구매 모델 / visit and spend models",
    "rfm": "RFM",
    "cadence": "방문 주기 / visit rhythm",
    "churn": "이탈 예측 / churn model",
    "reasons": "이유 찾기 / reasons",
    "save": "저장 / saving",
}


def _score(*, shop, as_of=None):
    from dangol.scoring.services import shop_score

    with _progress() as progress:
        task = progress.add_task(_SCORE_LABELS["load"], total=len(_SCORE_LABELS))

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=_SCORE_LABELS.get(stage, stage), completed=done)

        return shop_score(shop=shop, as_of=as_of, progress=report)


def _refresh_segments(*, shop) -> None:
    from dangol.segments.services import shop_segments_refresh

    n = shop_segments_refresh(shop=shop)
    _console().print(f"세그먼트 {n}개 갱신 / refreshed {n} segments")


def _print_run(run) -> None:
    counts = run.fitted.get("statuses", {})
    churn = run.fitted.get("churn", {})
    backtest = churn.get("backtest", {})
    console = _console()
    n = f"{run.customers_scored:,}"
    console.print(f"고객 {n}명 점수 계산 완료 / scored {n} customers as of {run.as_of}")
    console.print(
        f"  이탈 위험 / at risk: {counts.get('at_risk', 0):,} · 습관 깨짐 / broken habit:"
        f" {counts.get('broken_habit', 0):,} · 이탈 / lapsed: {counts.get('lapsed', 0):,}"
    )
    if churn.get("not_enough_data"):
        console.print("  데이터가 적어 규칙 점수를 썼습니다 / not enough data: rule-based score")
    elif backtest.get("auc") is not None:
        console.print(
            f"  이탈 예측 검증 AUC / churn backtest AUC: {backtest['auc']:.3f}"
            f" ({churn.get('chosen')}; 최근 방문일만 쓰면 / recency alone:"
            f" {backtest.get('baselines', {}).get('days_since_last') or 0:.3f})"
        )


def cmd_score(args: argparse.Namespace) -> int:
    import datetime as dt

    from dangol.core.tenancy import shop_scope

    _require_migrated()
    shop = _shop_or_fail(args.shop)
    as_of = None
    if args.as_of:
        try:
            as_of = dt.date.fromisoformat(args.as_of)
        except ValueError as exc:
            raise UserError(
                f"--as-of 날짜 형식이 잘못되었습니다: {args.as_of!r} (예: 2026-11-23)",
                f"--as-of must be a date like 2026-11-23, got {args.as_of!r}",
            ) from exc
    with shop_scope(shop):
        run = _score(shop=shop, as_of=as_of)
        _print_run(run)
        _refresh_segments(shop=shop)
    return 0
