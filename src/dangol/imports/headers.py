"""Which column is which: Korean and English headers mapped to the fields an import knows,
each with a confidence, and a manual override (a mapping, see ``presets/README.md``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from dangol.imports.report import Problem, shown

CUSTOMERS, PURCHASES, PRODUCTS = "customers", "purchases", "products"
KINDS = (CUSTOMERS, PURCHASES, PRODUCTS)

#: field → header words, most typical first. One table for all kinds; each kind picks its own.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "고객명",
        "이름",
        "성명",
        "회원명",
        "고객이름",
        "주문자",
        "주문자명",
        "name",
        "customer name",
        "customer",
    ),
    "phone": (
        "연락처",
        "휴대폰",
        "휴대폰번호",
        "전화번호",
        "핸드폰",
        "핸드폰번호",
        "휴대전화",
        "전화",
        "주문자연락처",
        "고객연락처",
        "phone",
        "mobile",
        "phone number",
        "tel",
    ),
    "email": ("이메일", "전자우편", "메일", "email", "e-mail"),
    "birthday": ("생년월일", "생일", "birthday", "birth date", "date of birth", "dob"),
    "gender": ("성별", "gender", "sex"),
    "joined_at": (
        "가입일",
        "가입일시",
        "등록일",
        "등록일시",
        "joined",
        "signup date",
        "created at",
    ),
    "points": ("포인트", "적립금", "잔여포인트", "points"),
    "member_no": ("회원번호", "멤버십번호", "member no", "member number"),
    "consent_marketing": (
        "마케팅수신동의",
        "마케팅동의",
        "광고수신동의",
        "수신동의",
        "marketing consent",
        "marketing opt-in",
    ),
    "consent_sms": ("sms수신동의", "문자수신동의", "sms동의", "sms consent", "sms opt-in"),
    "consent_kakao": ("카카오톡수신동의", "카카오수신동의", "알림톡수신동의", "kakao consent"),
    "consent_email": ("이메일수신동의", "메일수신동의", "email consent", "email opt-in"),
    "consent_at": ("수신동의일", "수신동의일시", "동의일", "동의일시", "consent date"),
    "occurred_at": (
        "결제일시",
        "거래일시",
        "주문일시",
        "판매일시",
        "결제일",
        "거래일자",
        "주문일",
        "판매일",
        "일시",
        "날짜",
        "일자",
        "date",
        "datetime",
        "order date",
        "paid at",
        "time",
    ),
    "external_id": (
        "주문번호",
        "승인번호",
        "거래번호",
        "영수증번호",
        "전표번호",
        "order id",
        "order no",
        "order number",
        "transaction id",
        "receipt no",
    ),
    "total": (
        "결제금액",
        "총액",
        "합계",
        "합계금액",
        "총결제금액",
        "실결제금액",
        "판매금액",
        "매출액",
        "주문금액",
        "금액",
        "total",
        "amount",
        "paid amount",
    ),
    "discount": ("할인", "할인금액", "할인액", "discount"),
    "product": (
        "상품명",
        "메뉴",
        "메뉴명",
        "품목",
        "품목명",
        "상품",
        "item",
        "product",
        "product name",
        "menu",
    ),
    "sku": ("상품코드", "품목코드", "메뉴코드", "바코드", "sku", "product code", "item code"),
    "quantity": ("수량", "개수", "qty", "quantity"),
    "unit_price": ("단가", "판매가", "가격", "정가", "unit price", "price"),
    "unit_cost": ("원가", "매입가", "unit cost", "cost"),
    "category": ("분류", "카테고리", "상품분류", "메뉴분류", "category"),
    "active": ("판매여부", "판매상태", "사용여부", "active", "on sale"),
    "store": ("매장", "매장명", "지점", "지점명", "가맹점", "store", "branch", "shop"),
    "status": ("상태", "결제상태", "주문상태", "거래상태", "구분", "거래구분", "status"),
}

KIND_FIELDS: dict[str, tuple[str, ...]] = {
    CUSTOMERS: (
        "name",
        "phone",
        "email",
        "birthday",
        "gender",
        "joined_at",
        "points",
        "member_no",
        "consent_marketing",
        "consent_sms",
        "consent_kakao",
        "consent_email",
        "consent_at",
        "store",
    ),
    PURCHASES: (
        "occurred_at",
        "external_id",
        "phone",
        "name",
        "total",
        "discount",
        "product",
        "sku",
        "quantity",
        "unit_price",
        "store",
        "status",
    ),
    PRODUCTS: ("sku", "name", "category", "unit_price", "unit_cost", "active"),
}
# In a product list "상품명" is the name and "판매가" the price.
_KIND_ALIASES = {PRODUCTS: {"product": "name"}}

REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    CUSTOMERS: (("name",), ("phone",)),
    PURCHASES: (("occurred_at",), ("total", "unit_price")),
    PRODUCTS: (("name",), ("unit_price",)),
}

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "name": ("이름", "name"),
    "phone": ("전화번호", "phone"),
    "email": ("이메일", "e-mail"),
    "birthday": ("생일", "birthday"),
    "gender": ("성별", "gender"),
    "joined_at": ("가입일", "joined"),
    "points": ("포인트", "points"),
    "member_no": ("회원번호", "member number"),
    "consent_marketing": ("마케팅 수신동의", "marketing consent"),
    "consent_sms": ("SMS 수신동의", "SMS consent"),
    "consent_kakao": ("카카오톡 수신동의", "KakaoTalk consent"),
    "consent_email": ("이메일 수신동의", "e-mail consent"),
    "consent_at": ("동의 일시", "consent date"),
    "occurred_at": ("거래 일시", "time of sale"),
    "external_id": ("주문번호", "order id"),
    "total": ("결제금액", "amount paid"),
    "discount": ("할인", "discount"),
    "product": ("상품명", "item"),
    "sku": ("상품코드", "SKU"),
    "quantity": ("수량", "quantity"),
    "unit_price": ("단가", "unit price"),
    "unit_cost": ("원가", "unit cost"),
    "category": ("분류", "category"),
    "active": ("판매여부", "on sale"),
    "store": ("매장", "store"),
    "status": ("상태", "status"),
}

EXACT, SIMILAR, PARTIAL, MANUAL = 1.0, 0.9, 0.6, 1.0
_NOISE = re.compile(r"[\s_\-./·:*]+|\((?:원|krw|필수|선택)\)|\[(?:원|krw|필수|선택)\]")


def header_key(text: str) -> str:
    """A header as compared: width-folded, lower-case, without spaces, units and marks."""
    folded = unicodedata.normalize("NFKC", text or "").casefold().strip().lstrip("\ufeff")
    return _NOISE.sub("", folded)


_KEYS = {f: tuple(header_key(w) for w in words) for f, words in SYNONYMS.items()}


@dataclass(frozen=True)
class ColumnMatch:
    index: int
    header: str
    field: str | None
    confidence: float
    via: str  # "exact" | "similar" | "partial" | "manual" | "none"


@dataclass
class Mapping:
    kind: str
    columns: list[ColumnMatch]
    problems: list[Problem] = field(default_factory=list)

    @cached_property
    def fields(self) -> dict[str, int]:
        return {c.field: c.index for c in self.columns if c.field}


def _guess(header: str, allowed: tuple[str, ...], kind: str) -> tuple[str | None, float, str]:
    """Exact synonym (1.0), the same after folding spaces/units/case (0.9), or a synonym inside
    a longer header (0.6); the longest matching word wins, so "SMS 수신동의" is not "수신동의"."""
    key = header_key(header)
    if not key:
        return None, 0.0, "none"
    plain = unicodedata.normalize("NFKC", header).strip().casefold()
    aliases = _KIND_ALIASES.get(kind, {})
    best: tuple[str | None, float, str] = (None, 0.0, "none")
    best_rank = (0.0, 0)
    for name, keys in _KEYS.items():
        target = aliases.get(name, name)
        if target not in allowed:
            continue
        for word, key_word in zip(SYNONYMS[name], keys, strict=True):
            if key == key_word:
                exact = plain == word.casefold()
                score, via = (EXACT, "exact") if exact else (SIMILAR, "similar")
            elif len(key_word) >= 2 and key_word in key:
                score, via = PARTIAL, "partial"
            else:
                continue
            if (score, len(key_word)) > best_rank:
                best_rank = (score, len(key_word))
                best = (target, score, via)
    return best


def header_map(
    *, kind: str, headers: list[str], overrides: dict[str, Any] | None = None, header_row: int = 1
) -> Mapping:
    """Guess every column, apply the overrides (header text → field, or None to ignore it),
    and report what cannot work: a field claimed twice by identical headers, missing
    required fields, an override naming an unknown field or column."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    allowed = KIND_FIELDS[kind]
    overrides = dict(overrides or {})
    problems: list[Problem] = []
    for header, target in overrides.items():
        if target is not None and target not in allowed:
            problems.append(
                Problem(
                    code="mapping_unknown_field",
                    ko=f"매핑에 알 수 없는 항목이 있습니다: {shown(header)} → {shown(target)}",
                    en=f"The mapping names an unknown field: {shown(header)} → {shown(target)}",
                    column=shown(header),
                )
            )
    if overrides and not set(overrides).intersection(headers):
        problems.append(
            Problem(
                code="mapping_not_matching",
                severity="warning",
                ko="매핑의 열 이름이 이 파일에 하나도 없습니다. 자동으로 찾은 열을 씁니다.",
                en="None of the mapping's columns is in this file; the guessed columns are used.",
            )
        )
    columns: list[ColumnMatch] = []
    for index, header in enumerate(headers):
        if header in overrides:
            target = overrides[header]
            ok = target is None or target in allowed
            columns.append(
                ColumnMatch(
                    index, header, target if ok else None, MANUAL if target else 0.0, "manual"
                )
            )
            continue
        name, score, via = _guess(header, allowed, kind)
        columns.append(ColumnMatch(index, header, name, score, via))
    columns = _resolve_clashes(columns, problems, header_row)
    if headers and not any(c.field for c in columns):
        problems.append(
            Problem(
                code="no_header",
                ko=f"{header_row}행이 머리글로 보이지 않습니다: 아는 열 이름이 하나도 없습니다 "
                f"({shown(', '.join(headers), 60)}). 첫 행에 열 이름을 넣거나 매핑을 주세요.",
                en=f"Row {header_row} does not look like a header: no known column names "
                f"({shown(', '.join(headers), 60)}). Put column names in the first row or give "
                "a mapping.",
                row=header_row,
            )
        )
        return Mapping(kind=kind, columns=columns, problems=problems)
    fields = {c.field for c in columns if c.field}
    for options in REQUIRED[kind]:
        if not fields.intersection(options):
            labels = [FIELD_LABELS[o] for o in options]
            problems.append(
                Problem(
                    code="missing_column",
                    ko=f"필요한 열이 없습니다: {' 또는 '.join(k for k, _ in labels)}",
                    en=f"A required column is missing: {' or '.join(e for _, e in labels)}",
                    row=header_row,
                )
            )
    return Mapping(kind=kind, columns=columns, problems=problems)


def _resolve_clashes(
    columns: list[ColumnMatch], problems: list[Problem], header_row: int
) -> list[ColumnMatch]:
    """Two columns for one field: identical headers are an error (which one is right cannot
    be known); otherwise the more confident one keeps the field and the other is ignored."""
    by_field: dict[str, list[ColumnMatch]] = {}
    for c in columns:
        if c.field:
            by_field.setdefault(c.field, []).append(c)
    result = list(columns)
    for name, claims in by_field.items():
        if len(claims) < 2:
            continue
        keys = [header_key(c.header) for c in claims]
        if len(set(keys)) < len(keys):
            ko_label, en_label = FIELD_LABELS[name]
            problems.append(
                Problem(
                    code="duplicate_header",
                    ko=f"같은 머리글이 {len(claims)}번 있습니다: {shown(claims[0].header)} "
                    f"({', '.join(str(c.index + 1) for c in claims)}열). 하나만 남기거나 매핑에서 "
                    f"어느 열이 {ko_label}인지 정하세요.",
                    en=f"The header {shown(claims[0].header)} appears {len(claims)} times (columns "
                    f"{', '.join(str(c.index + 1) for c in claims)}); keep one or say in the "
                    f"mapping which column is the {en_label}.",
                    row=header_row,
                    column=shown(claims[0].header),
                )
            )
        keep = max(claims, key=lambda c: (c.via == "manual", c.confidence, -c.index))
        for c in claims:
            if c is not keep:
                result[c.index] = ColumnMatch(c.index, c.header, None, 0.0, "none")
    return result


def mapping_overrides(*, spec: dict[str, Any] | None) -> dict[str, Any]:
    """The ``columns`` part of a mapping document, checked for shape."""
    if not spec:
        return {}
    if not isinstance(spec, dict):
        raise ValueError("mapping must be a JSON object")
    columns = spec.get("columns", {})
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in columns.items()
    ):
        raise ValueError('"columns" must map header text to a field name or null')
    return columns
