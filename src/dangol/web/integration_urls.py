"""Owner pages of outgoing webhooks; included into the web namespace by dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from dangol.web import loyalty_views as views

urlpatterns: list[URLPattern] = [
    path("loyalty/", views.loyalty_overview, name="loyalty"),
    path("loyalty/redeem/", views.loyalty_redeem, name="loyalty_redeem"),
    path("loyalty/policy/", views.loyalty_policy, name="loyalty_policy"),
    path("loyalty/stamps/", views.loyalty_stamps, name="loyalty_stamps"),
    path("loyalty/stamps/<int:card_id>/off/", views.loyalty_stamp_off, name="loyalty_stamp_off"),
    path("loyalty/coupons/new/", views.loyalty_coupon_new, name="loyalty_coupon_new"),
    path("loyalty/referrals/", views.loyalty_referrals, name="loyalty_referrals"),
    path(
        "loyalty/referrals/<int:referral_id>/review/",
        views.loyalty_referral_review,
        name="loyalty_referral_review",
    ),
]
