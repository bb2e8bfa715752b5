"""The `dangol` command: one entry point for the shop owner and the operator."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from dangol.cli.errors import UserError


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    from dangol.cli import commands

    parser = argparse.ArgumentParser(prog="dangol", description="단골 Dangol — retention CRM")
    sub = parser.add_subparsers(dest="command", required=True)
    commands.register(sub)
    return parser


def _print_error(ko: str, en: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, soft_wrap=True)
    # Messages may quote user input ("[...]" in a file), which must never be read as markup.
    console.print(f"[bold red]오류:[/] {escape(ko)}", highlight=False)
    console.print(f"[bold red]Error:[/] {escape(en)}", highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    from dangol.core.config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_django", True):
            _setup_django()
        return int(args.handler(args) or 0)
    except (ConfigError, UserError) as exc:
        _print_error(exc.ko, exc.en)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear sentence for the failures a user can fix
        from django.db.utils import OperationalError

        if isinstance(exc, OperationalError):
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _print_error(
                f"데이터베이스에 연결할 수 없습니다 ({detail}). DATABASE_URL을 확인하세요.",
                f"Cannot reach the database ({detail}). Check DATABASE_URL.",
            )
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
