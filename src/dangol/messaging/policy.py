"""The policy gate: may this one message go now, and in what exact form?

The outbox calls ``evaluate`` at the moment of dispatch (never when a segment is built), with the
recipient's consent and counters as they are at that moment. The answer is one of:

- ``send``: go now, with ``final_body`` / ``final_subject`` exactly as returned (the gate has added
  the ``(광고)`` marker, the sender identity and the free opt-out where the law needs them);
- ``hold``: not now; ask again at ``hold_until`` (always a lawful moment for that channel);
- ``block``: never, for the reasons given.

``reasons`` lists stable machine-readable codes, both for what stopped or delayed the message and
for every change the gate made. A code may carry a detail after a colon
(``emoji_in_sms:U+1F600 😀``); the part before the colon never changes.

The rule numbers in the comments are the checklist numbers of compliance-kr §6. Pure Python:
no Django, no database; every time rule is in Asia/Seoul.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dangol.messaging import textbytes
from dangol.messaging.numbers import is_080 as _is_080
from dangol.messaging.numbers import phone_digits as _phone_digits

SEOUL = ZoneInfo("Asia/Seoul")

SEND, HOLD, BLOCK = "send", "hold", "block"
AD, INFO = "ad", "info"

CHANNELS = ("sms", "lms", "mms", "alimtalk", "brand", "email", "push")
SMS_FAMILY = frozenset({"sms", "lms", "mms"})
# Consent is recorded per channel family (rule 7: SMS, KakaoTalk, e-mail, push).
FAMILY = {
    "sms": "sms",
    "lms": "sms",
    "mms": "sms",
    "alimtalk": "kakao",
    "brand": "kakao",
    "email": "email",
    "push": "push",
}
FIXED_TYPE = {
    "mms": "MMS",
    "alimtalk": "ALIMTALK",
    "brand": "BRAND",
    "email": "EMAIL",
    "push": "PUSH",
}

AD_MARKER = "(광고)"
NIGHT_WINDOW = (time(21, 0), time(8, 0))  # ICNA 50③
BRAND_WINDOW = (time(20, 50), time(8, 0))  # Kakao Brand Message platform limit
ALIMTALK_MAX_CHARS = 1000
TRANSACTION_EXCEPTION_MONTHS = 6  # 시행령 61①
BRAND_TARGETING = frozenset({"I", "M", "N"})

# Words that make a message promotional whatever its author called it (rule 1: a mixed message
# is an ad; Kakao's test: 특가/할인, 프로모션/이벤트, or an informational form mixing them in).
PROMO_WORDS = ("할인", "특가", "세일", "이벤트", "프로모션", "증정")
# A coupon is information only when it was earned and the message says why (Kakao 2026-04
# policy, rule 20): a line starting with "※" gives that basis.
COUPON_WORDS = ("쿠폰",)

# Rule 11: anything at the start that looks like an ad marker but is not exactly "(광고)".
_MARKER_LIKE = re.compile(
    r"""^\s*[\[(（【〔<《「『{]\s*["'“”‘’]?[^\])）】〕>》」』}]{0,6}?광\W*고"""
)
_FOOTER_LINE = re.compile(r"\s*무료(?:수신)?거부\s*:?\s*[\d\-\s.]*$")

# Reason codes. A message is blocked if any BLOCK code is present, else held if any HOLD code is.
BLOCK_CODES = frozenset(
    {
        "unknown_channel",
        "empty_body",
        "opted_out",
        "no_ad_consent",
        "ad_on_alimtalk",
        "brand_targeting_not_approved",
        "frequency_cap_24h",
        "frequency_cap_30d",
        "ad_marker_variant",
        "no_shop_name",
        "no_shop_phone",
        "no_optout_080",
        "no_email_footer_details",
        "no_unsubscribe_link",
        "unregistered_sender",
        "emoji_in_sms",
        "char_not_in_cp949",
        "body_too_long",
        "subject_too_long",
        "alimtalk_too_long",
        "no_lawful_send_time",
    }
)
HOLD_CODES = frozenset({"night_hold", "kakao_brand_window_hold", "quiet_hours_hold"})
NOTE_CODES = frozenset(
    {
        "kind_treated_as_ad",
        "promo_words_in_info",
        "marked_as_ad_in_body",
        "transaction_exception_applied",
        "night_consent_applied",
        "added_ad_marker",
        "added_optout_footer",
        "added_ad_marker_to_subject",
        "added_email_footer",
        "sms_too_long_became_lms",
        "subject_requires_lms",
        "char_outside_ks_x_1001",
    }
)
REASON_CODES = BLOCK_CODES | HOLD_CODES | NOTE_CODES


@dataclass(frozen=True)
class Recipient:
    # Ad consent per channel family: "sms", "kakao", "email", "push". A missing family is "no".
    ad_consent: Mapping[str, bool]
    night_consent: bool = False  # separate consent to ads 21:00–08:00 (ICNA 50③)
    opted_out: bool = False  # refused ads / withdrew consent (080, link, in store): ICNA 50②
    # Ads already sent to this recipient (any channel) in the 24 h / 30 days before send_at.
    messages_last_24h: int = 0
    messages_last_30d: int = 0
    # For the 6-month transaction exception (rule 3): the end of the last purchase in which the
    # shop collected this contact directly from the recipient, and the product categories bought.
    last_transaction_at: datetime | None = None
    transaction_categories: Collection[str] = ()


@dataclass(frozen=True)
class ShopIdentity:
    name: str
    phone: str
    optout_080: str
    sender_numbers: Sequence[str]
    # E-mail ads (rule 14) also need these in the footer.
    address: str = ""
    email: str = ""
    # Brand Message to non-friends (targeting M/N) needs Kakao's approval of the channel (rule 22).
    brand_mn_approved: bool = False


@dataclass(frozen=True)
class Message:
    channel: str  # sms | lms | mms | alimtalk | brand | email | push
    kind: str  # ad | info; anything else is treated as an ad
    body: str
    subject: str = ""  # LMS/MMS subject, e-mail subject, push title
    send_at: datetime = field(kw_only=True)  # timezone-aware; required (keyword only)
    sender: str = ""  # the caller number for the SMS family
    product_category: str = ""  # for the transaction exception (rule 3)
    unsubscribe_url: str = ""  # e-mail: the no-login one-click unsubscribe link (rule 14)
    targeting: str = "I"  # Brand Message: I (friends), M or N (rule 22)


@dataclass(frozen=True)
class PolicySettings:
    ad_cap_24h: int = 1
    ad_cap_30d: int = 4
    quiet_hours: tuple[time, time] | None = None  # the shop's own quiet hours, Seoul time
    transaction_exception: bool = False  # rule 3 is off unless the shop maps categories


@dataclass(frozen=True)
class Decision:
    decision: str  # send | hold | block
    hold_until: datetime | None
    reasons: tuple[str, ...]
    final_body: str
    final_subject: str
    bytes: int  # CP949 bytes of final_body for the SMS family, UTF-8 bytes otherwise
    message_type: str  # SMS | LMS | MMS | ALIMTALK | BRAND | EMAIL | PUSH ("" if unknown)

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes without their details."""
        return tuple(r.split(":", 1)[0] for r in self.reasons)


def evaluate(
    message: Message,
    recipient: Recipient,
    shop: ShopIdentity,
    settings: PolicySettings | None = None,
) -> Decision:
    settings = settings or PolicySettings()
    if message.send_at.tzinfo is None or message.send_at.utcoffset() is None:
        raise ValueError("send_at must be timezone-aware")
    channel = message.channel
    reasons: list[str] = []

    if channel not in FAMILY:
        return Decision(BLOCK, None, ("unknown_channel",), message.body, message.subject, 0, "")
    if not message.body.strip():
        reasons.append("empty_body")

    is_ad = _classify(message, reasons)  # rule 1
    if is_ad:
        _check_consent(message, recipient, settings, reasons)  # rules 2, 3, 4
        if channel == "alimtalk":
            reasons.append("ad_on_alimtalk")  # rule 20: AlimTalk carries information only
        # Frequency caps: ads only; information is exempt. Over the cap ⇒ block, not hold.
        if recipient.messages_last_24h >= settings.ad_cap_24h:
            reasons.append("frequency_cap_24h")
        if recipient.messages_last_30d >= settings.ad_cap_30d:
            reasons.append("frequency_cap_30d")
    if channel == "brand" and message.targeting.upper() != "I" and not shop.brand_mn_approved:
        reasons.append("brand_targeting_not_approved")  # rule 22

    body, subject = _final_text(message, shop, is_ad, reasons)  # rules 11–15

    if channel in SMS_FAMILY:
        # Rule 19: only pre-registered caller numbers (전기통신사업법 84조의2).
        registered = {_phone_digits(n) for n in shop.sender_numbers}
        if not message.sender.strip() or _phone_digits(message.sender) not in registered:
            reasons.append("unregistered_sender")
        message_type, size = _sms_type(message, body, subject, reasons)  # rule 23
    else:
        message_type, size = FIXED_TYPE[channel], len(body.encode("utf-8"))
        if channel == "alimtalk" and len(body) > ALIMTALK_MAX_CHARS:
            reasons.append("alimtalk_too_long")

    hold_until = _lawful_time(message, recipient, settings, is_ad, reasons)  # rules 5, 6

    codes = {r.split(":", 1)[0] for r in reasons}
    if codes & BLOCK_CODES:
        verdict, hold_until = BLOCK, None
    elif hold_until is not None:
        verdict = HOLD
    else:
        verdict = SEND
    return Decision(verdict, hold_until, tuple(reasons), body, subject, size, message_type)


# --- rule 1: AD or INFO ---


def _classify(message: Message, reasons: list[str]) -> bool:
    kind = message.kind.strip().lower()
    if kind not in (AD, INFO):
        reasons.append("kind_treated_as_ad")  # rule 1: unknown ⇒ AD
        return True
    if kind == AD:
        return True
    text = f"{message.subject}\n{message.body}"
    if message.body.lstrip().startswith(AD_MARKER) or _MARKER_LIKE.match(message.body):
        reasons.append("marked_as_ad_in_body")  # the text says it is an ad: believe the text
        return True
    words = [w for w in PROMO_WORDS if w in text]
    has_basis = any(line.strip().startswith("※") for line in message.body.splitlines())
    if not has_basis:
        words += [w for w in COUPON_WORDS if w in text]
    if words:
        reasons.append("promo_words_in_info:" + ",".join(words))  # rule 1: mixed ⇒ AD
        return True
    return False


# --- rules 2, 3, 4: consent ---


def _check_consent(
    message: Message, recipient: Recipient, settings: PolicySettings, reasons: list[str]
) -> None:
    if recipient.opted_out:
        # Rule 4 (ICNA 50②): a refusal beats consent and the transaction exception alike.
        reasons.append("opted_out")
        return
    if recipient.ad_consent.get(FAMILY[message.channel]) is True:  # rule 2, per channel family
        return
    if _transaction_exception(message, recipient, settings):  # rule 3
        reasons.append("transaction_exception_applied")
        return
    reasons.append("no_ad_consent")


def _transaction_exception(
    message: Message, recipient: Recipient, settings: PolicySettings
) -> bool:
    """ICNA 50①1 / 시행령 61①: same kind of goods, within 6 months of the purchase."""
    last = recipient.last_transaction_at
    if not settings.transaction_exception or last is None or last.tzinfo is None:
        return False
    if not message.product_category or message.product_category not in set(
        recipient.transaction_categories
    ):
        return False
    local = last.astimezone(SEOUL)
    return last <= message.send_at <= _add_months(local, TRANSACTION_EXCEPTION_MONTHS)


def _add_months(moment: datetime, months: int) -> datetime:
    years, month0 = divmod(moment.month - 1 + months, 12)
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


# --- rules 11–15: the required text ---


def _final_text(
    message: Message, shop: ShopIdentity, is_ad: bool, reasons: list[str]
) -> tuple[str, str]:
    body, subject = message.body, message.subject
    if not is_ad or message.channel == "alimtalk":
        return body, subject
    name, phone = shop.name.strip(), shop.phone.strip()
    # Rule 12: the sender's name and contact are mandatory in every ad (ICNA 50④1).
    if not name:
        reasons.append("no_shop_name")
    if not phone:
        reasons.append("no_shop_phone")
    if message.channel == "email":
        return _email_text(message, shop, reasons)

    stripped = body.lstrip()
    if not stripped.startswith(AD_MARKER) and _MARKER_LIKE.match(stripped):
        reasons.append("ad_marker_variant")  # rule 11: [광고], (광 고), (대출광고)… are unlawful
    core = _strip_own_marking(body, shop)

    optout = shop.optout_080.strip()
    if not _is_080(optout):
        reasons.append("no_optout_080")  # rule 13: block without the shop's own 080 number
    contact = phone
    if message.channel in SMS_FAMILY and _phone_digits(phone) == _phone_digits(message.sender):
        contact = ""  # 별표 6: the contact may be left out when it is the caller number
    header = AD_MARKER + " ".join(p for p in (name, contact) if p)  # rules 11, 12
    footer = f"무료수신거부 {optout}" if optout else ""  # rule 13
    final = "\n".join(p for p in (header, core, footer) if p)
    reasons.append("added_ad_marker")
    if footer:
        reasons.append("added_optout_footer")
    if message.channel == "push" and subject.strip() and not subject.startswith(AD_MARKER):
        subject = f"{AD_MARKER} {subject}"  # rule 15: the push title starts with (광고) too
        reasons.append("added_ad_marker_to_subject")
    return final, subject


def _strip_own_marking(body: str, shop: ShopIdentity) -> str:
    """The body without a marker and footer the author already typed, so they are not doubled."""
    text = body.strip()
    if text.startswith(AD_MARKER):
        text = text[len(AD_MARKER) :].lstrip()
        name = shop.name.strip()
        if name and text.startswith(name):
            text = text[len(name) :].lstrip(" ")
            phone = shop.phone.strip()
            if phone and text.startswith(phone):
                text = text[len(phone) :]
        text = text.strip()
    lines = text.split("\n")
    if len(lines) > 1 and _FOOTER_LINE.fullmatch(lines[-1]):
        text = "\n".join(lines[:-1]).rstrip()
    return text


def _email_text(message: Message, shop: ShopIdentity, reasons: list[str]) -> tuple[str, str]:
    """Rule 14: "(광고)" starts the subject; the footer names the sender and how to opt out."""
    subject = message.subject.strip()
    if not subject.startswith(AD_MARKER):
        subject = f"{AD_MARKER} {subject}".rstrip()
        reasons.append("added_ad_marker_to_subject")
    if not shop.address.strip() or not shop.email.strip():
        missing = [k for k in ("address", "email") if not getattr(shop, k).strip()]
        reasons.append("no_email_footer_details:" + ",".join(missing))
    url = message.unsubscribe_url.strip()
    if not url:
        reasons.append("no_unsubscribe_link")
    who = " | ".join(
        p
        for p in (shop.name.strip(), shop.address.strip(), shop.phone.strip(), shop.email.strip())
        if p
    )
    footer = (
        f"보낸 곳 / Sender: {who}\n"
        "더 이상 광고 메일을 받지 않으시려면 로그인 없이 아래 링크에서 수신거부하실 수 있습니다.\n"
        f"수신거부 / Unsubscribe: {url}"
    )
    reasons.append("added_email_footer")
    return f"{message.body.rstrip()}\n\n---\n{footer}", subject


# --- rule 23: bytes and characters ---


def _sms_type(message: Message, body: str, subject: str, reasons: list[str]) -> tuple[str, int]:
    problems = textbytes.check(body + subject)
    for ch in problems.emoji:
        reasons.append(f"emoji_in_sms:{textbytes.describe(ch)}")
    for ch in problems.not_cp949:
        reasons.append(f"char_not_in_cp949:{textbytes.describe(ch)}")
    for ch in problems.outside_ks_x_1001:
        reasons.append(f"char_outside_ks_x_1001:{textbytes.describe(ch)}")  # flag only (§3.3)
    size = textbytes.cp949_bytes(body)
    if message.channel == "mms":
        message_type = "MMS"
    elif size <= textbytes.SMS_MAX_BYTES and not subject:
        message_type = "SMS"
    else:
        message_type = "LMS"
        if message.channel == "sms":
            reasons.append(
                "sms_too_long_became_lms"
                if size > textbytes.SMS_MAX_BYTES
                else "subject_requires_lms"
            )
    if size > textbytes.LMS_MAX_BYTES:
        reasons.append(f"body_too_long:{size}")
    subject_bytes = textbytes.cp949_bytes(subject)
    if subject_bytes > textbytes.SUBJECT_MAX_BYTES:
        reasons.append(f"subject_too_long:{subject_bytes}")
    return message_type, size


# --- rules 5, 6 and quiet hours: when ---


def _windows(
    message: Message, recipient: Recipient, settings: PolicySettings, is_ad: bool
) -> list[tuple[str, tuple[time, time]]]:
    """The daily windows (Seoul time, [start, end)) in which this message may not go."""
    windows: list[tuple[str, tuple[time, time]]] = []
    # Rule 5 (ICNA 50③): ads 21:00–08:00 need a separate night consent; e-mail is exempt
    # (시행령 61②); AlimTalk never carries ads.
    if is_ad and message.channel != "email" and not recipient.night_consent:
        windows.append(("night_hold", NIGHT_WINDOW))
    # Rule 6: Kakao does not deliver Brand Messages 20:50–08:00, whatever the consent.
    if message.channel == "brand":
        windows.append(("kakao_brand_window_hold", BRAND_WINDOW))
    # The shop's own quiet hours cover its ads (information such as a reservation is exempt).
    if is_ad and settings.quiet_hours and settings.quiet_hours[0] != settings.quiet_hours[1]:
        windows.append(("quiet_hours_hold", settings.quiet_hours))
    return windows


def in_window(moment: datetime, window: tuple[time, time]) -> bool:
    start, end = window
    t = moment.astimezone(SEOUL).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def _window_end(moment: datetime, window: tuple[time, time]) -> datetime:
    local = moment.astimezone(SEOUL)
    day: date = local.date()
    end = window[1]
    if local.time().replace(tzinfo=None) >= end:
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=SEOUL)


def _lawful_time(
    message: Message,
    recipient: Recipient,
    settings: PolicySettings,
    is_ad: bool,
    reasons: list[str],
) -> datetime | None:
    """The first moment at or after send_at outside every window, or None if that is now.

    Every hold ends at a lawful moment: if a window's end falls inside another window (the shop's
    quiet hours until 09:00 after the night window), the hold moves on to that one's end too.
    """
    windows = _windows(message, recipient, settings, is_ad)
    if (
        is_ad
        and message.channel != "email"
        and recipient.night_consent
        and in_window(message.send_at, NIGHT_WINDOW)
    ):
        reasons.append("night_consent_applied")
    moment = message.send_at
    held: list[str] = []
    for _ in range(3 * len(windows) + 3):
        inside = [(code, window) for code, window in windows if in_window(moment, window)]
        if not inside:
            reasons.extend(held)
            return moment if held else None
        held.extend(code for code, _ in inside if code not in held)
        moment = max(_window_end(moment, window) for _, window in inside)
    reasons.extend(held)
    reasons.append("no_lawful_send_time")  # the shop's quiet hours leave no lawful moment
    return None


# --- helpers ---


def fallback_message(message: Message, sender: str) -> Message:
    """The SMS/LMS that replaces a Kakao message the recipient cannot get (rule 21).

    The fallback is evaluated by ``evaluate`` like any other SMS: an ad fallback gets its own
    (광고) marker and 080 footer and obeys the night window, and ``sender`` must be registered.
    """
    return replace(message, channel="sms", subject="", sender=sender, targeting="I")


# --- rules 9 and 10: the notices consent changes require ---

RESULT_NOTICE_DAYS = 14  # 시행령 62조의2
CONFIRMATION_YEARS = 2  # 시행령 62조의3
CHANGE_LABELS = {"consent": "수신동의", "refusal": "수신거부", "withdrawal": "수신동의 철회"}
FAMILY_LABELS = {"sms": "문자(SMS)", "kakao": "카카오톡", "email": "이메일", "push": "앱 푸시"}


def _korean_date(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = day.astimezone(SEOUL).date()
    return f"{day.year}년 {day.month}월 {day.day}일"


def result_notice_deadline(requested_at: datetime) -> datetime:
    """Rule 9: the result of a consent, refusal or withdrawal must be told within 14 days."""
    return requested_at + timedelta(days=RESULT_NOTICE_DAYS)


def result_notice_text(
    shop: ShopIdentity, *, change: str, family: str, requested_at: datetime, result: str = ""
) -> str:
    """Rule 9 (ICNA 50⑦, 시행령 62조의2): sender name, what changed and when, and the result.

    Send it as ``kind="info"``: it is not an ad, so it goes even to someone who just opted out.
    """
    label = CHANGE_LABELS[change]
    channel = FAMILY_LABELS[family]
    result = result or f"요청하신 대로 {label} 처리가 완료되었습니다."
    return (
        f"[{shop.name}] 광고성 정보 {label} 처리 결과 안내\n"
        f"전송자: {shop.name}\n"
        f"내용: {channel} 광고성 정보 {label}\n"
        f"요청일: {_korean_date(requested_at)}\n"
        f"처리 결과: {result}"
    )


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February: the earlier day keeps the notice on time
        return day.replace(year=day.year + years, day=28)


def confirmation_deadline(consent_on: date, today: date) -> date:
    """Rule 10: the next date before which the 2-yearly confirmation must have gone out.

    시행령 62조의3①: every 2 years from the consent date, "before the same day" of that year.
    A fresh consent is a new ``consent_on``; a confirmation notice does not move the cycle.
    """
    k = 1
    while (deadline := _years_later(consent_on, CONFIRMATION_YEARS * k)) <= today:
        k += 1
    return deadline


def confirmation_overdue(consent_on: date, last_notice_on: date | None, today: date) -> bool:
    """True when a 2-year deadline has passed with no notice sent in that cycle (alert the shop)."""
    passed = [
        d
        for k in range(1, (today.year - consent_on.year) // CONFIRMATION_YEARS + 2)
        if (d := _years_later(consent_on, CONFIRMATION_YEARS * k)) <= today
    ]
    if not passed:
        return False
    cycle_start = _years_later(consent_on, CONFIRMATION_YEARS * (len(passed) - 1))
    return last_notice_on is None or last_notice_on < cycle_start


def confirmation_notice_text(shop: ShopIdentity, *, family: str, consent_on: date) -> str:
    """Rule 10 (시행령 62조의3②): sender name, the consent and its date, how to keep or withdraw."""
    channel = FAMILY_LABELS[family]
    how = f"무료수신거부 {shop.optout_080}" if shop.optout_080.strip() else f"전화 {shop.phone}"
    return (
        f"[{shop.name}] 광고성 정보 수신동의 확인 안내\n"
        f"전송자: {shop.name}\n"
        f"고객님은 {_korean_date(consent_on)}에 {channel} 광고성 정보 수신에 동의하셨습니다.\n"
        "계속 받으시려면 아무것도 하지 않으셔도 됩니다. "
        f"수신을 원하지 않으시면 {how}(으)로 철회하실 수 있습니다."
    )
