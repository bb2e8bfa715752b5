"""Security commands: key rotation and the deployment check."""

from __future__ import annotations

import argparse

from dangol.cli.common import _console, _progress, _require_migrated
from dangol.cli.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="암호화 키 관리 / encryption keys")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    p = actions.add_parser("status", help="키별 행 수 / rows under each key")
    p.set_defaults(handler=cmd_keys_status)
    p = actions.add_parser("rotate", help="주 키로 다시 암호화 / re-encrypt under the first key")
    p.add_argument("--batch-size", type=int, default=1000, help="rows per transaction")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--fields-only", action="store_true", help="only DANGOL_FIELD_KEYS")
    only.add_argument("--indexes-only", action="store_true", help="only DANGOL_BLIND_INDEX_KEY")
    p.set_defaults(handler=cmd_keys_rotate)
    p = actions.add_parser("generate", help="새 키 출력 / print a new random key")
    p.set_defaults(handler=cmd_keys_generate, needs_django=False)
    p = sub.add_parser("check", help="설정 점검 / check the configuration")
    p.add_argument("--deploy", action="store_true", help="production checks (Django's and ours)")
    p.set_defaults(handler=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    """Exit code 1 when any check reports an error; warnings are printed but pass."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=args.deploy)
    except SystemCheckError as exc:
        import sys

        print(exc, file=sys.stderr)
        return 1
    return 0


_LABELS = {
    "customers.customer": "고객 / customers",
    "messaging.outboxmessage": "발송함 / outbox",
    "customers.customer/indexes": "고객 검색 색인 / customer look-up indexes",
    "messaging.suppression/indexes": "수신거부 색인 / opt-out indexes",
}


def _label(table: str) -> str:
    return _LABELS.get(table, table)


def cmd_keys_generate(args: argparse.Namespace) -> int:
    from dangol.core.config import new_key

    print(new_key())
    return 0


def cmd_keys_status(args: argparse.Namespace) -> int:
    from rich.table import Table

    from dangol.core.crypto import field_key_ids
    from dangol.core.rotation import field_key_counts
    from dangol.customers.rotation import customer_index_status
    from dangol.messaging.rotation import suppression_index_status

    _require_migrated()
    configured = field_key_ids()
    console = _console()
    table = Table(title="필드 암호화 키 / field-encryption keys")
    for column in ("table", "field", "key id", "rows", ""):
        table.add_column(column)
    for count in field_key_counts():
        if count.key_id == configured[0]:
            note = "주 키 / primary"
        elif count.key_id in configured:
            note = "옛 키 / old key"
        else:
            note = "[red]키 없음 / key missing[/]"
        table.add_row(_label(count.table), count.field, count.key_id, f"{count.rows:,}", note)
    console.print(table)
    console.print(
        f"설정된 키 / configured keys: {', '.join(configured)} (첫 키가 주 키 / first is primary)"
    )
    from django.conf import settings

    n_index_keys = len(settings.DANGOL_BLIND_INDEX_KEYS)
    customers = customer_index_status()
    suppressions = suppression_index_status()
    console.print(
        f"검색 색인 키 {n_index_keys}개 / {n_index_keys} blind-index key(s) configured; "
        f"고객 / customers: 최신 / current {customers.current:,}, "
        f"옛 키 / stale {customers.stale:,}; "
        f"수신거부 / opt-outs: 최신 / current {suppressions.current:,}, "
        f"옛 키 / stale {suppressions.stale:,}, "
        f"주소 모름 / address unknown {suppressions.unknown:,}"
    )
    if n_index_keys > 1 and customers.stale == 0 and suppressions.stale == 0:
        if suppressions.unknown:
            console.print(
                "색인 재계산 완료. 주소를 모르는 수신거부가 있어 옛 키를 목록에 남겨 두세요. / "
                "Re-index done; keep the old key listed: some opt-outs have no known address."
            )
        else:
            console.print(
                "색인 재계산 완료: 옛 검색 색인 키를 지워도 됩니다. / "
                "Re-index done: the old blind-index key can be removed."
            )
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from dangol.core.rotation import RotationError, field_keys_rotate
    from dangol.customers.rotation import customer_indexes_rotate
    from dangol.messaging.rotation import suppression_indexes_rotate

    _require_migrated()
    if args.batch_size < 1:
        raise UserError("--batch-size는 1 이상이어야 합니다.", "--batch-size must be at least 1.")
    console = _console()
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(_label(table), total=total or 1)
            progress.update(tasks[table], completed=done if total else 1)

        fields = indexes = suppressions = 0
        if not args.indexes_only:
            try:
                fields = field_keys_rotate(batch_size=args.batch_size, progress=report)
            except RotationError as exc:
                raise UserError(exc.ko, exc.en) from exc
        if not args.fields_only:
            indexes = customer_indexes_rotate(batch_size=args.batch_size, progress=report)
            suppressions = suppression_indexes_rotate(batch_size=args.batch_size, progress=report)
    console.print(
        f"다시 암호화한 행 / rows re-encrypted: {fields:,} · "
        f"다시 색인한 고객 / customers re-indexed: {indexes:,} · "
        f"옮긴 수신거부 / opt-outs re-hashed: {suppressions:,}"
    )
    return 0
