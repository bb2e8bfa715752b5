"""`dangol analyze FILE`: the prediction engine on a transactions file, no database needed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dangol.cli.errors import UserError

CDNOW_COLUMNS = ["customer_id_full", "customer_id", "date", "quantity", "amount"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="파일로 고객 예측 / fit the models on a transactions file")
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "cdnow"], default="csv")
    p.add_argument("--customer-col", required=True, help="column name or 0-based index")
    p.add_argument("--date-col", required=True, help="column name or 0-based index")
    p.add_argument("--amount-col", help="column name or 0-based index")
    p.add_argument("--date-format", help="strftime format of the date column, e.g. %%Y%%m%%d")
    p.add_argument("--calibration-end", required=True, help="YYYY-MM-DD")
    p.add_argument("--holdout-end", help="YYYY-MM-DD")
    p.add_argument("--unit", choices=["W", "D"], default="W")
    p.add_argument("--json", dest="json_out", help="write the full report as JSON")
    p.set_defaults(handler=cmd_analyze, needs_django=False)


def _column(value: str | None, columns: list[str], flag: str) -> str | None:
    if value is None:
        return None
    if value in columns:
        return value
    if value.isdigit() and int(value) < len(columns):
        return columns[int(value)]
    raise UserError(
        f"{flag} 열을 찾을 수 없습니다: {value} (있는 열: {', '.join(columns)})",
        f"{flag}: no column {value!r} (columns: {', '.join(columns)})",
    )


def _load(args: argparse.Namespace):
    import polars as pl

    from dangol.analytics.summary import read_cdnow

    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"파일이 없습니다: {path}", f"No such file: {path}")
    if args.format == "cdnow":
        frame = read_cdnow(path)
        columns = CDNOW_COLUMNS
    else:
        try:
            frame = pl.read_csv(path, infer_schema_length=10_000)
        except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
            raise UserError(
                f"CSV를 읽을 수 없습니다 (UTF-8 CSV인지 확인하세요): {exc}",
                f"Cannot read the CSV (is it UTF-8?): {exc}",
            ) from exc
        columns = frame.columns
    customer = _column(args.customer_col, columns, "--customer-col")
    at = _column(args.date_col, columns, "--date-col")
    amount = _column(args.amount_col, columns, "--amount-col")
    if frame.schema[at] == pl.String or (args.date_format and frame.schema[at] != pl.Date):
        text = pl.col(at).cast(pl.String)
        frame = frame.with_columns(
            text.str.to_datetime(format=args.date_format, strict=False).alias(at)
        )
        bad = frame.filter(pl.col(at).is_null()).height
        if bad:
            raise UserError(
                f"날짜로 읽을 수 없는 행이 {bad}개 있습니다 (--date-format 확인).",
                f"{bad} rows have a date that cannot be parsed (check --date-format).",
            )
    return frame, customer, at, amount


def cmd_analyze(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from dangol.analytics.report import analyze

    frame, customer, at, amount = _load(args)
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
        raise UserError(f"분석할 수 없습니다: {exc}", f"Cannot analyse: {exc}") from exc
    console = Console()
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
