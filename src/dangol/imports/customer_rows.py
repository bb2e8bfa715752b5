"""Customer files → customers (matched by the phone's blind index) and consent evidence.

A consent column is evidence, never a default: a blank grants nothing, "N" records a refusal,
"Y" records a grant only where the customer has no consent of that kind on record yet, so an
old export can never undo an opt-out made since (compliance-kr.md, rules 2 and 8).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from dangol.customers.models import ConsentKind, ConsentSource, CreatedVia, Customer
from dangol.customers.selectors import consent_states
from dangol.customers.services import (
    ConsentInput,
    CustomerInput,
    consent_bulk_record,
    customer_bulk_create,
    phone_blind_index,
    phone_blind_indexes,
)
from dangol.imports.context import CHUNK, Context, store_for
from dangol.imports.decoding import RawRow
from dangol.imports.report import WARNING, Problem, shown
from dangol.imports.values import (
    ValueProblem,
    clean_text,
    is_month_day,
    parse_consent,
    parse_date,
    parse_datetime,
    parse_gender,
    parse_phone,
)
from dangol.shops.models import Store

AD_KINDS = (ConsentKind.AD_SMS, ConsentKind.AD_KAKAO, ConsentKind.AD_EMAIL, ConsentKind.AD_PUSH)
#: column → (kinds a "Y" grants, kinds an "N" refuses). A generic marketing consent is taken as
#: marketing use plus SMS ads (what Korean POS sign-up forms ask); KakaoTalk and e-mail need
#: their own column. Its refusal covers every channel.
CONSENT_COLUMNS = {
    "consent_marketing": (
        (ConsentKind.PIPA_MARKETING, ConsentKind.AD_SMS),
        (ConsentKind.PIPA_MARKETING, *AD_KINDS),
    ),
    "consent_sms": ((ConsentKind.AD_SMS,), (ConsentKind.AD_SMS,)),
    "consent_kakao": ((ConsentKind.AD_KAKAO,), (ConsentKind.AD_KAKAO,)),
    "consent_email": ((ConsentKind.AD_EMAIL,), (ConsentKind.AD_EMAIL,)),
}


@dataclass
class Person:
    row: int
    data: CustomerInput
    consents: dict[str, bool]  # kind → granted
    consent_at: dt.datetime | None


class CustomerWriter:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen: dict[str, int] = {}  # E.164 → first row
        self.evidence = f"import:{ctx.file_name}"[:200]
        self.stores = {s.pk: s for s in Store.objects.for_shop(ctx.shop)}
        if ctx.has("consent_marketing"):
            ctx.report.add(
                Problem(
                    code="consent_generic",
                    severity=WARNING,
                    ko="'마케팅 수신동의'는 마케팅 활용 동의와 문자(SMS) 광고 동의로 기록합니다. "
                    "카카오톡·이메일 광고 동의는 따로 된 열이 있을 때만 기록합니다.",
                    en="A generic marketing consent is recorded as marketing use and SMS ads; "
                    "KakaoTalk and e-mail ad consent only come from their own columns.",
                    column=shown(ctx.header("consent_marketing")),
                )
            )
        for ignored in ("points", "member_no"):
            if ctx.has(ignored):
                ctx.report.add(
                    Problem(
                        code="column_not_imported",
                        severity=WARNING,
                        ko="이 열은 고객 가져오기에서 쓰지 않습니다 "
                        "(포인트는 적립 화면에서 옮기세요).",
                        en="This column is not imported with customers (move points in loyalty).",
                        column=shown(ctx.header(ignored)),
                    )
                )

    def _parse(self, raw: RawRow, name: str, parse):
        text = self.ctx.cell(raw, name)
        if not text:
            return None
        try:
            return parse(text)
        except ValueProblem as exc:
            self.ctx.problem(raw, name, exc)
            return None

    def person_from(self, raw: RawRow) -> Person | None:
        ctx = self.ctx
        errors = ctx.report.errors
        try:
            name = clean_text(ctx.cell(raw, "name"), limit=100, label_ko="이름", label_en="name")
            email = clean_text(
                ctx.cell(raw, "email"), limit=200, label_ko="이메일", label_en="e-mail"
            )
        except ValueProblem as exc:
            ctx.problem(raw, "name", exc)
            return None
        if not name:
            ctx.problem(
                raw,
                "name",
                ValueProblem("name_missing", "이름이 비어 있습니다.", "The name is empty."),
            )
        if email and ("@" not in email or " " in email):
            ctx.problem(
                raw,
                "email",
                ValueProblem("email_invalid", "이메일 형식이 아닙니다.", "Not an e-mail address."),
            )
        phone = self._parse(raw, "phone", parse_phone)
        if phone is None and not ctx.cell(raw, "phone"):
            ctx.problem(
                raw,
                "phone",
                ValueProblem(
                    "phone_missing", "전화번호가 비어 있습니다.", "The phone number is empty."
                ),
            )
        birthday = None
        if is_month_day(ctx.cell(raw, "birthday")):
            ctx.problem(
                raw,
                "birthday",
                ValueProblem(
                    "birthday_no_year",
                    "생일에 연도가 없어 생일은 가져오지 않습니다.",
                    "The birthday has no year, so it is not imported.",
                ),
                severity=WARNING,
            )
        else:
            birthday = self._parse(raw, "birthday", parse_date)
        gender = self._parse(raw, "gender", parse_gender) or ""
        joined = self._parse(raw, "joined_at", parse_datetime)
        consent_at = self._parse(raw, "consent_at", parse_datetime)
        store_id = store_for(ctx=ctx, raw=raw) if ctx.has("store") else None
        grants: set[str] = set()
        refusals: set[str] = set()
        for column, (on_yes, on_no) in CONSENT_COLUMNS.items():
            answer = self._parse(raw, column, parse_consent)
            if answer is True:
                grants.update(on_yes)
            elif answer is False:
                refusals.update(on_no)
        if ctx.report.errors > errors or phone is None:
            return None
        first = self.seen.get(phone)
        if first is not None:
            ctx.problem(
                raw,
                "phone",
                ValueProblem(
                    "duplicate_row",
                    f"{first}행과 전화번호가 같습니다 (중복 고객).",
                    f"Same phone as row {first} (a duplicate customer).",
                ),
            )
            return None
        self.seen[phone] = raw.number
        # A refusal anywhere in the row wins over a grant of the same kind.
        consents = {k: True for k in grants - refusals} | {k: False for k in refusals}
        data = CustomerInput(
            name=name,
            phone=phone,
            email=email,
            birthday=birthday,
            gender=gender,
            created_at=ctx.local(joined) if joined else None,
            home_store=self.stores.get(store_id),
        )
        return Person(raw.number, data, consents, ctx.local(consent_at) if consent_at else None)

    def _people(self, rows: Iterator[RawRow]) -> Iterator[Person]:
        for raw in rows:
            self.ctx.counts["rows"] += 1
            if self.ctx.progress and self.ctx.counts["rows"] % 1000 == 0:
                self.ctx.progress(self.ctx.counts["rows"])
            if raw.problem:
                self.ctx.report.add(raw.problem)
                continue
            person = self.person_from(raw)
            if person:
                yield person

    def write(self, rows: Iterator[RawRow]) -> None:
        chunk: list[Person] = []
        for person in self._people(rows):
            chunk.append(person)
            if len(chunk) >= CHUNK:
                self._flush(chunk)
                chunk = []
        self._flush(chunk)

    def _flush(self, people: list[Person]) -> None:
        if not people or not self.ctx.writing:
            return
        shop = self.ctx.shop
        bidx = {phone_blind_index(shop_id=shop.pk, phone_e164=p.data.phone): p for p in people}
        # Look up under every blind-index key, so a key rotation in progress finds everyone.
        lookup = {
            index: current
            for current, p in bidx.items()
            for index in phone_blind_indexes(shop_id=shop.pk, phone_e164=p.data.phone)
        }
        existing: dict[str, Customer] = {}
        for c in Customer.objects.for_shop(shop).filter(phone_bidx__in=list(lookup)):
            existing.setdefault(lookup[c.phone_bidx], c)
        new = [p for b, p in bidx.items() if b not in existing]
        created = customer_bulk_create(
            shop=shop, rows=[p.data for p in new], created_via=CreatedVia.IMPORT
        )
        self.ctx.counts["customers_created"] += len(created)
        self.ctx.counts["customers_existing"] += len(existing)
        owners = {p.row: c for p, c in zip(new, created, strict=True)}
        owners |= {bidx_p.row: existing[b] for b, bidx_p in bidx.items() if b in existing}
        self._consents(people, owners)

    def _consents(self, people: list[Person], owners: dict[int, Customer]) -> None:
        with_consent = [p for p in people if p.consents]
        states = consent_states(
            shop=self.ctx.shop, customer_ids=[owners[p.row].pk for p in with_consent]
        )
        items = []
        for person in with_consent:
            customer = owners[person.row]
            for kind, granted in sorted(person.consents.items()):
                current = states[customer.pk].get(kind)
                if current is granted:
                    continue
                if granted and current is False:
                    self.ctx.report.add(
                        Problem(
                            code="consent_optout_kept",
                            severity=WARNING,
                            row=person.row,
                            column=shown(kind),
                            ko="이 고객은 이미 수신을 거부했습니다. "
                            "파일의 동의로 되돌리지 않습니다.",
                            en="This customer refused earlier; "
                            "the file's consent does not undo it.",
                        )
                    )
                    continue
                items.append(
                    (
                        customer,
                        ConsentInput(
                            kind=kind,
                            granted=granted,
                            source=ConsentSource.IMPORT,
                            occurred_at=person.consent_at or self.ctx.now,
                            evidence=self.evidence,
                            wording_version="import",
                        ),
                    )
                )
        self.ctx.counts["consents_recorded"] += consent_bulk_record(items=items)
