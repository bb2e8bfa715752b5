"""Helpers shared by the sub-commands: console output, progress bars, common checks."""

from __future__ import annotations

from dangol.cli.errors import UserError


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
