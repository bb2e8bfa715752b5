"""The validation report: one problem per (row, column) with the value and the reason, in
Korean and English, shown on screen and written as a CSV or JSON file."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

#: More problems than this are counted but not listed: a report of a million bad rows is no
#: more useful than the first thousand, and it has to fit on a page and in the database.
MAX_LISTED = 1000
VALUE_CHARS = 80

ERROR = "error"
WARNING = "warning"


def shown(value: Any, limit: int = VALUE_CHARS) -> str:
    """A cell as the report quotes it: one line, at most ``limit`` characters."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    if len(text) > limit:
        return f"{text[: limit - 1]}… ({len(text):,}자/chars)"
    return text


def neutralised(text: str) -> str:
    """Spreadsheets run a cell starting with = + - @ (or a tab/CR) as a formula, so an exported
    cell that would is prefixed with a quote; the import itself stores text as it was."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class Problem:
    """``row`` is the file's row as a spreadsheet shows it (the header is row 1); None means
    the whole file. ``code`` is stable for programs; ``ko``/``en`` are for people."""

    code: str
    ko: str
    en: str
    row: int | None = None
    column: str = ""
    value: str = ""
    severity: str = ERROR

    def text(self) -> str:
        where = f"{self.row}행 / row {self.row}" if self.row else "파일 / file"
        col = f" [{self.column}]" if self.column else ""
        return f"{where}{col}: {self.ko} / {self.en}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0

    def add(self, problem: Problem) -> None:
        if problem.severity == ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    @property
    def unlisted(self) -> int:
        return self.errors + self.warnings - len(self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "unlisted": self.unlisted,
            "problems": [asdict(p) for p in self.problems],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        report = cls(errors=data.get("errors", 0), warnings=data.get("warnings", 0))
        report.problems = [Problem(**p) for p in data.get("problems", [])]
        return report


REPORT_HEADER = ["행/row", "열/column", "값/value", "코드/code", "구분/severity", "사유", "reason"]


def report_csv(*, report: Report) -> bytes:
    """UTF-8 with a byte-order mark (Korean Excel needs it); every cell is neutralised, since a
    hostile file's values are quoted back here."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    for p in report.problems:
        writer.writerow(
            [
                p.row or "",
                neutralised(p.column),
                neutralised(p.value),
                p.code,
                p.severity,
                neutralised(p.ko),
                neutralised(p.en),
            ]
        )
    if report.unlisted:
        writer.writerow(["", "", "", "unlisted", "", f"{report.unlisted}건 더", "more"])
    return out.getvalue().encode("utf-8")


def report_json(*, report: Report, extra: dict[str, Any] | None = None) -> bytes:
    body = {**(extra or {}), **report.as_dict()}
    return json.dumps(body, ensure_ascii=False, indent=2, default=str).encode("utf-8")
