"""What each policy-gate reason code means, in a sentence an owner reads at a glance."""

from __future__ import annotations

from django.utils.translation import get_language

REASONS: dict[str, tuple[str, str]] = {
    "unknown_channel": ("알 수 없는 채널이라 보내지 않았어요", "Unknown channel"),
    "empty_body": ("내용이 비어 있어요", "The message is empty"),
    "opted_out": ("수신을 거부한 손님이에요", "The customer opted out"),
    "no_ad_consent": ("광고 수신에 동의하지 않은 손님이에요", "No consent to ads on this channel"),
    "ad_on_alimtalk": ("알림톡으로는 광고를 보낼 수 없어요", "AlimTalk cannot carry ads"),
    "brand_targeting_not_approved": (
        "채널 친구가 아닌 손님에게 보낼 자격이 없어요",
        "Not approved to reach non-friends",
    ),
    "frequency_cap_24h": ("24시간 안에 이미 광고를 받았어요", "Already got an ad in 24 hours"),
    "frequency_cap_30d": ("30일 동안 받을 수 있는 광고를 다 받았어요", "30-day ad limit reached"),
    "ad_marker_variant": ("(광고) 표시가 정해진 모양이 아니에요", "Malformed (광고) marker"),
    "no_shop_name": ("매장 이름이 설정되지 않았어요", "The shop has no name set"),
    "no_shop_phone": ("매장 전화번호가 설정되지 않았어요", "The shop has no phone set"),
    "no_optout_080": (
        "080 무료수신거부 번호가 없어 광고를 보낼 수 없어요",
        "No 080 opt-out number",
    ),
    "no_email_footer_details": (
        "이메일 광고에 필요한 매장 정보가 없어요",
        "E-mail footer details missing",
    ),
    "no_unsubscribe_link": ("수신거부 링크가 없어요", "No unsubscribe link"),
    "unregistered_sender": ("등록되지 않은 발신번호예요", "Sender number not registered"),
    "emoji_in_sms": ("문자에 이모지가 있어요", "Emoji in an SMS"),
    "char_not_in_cp949": ("문자로 보낼 수 없는 글자가 있어요", "A character SMS cannot carry"),
    "body_too_long": ("내용이 너무 길어요", "The message is too long"),
    "subject_too_long": ("제목이 너무 길어요", "The subject is too long"),
    "alimtalk_too_long": ("알림톡 글자 수를 넘었어요", "Too long for AlimTalk"),
    "no_lawful_send_time": ("보낼 수 있는 시간이 없어요", "No lawful time to send"),
    "night_hold": ("밤 9시~아침 8시라 아침 8시까지 기다려요", "Night hours: held until 08:00"),
    "kakao_brand_window_hold": ("카카오 발송 제한 시간이라 기다려요", "Kakao's send window: held"),
    "quiet_hours_hold": ("매장이 정한 조용한 시간이라 기다려요", "Shop's quiet hours: held"),
    "kind_treated_as_ad": (
        "정보성인지 알 수 없어 광고로 보냈어요",
        "Unclassified: treated as an ad",
    ),
    "promo_words_in_info": (
        "정보성 메시지에 광고 문구가 있어요",
        "Promotional words in an info message",
    ),
    "marked_as_ad_in_body": (
        "본문에 (광고) 표시가 있어 광고로 봤어요",
        "Marked (광고): treated as ad",
    ),
    "transaction_exception_applied": (
        "최근 거래 손님 예외를 적용했어요",
        "Transaction exception applied",
    ),
    "night_consent_applied": ("야간 광고 수신에 동의한 손님이에요", "Night consent applied"),
    "added_ad_marker": ("(광고) 표시를 붙였어요", "Added the (광고) marker"),
    "added_optout_footer": ("무료수신거부 안내를 붙였어요", "Added the free opt-out footer"),
    "added_ad_marker_to_subject": ("제목에 (광고)를 붙였어요", "Added (광고) to the subject"),
    "added_email_footer": ("이메일 안내 문구를 붙였어요", "Added the e-mail footer"),
    "sms_too_long_became_lms": (
        "90바이트를 넘어 장문(LMS)으로 보냈어요",
        "Over 90 bytes: sent as LMS",
    ),
    "subject_requires_lms": ("제목이 있어 장문(LMS)으로 보냈어요", "Has a subject: sent as LMS"),
    "char_outside_ks_x_1001": (
        "일부 휴대폰에서 깨질 수 있는 글자가 있어요",
        "Character may garble",
    ),
    "provider_retry": ("발송 업체가 잠시 뒤 다시 보내래요", "Provider asked to retry later"),
    "provider_failed": ("발송 업체가 거절했어요", "The provider refused it"),
    "outcome_unknown": ("결과를 몰라 업체에 확인 중이에요", "Outcome unknown: checking"),
    "lease_expired": ("보내던 중 멈춰 업체에 확인 중이에요", "Interrupted: checking"),
    "reconciled_not_received": ("업체가 받지 못해 다시 보내요", "Provider never got it: resending"),
    "no_provider": ("이 채널의 발송 업체가 설정되지 않았어요", "No provider for this channel"),
}


def reason_text(code: str) -> str:
    base, _, detail = code.partition(":")
    ko, en = REASONS.get(base, (base, base))
    text = ko if (get_language() or "ko").startswith("ko") else en
    return f"{text} ({detail.strip()})" if detail else text
