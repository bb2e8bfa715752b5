"""`dangol policy check CASES.json`: run messages through the policy gate, no database needed."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, time
from pathlib import Path
from typing import Any

from dangol.cli.errors import UserError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ERRORS = 10
CONSENT_FAMILIES = ("sms", "kakao", "email", "push")
_KO = {
    "string": "문자열",
    "number": "숫자",
    "boolean": "참/거짓",
    "object": "객체",
    "array": "배열",
    "null": "null",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("policy", help="발송 정책 검사 / the Korean ad-law gate")
    policy_sub = p.add_subparsers(dest="policy_command", required=True)
    c = policy_sub.add_parser(
        "check", help="사례 파일 검사 / decide send, hold or block for each case in a JSON file"
    )
    c.add_argument("file", help="JSON list of cases (UTF-8)")
    c.add_argument("--json", dest="json_out", help="also write the decisions as a JSON list")
    c.set_defaults(handler=cmd_policy_check, needs_django=False)


class _Errors:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, ko: str, en: str) -> None:
        self.items.append((f"{where}: {ko}", f"{where}: {en}"))


def _read_cases(path: Path) -> list[Any]:
    if not path.is_file():
        raise UserError(f"파일이 없습니다: {path}", f"No such file: {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(
            f"파일이 너무 큽니다 ({size:,}바이트, 최대 {MAX_FILE_BYTES:,}바이트): {path.name}",
            f"File too large ({size:,} bytes, at most {MAX_FILE_BYTES:,}): {path.name}",
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"UTF-8 파일이 아닙니다 ({exc.start}번째 바이트). CP949(EUC-KR)로 저장했다면 "
            f"UTF-8로 다시 저장하세요: {path.name}",
            f"Not a UTF-8 file (byte {exc.start}). If it was saved as CP949 (EUC-KR), "
            f"save it again as UTF-8: {path.name}",
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"JSON 형식이 아닙니다 ({exc.lineno}행 {exc.colno}열: {exc.msg}): {path.name}",
            f"Not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): {path.name}",
        ) from exc
    if not isinstance(data, list):
        raise UserError(
            f"사례 목록(JSON 배열 [...])이어야 합니다. 받은 것: {_json_type(data)}",
            f"Expected a list of cases (a JSON array [...]), got {_json_type(data)}",
        )
    return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _get(
    obj: dict,
    key: str,
    kind: type | tuple[type, ...],
    where: str,
    errors: _Errors,
    *,
    required: bool = False,
    default: Any = None,
) -> Any:
    if key not in obj:
        if required:
            errors.add(f"{where}.{key}", "필수 항목이 없습니다", "required field is missing")
        return default
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # A JSON true/false is not a number here, and a number is not a boolean.
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        names = " / ".join(_json_type(k()) if k is not type(None) else "null" for k in kinds)
        names_ko = " / ".join(_KO.get(n, n) for n in names.split(" / "))
        got = _json_type(value)
        errors.add(
            f"{where}.{key}",
            f"{names_ko} 값이어야 합니다 (받은 것: {_KO.get(got, got)})",
            f"must be {names}, got {_json_type(value)}",
        )
        return default
    return value


def _count(obj: dict, key: str, where: str, errors: _Errors) -> int:
    value = _get(obj, key, int, where, errors, default=0)
    if value < 0:
        errors.add(f"{where}.{key}", "0 이상이어야 합니다", "must be 0 or more")
        return 0
    return value


def _moment(value: str, where: str, errors: _Errors) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors.add(
            where,
            f"ISO-8601 날짜·시각이 아닙니다: {value!r} (예: 2026-03-02T10:00:00+09:00)",
            f"not an ISO-8601 date-time: {value!r} (e.g. 2026-03-02T10:00:00+09:00)",
        )
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        errors.add(
            where,
            f"시간대가 없습니다: {value!r}. +09:00 또는 Z를 붙이세요",
            f"no UTC offset in {value!r}; add +09:00 or Z",
        )
        return None
    return moment


def _clock(value: Any, where: str, errors: _Errors) -> time | None:
    try:
        return time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        pass
    errors.add(where, f"HH:MM 시각이 아닙니다: {value!r}", f"not an HH:MM time: {value!r}")
    return None


def _parse_case(case: Any, index: int, errors: _Errors):
    from dangol.messaging import policy

    where = f"cases[{index}]"
    if not isinstance(case, dict):
        errors.add(where, "객체({...})여야 합니다", f"must be an object, got {_json_type(case)}")
        return None
    before = len(errors.items)
    channel = _get(case, "channel", str, where, errors, required=True)
    if channel is not None and channel not in policy.CHANNELS:
        errors.add(
            f"{where}.channel",
            f"알 수 없는 채널 {channel!r} (가능: {', '.join(policy.CHANNELS)})",
            f"unknown channel {channel!r} (one of: {', '.join(policy.CHANNELS)})",
        )
    kind = _get(case, "kind", str, where, errors, required=True)
    body = _get(case, "body", str, where, errors, required=True)
    subject = _get(case, "subject", str, where, errors, default="")
    sender = _get(case, "from", str, where, errors, default="")
    category = _get(case, "product_category", str, where, errors, default="")
    unsubscribe_url = _get(case, "unsubscribe_url", str, where, errors, default="")
    targeting = _get(case, "targeting", str, where, errors, default="I")
    if targeting.upper() not in policy.BRAND_TARGETING:
        errors.add(f"{where}.targeting", "I, M, N 중 하나여야 합니다", "must be I, M or N")
    send_at_text = _get(case, "send_at", str, where, errors, required=True)
    send_at = _moment(send_at_text, f"{where}.send_at", errors) if send_at_text else None
    if send_at_text == "":
        errors.add(f"{where}.send_at", "비어 있습니다", "is empty")

    recipient = None
    r = _get(case, "recipient", dict, where, errors, required=True)
    if r is not None:
        rw = f"{where}.recipient"
        consent = _get(r, "ad_consent", dict, rw, errors, required=True) or {}
        for family, value in consent.items():
            if family not in CONSENT_FAMILIES:
                errors.add(
                    f"{rw}.ad_consent.{family}",
                    f"알 수 없는 채널군입니다 (가능: {', '.join(CONSENT_FAMILIES)})",
                    f"unknown channel family (one of: {', '.join(CONSENT_FAMILIES)})",
                )
            elif not isinstance(value, bool):
                errors.add(
                    f"{rw}.ad_consent.{family}",
                    f"true/false여야 합니다 (받은 것: {_json_type(value)})",
                    f"must be true or false, got {_json_type(value)}",
                )
        last_text = _get(r, "last_transaction_at", (str, type(None)), rw, errors)
        last = _moment(last_text, f"{rw}.last_transaction_at", errors) if last_text else None
        categories = _get(r, "transaction_categories", list, rw, errors, default=[])
        if not all(isinstance(c, str) for c in categories):
            errors.add(
                f"{rw}.transaction_categories",
                "문자열 목록이어야 합니다",
                "must be a list of strings",
            )
        recipient = policy.Recipient(
            ad_consent={k: v for k, v in consent.items() if isinstance(v, bool)},
            night_consent=_get(r, "night_consent", bool, rw, errors, default=False),
            opted_out=_get(r, "opted_out", bool, rw, errors, default=False),
            messages_last_24h=_count(r, "messages_last_24h", rw, errors),
            messages_last_30d=_count(r, "messages_last_30d", rw, errors),
            last_transaction_at=last,
            transaction_categories=tuple(c for c in categories if isinstance(c, str)),
        )

    shop = None
    s = _get(case, "shop", dict, where, errors, required=True)
    if s is not None:
        sw = f"{where}.shop"
        numbers = _get(s, "sender_numbers", list, sw, errors, required=True) or []
        if not all(isinstance(n, str) for n in numbers):
            errors.add(
                f"{sw}.sender_numbers", "문자열 목록이어야 합니다", "must be a list of strings"
            )
        shop = policy.ShopIdentity(
            name=_get(s, "name", str, sw, errors, required=True, default=""),
            phone=_get(s, "phone", str, sw, errors, required=True, default=""),
            optout_080=_get(s, "optout_080", str, sw, errors, default=""),
            sender_numbers=tuple(n for n in numbers if isinstance(n, str)),
            address=_get(s, "address", str, sw, errors, default=""),
            email=_get(s, "email", str, sw, errors, default=""),
            brand_mn_approved=_get(s, "brand_mn_approved", bool, sw, errors, default=False),
        )

    settings = policy.PolicySettings()
    st = _get(case, "settings", dict, where, errors)
    if st is not None:
        stw = f"{where}.settings"
        quiet = None
        q = _get(st, "quiet_hours", (list, type(None)), stw, errors)
        if q is not None:
            if len(q) != 2:
                errors.add(
                    f"{stw}.quiet_hours",
                    '["HH:MM", "HH:MM"] 형식이어야 합니다',
                    'must be ["HH:MM", "HH:MM"]',
                )
            else:
                start = _clock(q[0], f"{stw}.quiet_hours[0]", errors)
                end = _clock(q[1], f"{stw}.quiet_hours[1]", errors)
                quiet = (start, end) if start and end else None
        settings = policy.PolicySettings(
            ad_cap_24h=_count(st, "ad_cap_24h", stw, errors) if "ad_cap_24h" in st else 1,
            ad_cap_30d=_count(st, "ad_cap_30d", stw, errors) if "ad_cap_30d" in st else 4,
            quiet_hours=quiet,
            transaction_exception=_get(
                st, "transaction_exception", bool, stw, errors, default=False
            ),
        )

    if len(errors.items) > before or send_at is None or recipient is None or shop is None:
        return None
    message = policy.Message(
        channel=channel,
        kind=kind,
        body=body,
        subject=subject,
        send_at=send_at,
        sender=sender,
        product_category=category,
        unsubscribe_url=unsubscribe_url,
        targeting=targeting.upper(),
    )
    return message, recipient, shop, settings


def decision_json(decision) -> dict[str, Any]:
    return {
        "decision": decision.decision,
        "hold_until": decision.hold_until.isoformat() if decision.hold_until else None,
        "reasons": list(decision.reasons),
        "final_body": decision.final_body,
        "final_subject": decision.final_subject,
        "bytes": decision.bytes,
        "message_type": decision.message_type,
    }


def cmd_policy_check(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from dangol.messaging import policy

    cases = _read_cases(Path(args.file))
    errors = _Errors()
    parsed = []
    for index, case in enumerate(cases):
        parsed.append(_parse_case(case, index, errors))
        if len(errors.items) >= MAX_ERRORS:
            break
    if errors.items:
        shown = errors.items[:MAX_ERRORS]
        more = "" if len(shown) == len(errors.items) else " …"
        raise UserError(
            "사례 파일에 잘못된 값이 있습니다:\n  " + "\n  ".join(ko for ko, _ in shown) + more,
            "The cases file has invalid values:\n  " + "\n  ".join(en for _, en in shown) + more,
        )
    results = [decision_json(policy.evaluate(*p)) for p in parsed]

    table = Table(title=f"발송 정책 검사 / policy check: {len(results)} cases", show_lines=True)
    for heading, justify in (
        ("#", "right"),
        ("결정\ndecision", "left"),
        ("보류 해제\nhold until", "left"),
        ("유형\ntype", "left"),
        ("바이트\nbytes", "right"),
        ("사유\nreasons", "left"),
        ("최종 본문\nfinal text", "left"),
    ):
        table.add_column(heading, justify=justify)
    for index, r in enumerate(results):
        text = r["final_body"]
        if r["final_subject"]:
            text = f"[{r['final_subject']}]\n{text}"
        table.add_row(
            str(index),
            r["decision"],
            r["hold_until"] or "-",
            r["message_type"],
            str(r["bytes"]),
            escape("\n".join(r["reasons"]) or "-"),
            escape(text),
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    counts = {k: sum(r["decision"] == k for r in results) for k in ("send", "hold", "block")}
    print(
        f"발송 {counts['send']} · 보류 {counts['hold']} · 차단 {counts['block']} / "
        f"send {counts['send']}, hold {counts['hold']}, block {counts['block']}"
    )
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return 0
