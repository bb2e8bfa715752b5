"""Sub-commands of `dangol`. Each parses its arguments and calls a service."""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path

from dangol.cli import analyze, policy
from dangol.cli.errors import UserError

DEMO_SLUG = "demo"
DEMO_USERNAME = "owner"


def register(sub: argparse._SubParsersAction) -> None:
    analyze.register(sub)
    policy.register(sub)

    p = sub.add_parser("migrate", help="데이터베이스 준비 / create or upgrade the database")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("seed-demo", help="데모 매장 만들기 / create the demo shop")
    p.add_argument("--shop", default=DEMO_SLUG)
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--months", type=int, default=18)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end", help="last day of data, YYYY-MM-DD (default: today)")
    p.add_argument("--replace", action="store_true", help="delete and re-create the shop")
    p.set_defaults(handler=cmd_seed_demo)

    p = sub.add_parser("createowner", help="매장 주인 계정 / create a shop owner login")
    p.add_argument("--shop", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", help="default: read DANGOL_OWNER_PASSWORD or generate one")
    p.set_defaults(handler=cmd_createowner)

    p = sub.add_parser("score", help="고객 점수 계산 / score a shop's customers")
    p.add_argument("--shop", required=True)
    p.add_argument("--as-of", help="score as of the end of this day, YYYY-MM-DD (default: today)")
    p.set_defaults(handler=cmd_score)

    p = sub.add_parser("dispatch", help="메시지 보내기 / send due messages from the outbox")
    p.add_argument("--batch", type=int, default=500, help="messages claimed per round")
    p.add_argument("--until-empty", action="store_true", help="repeat rounds until none is due")
    p.add_argument(
        "--lease-seconds",
        type=int,
        default=300,
        help="a message claimed longer ago by a worker that died counts as unknown",
    )
    p.set_defaults(handler=cmd_dispatch)

    p = sub.add_parser("serve", help="대시보드 실행 / serve the dashboard")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--threads", type=int, default=8)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("worker", help="백그라운드 작업 실행 / run the background worker")
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser("demo", help="데모 한 번에 / migrate, seed, score and serve the demo")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="prepare everything, do not serve")
    p.set_defaults(handler=cmd_demo)


def _console():
    from rich.console import Console

    return Console()


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(),
        transient=False,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    _console().print("데이터베이스 준비 완료 / Database is up to date.")
    return 0


def _require_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise UserError(
            "데이터베이스가 최신이 아닙니다. 먼저 `dangol migrate`를 실행하세요.",
            "The database is not up to date; run `dangol migrate` first.",
        )


def _shop_or_fail(slug: str):
    from dangol.shops.selectors import shop_get_by_slug

    shop = shop_get_by_slug(slug=slug)
    if shop is None:
        raise UserError(
            f"'{slug}' 매장을 찾을 수 없습니다. 매장 주소(slug)를 확인하세요.",
            f"No shop with slug '{slug}'. Check the --shop value.",
        )
    return shop


def _seed(*, slug: str, customers: int, months: int, seed: int, end, replace: bool = False) -> None:
    from dangol.demo.services import demo_shop_seed

    labels = {
        "generate": "손님 만들기 / generating",
        "customers": "고객 저장 / saving customers",
        "purchases": "구매 저장 / saving purchases",
    }
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(labels.get(stage, stage), total=total)
            progress.update(tasks[stage], completed=done, total=total)

        demo_shop_seed(
            slug=slug,
            customers=customers,
            months=months,
            seed=seed,
            end=end,
            replace=replace,
            progress=report,
        )


def cmd_seed_demo(args: argparse.Namespace) -> int:
    import datetime as dt

    from django.utils import timezone

    from dangol.shops.selectors import shop_get_by_slug

    if args.customers < 1 or args.months < 1:
        raise UserError(
            "--customers와 --months는 1 이상이어야 합니다.",
            "--customers and --months must be at least 1.",
        )
    try:
        end = dt.date.fromisoformat(args.end) if args.end else timezone.localdate()
    except ValueError as exc:
        raise UserError(
            f"--end 날짜 형식이 잘못되었습니다: {args.end} (YYYY-MM-DD)",
            f"--end is not a date: {args.end} (use YYYY-MM-DD)",
        ) from exc
    _require_migrated()
    if shop_get_by_slug(slug=args.shop) is not None and not args.replace:
        raise UserError(
            f"'{args.shop}' 매장이 이미 있습니다. 다시 만들려면 --replace를 쓰세요.",
            f"Shop '{args.shop}' already exists; pass --replace to re-create it.",
        )
    _seed(
        slug=args.shop,
        customers=args.customers,
        months=args.months,
        seed=args.seed,
        end=end,
        replace=args.replace,
    )
    _console().print(f"데모 매장 '{args.shop}' 준비 완료 / Demo shop '{args.shop}' is ready.")
    return 0


def cmd_createowner(args: argparse.Namespace) -> int:
    from dangol.shops.services import ShopError, owner_create

    _require_migrated()
    shop = _shop_or_fail(args.shop)
    given = args.password or os.environ.get("DANGOL_OWNER_PASSWORD")
    password = given or secrets.token_urlsafe(9)
    try:
        owner_create(shop=shop, username=args.username, password=password)
    except ShopError as exc:
        ko, _, en = str(exc).partition(" / ")
        raise UserError(ko, en or ko) from exc
    console = _console()
    console.print(f"아이디 / Login: [bold]{args.username}[/]")
    if not given:
        console.print(f"비밀번호 / Password: [bold]{password}[/]")
    return 0


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


def cmd_dispatch(args: argparse.Namespace) -> int:
    import datetime as dt

    from dangol.messaging import dispatch
    from dangol.messaging.config import providers_from_environment

    _require_migrated()
    if args.batch < 1 or args.lease_seconds < 0:
        raise UserError("--batch는 1 이상이어야 합니다.", "--batch must be at least 1.")
    lease = dt.timedelta(seconds=args.lease_seconds)
    providers = providers_from_environment()
    total = 0
    while True:
        report = dispatch.outbox_dispatch(providers=providers, limit=args.batch, lease=lease)
        total += report.claimed
        if not args.until_empty or (report.claimed == 0 and report.reconciled == 0):
            break
    _console().print(f"메시지 {total:,}건 처리 / processed {total:,} messages")
    return 0


def _demo_login_file() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "demo-login.json"


def _ensure_demo_owner() -> tuple[str, str]:
    """The demo login: created once, saved beside the database (mode 0600), reused."""
    from django.contrib.auth import get_user_model

    from dangol.shops.services import owner_create

    shop = _shop_or_fail(DEMO_SLUG)
    path = _demo_login_file()
    if path.exists():
        saved = json.loads(path.read_text())
        user = get_user_model().objects.filter(username=saved["username"]).first()
        if user is not None and user.check_password(saved["password"]):
            return saved["username"], saved["password"]
    password = secrets.token_urlsafe(9)
    owner_create(shop=shop, username=DEMO_USERNAME, password=password, reset_password=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"username": DEMO_USERNAME, "password": password}, handle)
    return DEMO_USERNAME, password


DEMO_CAMPAIGNS = (
    (
        "broken_habit",
        "습관 깨진 단골 안부",
        "ad",
        "{name}님, 요즘 뵙기 어려웠어요. 이번 주에 오시면 아메리카노 한 잔 드릴게요!",
    ),
    (
        "birthday_this_month",
        "이번 달 생일 축하",
        "ad",
        "{name}님, 생일을 미리 축하드려요. 이번 달 언제든 케이크 한 조각을 선물로 드려요.",
    ),
)


def _demo_messages(shop) -> None:
    """Queue the demo's two campaigns once and run the dispatcher with the console provider,
    so the outbox page shows sent, held and blocked messages with their reasons."""
    from django.utils import timezone

    from dangol.automations.services import campaign_send
    from dangol.messaging.dispatch import outbox_dispatch
    from dangol.messaging.models import MessageTemplate
    from dangol.messaging.providers.console import ConsoleProvider
    from dangol.messaging.services import template_create
    from dangol.segments.models import Segment

    week = timezone.localdate().strftime("%G-W%V")
    queued = 0
    for key, name, kind, body in DEMO_CAMPAIGNS:
        segment = Segment.objects.for_shop(shop).filter(builtin_key=key).first()
        if segment is None:
            continue
        template = MessageTemplate.objects.for_shop(shop).filter(name=name).first()
        if template is None:
            template = template_create(shop=shop, name=name, channel="sms", kind=kind, body=body)
        queued += campaign_send(shop=shop, segment=segment, template=template, occurrence=week)
    console = ConsoleProvider()
    report = outbox_dispatch(
        providers=dict.fromkeys(("sms", "email"), console), shop=shop, limit=1000
    )
    _console().print(
        f"데모 메시지 {queued}건 / demo messages: {queued} queued, {report.delivered} sent, "
        f"{report.held} held, {report.blocked} blocked"
    )


def _score_demo_if_stale() -> None:
    from django.utils import timezone

    from dangol.core.tenancy import shop_scope
    from dangol.scoring.selectors import scoring_run_latest

    shop = _shop_or_fail(DEMO_SLUG)
    with shop_scope(shop):
        latest = scoring_run_latest(shop=shop)
        if latest is not None and latest.as_of >= timezone.localdate():
            _console().print("3/4 오늘 점수가 이미 있습니다 / today's scores already exist")
        else:
            _console().print("3/4 고객 점수 계산 / scoring the customers")
            _print_run(_score(shop=shop))
        _refresh_segments(shop=shop)
        _demo_messages(shop)


def cmd_demo(args: argparse.Namespace) -> int:
    from django.core.management import call_command
    from django.utils import timezone

    from dangol.shops.selectors import shop_get_by_slug

    console = _console()
    console.print("1/4 데이터베이스 준비 / preparing the database")
    call_command("migrate", interactive=False, verbosity=0)
    if shop_get_by_slug(slug=DEMO_SLUG) is None:
        console.print("2/4 데모 카페 만들기 / creating the demo café")
        _seed(slug=DEMO_SLUG, customers=2000, months=18, seed=42, end=timezone.localdate())
    else:
        console.print("2/4 데모 카페가 이미 있습니다 / the demo café already exists")
    _score_demo_if_stale()
    username, password = _ensure_demo_owner()
    url = f"http://{args.host}:{args.port}"
    console.print()
    console.print("[bold green]단골 데모가 준비되었습니다 / The Dangol demo is ready[/]")
    console.print(f"  주소 / URL:          [bold]{url}[/]")
    console.print(f"  아이디 / Login:       [bold]{username}[/]")
    console.print(f"  비밀번호 / Password:  [bold]{password}[/]")
    console.print()
    if args.no_serve:
        return 0
    console.print("4/4 대시보드 실행 (끝내려면 Ctrl+C) / serving the dashboard (Ctrl+C to stop)")
    return _serve(host=args.host, port=args.port, threads=8)


def _serve(*, host: str, port: int, threads: int) -> int:
    import socket

    from waitress import serve

    from dangol.wsgi import application

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex((host, port)) == 0:
            raise UserError(
                f"{host}:{port} 포트를 이미 다른 프로그램이 쓰고 있습니다. --port로 바꾸세요.",
                f"Port {host}:{port} is already in use; choose another with --port.",
            )
    serve(application, host=host, port=port, threads=threads, ident="dangol")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from django.db import connection

    connection.ensure_connection()
    _require_migrated()
    _console().print(f"http://{args.host}:{args.port}")
    return _serve(host=args.host, port=args.port, threads=args.threads)


def cmd_worker(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
        except (redis.RedisError, OSError) as exc:
            raise UserError(
                f"Redis에 연결할 수 없습니다 ({settings.REDIS_URL}). "
                "DANGOL_REDIS_URL을 확인하세요.",
                f"Cannot reach Redis at {settings.REDIS_URL} ({exc}). Check DANGOL_REDIS_URL.",
            ) from exc
    call_command("run_huey", workers=args.workers)
    return 0
