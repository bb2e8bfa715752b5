"""Owner pages for loyalty: the overview and settings (points policy, stamp cards, tiers, coupon
templates with ROI, the referral programme) and the staff's coupon-redemption screen.

Views only read the form, call one service and pick the template; rules live in the loyalty app.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dangol.loyalty.codes import code_format
from dangol.loyalty.errors import LoyaltyError
from dangol.loyalty.selectors import (
    coupon_recent_redemptions,
    coupon_stats,
    coupon_template_list,
    points_policy_at,
    points_policy_list,
    referral_counts,
    referral_get,
    referral_list,
    referral_program_get,
    stamp_card_get,
    stamp_card_list,
    tier_member_counts,
)
from dangol.loyalty.services import (
    CouponTemplateInput,
    PolicyInput,
    StampCardInput,
    coupon_redeem,
    coupon_template_create,
    points_policy_create,
    referral_program_set,
    referral_review,
    stamp_card_create,
    stamp_card_switch_off,
)
from dangol.sales.selectors import product_list
from dangol.shops.models import Role
from dangol.web.loyalty_forms import (
    CouponTemplateForm,
    PolicyForm,
    RedeemForm,
    ReferralProgramForm,
    StampCardForm,
)
from dangol.web.views import member_required

MANAGERS = (Role.OWNER, Role.MANAGER)


def _role(request: HttpRequest) -> str:
    return request.membership.role


def _require(request: HttpRequest, roles: tuple[str, ...]) -> None:
    if _role(request) not in roles:
        if roles == (Role.OWNER,):
            raise PermissionDenied(_("Only the owner can do this."))
        raise PermissionDenied(_("Only the owner or a manager can do this."))


def _said(error: LoyaltyError) -> str:
    """The refusal in the language of the page (Korean first)."""
    return error.en if translation.get_language() == "en" else error.ko


# ── overview ──────────────────────────────────────────────────────────────────────────────


@member_required
def loyalty_overview(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    policies = points_policy_list(shop=shop)
    policy = points_policy_at(shop=shop)
    for p in policies:
        p.earn_pct = p.earn_rate_bp / 100  # for display: basis points as a percentage
    if policy is not None:
        policy.earn_pct = policy.earn_rate_bp / 100
    return render(
        request,
        "web/loyalty_overview.html",
        {
            "policy": policy,
            "policies": policies,
            "cards": stamp_card_list(shop=shop),
            "tiers": tier_member_counts(shop=shop),
            "coupons": coupon_stats(shop=shop),
            "program": referral_program_get(shop=shop),
            "referral_counts": referral_counts(shop=shop),
            "held": referral_list(shop=shop, status="held", limit=20),
            "can_manage": _role(request) in MANAGERS,
            "is_owner": _role(request) == Role.OWNER,
            "nav": "loyalty",
        },
    )


# ── settings forms ────────────────────────────────────────────────────────────────────────


@member_required
@require_http_methods(["GET", "POST"])
def loyalty_policy(request: HttpRequest) -> HttpResponse:
    _require(request, (Role.OWNER,))
    shop = request.shop
    current = points_policy_at(shop=shop)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                points_policy_create(
                    shop=shop,
                    user=request.user,
                    data=PolicyInput(
                        earn_rate_bp=form.earn_rate_bp(),
                        points_per_visit=data["points_per_visit"],
                        min_amount=data["min_amount"],
                        validity_months=data["validity_months"],
                        # Item rules and promotions are kept as they are in the new version.
                        item_rules=tuple(current.item_rules) if current else (),
                        promotions=tuple(current.promotions) if current else (),
                    ),
                )
            except LoyaltyError as exc:
                form.add_error(None, _said(exc))
            else:
                messages.success(request, _("The new points policy applies from now on."))
                return redirect("web:loyalty")
    elif current is not None:
        form = PolicyForm(
            initial={
                "earn_rate": current.earn_rate_bp / 100,
                "points_per_visit": current.points_per_visit,
                "min_amount": current.min_amount,
                "validity_months": current.validity_months,
            }
        )
    else:
        form = PolicyForm()
    return render(
        request,
        "web/loyalty_policy.html",
        {"form": form, "current": current, "nav": "loyalty"},
        status=400 if form.errors else 200,
    )


@member_required
@require_http_methods(["GET", "POST"])
def loyalty_stamps(request: HttpRequest) -> HttpResponse:
    _require(request, MANAGERS)
    shop = request.shop
    templates = [t for t in coupon_template_list(shop=shop) if t.active]
    form = StampCardForm(request.POST or None, templates=templates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stamp_card_create(
                shop=shop,
                data=StampCardInput(
                    name=data["name"],
                    stamps_required=data["stamps_required"],
                    mode=data["mode"],
                    reward_template_id=data["reward"],
                    min_amount=data["min_amount"],
                ),
            )
        except LoyaltyError as exc:
            form.add_error(None, _said(exc))
        else:
            messages.success(request, _("The stamp card is in use."))
            return redirect("web:loyalty")
    return render(
        request,
        "web/loyalty_stamps.html",
        {
            "form": form,
            "cards": stamp_card_list(shop=shop),
            "templates": templates,
            "nav": "loyalty",
        },
        status=400 if form.errors else 200,
    )


@member_required
@require_POST
def loyalty_stamp_off(request: HttpRequest, card_id: int) -> HttpResponse:
    _require(request, MANAGERS)
    card = stamp_card_get(shop=request.shop, card_id=card_id)
    if card is None:
        raise Http404
    stamp_card_switch_off(shop=request.shop, card=card)
    messages.success(request, _("The stamp card is switched off; stamps already given stay."))
    return redirect("web:loyalty")


@member_required
@require_http_methods(["GET", "POST"])
def loyalty_coupon_new(request: HttpRequest) -> HttpResponse:
    _require(request, MANAGERS)
    shop = request.shop
    products = list(product_list(shop=shop).order_by("name")[:500])
    form = CouponTemplateForm(request.POST or None, products=products)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            coupon_template_create(
                shop=shop,
                data=CouponTemplateInput(
                    name=data["name"],
                    kind=data["kind"],
                    value=data["value"],
                    max_discount=data["max_discount"],
                    product_id=data["product"],
                    min_spend=data["min_spend"],
                    valid_days=data["valid_days"],
                    per_customer_limit=data["per_customer_limit"],
                ),
            )
        except LoyaltyError as exc:
            form.add_error(None, _said(exc))
        else:
            messages.success(request, _("The coupon is ready to be issued."))
            return redirect("web:loyalty")
    return render(
        request,
        "web/loyalty_coupon_new.html",
        {"form": form, "nav": "loyalty"},
        status=400 if form.errors else 200,
    )


@member_required
@require_http_methods(["GET", "POST"])
def loyalty_referrals(request: HttpRequest) -> HttpResponse:
    _require(request, (Role.OWNER,))
    shop = request.shop
    templates = [t for t in coupon_template_list(shop=shop) if t.active]
    program = referral_program_get(shop=shop)
    if request.method == "POST":
        form = ReferralProgramForm(request.POST, templates=templates)
        if form.is_valid():
            data = form.cleaned_data
            by_id = {t.pk: t for t in templates}
            try:
                referral_program_set(
                    shop=shop,
                    active=data["active"],
                    referrer_points=data["referrer_points"],
                    referrer_coupon=by_id.get(data["referrer_coupon"]),
                    referee_points=data["referee_points"],
                    referee_coupon=by_id.get(data["referee_coupon"]),
                    daily_limit=data["daily_limit"],
                )
            except LoyaltyError as exc:
                form.add_error(None, _said(exc))
            else:
                messages.success(request, _("The referral programme is saved."))
                return redirect("web:loyalty")
    else:
        initial = {"active": True}
        if program is not None:
            initial = {
                "active": program.active,
                "referrer_points": program.referrer_points,
                "referrer_coupon": program.referrer_coupon_id,
                "referee_points": program.referee_points,
                "referee_coupon": program.referee_coupon_id,
                "daily_limit": program.daily_limit,
            }
        form = ReferralProgramForm(initial=initial, templates=templates)
    return render(
        request,
        "web/loyalty_referrals.html",
        {"form": form, "program": program, "nav": "loyalty"},
        status=400 if form.errors else 200,
    )


@member_required
@require_POST
def loyalty_referral_review(request: HttpRequest, referral_id: int) -> HttpResponse:
    _require(request, (Role.OWNER,))
    referral = referral_get(shop=request.shop, referral_id=referral_id)
    if referral is None:
        raise Http404
    approve = request.POST.get("decision") == "approve"
    try:
        referral_review(shop=request.shop, referral=referral, approve=approve, user=request.user)
    except LoyaltyError as exc:
        messages.error(request, _said(exc))
    else:
        messages.success(
            request, _("Referral approved.") if approve else _("Referral rejected; no reward.")
        )
    return redirect("web:loyalty")


# ── staff: redeem a coupon ────────────────────────────────────────────────────────────────


@member_required
@require_http_methods(["GET", "POST"])
def loyalty_redeem(request: HttpRequest) -> HttpResponse:
    """Any member (staff included) redeems a code; the answer is the coupon or the reason."""
    shop = request.shop
    result, refusal, status = None, None, 200
    form = RedeemForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                result = coupon_redeem(
                    shop=shop,
                    code=form.cleaned_data["code"],
                    amount=form.cleaned_data["amount"],
                    user=request.user,
                )
            except LoyaltyError as exc:
                refusal, status = {"code": exc.code, "text": _said(exc)}, 422
            else:
                form = RedeemForm()  # an empty field for the next customer
        else:
            status = 400
    context = {
        "form": form,
        "result": result,
        "result_code": code_format(result.code) if result else "",
        "refusal": refusal,
        "recent": coupon_recent_redemptions(shop=shop, limit=10),
        "nav": "loyalty",
    }
    template = "web/loyalty_redeem.html"
    if request.headers.get("HX-Request") and request.method == "POST":
        template = "web/_loyalty_redeem_result.html"
        status = 200  # htmx swaps only successful answers; the reason is in the fragment
    return render(request, template, context, status=status)


__all__ = [
    "loyalty_coupon_new",
    "loyalty_overview",
    "loyalty_policy",
    "loyalty_redeem",
    "loyalty_referral_review",
    "loyalty_referrals",
    "loyalty_stamp_off",
    "loyalty_stamps",
]
