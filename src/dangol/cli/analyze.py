"""`dangol analyze FILE`: the prediction engine on a transactions file, no database needed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from dangol.cli.errors import UserError

if TYPE_CHECKING:
    import polars as pl

CDNOW_COLUMNS = ["customer_id_full", "customer_id", "date", "quantity", "amount"]
XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="파일로 고객 예측 / fit the models on a transactions file")
    p.add_argument("file")
    p.add_argument(
        "--format",
        choices=["csv", "cdnow", "xlsx"],
        help="csv (UTF-8 or CP949), xlsx (Excel workbook) or cdnow; default: xlsx for .xlsx "
        "files, csv otherwise",
    )
    p.add_argument("--sheet", help="xlsx: sheet name or 0-based index (default: the first sheet)")
    p.add_argument("--customer-col", required=True, help="column name or 0-based index")
    p.add_argument("--date-col", required=True, help="column name or 0-based index")
    p.add_argument("--amount-col", help="column name or 0-based index")
    p.add_argument(
        "--date-format",
        help="strftime format of text dates, e.g. %%Y%%m%%d (year-first dates such as "
        "2024-03-05, 2024.03.05 or 2024-03-05 14:22 are read without it)",
    )
    p.add_argument("--calibration-end", required=True, help="YYYY-MM-DD")
    p.add_argument("--holdout-end", help="YYYY-MM-DD")
    p.add_argument("--unit", choices=["W", "D"], default="W")
    p.add_argument("--json", dest="json_out", help="write the full report as JSON")
    p.set_defaults(handler=cmd_analyze, needs_django=False)


def _error(ko: str, en: str) -> UserError:
    # The error printer escapes markup for every command; messages stay plain text here.
    return UserError(ko, en)


def _load(args: argparse.Namespace) -> tuple[pl.DataFrame, str, str, str | None, int]:
    """The transactions, the customer/date/amount column names, and rows left out (no id)."""
    import polars as pl

    from dangol.analytics.readers import AT, CUSTOMER, ReadError, pick_column, read_transactions
    from dangol.analytics.summary import read_cdnow

    path = Path(args.file)
    if not path.is_file():
        raise _error(f"파일이 없습니다: {path}", f"No such file: {path}")
    fmt = args.format or ("xlsx" if path.suffix.lower() in XLSX_SUFFIXES else "csv")
    if args.sheet is not None and fmt != "xlsx":
        raise UserError("--sheet는 xlsx 파일에만 씁니다.", "--sheet applies to --format xlsx only.")
    try:
        if fmt != "cdnow":
            read = read_transactions(
                path,
                format=fmt,
                customer=args.customer_col,
                at=args.date_col,
                amount=args.amount_col,
                date_format=args.date_format,
                sheet=args.sheet,
            )
            return read.frame, CUSTOMER, AT, read.amount, read.skipped
        try:
            frame = read_cdnow(path)
        except (ValueError, UnicodeDecodeError, pl.exceptions.PolarsError) as exc:
            raise _error(
                f"CDNOW 형식(공백으로 나눈 다섯 열)이 아닙니다: {path.name}",
                f"Not a CDNOW file (five whitespace-separated columns): {path.name}",
            ) from exc
        columns = CDNOW_COLUMNS
        picked = [
            pick_column(spec, columns, flag)
            for spec, flag in (
                (args.customer_col, "--customer-col"),
                (args.date_col, "--date-col"),
                (args.amount_col, "--amount-col"),
            )
        ]
    except ReadError as exc:
        raise _error(exc.ko, exc.en) from exc
    customer, at, amount = (None if i is None else columns[i] for i in picked)
    return frame, customer, at, amount, 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from dangol.analytics.report import analyze

    frame, customer, at, amount, skipped = _load(args)
    try:
        report = analyze(
            frame,
            customer=customer,
            at=at,
            amount=amount,
            calibration_end=args.calibration_end,
            holdout_end=args.holdout_end,
            unit=args.unit,
        )
    except ValueError as exc:
        raise _error(f"분석할 수 없습니다: {exc}", f"Cannot analyse: {exc}") from exc
    console = Console()
    if skipped:
        console.print(
            f"고객번호가 빈 행 {skipped:,}개는 건너뛰었습니다 / "
            f"left out {skipped:,} rows without a customer id",
            highlight=False,
        )
    table = Table(title=f"{report['customers']:,} customers")
    table.add_column("model")
    table.add_column("parameters")
    table.add_column("log-likelihood", justify="right")
    for key in ("bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma"):
        entry = report.get(key) or {}
        params = ", ".join(
            f"{k}={v:.4g}"
            for k, v in entry.items()
            if k != "log_likelihood" and isinstance(v, float)
        )
        ll = entry.get("log_likelihood")
        table.add_row(key, params, f"{ll:.1f}" if isinstance(ll, float) else "-")
    console.print(table)
    holdout = report.get("holdout")
    if holdout:
        console.print(
            f"holdout: actual {holdout['actual_total']}, "
            f"BG/NBD {holdout['bgnbd_predicted_total']:.0f}, "
            f"Pareto/NBD {holdout['pareto_predicted_total']:.0f}, "
            f"correlation {holdout['bgnbd_correlation']:.3f}; churn AUC {holdout['churn_auc']}"
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0
