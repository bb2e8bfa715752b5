"""The policy gate, rule by rule (rule numbers: compliance-kr §6).

Byte counts in the comments are worked out by hand in CP949: a Hangul syllable is 2 bytes,
ASCII (digits, '-', '(', ')', '!', '%', space, newline) is 1.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from dangol.messaging import textbytes
from dangol.messaging.policy import (
    BLOCK_CODES,
    HOLD_CODES,
    REASON_CODES,
    SEOUL,
    Message,
    PolicySettings,
    Recipient,
    ShopIdentity,
    evaluate,
    fallback_message,
)

SHOP = ShopIdentity(
    name="단골커피",
    phone="02-123-4567",
    optout_080="080-123-4567",
    sender_numbers=("010-1234-5678",),
    address="서울시 마포구 연남로 1",
    email="hello@dangol.example",
)
ALL_CONSENT = Recipient(ad_consent={"sms": True, "kakao": True, "email": True, "push": True})
NO_CONSENT = Recipient(ad_consent={})
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SEOUL)


def seoul(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def msg(channel="sms", kind="ad", body="봄 신메뉴 딸기라떼 출시!", **kw) -> Message:
    kw.setdefault("send_at", MONDAY_10)
    if channel in ("sms", "lms", "mms"):
        kw.setdefault("sender", "010-1234-5678")
    return Message(channel=channel, kind=kind, body=body, **kw)


def codes(decision) -> list[str]:
    return list(decision.codes)


# --- the exact text of an ad (rules 11, 12, 13, 23) ---


def test_ad_sms_gets_marker_sender_contact_and_080_footer_exactly():
    d = evaluate(msg(), ALL_CONSENT, SHOP)
    assert d.decision == "send"
    assert d.final_body == (
        "(광고)단골커피 02-123-4567\n봄 신메뉴 딸기라떼 출시!\n무료수신거부 080-123-4567"
    )
    # "(광고)" 1+2+2+1=6, "단골커피" 8, " " 1, "02-123-4567" 11  → 26
    # "\n" 1; "봄 신메뉴 딸기라떼 출시!" 2+1+6+1+8+1+4+1 = 24; "\n" 1
    # "무료수신거부" 12, " " 1, "080-123-4567" 12 → 25;  26+1+24+1+25 = 77
    assert d.bytes == 77
    assert d.message_type == "SMS"
    assert codes(d) == ["added_ad_marker", "added_optout_footer"]
    assert d.final_body.startswith("(광고)")
    assert d.final_body.endswith("무료수신거부 080-123-4567")


def test_contact_is_left_out_when_it_is_the_caller_number():
    shop = replace(SHOP, phone="010-1234-5678")
    d = evaluate(msg(sender="+82 10-1234-5678"), ALL_CONSENT, shop)
    assert d.decision == "send"
    assert d.final_body.split("\n")[0] == "(광고)단골커피"


def test_marker_and_footer_the_author_typed_are_not_doubled():
    body = "(광고)단골커피\n봄 신메뉴 딸기라떼 출시!\n무료수신거부 080-123-4567"
    d = evaluate(msg(body=body), ALL_CONSENT, SHOP)
    assert d.final_body.count("(광고)") == 1
    assert d.final_body.count("무료수신거부") == 1
    assert d.final_body == evaluate(msg(), ALL_CONSENT, SHOP).final_body


@pytest.mark.parametrize("variant", ["[광고]", "(광 고)", "(광.고)", '("광고")', "(대출광고)"])
def test_marker_variants_are_blocked(variant):
    d = evaluate(msg(body=f"{variant} 봄 신메뉴"), ALL_CONSENT, SHOP)
    assert d.decision == "block"
    assert "ad_marker_variant" in codes(d)


def test_an_info_message_that_starts_with_an_ad_marker_is_an_ad():
    d = evaluate(msg(kind="info", body="(광고) 봄 신메뉴"), NO_CONSENT, SHOP)
    assert codes(d)[:2] == ["marked_as_ad_in_body", "no_ad_consent"]
    assert d.decision == "block"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "", "no_shop_name"),
        ("phone", " ", "no_shop_phone"),
        ("optout_080", "", "no_optout_080"),
        ("optout_080", "02-123-4567", "no_optout_080"),  # not a free 080 number
    ],
)
def test_ads_without_sender_identity_or_080_are_blocked(field, value, code):
    d = evaluate(msg(), ALL_CONSENT, replace(SHOP, **{field: value}))
    assert d.decision == "block"
    assert code in codes(d)


def test_info_needs_no_marker_and_no_080():
    shop = replace(SHOP, optout_080="")
    d = evaluate(msg(kind="info", body="주문하신 케이크가 준비되었습니다."), NO_CONSENT, shop)
    assert d.decision == "send"
    assert d.final_body == "주문하신 케이크가 준비되었습니다."
    assert d.reasons == ()
    assert d.bytes == 33  # 14 syllables × 2 + 4 spaces + "." = 28 + 4 + 1


# --- SMS bytes (rule 23) ---

NINETEEN = "가나다라마바사아자차카타파하가나다라마"  # 19 syllables = 38 bytes


def test_sms_at_exactly_90_bytes_stays_sms():
    # marker line 26 + "\n" 1 + body + "\n" 1 + footer 25 = 53 + body, so a 37-byte body
    # (18 syllables = 36, plus "!" = 1) fills exactly 90 bytes.
    d = evaluate(msg(body=NINETEEN[:18] + "!"), ALL_CONSENT, SHOP)
    assert d.bytes == 90
    assert d.message_type == "SMS"
    assert "sms_too_long_became_lms" not in codes(d)


def test_sms_at_91_bytes_becomes_lms():
    d = evaluate(msg(body=NINETEEN), ALL_CONSENT, SHOP)  # 26 + 1 + 38 + 1 + 25 = 91
    assert d.bytes == 91
    assert d.message_type == "LMS"
    assert d.decision == "send"
    assert "sms_too_long_became_lms" in codes(d)


def test_the_marker_and_footer_count_toward_the_limit():
    # The same body as information is 38 bytes: a plain SMS.
    d = evaluate(msg(kind="info", body=NINETEEN), NO_CONSENT, SHOP)
    assert (d.bytes, d.message_type) == (38, "SMS")


def test_lms_limit_is_2000_bytes():
    fits = "가" * 974  # 26 + 1 + 1948 + 1 + 25 = 2001 → one syllable too many
    d = evaluate(msg(body=fits[:-1] + "A"), ALL_CONSENT, SHOP)  # 1946 + 1 → 2000 bytes
    assert (d.bytes, d.message_type, d.decision) == (2000, "LMS", "send")
    d = evaluate(msg(body=fits), ALL_CONSENT, SHOP)
    assert d.bytes == 2001
    assert d.decision == "block"
    assert "body_too_long:2001" in d.reasons


def test_a_subject_makes_an_lms_and_is_limited_to_40_bytes():
    d = evaluate(msg(kind="info", body="안내", subject="가" * 20), NO_CONSENT, SHOP)  # 40 bytes
    assert (d.message_type, d.decision) == ("LMS", "send")
    assert "subject_requires_lms" in codes(d)
    d = evaluate(msg(kind="info", body="안내", subject="가" * 20 + "!"), NO_CONSENT, SHOP)
    assert d.decision == "block"
    assert "subject_too_long:41" in d.reasons


def test_lms_channel_that_fits_is_sent_as_sms_and_mms_stays_mms():
    assert evaluate(
        msg(channel="lms", kind="info", body="안내"), NO_CONSENT, SHOP
    ).message_type == ("SMS")
    assert evaluate(
        msg(channel="mms", kind="info", body="안내"), NO_CONSENT, SHOP
    ).message_type == ("MMS")


def test_emoji_in_sms_is_blocked_and_named():
    d = evaluate(msg(body="오늘만 아메리카노 반값 😀"), ALL_CONSENT, SHOP)
    assert d.decision == "block"
    assert "emoji_in_sms:U+1F600 😀" in d.reasons


def test_a_character_cp949_lacks_is_blocked_and_named():
    d = evaluate(msg(kind="info", body="Café 오픈 안내"), NO_CONSENT, SHOP)
    assert d.decision == "block"
    assert "char_not_in_cp949:U+00E9 é" in d.reasons


def test_emoji_in_the_subject_is_blocked_too():
    d = evaluate(msg(kind="info", body="안내", subject="공지 📢"), NO_CONSENT, SHOP)
    assert d.decision == "block"
    assert "emoji_in_sms:U+1F4E2 📢" in d.reasons


def test_syllables_outside_ks_x_1001_are_flagged_but_sent():
    d = evaluate(msg(kind="info", body="똠양꿍 나왔어요"), NO_CONSENT, SHOP)
    assert d.decision == "send"
    assert "char_outside_ks_x_1001:U+B620 똠" in d.reasons
    assert "char_outside_ks_x_1001:U+AFCD 꿍" not in d.reasons  # 꿍 is in KS X 1001
    assert d.bytes == 15  # 7 syllables × 2 + 1 space; 똠 is 2 bytes in CP949


def test_emoji_are_fine_on_kakao_and_push():
    d = evaluate(msg(channel="brand", body="케이크 예약 🎂"), ALL_CONSENT, SHOP)
    assert d.decision == "send"
    assert d.bytes == len(d.final_body.encode("utf-8"))


# --- consent (rules 1–4) ---


def test_ads_need_consent_for_that_channel_family():
    kakao_only = Recipient(ad_consent={"kakao": True, "sms": False})
    assert evaluate(msg(), kakao_only, SHOP).decision == "block"
    assert "no_ad_consent" in codes(evaluate(msg(), kakao_only, SHOP))
    assert evaluate(msg(channel="brand"), kakao_only, SHOP).decision == "send"
    assert evaluate(msg(), NO_CONSENT, SHOP).reasons[0] == "no_ad_consent"


def test_opt_out_beats_consent():
    d = evaluate(msg(), replace(ALL_CONSENT, opted_out=True), SHOP)
    assert d.decision == "block"
    assert "opted_out" in codes(d)
    assert "no_ad_consent" not in codes(d)


def test_opt_out_does_not_stop_genuine_information():
    # ICNA 50② forbids ads after a refusal; a pick-up notice (or the result notice of the
    # refusal itself, rule 9) is not an ad.
    d = evaluate(
        msg(
            kind="info", body="주문하신 케이크가 준비되었습니다.", send_at=seoul(2026, 3, 2, 22, 30)
        ),
        Recipient(ad_consent={}, opted_out=True),
        SHOP,
    )
    assert d.decision == "send"


@pytest.mark.parametrize("kind", ["", "promo", "mixed", "광고"])
def test_unknown_kind_is_an_ad(kind):
    d = evaluate(msg(kind=kind), NO_CONSENT, SHOP)
    assert codes(d)[:2] == ["kind_treated_as_ad", "no_ad_consent"]


def test_kind_is_read_case_insensitively():
    d = evaluate(msg(kind=" INFO ", body="예약 확인"), NO_CONSENT, SHOP)
    assert d.decision == "send"


@pytest.mark.parametrize(
    ("body", "word"),
    [("예약 확인. 이번 주 10% 할인도 있어요", "할인"), ("생일 축하 쿠폰이 도착했어요", "쿠폰")],
)
def test_promotional_words_make_an_info_message_an_ad(body, word):
    d = evaluate(msg(kind="info", body=body), NO_CONSENT, SHOP)
    assert f"promo_words_in_info:{word}" in d.reasons
    assert d.decision == "block"


def test_an_earned_coupon_with_its_basis_line_stays_information():
    body = "적립 쿠폰 1장이 발급되었습니다.\n※ 고객님의 유료 구매로 지급된 쿠폰 안내입니다."
    d = evaluate(msg(channel="alimtalk", kind="info", body=body), NO_CONSENT, SHOP)
    assert d.decision == "send"
    assert d.final_body == body


def test_transaction_exception_is_off_by_default():
    r = Recipient(
        ad_consent={}, last_transaction_at=seoul(2026, 1, 10, 12), transaction_categories=("원두",)
    )
    assert evaluate(msg(product_category="원두"), r, SHOP).decision == "block"


def test_transaction_exception_needs_same_category_within_six_months():
    on = PolicySettings(transaction_exception=True)
    r = Recipient(
        ad_consent={}, last_transaction_at=seoul(2025, 8, 31, 12), transaction_categories=("원두",)
    )
    ok = evaluate(msg(product_category="원두", send_at=seoul(2026, 2, 28, 12)), r, SHOP, on)
    assert ok.decision == "send"
    assert "transaction_exception_applied" in codes(ok)
    # 6 months after 31 August ends on 28 February (no 31st).
    late = evaluate(msg(product_category="원두", send_at=seoul(2026, 2, 28, 12, 1)), r, SHOP, on)
    assert "no_ad_consent" in codes(late)
    other = evaluate(msg(product_category="케이크", send_at=seoul(2026, 1, 5, 12)), r, SHOP, on)
    assert "no_ad_consent" in codes(other)
    refused = evaluate(
        msg(product_category="원두", send_at=seoul(2026, 1, 5, 12)),
        replace(r, opted_out=True),
        SHOP,
        on,
    )
    assert codes(refused)[0] == "opted_out"  # a refusal beats the exception too


# --- AlimTalk and Brand Message (rules 20, 22, 21) ---


def test_an_ad_on_alimtalk_is_blocked():
    d = evaluate(msg(channel="alimtalk"), ALL_CONSENT, SHOP)
    assert d.decision == "block"
    assert "ad_on_alimtalk" in codes(d)


def test_alimtalk_information_goes_unchanged_and_is_limited_to_1000_characters():
    d = evaluate(
        msg(channel="alimtalk", kind="info", body="예약이 확정되었습니다."), NO_CONSENT, SHOP
    )
    assert (d.decision, d.message_type, d.final_body) == (
        "send",
        "ALIMTALK",
        "예약이 확정되었습니다.",
    )
    d = evaluate(msg(channel="alimtalk", kind="info", body="가" * 1001), NO_CONSENT, SHOP)
    assert d.decision == "block"
    assert "alimtalk_too_long" in codes(d)


def test_brand_message_to_non_friends_needs_an_approved_channel():
    d = evaluate(msg(channel="brand", targeting="M"), ALL_CONSENT, SHOP)
    assert "brand_targeting_not_approved" in codes(d)
    d = evaluate(
        msg(channel="brand", targeting="M"), ALL_CONSENT, replace(SHOP, brand_mn_approved=True)
    )
    assert d.decision == "send"


def test_brand_ad_gets_the_marker_and_the_080_footer():
    d = evaluate(msg(channel="brand"), ALL_CONSENT, SHOP)
    assert d.final_body == (
        "(광고)단골커피 02-123-4567\n봄 신메뉴 딸기라떼 출시!\n무료수신거부 080-123-4567"
    )
    assert d.message_type == "BRAND"


def test_an_ad_fallback_sms_passes_the_same_rules():
    fallback = fallback_message(msg(channel="brand"), sender="010-1234-5678")
    d = evaluate(fallback, ALL_CONSENT, SHOP)
    assert d.final_body.startswith("(광고)단골커피")
    assert d.final_body.endswith("무료수신거부 080-123-4567")
    assert evaluate(fallback, ALL_CONSENT, replace(SHOP, optout_080="")).decision == "block"
    unregistered = fallback_message(msg(channel="alimtalk", kind="info"), sender="010-0000-0000")
    assert "unregistered_sender" in codes(evaluate(unregistered, NO_CONSENT, SHOP))


# --- caller numbers (rule 19) ---


@pytest.mark.parametrize("sender", ["010-9999-0000", ""])
def test_unregistered_caller_number_is_blocked_even_for_information(sender):
    d = evaluate(msg(kind="info", body="예약 확인", sender=sender), NO_CONSENT, SHOP)
    assert d.decision == "block"
    assert "unregistered_sender" in codes(d)


@pytest.mark.parametrize("sender", ["01012345678", "+82 10-1234-5678", "010 1234 5678"])
def test_caller_numbers_match_however_they_are_written(sender):
    assert evaluate(msg(sender=sender), ALL_CONSENT, SHOP).decision == "send"


# --- e-mail and push (rules 14, 15) ---


def email(**kw) -> Message:
    kw.setdefault("unsubscribe_url", "https://dangol.example/u/3f9a1c")
    return msg(channel="email", subject="3월 원두 소식", body="이달의 원두는 예가체프입니다.", **kw)


def test_email_ad_subject_starts_with_the_marker_and_the_footer_has_everything():
    d = evaluate(email(), ALL_CONSENT, SHOP)
    assert d.decision == "send"
    assert d.final_subject == "(광고) 3월 원두 소식"
    assert d.final_body.startswith("이달의 원두는 예가체프입니다.\n")
    for item in ("단골커피", "서울시 마포구 연남로 1", "02-123-4567", "hello@dangol.example"):
        assert item in d.final_body
    assert "수신거부 / Unsubscribe: https://dangol.example/u/3f9a1c" in d.final_body
    assert "로그인 없이" in d.final_body
    assert "080" not in d.final_body  # the link is the e-mail opt-out
    assert codes(d) == ["added_ad_marker_to_subject", "added_email_footer"]


def test_email_ads_need_a_link_and_the_shop_address_and_email():
    assert "no_unsubscribe_link" in codes(evaluate(email(unsubscribe_url=""), ALL_CONSENT, SHOP))
    d = evaluate(email(), ALL_CONSENT, replace(SHOP, address="", email=""))
    assert d.decision == "block"
    assert "no_email_footer_details:address,email" in d.reasons
    # An e-mail ad needs no 080 number.
    assert evaluate(email(), ALL_CONSENT, replace(SHOP, optout_080="")).decision == "send"


def test_email_ads_are_exempt_from_the_night_window():
    d = evaluate(email(send_at=seoul(2026, 3, 2, 23, 0)), ALL_CONSENT, SHOP)
    assert d.decision == "send"


def test_email_information_is_left_alone():
    d = evaluate(
        msg(channel="email", kind="info", subject="예약 확인", body="3월 2일 10시 예약"),
        NO_CONSENT,
        SHOP,
    )
    assert (d.final_subject, d.final_body, d.reasons) == ("예약 확인", "3월 2일 10시 예약", ())


def test_push_ad_is_marked_and_obeys_the_night_window():
    d = evaluate(msg(channel="push", subject="신메뉴"), ALL_CONSENT, SHOP)
    assert d.final_subject == "(광고) 신메뉴"
    assert d.final_body.startswith("(광고)단골커피 02-123-4567\n")
    assert d.final_body.endswith("무료수신거부 080-123-4567")
    night = evaluate(msg(channel="push", send_at=seoul(2026, 3, 2, 23)), ALL_CONSENT, SHOP)
    assert (night.decision, night.hold_until) == ("hold", seoul(2026, 3, 3, 8))


# --- night window and Kakao window (rules 5, 6) ---


@pytest.mark.parametrize(
    ("send_at", "until"),
    [
        (seoul(2026, 3, 2, 21, 0), seoul(2026, 3, 3, 8, 0)),  # 21:00 is already night
        (seoul(2026, 3, 2, 23, 59), seoul(2026, 3, 3, 8, 0)),
        (seoul(2026, 3, 3, 0, 0), seoul(2026, 3, 3, 8, 0)),
        (seoul(2026, 3, 3, 7, 59, 59), seoul(2026, 3, 3, 8, 0)),
        # across a month and a year end
        (seoul(2026, 3, 31, 22, 0), seoul(2026, 4, 1, 8, 0)),
        (seoul(2026, 12, 31, 23, 30), seoul(2027, 1, 1, 8, 0)),
        # given in UTC: 13:30Z is 22:30 in Seoul
        (datetime(2026, 3, 2, 13, 30, tzinfo=UTC), seoul(2026, 3, 3, 8, 0)),
        # 15:30Z on 2 March is already 00:30 on 3 March in Seoul
        (datetime(2026, 3, 2, 15, 30, tzinfo=UTC), seoul(2026, 3, 3, 8, 0)),
    ],
)
def test_night_ads_are_held_until_8_in_seoul(send_at, until):
    d = evaluate(msg(send_at=send_at), ALL_CONSENT, SHOP)
    assert d.decision == "hold"
    assert d.hold_until == until
    assert d.hold_until.utcoffset() == timedelta(hours=9)
    assert "night_hold" in codes(d)
    again = evaluate(msg(send_at=d.hold_until), ALL_CONSENT, SHOP)
    assert again.decision == "send"


@pytest.mark.parametrize(
    "send_at",
    [
        seoul(2026, 3, 2, 8, 0),
        seoul(2026, 3, 2, 20, 59, 59),
        datetime(2026, 3, 2, 23, 0, tzinfo=UTC),  # 08:00 on 3 March in Seoul
        datetime(2026, 3, 2, 11, 59, tzinfo=UTC),  # 20:59 in Seoul
    ],
)
def test_day_ads_are_sent(send_at):
    assert evaluate(msg(send_at=send_at), ALL_CONSENT, SHOP).decision == "send"


def test_night_consent_lets_an_ad_go_at_night_and_says_so():
    r = replace(ALL_CONSENT, night_consent=True)
    d = evaluate(msg(send_at=seoul(2026, 3, 2, 22, 0)), r, SHOP)
    assert d.decision == "send"
    assert "night_consent_applied" in codes(d)


def test_information_is_not_held_at_night():
    d = evaluate(
        msg(kind="info", body="예약 확인", send_at=seoul(2026, 3, 2, 23)), NO_CONSENT, SHOP
    )
    assert d.decision == "send"


@pytest.mark.parametrize("kind", ["ad", "info"])
def test_brand_messages_are_held_from_20_50_even_with_night_consent(kind):
    r = replace(ALL_CONSENT, night_consent=True)
    d = evaluate(
        msg(channel="brand", kind=kind, body="예약 안내", send_at=seoul(2026, 3, 2, 20, 50)),
        r,
        SHOP,
    )
    assert (d.decision, d.hold_until) == ("hold", seoul(2026, 3, 3, 8, 0))
    assert "kakao_brand_window_hold" in codes(d)
    early = evaluate(msg(channel="brand", send_at=seoul(2026, 3, 2, 20, 49, 59)), r, SHOP)
    assert early.decision == "send"


def test_a_brand_ad_at_night_without_consent_names_both_windows():
    d = evaluate(msg(channel="brand", send_at=seoul(2026, 3, 2, 22)), ALL_CONSENT, SHOP)
    assert d.hold_until == seoul(2026, 3, 3, 8)
    assert {"night_hold", "kakao_brand_window_hold"} <= set(codes(d))


# --- frequency caps and quiet hours ---


def test_frequency_caps_block_ads_only():
    busy = replace(ALL_CONSENT, messages_last_24h=1, messages_last_30d=1)
    assert "frequency_cap_24h" in codes(evaluate(msg(), busy, SHOP))
    assert evaluate(msg(), busy, SHOP).decision == "block"
    month = replace(ALL_CONSENT, messages_last_24h=0, messages_last_30d=4)
    assert "frequency_cap_30d" in codes(evaluate(msg(), month, SHOP))
    info = evaluate(msg(kind="info", body="예약 확인"), replace(busy, messages_last_30d=99), SHOP)
    assert info.decision == "send"
    loose = PolicySettings(ad_cap_24h=2, ad_cap_30d=10)
    assert evaluate(msg(), replace(busy, messages_last_30d=9), SHOP, loose).decision == "send"


def test_quiet_hours_hold_ads_until_they_end():
    quiet = PolicySettings(quiet_hours=(time(22, 0), time(9, 0)))
    d = evaluate(msg(send_at=seoul(2026, 3, 2, 8, 30)), ALL_CONSENT, SHOP, quiet)
    assert (d.decision, d.hold_until, codes(d)[-1]) == (
        "hold",
        seoul(2026, 3, 2, 9),
        "quiet_hours_hold",
    )
    info = evaluate(
        msg(kind="info", body="예약 확인", send_at=seoul(2026, 3, 2, 8, 30)),
        ALL_CONSENT,
        SHOP,
        quiet,
    )
    assert info.decision == "send"
    # E-mail has no legal night window but the shop's own quiet hours still apply to its ads.
    mail = evaluate(email(send_at=seoul(2026, 3, 2, 23)), ALL_CONSENT, SHOP, quiet)
    assert mail.hold_until == seoul(2026, 3, 3, 9)


def test_a_hold_that_would_end_inside_another_window_moves_on():
    quiet = PolicySettings(quiet_hours=(time(7, 0), time(9, 30)))
    d = evaluate(msg(send_at=seoul(2026, 3, 2, 22)), ALL_CONSENT, SHOP, quiet)
    # The night window ends at 08:00, inside the quiet hours; the first lawful moment is 09:30.
    assert d.hold_until == seoul(2026, 3, 3, 9, 30)
    assert codes(d)[-2:] == ["night_hold", "quiet_hours_hold"]
    # And the other way round: quiet hours ending at 21:30 land in the night window.
    evening = PolicySettings(quiet_hours=(time(18, 0), time(21, 30)))
    d = evaluate(msg(send_at=seoul(2026, 3, 2, 19)), ALL_CONSENT, SHOP, evening)
    assert d.hold_until == seoul(2026, 3, 3, 8)


def test_quiet_hours_that_leave_no_lawful_moment_block():
    always = PolicySettings(quiet_hours=(time(8, 0), time(21, 0)))
    d = evaluate(msg(), ALL_CONSENT, SHOP, always)
    assert d.decision == "block"
    assert "no_lawful_send_time" in codes(d)


def test_a_block_beats_a_hold():
    d = evaluate(msg(send_at=seoul(2026, 3, 2, 23)), NO_CONSENT, SHOP)
    assert (d.decision, d.hold_until) == ("block", None)


# --- the edges of the interface ---


def test_naive_send_at_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(msg(send_at=datetime(2026, 3, 2, 10)), ALL_CONSENT, SHOP)


def test_unknown_channel_and_empty_body_are_blocked():
    assert evaluate(msg(channel="fax"), ALL_CONSENT, SHOP).reasons == ("unknown_channel",)
    assert "empty_body" in codes(evaluate(msg(kind="info", body="  "), ALL_CONSENT, SHOP))


def test_every_reason_code_is_declared():
    assert BLOCK_CODES.isdisjoint(HOLD_CODES)
    examples = [
        evaluate(
            msg(body="😀é똠" + "가" * 1000, subject="가" * 30),
            NO_CONSENT,
            replace(SHOP, name="", phone="", optout_080=""),
        ),
        evaluate(
            email(unsubscribe_url="", send_at=seoul(2026, 3, 2, 23)),
            NO_CONSENT,
            replace(SHOP, address=""),
        ),
        evaluate(
            msg(channel="brand", kind="x", targeting="N", send_at=seoul(2026, 3, 2, 22)),
            replace(ALL_CONSENT, messages_last_24h=5, messages_last_30d=5),
            SHOP,
        ),
    ]
    for d in examples:
        assert set(d.codes) <= REASON_CODES


def test_textbytes_counts_like_the_carriers():
    assert textbytes.cp949_bytes("단골 coffee") == 11  # 2×2 + 1 + 6
    assert textbytes.cp949_bytes("똠") == 2
    assert textbytes.check("☆★①").emoji == ()  # symbols KS X 1001 has are fine


# --- rules 9 and 10: result notices and the 2-yearly confirmation ---


def test_result_notice_names_sender_change_date_and_result():
    from dangol.messaging.policy import result_notice_deadline, result_notice_text

    asked = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 00:30 on 3 March in Seoul
    text = result_notice_text(SHOP, change="refusal", family="sms", requested_at=asked)
    assert "단골커피" in text
    assert "문자(SMS) 광고성 정보 수신거부" in text
    assert "요청일: 2026년 3월 3일" in text
    assert "처리 결과: 요청하신 대로 수신거부 처리가 완료되었습니다." in text
    assert result_notice_deadline(asked) == asked + timedelta(days=14)
    # The notice is information: it reaches the person who has just opted out, at any hour.
    d = evaluate(
        msg(kind="info", body=text, send_at=seoul(2026, 3, 3, 0, 30)),
        Recipient(ad_consent={}, opted_out=True),
        SHOP,
    )
    assert d.decision == "send"


def test_confirmation_deadlines_every_two_years_from_the_consent_date():
    from datetime import date

    from dangol.messaging.policy import confirmation_deadline, confirmation_overdue

    consent = date(2024, 5, 10)
    assert confirmation_deadline(consent, date(2025, 1, 1)) == date(2026, 5, 10)
    assert confirmation_deadline(consent, date(2026, 5, 10)) == date(2028, 5, 10)
    assert confirmation_deadline(date(2024, 2, 29), date(2024, 3, 1)) == date(2026, 2, 28)
    assert not confirmation_overdue(consent, None, date(2026, 5, 9))
    assert confirmation_overdue(consent, None, date(2026, 5, 10))
    assert not confirmation_overdue(consent, date(2026, 4, 1), date(2026, 6, 1))
    # A notice from the first cycle does not cover the second.
    assert confirmation_overdue(consent, date(2026, 4, 1), date(2028, 5, 10))


def test_confirmation_notice_says_how_to_keep_or_withdraw():
    from datetime import date

    from dangol.messaging.policy import confirmation_notice_text

    text = confirmation_notice_text(SHOP, family="kakao", consent_on=date(2024, 5, 10))
    assert "단골커피" in text
    assert "2024년 5월 10일에 카카오톡 광고성 정보 수신에 동의" in text
    assert "아무것도 하지 않으셔도" in text
    assert "무료수신거부 080-123-4567" in text
