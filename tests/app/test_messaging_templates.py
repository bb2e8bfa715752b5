"""Templates: variables, Korean particles after whatever fills them, errors with positions;
the outbox never queues the same send twice."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dangol.core.tenancy import shop_scope
from dangol.messaging.models import OutboxMessage
from dangol.messaging.services import (
    Outgoing,
    message_bulk_enqueue,
    message_enqueue,
    template_create,
)
from dangol.messaging.templates import TemplateError, check_template, has_final_consonant, render
from tests.app.factories import make_customer


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("김지민", "김지민이 아메리카노를 좋아해요. 김지민은 단골이에요"),
        ("이수아", "이수아가 아메리카노를 좋아해요. 이수아는 단골이에요"),
        ("Kim", "Kim이(가) 아메리카노를 좋아해요. Kim은(는) 단골이에요"),
    ],
)
def test_particles_follow_the_name(name, expected):
    text = "{name}{이/가} {favourite_item}{을/를} 좋아해요. {name}{은/는} 단골이에요"
    assert render(text, {"name": name, "favourite_item": "아메리카노"}) == expected


@pytest.mark.parametrize(
    ("word", "particle", "expected"),
    [
        ("케이크", "을/를", "케이크를"),
        ("빙수", "을/를", "빙수를"),
        ("라떼", "과/와", "라떼와"),
        ("커피빵", "과/와", "커피빵과"),
        ("서울", "으로/로", "서울로"),
        ("성수점", "으로/로", "성수점으로"),
        ("강남", "으로/로", "강남으로"),
        ("3", "이/가", "3이"),
        ("2", "이/가", "2가"),
        ("10", "을/를", "10을"),
    ],
)
def test_particle_forms(word, particle, expected):
    assert render("{favourite_item}{" + particle + "}", {"favourite_item": word}) == expected


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("안녕하세요 {nmae}님", 1, 7),
        ("첫 줄\n둘째 {name", 2, 4),
        ("쿠폰 }", 1, 4),
        ("{{name}}", 1, 1),
        ("{}", 1, 1),
    ],
)
def test_template_errors_have_positions(text, line, column):
    with pytest.raises(TemplateError) as caught:
        check_template(text)
    first = caught.value.problems[0]
    assert (first.line, first.column) == (line, column)
    assert first.ko and first.en


@given(st.text(max_size=200))
def test_any_text_either_renders_or_is_refused_cleanly(text):
    try:
        used = check_template(text)
    except TemplateError as error:
        assert error.problems
        return
    rendered = render(text, dict.fromkeys(used, "값"))
    assert "{" not in rendered and "}" not in rendered


@given(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3))
def test_final_consonant_of_every_syllable(syllable):
    assert has_final_consonant(syllable) == ((ord(syllable) - 0xAC00) % 28 != 0)


@pytest.mark.django_db
def test_the_same_send_is_queued_once(two_shops):
    a = two_shops.a
    with shop_scope(a.shop):
        template = template_create(
            shop=a.shop, name="생일", channel="sms", kind="ad", body="{name}님 생일 축하해요"
        )
        with pytest.raises(TemplateError):
            template_create(shop=a.shop, name="x", channel="sms", kind="ad", body="{oops}")
        others = [make_customer(a.shop, name=f"손님{i}") for i in range(3)]
        recipients = [Outgoing(c, {"name": c.name}, "2026-11") for c in [a.customer, *others]]
        assert (
            message_bulk_enqueue(
                shop=a.shop, template=template, recipients=recipients, source="birthday"
            )
            == 4
        )
        assert (
            message_bulk_enqueue(
                shop=a.shop, template=template, recipients=recipients, source="birthday"
            )
            == 0
        )
        first, created = message_enqueue(
            shop=a.shop,
            customer=a.customer,
            channel="sms",
            kind="ad",
            body="x",
            source="birthday",
            occurrence="2026-11",
        )
        assert not created and first.body == "김민지님 생일 축하해요"
        assert OutboxMessage.objects.for_shop(a.shop).count() == 4
        # Next month is another occurrence.
        _, created = message_enqueue(
            shop=a.shop,
            customer=a.customer,
            channel="sms",
            kind="ad",
            body="x",
            source="birthday",
            occurrence="2026-12",
        )
        assert created
