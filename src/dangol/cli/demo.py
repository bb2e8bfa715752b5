"""`dangol seed-demo` and `dangol demo`: the demo café, scored, segmented, with messages."""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path

from dangol.cli.common import _console, _progress, _require_migrated, _serve, _shop_or_fail
from dangol.cli.errors import UserError
from dangol.cli.scoring import _print_run, _refresh_segments, _score

DEMO_SLUG = "demo"
DEMO_USERNAME = "owner"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed-demo", help="데모 매장 만들기 / create the demo shop")
    p.add_argument("--shop", default=DEMO_SLUG)
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--months", type=int, default=18)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end", help="last day of data, YYYY-MM-DD (default: today)")
    p.add_argument("--replace", action="store_true", help="delete and re-create the shop")
    p.set_defaults(handler=cmd_seed_demo)

    p = sub.add_parser("demo", help="데모 한 번에 / migrate, seed, score and serve the demo")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="prepare everything, do not serve")
    p.set_defaults(handler=cmd_demo)


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


def _demo_loyalty(shop) -> None:
    """A points policy, a stamp card, tiers and coupons in use, from the demo's own purchases
    (done once; later runs leave them as they are)."""
    from dangol.loyalty.services import loyalty_demo_setup

    made = loyalty_demo_setup(shop=shop)
    if made:
        summary = ", ".join(f"{key} {value:,}" for key, value in made.items())
        _console().print(f"적립·쿠폰 준비 / loyalty set up: {summary}")


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
        _demo_loyalty(shop)
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
