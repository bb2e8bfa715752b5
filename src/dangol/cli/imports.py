"""`dangol import`: customers, purchases and products from CSV and Excel files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dangol.cli.common import _console, _progress, _require_migrated, _shop_or_fail
from dangol.cli.errors import UserError

KINDS = ("customers", "purchases", "products")
_SHOWN = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="고객·구매·상품 파일 가져오기 / import a CSV or Excel file")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", type=Path)
    p.add_argument("--shop", required=True)
    p.add_argument("--mapping", type=Path, help="column mapping JSON (or a preset name)")
    p.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    p.add_argument("--json", type=Path, dest="json_report", help="write the report as JSON here")
    p.set_defaults(handler=cmd_import)


def _mapping(value: Path | None) -> dict | None:
    from dangol.imports.presets import PRESETS

    if value is None:
        return None
    if str(value) in PRESETS:
        return {"preset": str(value)}
    try:
        return json.loads(value.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise UserError(f"매핑 파일이 없습니다: {value}", f"No such mapping file: {value}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"매핑 파일이 올바른 JSON이 아닙니다: {value} ({exc})",
            f"The mapping file is not valid JSON: {value} ({exc})",
        ) from exc


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"파일이 없습니다: {path}", f"No such file: {path}") from exc
    except IsADirectoryError as exc:
        raise UserError(f"파일이 아니라 폴더입니다: {path}", f"{path} is a folder.") from exc


def _print(run) -> None:
    from rich.markup import escape

    console = _console()
    counts = run.counts
    labels = {
        "rows": "읽은 행 / rows read",
        "purchases_created": "새 구매 / new purchases",
        "purchases_existing": "이미 있던 구매 / already imported",
        "lines_created": "구매 품목 / lines",
        "customers_created": "새 고객 / new customers",
        "customers_existing": "이미 있던 고객 / existing customers",
        "consents_recorded": "동의 기록 / consent events",
        "products_created": "새 상품 / new products",
        "products_existing": "이미 있던 상품 / existing products",
    }
    for key, label in labels.items():
        if counts.get(key):
            console.print(f"  {label}: {counts[key]:,}", highlight=False)
    report = run.report
    for problem in report.get("problems", [])[:_SHOWN]:
        where = f"{problem['row']}행/row {problem['row']}" if problem["row"] else "파일/file"
        column = f" [{problem['column']}]" if problem["column"] else ""
        value = f" {problem['value']!r}" if problem["value"] else ""
        mark = "[red]✗[/]" if problem["severity"] == "error" else "[yellow]![/]"
        text = f"{where}{column}{value}: {problem['ko']} / {problem['en']}"
        console.print(f"  {mark} {escape(text)}", highlight=False)
    more = (
        report.get("errors", 0)
        + report.get("warnings", 0)
        - min(len(report.get("problems", [])), _SHOWN)
    )
    if more > 0:
        console.print(f"  … {more:,}건 더 / more (--json으로 전체 보기 / all with --json)")


def cmd_import(args: argparse.Namespace) -> int:
    from dangol.core.tenancy import shop_scope
    from dangol.imports.models import ImportStatus
    from dangol.imports.report import Report, report_json
    from dangol.imports.services import ImportRequestError, import_run

    _require_migrated()
    shop = _shop_or_fail(args.shop)
    mapping = _mapping(args.mapping)
    data = _read(args.file)
    estimate = max(data.count(b"\n"), 1) if not data.startswith(b"PK") else None
    with shop_scope(shop), _progress() as progress:
        task = progress.add_task("가져오는 중 / importing", total=estimate)
        try:
            run = import_run(
                shop=shop,
                kind=args.kind,
                data=data,
                file_name=args.file.name,
                mapping=mapping,
                dry_run=args.dry_run,
                progress=lambda done: progress.update(task, completed=done),
            )
        except ImportRequestError as exc:
            raise UserError(exc.ko, exc.en) from exc
        progress.update(task, completed=run.counts.get("rows", 0), total=run.counts.get("rows"))
    if args.json_report:
        extra = {
            "file": run.file_name,
            "sha256": run.sha256,
            "kind": run.kind,
            "status": run.status,
            "dry_run": run.dry_run,
            "counts": run.counts,
        }
        args.json_report.write_bytes(report_json(report=Report.from_dict(run.report), extra=extra))
    console = _console()
    if run.status == ImportStatus.FAILED:
        console.print(
            f"[red]가져오지 않았습니다: 오류 {run.report['errors']:,}건. 아무것도 바뀌지 "
            f"않았습니다.[/] / Not imported: {run.report['errors']:,} errors; nothing changed.",
            highlight=False,
        )
        _print(run)
        return 1
    head = (
        "확인 완료 (가져오기 전) / checked, nothing written"
        if args.dry_run
        else "가져오기 완료 / imported"
    )
    console.print(f"[green]{head}[/]: {run.file_name}", highlight=False)
    _print(run)
    return 0
