"""Properties of the policy gate over random consent × time × channel × kind × caps × body.

The oracle below restates, independently and as plainly as possible, when the law or the
platform forbids a message (compliance-kr §6). The gate must agree with it exactly: block when a
standing rule forbids it, hold when only the clock does, send otherwise; and every hold must end
at the first lawful moment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangol.messaging.policy import (
    SEOUL,
    Message,
    PolicySettings,
    Recipient,
    ShopIdentity,
    evaluate,
)

REGISTERED = "010-1234-5678"
SENDERS = [REGISTERED] * 12 + ["+82 10-1234-5678", "010-0000-0000", ""]
CHANNELS = ["sms", "lms", "mms", "alimtalk", "brand", "email", "push"]
FAMILY = {"sms": "sms", "lms": "sms", "mms": "sms", "alimtalk": "kakao", "brand": "kakao"}
FAMILY |= {"email": "email", "push": "push"}
PROMO = ("할인", "특가", "세일", "이벤트", "프로모션", "증정")

# No syllable here can form a promotional word or "광고" by accident.
SAFE = "가나다라마바사아자차카타파하딸기떼커피 !%0123456789abcxyz\n"
ODD = "똠뷁😀☕é"  # outside KS X 1001 (sent, flagged) / emoji / not in CP949 (blocked in SMS)


def mostly(value, other=None, n: int = 9):
    """``value`` nine times in ten, else ``other`` (the opposite of a boolean)."""
    return st.sampled_from([value] * n + [(not value) if other is None else other])


# Moments near the edges of the windows are where mistakes hide.
EDGES = [time(7, 59, 59), time(8), time(20, 49, 59), time(20, 50), time(20, 59, 59), time(21)]


@st.composite
def moments(draw) -> datetime:
    day = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
    clock = draw(
        st.one_of(
            st.times(),
            st.sampled_from(EDGES),
            st.builds(time, st.integers(0, 23), st.integers(0, 59)),
        )
    )
    local = datetime.combine(day, clock, tzinfo=SEOUL)
    zone = draw(st.sampled_from([SEOUL, UTC, timezone(timedelta(hours=-8))]))
    return local.astimezone(zone)


@st.composite
def bodies(draw) -> str:
    core = draw(
        st.one_of(
            st.text(alphabet=SAFE, min_size=1, max_size=60),
            st.text(alphabet=SAFE, min_size=1, max_size=60),
            st.text(alphabet=SAFE, min_size=1, max_size=60),
            st.text(alphabet=SAFE + ODD, max_size=60),
            st.text(alphabet=SAFE, min_size=30, max_size=1100),
        )
    )
    prefix = draw(st.sampled_from([""] * 12 + ["(광고)", "[광고] "]))
    extra = draw(st.sampled_from([""] * 12 + [" 10% 할인", " 쿠폰 도착", "\n※ 구매 적립 쿠폰"]))
    return prefix + core + extra


@st.composite
def cases(draw):
    channel = draw(st.sampled_from(CHANNELS))
    message = Message(
        channel=channel,
        kind=draw(st.sampled_from(["ad"] * 6 + ["info"] * 4 + ["INFO", "mixed", ""])),
        body=draw(bodies()),
        subject=draw(st.sampled_from([""] * 12 + ["봄 소식"] * 3 + ["가" * 21, "공지 📢"])),
        send_at=draw(moments()),
        sender=draw(st.sampled_from(SENDERS)),
        unsubscribe_url=draw(mostly("https://dangol.example/u/x1", "")),
        targeting=draw(mostly("I", "M")),
    )
    recipient = Recipient(
        ad_consent=draw(
            st.fixed_dictionaries({f: mostly(True) for f in ("sms", "kakao", "email", "push")})
        ),
        night_consent=draw(st.booleans()),
        opted_out=draw(mostly(False)),
        messages_last_24h=draw(st.sampled_from([0] * 12 + [1, 2, 3])),
        messages_last_30d=draw(st.sampled_from([0] * 8 + [1, 2, 3, 4, 5, 6])),
    )
    shop = ShopIdentity(
        name=draw(mostly("단골커피", "")),
        phone=draw(st.sampled_from(["02-123-4567"] * 8 + [REGISTERED] * 4 + [""])),
        optout_080=draw(st.sampled_from(["080-123-4567"] * 12 + ["", "02-765-4321"])),
        sender_numbers=(REGISTERED,),
        address=draw(mostly("서울시 마포구 연남로 1", "")),
        email="hello@dangol.example",
        brand_mn_approved=draw(st.booleans()),
    )
    clock = st.builds(time, st.integers(0, 23), st.integers(0, 59))
    policy_settings = PolicySettings(
        ad_cap_24h=draw(st.sampled_from([1] * 8 + [2, 3, 0])),
        ad_cap_30d=draw(st.sampled_from([4] * 8 + [6, 2, 0])),
        quiet_hours=draw(st.one_of(st.none(), st.tuples(clock, clock))),
    )
    return message, recipient, shop, policy_settings


# --- the oracle ---


@dataclass(frozen=True)
class Verdict:
    standing: tuple[str, ...]  # reasons that forbid the message at any time


def oracle_is_ad(m: Message) -> bool:
    text = m.subject + "\n" + m.body
    if m.kind.strip().lower() != "info":
        return True
    if m.body.startswith(("(광고)", "[광고]")):
        return True
    if any(word in text for word in PROMO):
        return True
    has_basis = any(line.startswith("※") for line in m.body.split("\n"))
    return "쿠폰" in text and not has_basis


def cp949_ok(text: str) -> bool:
    try:
        text.encode("cp949")
    except UnicodeEncodeError:
        return False
    return True


def standing(m: Message, r: Recipient, shop: ShopIdentity, s: PolicySettings, final) -> Verdict:
    why: list[str] = []
    ad = oracle_is_ad(m)
    sms = m.channel in ("sms", "lms", "mms")
    if not m.body.strip():
        why.append("empty")
    if ad:
        if r.opted_out:
            why.append("refused")  # ICNA 50②
        elif not r.ad_consent.get(FAMILY[m.channel], False):
            why.append("no consent")  # ICNA 50①
        if m.channel == "alimtalk":
            why.append("ad on alimtalk")
        if r.messages_last_24h >= s.ad_cap_24h or r.messages_last_30d >= s.ad_cap_30d:
            why.append("cap")
        if m.channel != "alimtalk":
            if not shop.name or not shop.phone:
                why.append("no identity")
            if m.channel == "email":
                if not m.unsubscribe_url or not shop.address:
                    why.append("email footer")
            else:
                if not shop.optout_080.startswith("080"):
                    why.append("no 080")
                if m.body.startswith("[광고]"):
                    why.append("marker variant")
    if m.channel == "brand" and m.targeting != "I" and not shop.brand_mn_approved:
        why.append("targeting")
    if sms:
        if m.sender not in (REGISTERED, "+82 10-1234-5678"):
            why.append("sender")
        if not cp949_ok(m.body + m.subject):
            why.append("charset")
        if len(final.final_body.encode("cp949", "replace")) > 2000:
            why.append("too long")
        if len(m.subject.encode("cp949", "replace")) > 40:
            why.append("subject")
    if m.channel == "alimtalk" and len(m.body) > 1000:
        why.append("alimtalk length")
    return Verdict(tuple(why))


def _between(t: time, start: time, end: time) -> bool:
    if start == end:
        return False
    return start <= t < end if start < end else (t >= start or t < end)


def clock_forbids(m: Message, r: Recipient, s: PolicySettings, at: datetime) -> bool:
    t = at.astimezone(SEOUL).time()
    ad = oracle_is_ad(m)
    if ad and m.channel != "email" and not r.night_consent and not time(8) <= t < time(21):
        return True  # ICNA 50③
    if m.channel == "brand" and not time(8) <= t < time(20, 50):
        return True  # Kakao Brand Message
    return ad and s.quiet_hours is not None and _between(t, *s.quiet_hours)


def minutes_after(moment: datetime, until: datetime):
    step = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while step < until:
        yield step
        step += timedelta(minutes=1)


PROFILE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(cases())
def test_the_gate_agrees_with_the_oracle(case):
    m, r, shop, s = case
    d = evaluate(m, r, shop, s)
    why = standing(m, r, shop, s, d).standing
    if why:
        assert d.decision == "block", (why, d)
        return
    if not clock_forbids(m, r, s, m.send_at):
        assert d.decision == "send", d
        assert d.hold_until is None
        return
    if d.decision == "block":
        # Only when the shop's quiet hours leave no lawful minute in a whole day.
        assert "no_lawful_send_time" in d.codes, d
        assert all(
            clock_forbids(m, r, s, t)
            for t in minutes_after(m.send_at, m.send_at + timedelta(days=1, minutes=2))
        )
        return
    assert d.decision == "hold", d
    until = d.hold_until
    assert until is not None and until > m.send_at
    assert until.utcoffset() == timedelta(hours=9)
    assert not clock_forbids(m, r, s, until)  # a lawful moment for that channel
    assert until - m.send_at <= timedelta(days=2)
    # ... and the first one: every minute before it was forbidden.
    assert all(clock_forbids(m, r, s, t) for t in minutes_after(m.send_at, until))
    again = evaluate(replace(m, send_at=until), r, shop, s)
    assert again.decision == "send", again
    assert not set(again.codes) & {"night_hold", "kakao_brand_window_hold", "quiet_hours_hold"}


@PROFILE
@given(cases())
def test_sms_family_text_always_fits_its_type(case):
    m, r, shop, s = case
    d = evaluate(m, r, shop, s)
    if m.channel not in ("sms", "lms", "mms") or d.decision == "block":
        return
    encoded = d.final_body.encode("cp949")  # never raises for a message that may go
    assert d.bytes == len(encoded)
    limit = 90 if d.message_type == "SMS" else 2000
    assert d.message_type in ("SMS", "LMS", "MMS")
    assert len(encoded) <= limit
    assert len(d.final_subject.encode("cp949")) <= 40
    if d.message_type == "SMS":
        assert d.final_subject == ""


@PROFILE
@given(cases())
def test_every_ad_that_may_go_carries_the_required_text(case):
    m, r, shop, s = case
    d = evaluate(m, r, shop, s)
    if d.decision == "block" or not oracle_is_ad(m):
        return
    if m.channel == "email":
        assert d.final_subject.startswith("(광고)")
        assert m.unsubscribe_url in d.final_body
        return
    assert d.final_body.startswith("(광고)" + shop.name)
    assert d.final_body.count("(광고)") == 1
    assert d.final_body.endswith("무료수신거부 " + shop.optout_080)
