"""The counter check-in tablet and the customer's own page: a tablet bound to its store by a
one-time link and a signed cookie (hashed, revocable), a double tap that stamps once, the
first-visit consent screen that records exactly the ticked boxes, and a signed, expiring page
where the customer withdraws consent."""

from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from dangol.core.tenancy import shop_scope
from dangol.customers.models import ConsentEvent, ConsentSource, Customer
from dangol.customers.resolution import customer_resolve
from dangol.customers.selectors import consent_current, customer_find_by_phone
from dangol.customers.services import ConsentInput, consent_record
from dangol.loyalty.checkin import (
    PAGE_SALT,
    CheckinError,
    checkin_device_create,
    checkin_device_pair,
    checkin_device_verify,
    checkin_join,
    checkin_record,
    customer_page_token,
)
from dangol.loyalty.coupons import CouponTemplateInput, coupon_template_create
from dangol.loyalty.models import Checkin, CheckinDevice, CouponSource, StampEntry
from dangol.loyalty.selectors import points_summary, stamp_progress
from dangol.loyalty.services import (
    PolicyInput,
    StampCardInput,
    coupon_issue,
    points_policy_create,
    stamp_card_create,
)
from dangol.messaging.models import Suppression
from dangol.web.checkin_views import KIOSK_COOKIE
from tests.app.factories import make_customer
from tests.app.loyalty_helpers import loyalty_shop

KEY = "tap-key-0001"
PHONE = "01098765432"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def kiosk_shop(slug: str):
    w = loyalty_shop(slug)
    reward = coupon_template_create(
        shop=w.shop,
        data=CouponTemplateInput(name="아메리카노 1잔", kind="free_item", product_id=w.coffee.pk),
    )
    w.card = stamp_card_create(
        shop=w.shop,
        data=StampCardInput(
            name="커피 도장", stamps_required=10, mode="visit", reward_template_id=reward.pk
        ),
    )
    w.reward = reward
    points_policy_create(
        shop=w.shop, data=PolicyInput(earn_rate_bp=500, points_per_visit=100), user=w.owner
    )
    w.device, w.code = checkin_device_create(
        shop=w.shop, store=w.store, name="카운터", staff_pin="2468", user=w.owner
    )
    return w


def paired_client(client, w):
    response = client.post(reverse("web:checkin_pair", args=[w.code]))
    assert response.status_code == 302 and response["Location"] == reverse("web:kiosk")
    return client


@pytest.fixture
def w(db):
    return kiosk_shop("alpha")


@pytest.fixture
def other(db):
    return kiosk_shop("beta")


def _stamps(w, customer) -> int:
    with shop_scope(w.shop):
        return {p.card.pk: p.stamps for p in stamp_progress(shop=w.shop, customer=customer)}[
            w.card.pk
        ]


# --- devices --------------------------------------------------------------------------------


def test_pairing_sets_a_signed_cookie_and_stores_only_hashes(client, w):
    device = CheckinDevice.unscoped.get(pk=w.device.pk)
    secret = w.code.split("-", 1)[1]
    assert device.pair_hash and secret not in device.pair_hash
    assert device.staff_pin_hash and "2468" not in device.staff_pin_hash
    assert client.get(reverse("web:kiosk")).status_code == 403  # not paired yet

    # The GET only asks; it does not use the link up.
    assert client.get(reverse("web:checkin_pair", args=[w.code])).status_code == 200
    paired_client(client, w)
    cookie = client.cookies[KIOSK_COOKIE].value
    device.refresh_from_db()
    assert device.paired_at and device.token_hash and device.pair_hash == ""
    assert device.token_hash not in cookie
    page = client.get(reverse("web:kiosk"))
    assert page.status_code == 200
    assert b"data-digit" in page.content and b'name="csrfmiddlewaretoken"' in page.content

    # The link works once; a forged or tampered cookie is refused.
    again = client.post(reverse("web:checkin_pair", args=[w.code]))
    assert again.status_code == 404
    client.cookies[KIOSK_COOKIE] = cookie[:-2] + "xx"
    assert client.get(reverse("web:kiosk")).status_code == 403


def test_a_revoked_device_is_refused_at_once(client, w):
    paired_client(client, w)
    client.force_login(w.owner)
    response = client.post(reverse("web:checkin_device_revoke", args=[w.device.pk]))
    assert response.status_code == 302
    client.logout()
    assert client.get(reverse("web:kiosk")).status_code == 403
    assert _checkin_as(client, PHONE).status_code == 403
    with shop_scope(w.shop):
        assert Checkin.objects.count() == 0


def test_wrong_or_unknown_pairing_codes_get_the_same_404(client, w, other):
    bad = [f"{w.device.pk}-wrongsecret", "999999-whatever", "nonsense", f"{other.device.pk}-x"]
    for code in bad:
        assert client.post(reverse("web:checkin_pair", args=[code])).status_code == 404
    with pytest.raises(CheckinError):
        checkin_device_pair(code=f"{w.device.pk}-nope")


def test_only_owner_or_manager_manages_tablets_and_foreign_ids_are_404(client, w, other):
    client.force_login(w.staff)
    assert client.get(reverse("web:checkin_devices")).status_code == 403
    with pytest.raises(CheckinError):
        checkin_device_create(shop=w.shop, store=w.store, name="x", staff_pin="1234", user=w.staff)

    client.force_login(w.owner)
    page = client.get(reverse("web:checkin_devices"))
    assert page.status_code == 200 and "카운터" in page.content.decode()
    created = client.post(
        reverse("web:checkin_devices"), {"store": w.store.pk, "name": "창가", "pin": "1357"}
    )
    assert created.status_code == 200
    link = re.search(r"data-link>([^<]+)<", created.content.decode()).group(1)
    assert "/kiosk/pair/" in link
    # Another shop's store in the form, another shop's device id in the URL: refused, 404.
    foreign = client.post(
        reverse("web:checkin_devices"), {"store": other.store.pk, "name": "몰래", "pin": "1357"}
    )
    assert foreign.status_code == 400
    revoke = client.post(reverse("web:checkin_device_revoke", args=[other.device.pk]))
    assert revoke.status_code == 404
    assert (
        revoke.status_code
        == client.post(reverse("web:checkin_device_revoke", args=[987654])).status_code
    )
    assert CheckinDevice.unscoped.get(pk=other.device.pk).revoked_at is None


# --- check-in -------------------------------------------------------------------------------


def _checkin_as(client, phone, key=KEY, **extra):
    return client.post(reverse("web:kiosk_checkin"), {"phone": phone, "key": key, **extra})


def test_a_double_tap_gives_one_stamp_and_one_visit_reward(client, w):
    paired_client(client, w)
    phone = "010-1234-9999"
    with shop_scope(w.shop):
        customer = make_customer(w.shop, name="한지민", phone=phone)
    first = _checkin_as(client, "01012349999")
    second = _checkin_as(client, "01012349999")
    assert first.status_code == second.status_code == 200
    body = first.content.decode()
    assert 'data-stamps-added="1"' in body and 'data-points-added="100"' in body
    # Only a masked phone and the first character of the name.
    assert "010-****-9999" in body and "한**" in body and "한지민" not in body
    assert "1234" not in body.split("010-****-9999")[0][-50:]
    assert _stamps(w, customer) == 1
    with shop_scope(w.shop):
        assert points_summary(shop=w.shop, customer=customer).balance == 100
        assert Checkin.objects.filter(customer=customer).count() == 1
    # The service itself is idempotent by key too.
    with shop_scope(w.shop):
        again = checkin_record(device=w.device, customer=customer, key=KEY)
        assert again == Checkin.objects.get(customer=customer)
    assert _stamps(w, customer) == 1

    # A new tap the same day shows the card but gives nothing more.
    third = _checkin_as(client, "01012349999", key="tap-key-0002")
    assert "data-nothing-added" in third.content.decode()
    assert _stamps(w, customer) == 1


def test_staff_amount_needs_the_pin_and_earns_by_the_policy(client, w):
    paired_client(client, w)
    with shop_scope(w.shop):
        customer = make_customer(w.shop, name="오세훈", phone="010-2222-3333")
    wrong = _checkin_as(client, "01022223333", amount="20000", pin="0000")
    assert "data-error" in wrong.content.decode() and "01022223333" in wrong.content.decode()
    with shop_scope(w.shop):
        assert not Checkin.objects.exists()
    ok = _checkin_as(client, "01022223333", amount="20000", pin="2468")
    body = ok.content.decode()
    # 5 % of 20,000 + 100 per visit; a stamp for the visit.
    assert 'data-points-added="1100"' in body and 'data-stamps-added="1"' in body
    with shop_scope(w.shop):
        checkin = Checkin.objects.get(customer=customer)
        assert checkin.purchase is not None and checkin.purchase.total == 20000
        assert points_summary(shop=w.shop, customer=customer).balance == 1100


def test_bad_numbers_keep_the_typed_digits_and_a_rate_limit_per_device(client, w):
    paired_client(client, w)
    bad = _checkin_as(client, "0101")
    assert bad.status_code == 200
    assert 'value="0101"' in bad.content.decode() and "data-error" in bad.content.decode()
    assert f'value="{KEY}"' in bad.content.decode()  # the retry keeps the tap key
    for i in range(40):
        _checkin_as(client, "0101", key=f"tap-key-{i:04d}")
    limited = _checkin_as(client, "01012345678").content.decode()
    assert 'data-screen="pad"' in limited and "data-error" in limited
    assert 'value="010-1234-5678"' in limited or 'value="01012345678"' in limited


def test_a_full_card_issues_its_reward_coupon_shown_at_the_counter(client, w):
    paired_client(client, w)
    with shop_scope(w.shop):
        customer = make_customer(w.shop, name="민", phone="010-4444-5555")
        StampEntry.objects.create(
            shop=w.shop,
            card=w.card,
            customer=customer,
            kind="manual",
            stamps=9,
            occurred_at=w.card.created_at,
        )
    body = _checkin_as(client, "01044445555").content.decode()
    assert 'data-coupons="1"' in body and "아메리카노 1잔" in body
    assert _stamps(w, customer) == 0


def test_first_visit_records_exactly_the_ticked_boxes(client, w):
    paired_client(client, w)
    screen = _checkin_as(client, PHONE).content.decode()
    assert 'data-screen="consent"' in screen
    # Separate, unticked boxes.
    assert screen.count('type="checkbox"') == 5 and " checked" not in screen
    token = re.search(r'name="amount_token" value="([^"]+)"', screen).group(1)
    join = reverse("web:kiosk_join")

    # Without the required item nothing is created, and the optional ticks are kept.
    refused = client.post(
        join, {"phone": PHONE, "key": KEY, "amount_token": token, "consent": ["ad_sms"]}
    )
    assert 'data-screen="consent"' in refused.content.decode()
    assert 'value="ad_sms" data-consent="ad_sms" checked' in refused.content.decode()
    with shop_scope(w.shop):
        assert customer_find_by_phone(shop=w.shop, phone=PHONE) is None

    # Service without any marketing consent: the required item alone is enough.
    ticked = ["pipa_collection", "ad_kakao"]
    done = client.post(join, {"phone": PHONE, "key": KEY, "amount_token": token, "consent": ticked})
    body = done.content.decode()
    assert 'data-screen="result"' in body and 'data-stamps-added="1"' in body
    # A double tap on "agree" neither stamps nor records consent twice.
    client.post(join, {"phone": PHONE, "key": KEY, "amount_token": token, "consent": ticked})
    with shop_scope(w.shop):
        customer = customer_find_by_phone(shop=w.shop, phone=PHONE)
        events = list(ConsentEvent.objects.filter(customer=customer))
        assert sorted(e.kind for e in events) == sorted(ticked)
        assert all(e.granted and e.source == ConsentSource.TABLET for e in events)
        assert all(
            e.wording_version and f"checkin-device:{w.device.pk}" == e.device for e in events
        )
        assert customer.created_via == "tablet"
        states = {c.kind: c.granted for c in consent_current(customer=customer)}
        assert states["ad_kakao"] and not states["ad_sms"] and not states["pipa_marketing"]
        assert Checkin.objects.filter(customer=customer, joined=True).count() == 1
    assert _stamps(w, customer) == 1


def test_a_tampered_amount_token_is_refused(client, w):
    paired_client(client, w)
    forged = signing.dumps([w.device.pk, KEY, 999999], salt="other")
    response = client.post(
        reverse("web:kiosk_join"),
        {"phone": PHONE, "key": KEY, "amount_token": forged, "consent": ["pipa_collection"]},
    )
    assert 'data-screen="pad"' in response.content.decode()
    with shop_scope(w.shop):
        assert customer_find_by_phone(shop=w.shop, phone=PHONE) is None


def test_a_tablet_never_sees_another_shops_customer(client, w, other):
    paired_client(client, w)
    with shop_scope(other.shop):
        theirs = make_customer(other.shop, name="남궁민", phone="010-5555-6666")
    screen = _checkin_as(client, "01055556666").content.decode()
    assert 'data-screen="consent"' in screen  # unknown here: a new member of this shop
    with shop_scope(w.shop), pytest.raises(CheckinError):
        checkin_record(device=w.device, customer=theirs, key="tap-key-9999")
    assert checkin_device_verify(token=None) is None


# --- the customer's own page ----------------------------------------------------------------


def _page(w, customer):
    return reverse(
        "web:customer_page",
        args=[customer_page_token(shop_id=w.shop.pk, customer_id=customer.pk)],
    )


def test_customer_page_shows_points_stamps_coupons_and_consent(client, w):
    with shop_scope(w.shop):
        customer = w.customer
        checkin_record(device=w.device, customer=customer, key=KEY)
        coupon = coupon_issue(
            shop=w.shop, template=w.reward, customer=customer, source=CouponSource.MANUAL
        )
        consent_record(
            customer=customer, data=ConsentInput(kind="ad_sms", granted=True, source="staff")
        )
    page = client.get(_page(w, customer))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-balance="100"' in body and 'data-stamp-count="1"' in body
    assert coupon.code in body
    assert 'data-consent="ad_sms" data-granted="1"' in body
    assert customer.name not in body and customer.name[0] + "**" in body


def test_unsubscribe_on_the_page_records_a_consent_event(client, w):
    with shop_scope(w.shop):
        consent_record(
            customer=w.customer, data=ConsentInput(kind="ad_sms", granted=True, source="staff")
        )
    url = _page(w, w.customer)
    response = client.post(url + "consent/", {"kind": "ad_sms"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "data-done" in page and 'data-consent="ad_sms" data-granted="0"' in page
    client.post(url + "consent/", {"kind": "ad_sms"})  # a second click changes nothing
    with shop_scope(w.shop):
        events = list(ConsentEvent.objects.filter(customer=w.customer, kind="ad_sms"))
        assert [(e.granted, e.source) for e in events] == [
            (True, "staff"),
            (False, ConsentSource.UNSUBSCRIBE),
        ]
        assert Suppression.objects.filter(channel="sms").count() == 1
    assert client.post(url + "consent/", {"kind": "pipa_collection"}).status_code == 404


def test_bad_foreign_and_expired_links(client, w, other, monkeypatch):
    with shop_scope(other.shop):
        theirs = other.customer
    # Forged, another shop's customer under this shop's id: the same 404.
    assert client.get(reverse("web:customer_page", args=["nonsense"])).status_code == 404
    mixed = signing.dumps([w.shop.pk, theirs.pk], salt=PAGE_SALT, compress=True)
    assert client.get(reverse("web:customer_page", args=[mixed])).status_code == 404
    assert client.post(reverse("web:customer_page_consent", args=[mixed])).status_code == 404
    unsigned = signing.dumps([w.shop.pk, w.customer.pk], salt="dangol.unsubscribe")
    assert client.get(reverse("web:customer_page", args=[unsigned])).status_code == 404

    # A genuine link that is too old: 410.
    real_time = time.time
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: real_time() - 91 * 24 * 3600)
        token = customer_page_token(shop_id=w.shop.pk, customer_id=w.customer.pk)
    expired = client.get(reverse("web:customer_page", args=[token]))
    assert expired.status_code == 410 and "data-expired" in expired.content.decode()
    fresh = customer_page_token(shop_id=w.shop.pk, customer_id=w.customer.pk)
    assert client.get(reverse("web:customer_page", args=[fresh])).status_code == 200


def test_customer_page_is_rate_limited(client, w):
    url = _page(w, w.customer)
    codes = [client.get(url).status_code for _ in range(61)]
    assert codes[0] == 200 and codes[-1] == 429


@pytest.mark.django_db(transaction=True)
def test_concurrent_taps_with_one_key_stamp_once():
    import threading

    from django.db import connection

    w = kiosk_shop("gamma")
    results, errors = [], []
    barrier = threading.Barrier(4)

    def tap():
        try:
            barrier.wait()
            with shop_scope(w.shop):
                results.append(checkin_record(device=w.device, customer=w.customer, key=KEY).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and len(set(results)) == 1
    assert _stamps(w, w.customer) == 1
    with shop_scope(w.shop):
        assert points_summary(shop=w.shop, customer=w.customer).balance == 100


def test_a_friends_code_on_the_first_visit_rewards_both_after_the_first_paid_visit(client, w):
    from dangol.loyalty.models import Referral
    from dangol.loyalty.services import referral_code_issue, referral_program_set

    with shop_scope(w.shop):
        referral_program_set(shop=w.shop, referrer_points=500, referee_points=300)
        friend = make_customer(w.shop, name="한지우", phone="010-4444-5555")
        code = referral_code_issue(shop=w.shop, customer=friend).code
    paired_client(client, w)
    screen = _checkin_as(client, PHONE).content.decode()
    token = re.search(r'name="amount_token" value="([^"]+)"', screen).group(1)
    join = reverse("web:kiosk_join")
    base = {"phone": PHONE, "key": KEY, "amount_token": token, "consent": ["pipa_collection"]}

    # A mistyped code refuses the whole join: nothing is created, the code stays on screen.
    refused = client.post(join, {**base, "referral_code": code[:-1] + "?"}).content.decode()
    assert 'data-screen="consent"' in refused and "data-error" in refused
    with shop_scope(w.shop):
        assert customer_find_by_phone(shop=w.shop, phone=PHONE) is None

    done = client.post(join, {**base, "referral_code": code.lower()}).content.decode()
    assert 'data-screen="result"' in done
    with shop_scope(w.shop):
        newcomer = customer_find_by_phone(shop=w.shop, phone=PHONE)
        referral = Referral.objects.for_shop(w.shop).get(referee=newcomer)
        assert referral.referrer_id == friend.pk and referral.status != "rewarded"
        before = points_summary(shop=w.shop, customer=friend).balance

    # The first paid visit (an amount entered by staff) rewards both sides, once.
    _checkin_as(client, PHONE, key="tap-key-0002", amount="5000", pin="2468")
    _checkin_as(client, PHONE, key="tap-key-0003", amount="5000", pin="2468")
    with shop_scope(w.shop):
        referral.refresh_from_db()
        assert referral.status == "rewarded"
        assert points_summary(shop=w.shop, customer=friend).balance == before + 500


def test_the_customer_asks_for_deletion_from_their_own_page(client, w, other):
    from dangol.privacy.models import DataSubjectRequest

    url = _page(w, w.customer)
    response = client.post(url + "request/", {"kind": "deletion"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "data-requested" in page and 'data-open-request="deletion"' in page
    client.post(url + "request/", {"kind": "deletion"})  # a second tap files nothing more
    with shop_scope(w.shop):
        (filed,) = DataSubjectRequest.objects.for_shop(w.shop).filter(customer=w.customer)
        assert (filed.kind, filed.channel, filed.status) == ("deletion", "self", "open")
        assert (filed.due_at - filed.received_at).days == 10
    # A correction needs the shop; unknown kinds and another shop's customer are 404.
    assert client.post(url + "request/", {"kind": "correction"}).status_code == 404
    assert client.post(url + "request/", {"kind": "nonsense"}).status_code == 404
    with shop_scope(other.shop):
        theirs = other.customer
    mixed = signing.dumps([w.shop.pk, theirs.pk], salt=PAGE_SALT, compress=True)
    assert client.post(reverse("web:customer_page_request", args=[mixed])).status_code == 404
    with shop_scope(other.shop):
        assert not DataSubjectRequest.objects.for_shop(other.shop).exists()


def test_a_phone_known_as_another_identity_finds_that_customer(client, w):
    # The POS attached this phone to a known customer (their second number): the tablet
    # checks that customer in instead of asking for consent again, and a join (the consent
    # screen left open on another tablet) finds them too instead of creating a duplicate.
    with shop_scope(w.shop):
        known = make_customer(w.shop, name="오하나", phone="010-2020-3030", email="hana@ex.com")
        assert customer_resolve(shop=w.shop, email="hana@ex.com", phone=PHONE).attached == ["phone"]
        customers = Customer.objects.count()
    paired_client(client, w)
    screen = _checkin_as(client, PHONE).content.decode()
    assert 'data-screen="result"' in screen
    with shop_scope(w.shop):
        joined = checkin_join(
            device=w.device, phone=PHONE, key="tap-key-0009", consents=["pipa_collection"]
        )
        assert joined.customer_id == known.pk and not joined.joined
        assert Customer.objects.count() == customers
        assert set(Checkin.objects.values_list("customer_id", flat=True)) == {known.pk}
        assert not ConsentEvent.objects.filter(customer=known).exists()
