"""Sub-commands of `dangol`. Each parses its arguments and calls a service."""

from __future__ import annotations

import argparse
import os
import secrets

from dangol.cli import analyze, demo, imports, policy, scoring, security
from dangol.cli.common import _console, _require_migrated, _serve, _shop_or_fail
from dangol.cli.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    analyze.register(sub)
    policy.register(sub)
    scoring.register(sub)
    demo.register(sub)
    imports.register(sub)
    security.register(sub)

    p = sub.add_parser("migrate", help="데이터베이스 준비 / create or upgrade the database")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("createowner", help="매장 주인 계정 / create a shop owner login")
    p.add_argument("--shop", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", help="default: read DANGOL_OWNER_PASSWORD or generate one")
    p.set_defaults(handler=cmd_createowner)

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


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    _console().print("데이터베이스 준비 완료 / Database is up to date.")
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
