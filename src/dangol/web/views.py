from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dangol.core import ratelimit
from dangol.core.phone import format_phone, mask_phone
from dangol.customers.resolution import IdentityConflict, customer_resolve_or_create
from dangol.customers.selectors import consent_current, customer_get, customer_list
from dangol.customers.services import CustomerError, CustomerInput
from dangol.sales.selectors import customer_stats, home_kpis, purchase_timeline
from dangol.scoring.models import CustomerStatus
from dangol.scoring.selectors import (
    at_risk_list,
    customer_ids_with_status,
    customer_score_get,
    customer_statuses,
    risk_summary,
)
from dangol.shops.models import Role
from dangol.web.charts import weekly_bars
from dangol.web.forms import STATUS_FILTERS, CustomerForm, CustomerSearchForm, LoginForm
from dangol.web.scores import score_view, status_parts

LOGIN_LIMIT = 10
LOGIN_WINDOW_SECONDS = 15 * 60
# Failures for one login name from any address before it is locked for the window.
LOGIN_ACCOUNT_LIMIT = 30


def member_required(view):
    """Logged in and a member of a shop; anything else is refused, never shown empty."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "shop", None) is None:
            raise PermissionDenied(_("You are not a member of any shop."))
        return view(request, *args, **kwargs)

    return wrapper


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def _username(self) -> str:
        return (self.request.POST.get("username") or "").strip().casefold()

    def _ident(self) -> str:
        return f"{self.request.META.get('REMOTE_ADDR', '')}|{self._username()}"

    def _locked(self) -> bool:
        # Per address and name, and per name alone: guessing from many addresses locks the
        # account too (at a higher count, so that one noisy address cannot lock the owner out).
        return ratelimit.is_limited(
            scope="login", ident=self._ident(), limit=LOGIN_LIMIT
        ) or ratelimit.is_limited(
            scope="login-account", ident=self._username(), limit=LOGIN_ACCOUNT_LIMIT
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self._locked():
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed attempts. Try again in 15 minutes."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        ratelimit.record(scope="login", ident=self._ident(), window_seconds=LOGIN_WINDOW_SECONDS)
        ratelimit.record(
            scope="login-account", ident=self._username(), window_seconds=LOGIN_WINDOW_SECONDS
        )
        return super().form_invalid(form)

    def form_valid(self, form):
        ratelimit.reset(scope="login", ident=self._ident())
        return super().form_valid(form)


@member_required
def home(request: HttpRequest) -> HttpResponse:
    kpis = home_kpis(shop=request.shop)
    risk = risk_summary(shop=request.shop)
    return render(
        request,
        "web/home.html",
        {
            "kpis": kpis,
            "bars": weekly_bars(kpis.weekly_visits),
            "risk": risk,
            "status_parts": status_parts(risk) if risk else [],
            "to_contact": [
                score_view(s) for s in at_risk_list(shop=request.shop, run=risk.run, limit=5)
            ]
            if risk
            else [],
            "churn": risk.run.fitted.get("churn", {}) if risk else {},
            "nav": "home",
        },
    )


def _can_see_full_phone(request: HttpRequest) -> bool:
    return request.membership.role in (Role.OWNER, Role.MANAGER)


@member_required
def customers(request: HttpRequest) -> HttpResponse:
    form = CustomerSearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data["q"] if valid else ""
    status = form.cleaned_data["status"] if valid else ""
    listed = customer_list(shop=request.shop, query=query)
    if status:
        listed = listed.filter(pk__in=customer_ids_with_status(shop=request.shop, status=status))
    page = Paginator(listed, 25).get_page(request.GET.get("page"))
    statuses = customer_statuses(shop=request.shop, customer_ids=[c.pk for c in page.object_list])
    labels = dict(CustomerStatus.choices)
    rows = [
        {
            "customer": c,
            "phone": mask_phone(c.phone),
            "visits": c.visit_count,
            "last_visit": c.last_visit,
            "spend": c.total_spend or 0,
            "status": statuses.get(c.pk),
            "status_label": labels.get(statuses.get(c.pk), ""),
        }
        for c in page.object_list
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "status": status,
        "status_filters": STATUS_FILTERS,
        "nav": "customers",
    }
    template = (
        "web/_customer_rows.html" if request.headers.get("HX-Request") else "web/customers.html"
    )
    return render(request, template, context)


@member_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get(shop=request.shop, customer_id=customer_id)
    purchases = purchase_timeline(shop=request.shop, customer=customer)
    phone = (
        format_phone(customer.phone) if _can_see_full_phone(request) else mask_phone(customer.phone)
    )
    stats = customer_stats(shop=request.shop, customer=customer)
    score = customer_score_get(shop=request.shop, customer=customer)
    return render(
        request,
        "web/customer_detail.html",
        {
            "customer": customer,
            "phone": phone,
            "consents": consent_current(customer=customer),
            "purchases": purchases,
            "visit_count": stats.visits,
            "total_spend": stats.total_spend,
            "score": score_view(score) if score else None,
            "nav": "customers",
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def customer_new(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            found = customer_resolve_or_create(
                shop=request.shop,
                data=CustomerInput(
                    name=data["name"],
                    phone=data["phone"],
                    email=data.get("email") or "",
                    birthday=data.get("birthday"),
                    birthday_calendar=data["birthday_calendar"],
                    birthday_leap_month=data.get("birthday_leap_month") or False,
                    gender=data.get("gender") or "",
                ),
            )
        except IdentityConflict as exc:
            # Two known customers: a merge the owner confirms on the merge page, not here.
            form.add_error(None, str(exc))
        except CustomerError as exc:
            form.add_error(exc.field, str(exc))
        else:
            if not found.created:
                # A known person: their page, not a duplicate (a new e-mail is attached).
                messages.info(request, KNOWN_CUSTOMER)
            return redirect("web:customer", customer_id=found.customer.pk)
    return render(request, "web/customer_form.html", {"form": form, "nav": "customers"})


KNOWN_CUSTOMER = "이미 등록된 고객입니다 / This customer is already registered."


SECTIONS = {
    "automations": "Automations",
    "loyalty": "Membership",
    "reports": "Reports",
    "settings": "Settings",
}


@member_required
def section(request: HttpRequest, name: str) -> HttpResponse:
    if name not in SECTIONS:
        raise Http404(name)
    return render(request, "web/section.html", {"nav": name, "section": name})
